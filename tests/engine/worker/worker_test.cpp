// The worker over the in-memory store: group commit, acknowledgement after commit, durable
// timers fired exactly once (also by two nodes racing), leases moving a dead node's timers,
// a failing commit leaving nothing behind, outbox retries, definition versions.
#include "engine/worker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "adapters/yaml/workflow_loader.h"
#include "engine/memory_store.h"
#include "engine/replay.h"

namespace ombud {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

const Timestamp kT0 = *parse_timestamp("2026-11-23T09:00:00Z");

std::shared_ptr<const Definition> load(const std::string& yaml) {
  Diagnostics diags;
  auto def = yaml::load_workflow("test.yaml", yaml, diags);
  for (const auto& d : diags.items()) ADD_FAILURE() << d.to_string();
  return std::make_shared<const Definition>(std::move(*def));
}

const char* kTicket = R"(workflow: ticket
calendar: none
key: data.ref
key_policy: one_open
data:
  ref: {type: string, required: true}
  bumps: {type: int, default: 0}
initial: open
states:
  open:
    after:
      - delay: 1h
        target: expired
    on:
      bump:
        actions: [{set: {bumps: "${ data.bumps + 1 }"}}]
      close: closed
  expired:
    entry: [{notify: {to: "role:supervisor", template: expired}}]
    on:
      close: closed
  closed: {type: final}
)";

// Waits (bounded) until `done` holds; the worker runs on its own thread.
template <typename F>
bool eventually(F done) {
  for (int i = 0; i < 500; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

StartRequest start_ticket(const std::string& ref) {
  StartRequest r;
  r.workflow = "ticket";
  r.data = {{"ref", ref}};
  return r;
}

StartRequest start_keyed(const std::string& ref, const std::string& key) {
  StartRequest r = start_ticket(ref);
  r.idempotency_key = key;
  return r;
}

EventRequest event(const std::string& id, const std::string& name, std::string key = "") {
  EventRequest r;
  r.instance_id = id;
  r.event = name;
  r.idempotency_key = std::move(key);
  return r;
}

int count_kind(const Store& store, const std::string& id, const std::string& kind) {
  int n = 0;
  for (const auto& h : store.history(id)) n += h.entry.kind == kind ? 1 : 0;
  return n;
}

TEST(Worker, RequestsQueuedTogetherCommitInOneBatch) {
  MemoryStore store;
  ManualClock clock(kT0);
  Worker worker(store, clock, {});
  worker.add_definition(load(kTicket), 1);
  std::vector<std::future<RuntimeResult>> futures;
  for (int i = 0; i < 100; ++i)
    futures.push_back(worker.submit(start_ticket("r" + std::to_string(i))));
  worker.start();
  for (auto& f : futures) EXPECT_EQ(f.get().status, RuntimeResult::Status::ok);
  worker.stop();
  EXPECT_EQ(worker.stats().batches, 1u);
  EXPECT_EQ(worker.stats().requests, 100u);
  EXPECT_EQ(store.instance_ids().size(), 100u);
  EXPECT_EQ(store.pending_timers(), 100u);
}

// A batch that writes nothing (repeats of a key, refusals) is no group commit: the metric said
// six commits for one write plus five retries of a phone system's delivery.
TEST(Worker, ABatchThatWritesNothingIsNotCountedAsACommit) {
  MemoryStore store;
  ManualClock clock(kT0);
  Worker worker(store, clock, {});
  worker.add_definition(load(kTicket), 1);
  worker.start();
  ASSERT_EQ(worker.submit(start_keyed("a", "delivery-1")).get().status, RuntimeResult::Status::ok);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(worker.submit(start_keyed("a", "delivery-1")).get().replayed);
  }
  worker.stop();
  EXPECT_EQ(worker.stats().batches, 1u);
  EXPECT_EQ(worker.stats().requests, 6u);
}

TEST(Worker, EventsForOneInstanceApplyInOrderWithinABatch) {
  MemoryStore store;
  ManualClock clock(kT0);
  Worker worker(store, clock, {});
  worker.add_definition(load(kTicket), 1);
  auto started = worker.submit(start_ticket("a"));
  std::vector<std::future<RuntimeResult>> bumps;
  for (int i = 0; i < 10; ++i) bumps.push_back(worker.submit(event("ticket-1", "bump")));
  auto closed = worker.submit(event("ticket-1", "close"));
  worker.start();
  EXPECT_EQ(started.get().status, RuntimeResult::Status::ok);
  for (int i = 0; i < 10; ++i) {
    auto r = bumps[static_cast<std::size_t>(i)].get();
    ASSERT_EQ(r.status, RuntimeResult::Status::ok);
    EXPECT_EQ(r.instance->data.at("bumps").as_int64(), i + 1);
  }
  EXPECT_EQ(closed.get().instance->state, "closed");
  worker.stop();
  EXPECT_EQ(store.load("ticket-1")->data.at("bumps").as_int64(), 10);
  EXPECT_EQ(store.pending_timers(), 0u);  // closing cancelled the 1h timer
  const auto replayed =
      replay(*load(kTicket), *store.load("ticket-1"), store.history("ticket-1"), {});
  EXPECT_TRUE(replayed.ok) << ::testing::PrintToString(replayed.differences);
  EXPECT_EQ(replayed.steps, 12u);
  // A history that lost a step no longer replays to the stored state.
  auto history = store.history("ticket-1");
  history.erase(std::find_if(history.begin(), history.end(), [](const StoredHistory& h) {
    return !h.input.empty() && h.input.contains("event");
  }));
  const auto broken = replay(*load(kTicket), *store.load("ticket-1"), history, {});
  EXPECT_FALSE(broken.ok);
}

TEST(Worker, IdempotencyKeyWithinOneBatchAppliesOnce) {
  MemoryStore store;
  ManualClock clock(kT0);
  Worker worker(store, clock, {});
  worker.add_definition(load(kTicket), 1);
  auto s = worker.submit(start_ticket("a"));
  auto first = worker.submit(event("ticket-1", "bump", "k1"));
  auto again = worker.submit(event("ticket-1", "bump", "k1"));
  worker.start();
  s.get();
  EXPECT_FALSE(first.get().replayed);
  EXPECT_TRUE(again.get().replayed);
  worker.stop();
  EXPECT_EQ(store.load("ticket-1")->data.at("bumps").as_int64(), 1);
}

TEST(Worker, DueTimerFiresOnceWhenTheClockPassesIt) {
  MemoryStore store;
  ManualClock clock(kT0);
  WorkerOptions options;
  options.refill_every = Millis(20);
  Worker worker(store, clock, {}, options);
  worker.add_definition(load(kTicket), 1);
  worker.start();
  ASSERT_EQ(worker.submit(start_ticket("a")).get().status, RuntimeResult::Status::ok);
  clock.set(kT0 + std::chrono::hours(1) + std::chrono::milliseconds(250));
  worker.poke();
  ASSERT_TRUE(eventually([&] { return store.load("ticket-1")->state == "expired"; }));
  worker.stop();
  EXPECT_EQ(count_kind(store, "ticket-1", "timer"), 1);
  EXPECT_EQ(store.pending_timers(), 0u);
  // The notification went to the outbox with the step's commit.
  EXPECT_EQ(store.outbox(true, 10).size(), 1u);
}

// Gives `worker` the ticket workflow and starts ticket-1 with it; the worker is stopped after.
void start_one_ticket(Worker& worker) {
  worker.add_definition(load(kTicket), 1);
  worker.start();
  ASSERT_EQ(worker.submit(start_ticket("a")).get().status, RuntimeResult::Status::ok);
  worker.stop();
}

TEST(Worker, OverdueTimersFoundAtStartFireLateWithTheLatenessInHistory) {
  MemoryStore store;
  ManualClock clock(kT0);
  {
    Worker first(store, clock, {});
    start_one_ticket(first);
  }
  clock.set(kT0 + std::chrono::hours(3));  // the process was down for two hours past the due time
  Worker second(store, clock, {});
  second.add_definition(load(kTicket), 1);
  second.start();
  ASSERT_TRUE(eventually([&] { return store.load("ticket-1")->state == "expired"; }));
  second.stop();
  const auto history = store.history("ticket-1");
  const auto timer = std::find_if(history.begin(), history.end(),
                                  [](const StoredHistory& h) { return h.entry.kind == "timer"; });
  ASSERT_NE(timer, history.end());
  EXPECT_THAT(timer->entry.message, HasSubstr("late"));
  EXPECT_EQ(timer->actor, "timer");
}

TEST(Worker, TwoNodesRacingForTheSameTimersFireEachOnce) {
  MemoryStore store;
  ManualClock clock(kT0);
  const auto def = load(kTicket);
  WorkerOptions a_options;
  a_options.node = "a";
  a_options.refill_every = Millis(5);
  a_options.lease = Millis(1);  // leases expire at once: both nodes hold every timer
  WorkerOptions b_options = a_options;
  b_options.node = "b";
  Worker a(store, clock, {}, a_options);
  Worker b(store, clock, {}, b_options);
  a.add_definition(def, 1);
  b.add_definition(def, 1);
  a.start();
  b.start();
  std::vector<std::future<RuntimeResult>> started;
  for (int i = 0; i < 200; ++i) {
    started.push_back((i % 2 == 0 ? a : b).submit(start_ticket("r" + std::to_string(i))));
  }
  for (auto& f : started) ASSERT_EQ(f.get().status, RuntimeResult::Status::ok);
  clock.set(kT0 + std::chrono::hours(2));
  a.poke();
  b.poke();
  ASSERT_TRUE(eventually([&] { return store.pending_timers() == 0; }));
  a.stop();
  b.stop();
  EXPECT_EQ(a.stats().timers_fired + b.stats().timers_fired, 200u);
  for (const auto& id : store.instance_ids()) {
    EXPECT_EQ(count_kind(store, id, "timer"), 1) << id;
    EXPECT_EQ(store.load(id)->state, "expired");
    // Each instance's history replays to its stored state.
    const auto replayed = replay(*def, *store.load(id), store.history(id), {});
    EXPECT_TRUE(replayed.ok) << id << ": " << ::testing::PrintToString(replayed.differences);
    EXPECT_EQ(replayed.steps, 2u);
  }
}

// A worker that keeps committed instances in memory, and a second writer (another process on
// the same database) that changes one behind its back: the stale copy must not win.
TEST(Worker, AKeptInstanceChangedElsewhereIsReadAgainAndNothingIsLost) {
  MemoryStore store;
  ManualClock clock(kT0);
  WorkerOptions options;
  options.remember_instances = 100;
  Worker worker(store, clock, {}, options);
  worker.add_definition(load(kTicket), 1);
  worker.start();
  ASSERT_EQ(worker.submit(start_ticket("a")).get().status, RuntimeResult::Status::ok);
  ASSERT_EQ(worker.submit(event("ticket-1", "bump")).get().status, RuntimeResult::Status::ok);

  // Elsewhere: the same case is bumped once more and moves on a revision.
  Instance changed = *store.load("ticket-1");
  Commit other;
  other.expected_revision = changed.revision;
  changed.revision += 1;
  changed.data["bumps"] = 2;
  other.instance = changed;
  other.actor = "other-node";
  other.history.push_back({clock.now(), "set", "bumps = 2", {}});
  ASSERT_EQ(store.commit(other), CommitResult::ok);

  // The worker's kept copy (bumps 1) is stale: its commit conflicts, the batch is redone from
  // the store, and the bump lands on top of the other writer's.
  const RuntimeResult r = worker.submit(event("ticket-1", "bump")).get();
  ASSERT_EQ(r.status, RuntimeResult::Status::ok) << r.error;
  EXPECT_EQ(r.instance->data.at("bumps"), 3);
  EXPECT_EQ(store.load("ticket-1")->data.at("bumps"), 3);
  EXPECT_EQ(store.load("ticket-1")->revision, changed.revision + 1);
  EXPECT_EQ(worker.stats().conflicts, 1u);
  // The stale copy is gone: the next event is stepped on what was committed last, first time.
  ASSERT_EQ(worker.submit(event("ticket-1", "bump")).get().status, RuntimeResult::Status::ok);
  worker.stop();
  EXPECT_EQ(store.load("ticket-1")->data.at("bumps"), 4);
  EXPECT_EQ(worker.stats().conflicts, 1u);
}

WorkerOptions leasing_node(const std::string& name) {
  WorkerOptions options;
  options.node = name;
  options.refill_every = Millis(5);
  options.lease = std::chrono::seconds(30);
  return options;
}

// Starts ticket-1 on `worker` (and stops it); at kT0 + 1h, when the ticket's timer is due,
// `claimer` leases it for 30 s, as a node that died before firing it leaves it (no release).
void start_and_leave_claimed(Worker& worker, MemoryStore& store, ManualClock& clock,
                             const std::string& claimer) {
  worker.start();
  ASSERT_EQ(worker.submit(start_ticket("a")).get().status, RuntimeResult::Status::ok);
  worker.stop();
  clock.set(kT0 + std::chrono::hours(1));
  const Timestamp lease = clock.now() + std::chrono::seconds(30);
  ASSERT_EQ(store
                .claim_timers({.node = claimer,
                               .until = clock.now(),
                               .now = clock.now(),
                               .lease_until = lease,
                               .renew_before = lease,
                               .limit = 10})
                .size(),
            1u);
}

TEST(Worker, ADeadNodesTimersMoveToTheLivingWhenTheLeaseExpires) {
  MemoryStore store;
  ManualClock clock(kT0);
  Worker living(store, clock, {}, leasing_node("living"));
  living.add_definition(load(kTicket), 1);
  start_and_leave_claimed(living, store, clock, "dead");
  living.start();
  clock.set(kT0 + std::chrono::hours(1) + std::chrono::seconds(10));
  living.poke();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(store.load("ticket-1")->state, "open");  // the dead node's lease still holds
  clock.set(kT0 + std::chrono::hours(1) + std::chrono::seconds(31));
  living.poke();
  ASSERT_TRUE(eventually([&] { return store.load("ticket-1")->state == "expired"; }));
  living.stop();
  EXPECT_EQ(count_kind(store, "ticket-1", "timer"), 1);
}

TEST(Worker, ANodeRestartedUnderItsNameFiresTheTimersItHeldAtOnce) {
  MemoryStore store;
  ManualClock clock(kT0);
  const auto def = load(kTicket);
  {
    // The first run claimed the timer just before it died: its lease runs long, past the point
    // where refills only renew leases about to run out.
    Worker first(store, clock, {}, leasing_node("node-1"));
    first.add_definition(def, 1);
    start_and_leave_claimed(first, store, clock, "node-1");
  }
  Worker again(store, clock, {}, leasing_node("node-1"));
  again.add_definition(def, 1);
  again.start();
  again.poke();
  // Due already, and this node's own: it fires without waiting for the lease to run short.
  ASSERT_TRUE(eventually([&] { return store.load("ticket-1")->state == "expired"; }));
  again.stop();
  EXPECT_EQ(count_kind(store, "ticket-1", "timer"), 1);
}

// Fails commit_all on demand: the database went away mid-batch. Tests may also hold a write at
// its start (on_commit_all runs on the thread that writes).
class FailingStore final : public Store {
 public:
  explicit FailingStore(Store& base) : base_(base) {}
  std::atomic<bool> fail{false};
  std::atomic<int> fail_times{0};      // the next n writes fail
  std::atomic<int> conflict_times{0};  // the next n writes conflict (another node wrote)
  std::function<void()> on_commit_all;
  // Called with each idempotency key looked up here: by the read-ahead of the batch about to be
  // stepped (tests learn that the step is under way), or by a step itself.
  std::function<void(const std::string&)> on_key_lookup;
  std::function<void(const TimerClaim&)> on_claim;  // each claim the worker asks for
  std::int64_t get(std::string_view c) const override { return base_.get(c); }
  std::int64_t reserve(std::string_view c, std::int64_t n) override { return base_.reserve(c, n); }
  mutable std::atomic<int> loads{0};  // instances read through this store
  std::optional<Instance> load(const std::string& id) const override {
    ++loads;
    return base_.load(id);
  }
  std::optional<std::string> find_open_by_key(const std::string& w,
                                              const std::string& k) const override {
    return base_.find_open_by_key(w, k);
  }
  bool key_used(const std::string& w, const std::string& k) const override {
    return base_.key_used(w, k);
  }
  std::optional<boost::json::object> idempotent_response(const std::string& k) const override {
    if (on_key_lookup) on_key_lookup(k);
    return base_.idempotent_response(k);
  }
  CommitResult commit(const Commit& c) override { return commit_all({&c, 1}); }
  CommitResult commit_all(std::span<const Commit> cs) override {
    if (on_commit_all) on_commit_all();
    if (fail || fail_times.fetch_sub(1) > 0) throw std::runtime_error("disk I/O error");
    if (conflict_times.fetch_sub(1) > 0) return CommitResult::conflict;
    return base_.commit_all(cs);
  }
  std::vector<DueTimer> due_timers(Timestamp u, std::size_t l) const override {
    return base_.due_timers(u, l);
  }
  std::optional<Timestamp> next_timer_due() const override { return base_.next_timer_due(); }
  std::vector<DueTimer> claim_timers(const TimerClaim& c) override {
    if (on_claim) on_claim(c);
    return base_.claim_timers(c);
  }
  void release_timers(const std::string& n) override { base_.release_timers(n); }
  std::size_t pending_timers() const override { return base_.pending_timers(); }
  std::size_t undelivered_messages() const override { return base_.undelivered_messages(); }
  std::vector<StoredHistory> history(const std::string& id) const override {
    return base_.history(id);
  }
  int open_cases(std::string_view p) const override { return base_.open_cases(p); }
  std::vector<Instance> find_instances(const InstanceFilter& f) const override {
    return base_.find_instances(f);
  }
  PublishResult publish_definition(const PublishedDefinition& d, EarlierContent earlier) override {
    return base_.publish_definition(d, earlier);
  }
  std::vector<PublishedDefinition> definition_versions(const std::string& n) const override {
    return base_.definition_versions(n);
  }
  std::vector<PublishedDefinition> latest_definitions() const override {
    return base_.latest_definitions();
  }
  std::vector<OutboxMessage> claim_outbox(Timestamp n, Timestamp l, std::size_t lim) override {
    return base_.claim_outbox(n, l, lim);
  }
  void outbox_delivered(const std::vector<std::uint64_t>& ids, Timestamp at) override {
    base_.outbox_delivered(ids, at);
  }
  Forgotten forget(const ForgetBefore& f) override { return base_.forget(f); }
  void outbox_failed(std::uint64_t id, const std::string& e, Timestamp n) override {
    base_.outbox_failed(id, e, n);
  }
  std::vector<OutboxMessage> outbox(bool u, std::size_t l) const override {
    return base_.outbox(u, l);
  }
  std::uint64_t add_to_inbox(const InboxEntry& e) override { return base_.add_to_inbox(e); }
  std::vector<InboxEntry> inbox(bool o, std::uint64_t a, std::size_t l) const override {
    return base_.inbox(o, a, l);
  }
  std::optional<InboxEntry> inbox_entry(std::uint64_t id) const override {
    return base_.inbox_entry(id);
  }
  bool mark_inbox_replayed(std::uint64_t id, const std::string& in) override {
    return base_.mark_inbox_replayed(id, in);
  }
  void save_api_token(const ApiTokenRow& t) override { base_.save_api_token(t); }
  std::optional<ApiTokenRow> find_api_token(const std::string& h) const override {
    return base_.find_api_token(h);
  }
  std::vector<ApiTokenRow> api_tokens() const override { return base_.api_tokens(); }
  bool revoke_api_token(const std::string& id) override { return base_.revoke_api_token(id); }

 private:
  Store& base_;
};

TEST(Worker, AFailedCommitAnswersUnavailableAndLeavesNothingBehind) {
  MemoryStore base;
  FailingStore store(base);
  ManualClock clock(kT0);
  Worker worker(store, clock, {});
  worker.add_definition(load(kTicket), 1);
  worker.start();
  ASSERT_EQ(worker.submit(start_ticket("a")).get().status, RuntimeResult::Status::ok);
  const Instance before = *base.load("ticket-1");
  const std::size_t history_before = base.history("ticket-1").size();
  store.fail = true;
  auto bumped = worker.submit(event("ticket-1", "bump", "k1")).get();
  auto second = worker.submit(start_ticket("b")).get();
  EXPECT_EQ(bumped.status, RuntimeResult::Status::unavailable);
  EXPECT_THAT(bumped.error, HasSubstr("disk I/O error"));
  EXPECT_EQ(second.status, RuntimeResult::Status::unavailable);
  EXPECT_EQ(*base.load("ticket-1"), before);
  EXPECT_FALSE(base.load("ticket-2"));
  EXPECT_FALSE(base.idempotent_response("k1"));
  EXPECT_EQ(base.history("ticket-1").size(), history_before);
  // The caller retries with the same key once the store is back: applied exactly once.
  store.fail = false;
  auto retried = worker.submit(event("ticket-1", "bump", "k1")).get();
  EXPECT_EQ(retried.status, RuntimeResult::Status::ok);
  EXPECT_EQ(base.load("ticket-1")->data.at("bumps").as_int64(), 1);
  worker.stop();
}

// Holds the first write until released, so that the test can queue requests behind it, and
// tells when the steps with given idempotency keys are being stepped: the worker reads a batch's
// keys ahead (read_ahead asks the key of each, here) and steps them right after, on its own
// thread, before it can learn how the write below went.
struct HeldFirstWrite {
  explicit HeldFirstWrite(FailingStore& store) {
    store.on_commit_all = [this] {
      if (writes.fetch_add(1) != 0) return;
      entered.set_value();
      released.wait();
    };
    store.on_key_lookup = [this](const std::string& key) {
      const std::lock_guard lock(mutex);
      if (waiting.erase(key) > 0 && waiting.empty()) stepped.set_value();
      if (auto it = each.find(key); it != each.end()) {
        it->second.set_value();
        each.erase(it);
      }
    };
  }
  // A failed assertion must not leave the write held while the worker stops.
  ~HeldFirstWrite() { release_once(); }
  // Before the worker starts: ready once the step with `key` is being stepped.
  std::future<void> step_of(const std::string& key) {
    const std::lock_guard lock(mutex);
    return each[key].get_future();
  }
  // Before the worker starts: the steps with these keys are to be waited for.
  void expect_steps(std::set<std::string> keys) {
    const std::lock_guard lock(mutex);
    waiting = std::move(keys);
  }
  // Waits until each is being stepped (bounded: a failure, not a hang).
  bool wait_for_steps() { return done.wait_for(10s) == std::future_status::ready; }
  void release_once() {
    if (!released_) release.set_value();
    released_ = true;
  }
  std::atomic<int> writes{0};
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  bool released_ = false;
  std::mutex mutex;
  std::set<std::string> waiting;
  std::promise<void> stepped;
  std::future<void> done = stepped.get_future();
  std::map<std::string, std::promise<void>> each;
};

// Pipelining, one request per batch so that the first batch is handed to the committer (more
// is queued behind it) and held there while the worker steps the next one on top of it.
class PipelinedWorker : public ::testing::Test {
 protected:
  PipelinedWorker() : worker_(store_, clock_, {}, one_per_batch()) {
    worker_.add_definition(load(kTicket), 1);
  }
  ~PipelinedWorker() override { held_.release_once(); }  // a failed test must not hang
  static WorkerOptions one_per_batch() {
    WorkerOptions o;
    o.max_batch = 1;
    return o;
  }
  MemoryStore base_;
  FailingStore store_{base_};
  HeldFirstWrite held_{store_};
  ManualClock clock_{kT0};
  Worker worker_;
};

// The event for a case that exists only in the batch being written is stepped on that batch
// (nothing is read from the store for it), and answered only after it was written.
TEST_F(PipelinedWorker, TheNextBatchIsSteppedOnTheOneBeingWrittenAndAnsweredAfterIt) {
  auto started = worker_.submit(start_ticket("a"));
  auto bumped = worker_.submit(event("ticket-1", "bump", "bump-1"));
  held_.expect_steps({"bump-1"});
  worker_.start();
  held_.entered.get_future().wait();
  ASSERT_TRUE(held_.wait_for_steps());
  EXPECT_EQ(bumped.wait_for(50ms), std::future_status::timeout);
  EXPECT_EQ(started.wait_for(0ms), std::future_status::timeout);
  EXPECT_FALSE(base_.load("ticket-1"));
  held_.release_once();
  EXPECT_EQ(started.get().status, RuntimeResult::Status::ok);
  const RuntimeResult r = bumped.get();
  ASSERT_EQ(r.status, RuntimeResult::Status::ok) << r.error;
  worker_.stop();
  EXPECT_EQ(store_.loads, 0);
  EXPECT_EQ(base_.load("ticket-1")->revision, 2u);
  EXPECT_EQ(base_.load("ticket-1")->data.at("bumps").as_int64(), 1);
  EXPECT_EQ(worker_.stats().batches, 2u);
}

// A batch stepped on one that then fails to be written saw things that never happened: it is
// stepped again against the store, and its callers get the answers of that second step. Here
// a start refused because the first batch's case seemed open is made after all.
TEST_F(PipelinedWorker, ABatchSteppedOnOneThatFailsIsSteppedAgain) {
  store_.fail_times = 1;
  auto started = worker_.submit(start_ticket("a"));
  auto again = worker_.submit(start_keyed("a", "again-1"));  // one_open: refused on top
  auto other = worker_.submit(start_ticket("b"));
  held_.expect_steps({"again-1"});
  worker_.start();
  held_.entered.get_future().wait();
  ASSERT_TRUE(held_.wait_for_steps());
  held_.release_once();
  EXPECT_EQ(started.get().status, RuntimeResult::Status::unavailable);
  const RuntimeResult a = again.get();
  EXPECT_EQ(a.status, RuntimeResult::Status::ok) << a.error;
  EXPECT_EQ(other.get().status, RuntimeResult::Status::ok);
  worker_.stop();
  ASSERT_TRUE(a.instance);
  EXPECT_EQ(base_.load(a.instance->id)->data.at("ref"), "a");
  EXPECT_EQ(base_.instance_ids().size(), 2u);
  EXPECT_EQ(worker_.stats().store_errors, 1u);
  EXPECT_EQ(worker_.stats().conflicts, 0u);
}

// A batch whose write conflicts (another node wrote) is redone one by one, and the batch
// stepped on top of it is stepped again: every request is applied once.
TEST_F(PipelinedWorker, AConflictRedoesTheBatchAndStepsTheNextAgain) {
  store_.conflict_times = 1;
  auto started = worker_.submit(start_ticket("a"));
  // By business key: the redo starts the case again under an id of its own.
  EventRequest bump;
  bump.workflow = "ticket";
  bump.key = "a";
  bump.event = "bump";
  bump.idempotency_key = "bump-1";
  auto bumped = worker_.submit(bump);
  held_.expect_steps({"bump-1"});
  worker_.start();
  held_.entered.get_future().wait();
  ASSERT_TRUE(held_.wait_for_steps());
  held_.release_once();
  const RuntimeResult a = started.get();
  ASSERT_EQ(a.status, RuntimeResult::Status::ok) << a.error;
  const RuntimeResult r = bumped.get();
  ASSERT_EQ(r.status, RuntimeResult::Status::ok) << r.error;
  worker_.stop();
  ASSERT_TRUE(a.instance);
  EXPECT_EQ(base_.instance_ids().size(), 1u);
  EXPECT_EQ(base_.load(a.instance->id)->data.at("bumps").as_int64(), 1);
  EXPECT_EQ(count_kind(base_, a.instance->id, "event"), 1);
  EXPECT_EQ(worker_.stats().conflicts, 1u);
}

// While a batch is being written, what arrives is stepped into the batch on top of it and leaves
// with it, instead of waiting for a batch of its own a whole write later.
TEST(Worker, WhatArrivesDuringAWriteJoinsTheBatchSteppedOnTopOfIt) {
  MemoryStore base;
  FailingStore store{base};
  ManualClock clock{kT0};
  WorkerOptions options;
  options.max_batch = 2;
  Worker worker(store, clock, {}, options);
  HeldFirstWrite held{store};  // destroyed (and released) before the worker
  // Each start looks its key up when it is stepped.
  std::future<void> c_stepped = held.step_of("c-1");
  std::future<void> d_stepped = held.step_of("d-1");
  worker.add_definition(load(kTicket), 1);
  auto a = worker.submit(start_ticket("a"));
  auto b = worker.submit(start_ticket("b"));
  auto c = worker.submit(start_keyed("c", "c-1"));  // queued behind: {a, b} go to the committer
  worker.start();
  held.entered.get_future().wait();
  ASSERT_EQ(c_stepped.wait_for(10s), std::future_status::ready);
  // {c} is stepped and the first write still held: a workflow is published and d, a case of
  // it, arrives now. It is stepped on the definition published before it was submitted.
  std::string other = kTicket;
  other.replace(other.find("workflow: ticket"), 16, "workflow: other");
  worker.add_definition(load(other), 1);
  StartRequest d_request = start_keyed("d", "d-1");
  d_request.workflow = "other";
  auto d = worker.submit(d_request);
  ASSERT_EQ(d_stepped.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(d.wait_for(0ms), std::future_status::timeout);
  held.release_once();
  for (auto* f : {&a, &b, &c, &d}) {
    const RuntimeResult r = f->get();
    EXPECT_EQ(r.status, RuntimeResult::Status::ok) << r.error;
  }
  worker.stop();
  EXPECT_EQ(worker.stats().batches, 2u);  // {a, b}, then {c, d}
  EXPECT_EQ(held.writes.load(), 2);
  EXPECT_EQ(base.instance_ids().size(), 4u);
}

// A lone request with nothing else waiting is written by the worker thread itself (two thread
// hand-overs fewer for its caller); a batch of several goes to the committer, so that what
// arrives meanwhile is stepped instead of waiting for the worker's own write.
TEST(Worker, ALoneRequestIsWrittenByTheWorkerAndABatchOfSeveralByTheCommitter) {
  MemoryStore base;
  FailingStore store{base};
  ManualClock clock{kT0};
  Worker worker(store, clock, {});
  std::mutex mutex;
  std::vector<std::thread::id> writers;  // the thread of each batch's write, in order
  worker.on_flush = [&](std::chrono::nanoseconds) {
    const std::lock_guard lock(mutex);
    writers.push_back(std::this_thread::get_id());
  };
  HeldFirstWrite held{store};  // destroyed (and released) before the worker
  worker.add_definition(load(kTicket), 1);
  auto lone = worker.submit(start_ticket("a"));
  worker.start();
  held.entered.get_future().wait();
  // While the lone one is written, two arrive: they are stepped together once it is.
  auto b = worker.submit(start_ticket("b"));
  auto c = worker.submit(start_ticket("c"));
  held.release_once();
  for (auto* f : {&lone, &b, &c}) {
    const RuntimeResult r = f->get();
    EXPECT_EQ(r.status, RuntimeResult::Status::ok) << r.error;
  }
  worker.stop();
  EXPECT_EQ(worker.stats().batches, 2u);  // {a}, then {b, c}
  const std::lock_guard lock(mutex);
  ASSERT_EQ(writers.size(), 2u);
  EXPECT_NE(writers[0], writers[1]);
}

// A refill asks only for the slice of the look-ahead beyond what it claimed, and for what this
// node armed inside the part it already covered; every `sweep_every` it asks for all of it.
TEST(Worker, RefillsClaimNewSlicesAndSweepTheLookAheadNowAndThen) {
  MemoryStore base;
  FailingStore store{base};
  std::mutex mutex;
  std::vector<TimerClaim> claims;
  store.on_claim = [&](const TimerClaim& c) {
    const std::lock_guard lock(mutex);
    claims.push_back(c);
  };
  const auto claim = [&](std::size_t i) -> std::optional<TimerClaim> {
    if (!eventually([&] {
          const std::lock_guard lock(mutex);
          return claims.size() > i;
        })) {
      return std::nullopt;
    }
    const std::lock_guard lock(mutex);
    return claims[i];
  };
  ManualClock clock{kT0};
  WorkerOptions options;
  options.lookahead = 2h;  // the ticket's 1h timer lies inside it
  options.refill_every = 200ms;
  options.sweep_every = 5s;
  options.lease = 60s;
  Worker worker(store, clock, {}, options);
  worker.add_definition(load(kTicket), 1);
  worker.start();

  const auto first = claim(0);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->after, Timestamp::min());  // at start: everything, renewing every lease
  EXPECT_EQ(first->until, kT0 + 2h);
  // Arms a timer due at kT0 + 1h, in the part already covered.
  ASSERT_EQ(worker.submit(start_ticket("a")).get().status, RuntimeResult::Status::ok);

  clock.set(kT0 + 200ms);
  worker.poke();
  const auto second = claim(1);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->after, kT0 + 1h - 1ms);  // from just before what it armed
  EXPECT_EQ(second->until, kT0 + 200ms + 2h);
  // That slice leased it: it is in memory before any sweep.
  EXPECT_TRUE(eventually([&] { return worker.stats().timers_in_memory == 1; }));

  clock.set(kT0 + 400ms);
  worker.poke();
  const auto third = claim(2);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->after, kT0 + 200ms + 2h);  // only the new slice
  EXPECT_EQ(third->renew_before, kT0 + 400ms + 30s);

  clock.set(kT0 + 5s);
  worker.poke();
  const auto fourth = claim(3);
  ASSERT_TRUE(fourth);
  EXPECT_EQ(fourth->after, Timestamp::min());  // a sweep

  // The timer the slice claimed fires once when due.
  clock.set(kT0 + 1h);
  worker.poke();
  EXPECT_TRUE(eventually([&] { return worker.stats().timers_fired == 1; }));
  worker.stop();
  EXPECT_EQ(base.load("ticket-1")->state, "expired");
  EXPECT_EQ(count_kind(base, "ticket-1", "timer"), 1);
}

class FlakySink final : public OutboxSink {
 public:
  std::string deliver(const OutboxMessage& m) override {
    const std::lock_guard lock(mutex);
    ++calls;
    if (calls == 1) return "gateway timeout";
    delivered.push_back(m.payload.at("template").as_string().c_str());
    return "";
  }
  std::mutex mutex;
  int calls = 0;
  std::vector<std::string> delivered;
};

TEST(Worker, OutboxRetriesAFailedDeliveryWithBackoffAndRecordsTheError) {
  MemoryStore store;
  ManualClock clock(kT0);
  FlakySink sink;
  WorkerOptions options;
  options.outbox_poll = Millis(5);
  options.refill_every = Millis(5);
  options.backoff_first = std::chrono::seconds(10);
  Worker worker(store, clock, {}, options, &sink);
  worker.add_definition(load(kTicket), 1);
  worker.start();
  ASSERT_EQ(worker.submit(start_ticket("a")).get().status, RuntimeResult::Status::ok);
  clock.set(kT0 + std::chrono::hours(2));
  worker.poke();
  ASSERT_TRUE(eventually([&] { return worker.stats().outbox_failed == 1; }));
  auto waiting = store.outbox(true, 10);
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0].last_error, "gateway timeout");
  EXPECT_EQ(waiting[0].attempts, 1);
  EXPECT_EQ(waiting[0].next_attempt_at, clock.now() + std::chrono::seconds(10));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(worker.stats().outbox_delivered, 0u);  // not before the backoff
  clock.set(clock.now() + std::chrono::seconds(11));
  ASSERT_TRUE(eventually([&] { return worker.stats().outbox_delivered == 1; }));
  worker.stop();
  EXPECT_TRUE(store.outbox(true, 10).empty());
  EXPECT_EQ(store.outbox(false, 10).at(0).attempts, 2);
}

// `n` notifications in the outbox, their subjects "0", "1", ...
void commit_notifications(Store& store, int n) {
  Commit c;
  c.instance.id = "ticket-1";
  c.instance.workflow = "ticket";
  c.instance.revision = 1;
  for (int i = 0; i < n; ++i)
    c.notifications.push_back({"expired", {"li.wei"}, "assignee", std::to_string(i), ""});
  ASSERT_EQ(store.commit(c), CommitResult::ok);
}

// A stop waits for the deliveries under way, not for the rest of their batch: behind a
// receiver that takes its full timeout on each message, that would be minutes.
TEST(Worker, AStopWaitsForTheDeliveriesUnderWayNotTheBatch) {
  MemoryStore store;
  ManualClock clock(kT0);
  commit_notifications(store, 6);
  struct Slow : OutboxSink {
    std::string deliver(const OutboxMessage&) override {
      if (++calls == 2) both_in.set_value();
      release.wait();
      return "";
    }
    std::atomic<int> calls{0};
    std::promise<void> both_in, let_go;
    std::shared_future<void> release = let_go.get_future().share();
  } sink;
  WorkerOptions options;
  options.outbox_poll = Millis(5);
  options.outbox_senders = 2;
  Worker worker(store, clock, {}, options, &sink);
  worker.start();
  sink.both_in.get_future().wait();  // two deliveries under way at once
  auto stopped = std::async(std::launch::async, [&] { worker.stop(); });
  std::this_thread::sleep_for(50ms);  // the stop is under way, waiting for the two
  sink.let_go.set_value();
  stopped.get();
  EXPECT_EQ(sink.calls.load(), 2);
  EXPECT_EQ(store.outbox(true, 10).size(), 4U);  // claimed again after their lease
  EXPECT_EQ(worker.stats().outbox_delivered, 2U);
}

// A receiver that takes its whole timeout holds one sender; the batch's other messages go out
// through the rest meanwhile.
TEST(Worker, ASlowReceiverHoldsOneSenderNotTheOthers) {
  MemoryStore store;
  ManualClock clock(kT0);
  commit_notifications(store, 5);
  struct OneSlow : OutboxSink {
    std::string deliver(const OutboxMessage& m) override {
      if (m.payload.at("subject").as_string() != "0") {
        if (++fast == 4) others_done.set_value();
        return "";
      }
      // Delivered one after another, the others would wait behind this one: it times out.
      return done.wait_for(5s) == std::future_status::ready ? "" : "timed out";
    }
    std::atomic<int> fast{0};
    std::promise<void> others_done;
    std::future<void> done = others_done.get_future();
  } sink;
  WorkerOptions options;
  options.outbox_poll = Millis(5);
  Worker worker(store, clock, {}, options, &sink);
  worker.start();
  ASSERT_TRUE(eventually(
      [&] { return worker.stats().outbox_delivered + worker.stats().outbox_failed == 5; }));
  worker.stop();
  EXPECT_EQ(worker.stats().outbox_failed, 0U);
  EXPECT_TRUE(store.outbox(true, 10).empty());
}

// Housekeeping forgets an idempotency answer once it is older than keep_idempotency_keys (a
// repeat is then a new request) and a delivered message older than keep_delivered_messages.
TEST(Worker, OldIdempotencyAnswersAndDeliveredMessagesAreForgottenOnTheirSchedule) {
  MemoryStore store;
  ManualClock clock(kT0);
  struct : OutboxSink {
    std::string deliver(const OutboxMessage&) override { return ""; }
  } sink;
  WorkerOptions options;
  options.outbox_poll = Millis(5);
  options.keep_idempotency_keys = std::chrono::hours(24);
  options.keep_delivered_messages = std::chrono::hours(48);
  options.housekeeping_every = std::chrono::minutes(1);
  Worker worker(store, clock, {}, options, &sink);
  worker.add_definition(load(kTicket), 1);
  worker.start();
  const auto first = worker.submit(start_keyed("a", "call-1")).get();
  ASSERT_EQ(first.status, RuntimeResult::Status::ok);
  clock.set(kT0 + std::chrono::hours(2));  // the ticket's 1 h timer notifies: one message
  worker.poke();
  ASSERT_TRUE(eventually([&] { return worker.stats().outbox_delivered == 1; }));
  const auto again = worker.submit(start_keyed("a", "call-1")).get();
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.instance->id, first.instance->id);

  // A day and a minute after the start: the answer goes, the message (delivered at 2 h) stays.
  clock.set(kT0 + std::chrono::hours(24) + std::chrono::minutes(1));
  ASSERT_TRUE(eventually([&] { return worker.stats().forgotten_keys == 1; }));
  EXPECT_FALSE(store.idempotent_response("call-1"));
  const auto kept = store.outbox(false, 10);
  ASSERT_EQ(kept.size(), 1u);
  const std::uint64_t delivered = kept[0].id;
  // The same key again: a new request now (within the day it would have been answered with
  // ticket-1, whatever its data).
  const auto later = worker.submit(start_keyed("b", "call-1")).get();
  ASSERT_EQ(later.status, RuntimeResult::Status::ok) << later.error;
  EXPECT_FALSE(later.replayed);
  EXPECT_NE(later.instance->id, first.instance->id);

  // Past the answers' day, not yet the messages' two: the message is still there.
  clock.set(kT0 + std::chrono::hours(27));
  worker.poke();
  std::this_thread::sleep_for(50ms);  // several housekeeping passes (every minute of the clock)
  const auto still = store.outbox(false, 10);
  EXPECT_TRUE(std::any_of(still.begin(), still.end(),
                          [&](const OutboxMessage& m) { return m.id == delivered; }));
  // Two days after the delivery the message goes too; history is never forgotten.
  clock.set(kT0 + std::chrono::hours(51));
  ASSERT_TRUE(eventually([&] { return worker.stats().forgotten_messages == 1; }));
  worker.stop();
  // (ticket-2's own timer may have notified meanwhile: only the old message must be gone.)
  for (const auto& m : store.outbox(false, 10)) EXPECT_NE(m.id, delivered);
  EXPECT_EQ(count_kind(store, first.instance->id, "timer"), 1);
}

TEST(Worker, RunningInstancesStayOnTheirVersionNewOnesStartOnTheLatest) {
  MemoryStore store;
  ManualClock clock(kT0);
  Worker worker(store, clock, {});
  worker.add_definition(load(kTicket), 1);
  worker.start();
  ASSERT_EQ(worker.submit(start_ticket("a")).get().status, RuntimeResult::Status::ok);
  std::string v2 = kTicket;
  v2.replace(v2.find("close: closed\n  expired"), 13, "close: closed\n      escalate: expired");
  worker.add_definition(load(v2), 2);
  auto second = worker.submit(start_ticket("b")).get();
  ASSERT_EQ(second.status, RuntimeResult::Status::ok);
  EXPECT_EQ(second.instance->version, 2);
  EXPECT_EQ(worker.submit(event("ticket-2", "escalate")).get().instance->state, "expired");
  // ticket-1 runs on version 1, which has no `escalate`: refused as an unknown event.
  EXPECT_EQ(worker.submit(event("ticket-1", "escalate")).get().status,
            RuntimeResult::Status::rejected);
  worker.stop();
  EXPECT_EQ(store.load("ticket-1")->version, 1);
}

}  // namespace
}  // namespace ombud

namespace ombud {
namespace {

// Two callers who both saw revision 1 send at once (one batch): the first step moves the case
// to revision 2, and the second is told, not applied on top of it.
TEST(Worker, OfTwoCallersWhoSawOneRevisionOnlyTheFirstIsApplied) {
  MemoryStore store;
  ManualClock clock(kT0);
  Worker worker(store, clock, {});
  start_one_ticket(worker);
  const std::uint64_t seen = store.load("ticket-1")->revision;
  EventRequest first = event("ticket-1", "bump");
  first.revision = seen;
  AssignRequest second{"ticket-1", "li.na", "", "", "", "zhang.wei", seen};
  auto a = worker.submit(first);  // queued while the worker is stopped: one batch at start
  auto b = worker.submit(second);
  worker.start();
  EXPECT_EQ(a.get().status, RuntimeResult::Status::ok);
  const RuntimeResult refused = b.get();
  EXPECT_EQ(refused.status, RuntimeResult::Status::stale_revision);
  EXPECT_NE(refused.error.find("not " + std::to_string(seen)), std::string::npos) << refused.error;
  worker.stop();
  EXPECT_EQ(store.load("ticket-1")->assignee, "");
  EXPECT_EQ(store.load("ticket-1")->revision, seen + 1);
}

TEST(Worker, ASupervisorReassignsACaseAndTheHistorySaysWhoAndWhy) {
  MemoryStore store;
  ManualClock clock(kT0);
  Worker worker(store, clock, {});
  worker.add_definition(load(kTicket), 1);
  worker.start();
  ASSERT_EQ(worker.submit(start_ticket("a")).get().status, RuntimeResult::Status::ok);
  AssignRequest assign{"ticket-1", "li.na",     "",          "customer asked for her",
                       "",         "zhang.wei", std::nullopt};
  auto r = worker.submit(assign).get();
  ASSERT_EQ(r.status, RuntimeResult::Status::ok);
  EXPECT_EQ(r.instance->assignee, "li.na");
  EXPECT_EQ(store.open_cases("li.na"), 1);
  AssignRequest missing{"ticket-9", "li.na", "", "", "", "zhang.wei", std::nullopt};
  EXPECT_EQ(worker.submit(missing).get().status, RuntimeResult::Status::not_found);
  worker.stop();
  const auto history = store.history("ticket-1");
  EXPECT_EQ(history.back().entry.message,
            "reassigned from the queue to li.na by zhang.wei: customer asked for her");
  EXPECT_EQ(history.back().actor, "zhang.wei");
  EXPECT_TRUE(replay(*load(kTicket), *store.load("ticket-1"), history, {}).ok);
}

// `on_assign` runs when a person assigns the case to someone, in the same commit, and the
// history replays through it; putting the case back in a queue tells nobody.
TEST(Worker, OnAssignRunsWhenAPersonAssignsTheCaseToSomeone) {
  std::string yaml = kTicket;
  yaml +=
      "on_assign:\n  - set: {bumps: \"${ data.bumps + 10 }\"}\n"
      "  - notify: {to: assignee, template: reassigned}\n";
  const auto def = load(yaml);
  MemoryStore store;
  ManualClock clock(kT0);
  Worker worker(store, clock, {});
  worker.add_definition(def, 1);
  worker.start();
  ASSERT_EQ(worker.submit(start_ticket("a")).get().status, RuntimeResult::Status::ok);
  const auto reassigned = [&] {
    int n = 0;
    for (const OutboxMessage& m : store.outbox(false, 100)) {
      n += boost::json::serialize(m.payload).find("reassigned") != std::string::npos;
    }
    return n;
  };
  AssignRequest to_li{"ticket-1", "li.na", "", "", "", "zhang.wei", std::nullopt};
  const RuntimeResult r = worker.submit(to_li).get();
  ASSERT_EQ(r.status, RuntimeResult::Status::ok) << r.error;
  EXPECT_EQ(r.instance->data.at("bumps").as_int64(), 10);
  EXPECT_EQ(reassigned(), 1);
  AssignRequest to_queue{"ticket-1", "", "desk", "", "", "zhang.wei", std::nullopt};
  ASSERT_EQ(worker.submit(to_queue).get().status, RuntimeResult::Status::ok);
  worker.stop();
  EXPECT_EQ(store.load("ticket-1")->data.at("bumps").as_int64(), 10);
  EXPECT_EQ(store.load("ticket-1")->queue, "desk");
  EXPECT_EQ(reassigned(), 1);

  auto history = store.history("ticket-1");
  const auto replayed = replay(*def, *store.load("ticket-1"), history, {});
  EXPECT_TRUE(replayed.ok) << ::testing::PrintToString(replayed.differences);
  // Without the first assignment's row, its on_assign is missing from the data.
  history.erase(std::find_if(history.begin(), history.end(),
                             [](const StoredHistory& h) { return h.input.contains("assign"); }));
  EXPECT_FALSE(replay(*def, *store.load("ticket-1"), history, {}).ok);
}

// An incident a supervisor has dealt with is marked resolved, durably, and the case's history
// replays to it: losing the resolution's row would show.
TEST(Worker, ASupervisorResolvesAnIncidentAndTheHistoryReplaysToIt) {
  MemoryStore store;
  ManualClock clock(kT0);
  Worker worker(store, clock, {});
  start_one_ticket(worker);
  worker.start();
  // Expired with no directory: the supervisors' notification reaches nobody, an incident.
  clock.set(kT0 + std::chrono::hours(2));
  worker.poke();
  ASSERT_TRUE(eventually([&] { return store.load("ticket-1")->state == "expired"; }));
  ASSERT_EQ(store.load("ticket-1")->incidents.size(), 1U);
  EXPECT_FALSE(store.load("ticket-1")->incidents[0].resolved);

  ResolveIncidentRequest none{"ticket-1", 2, "", "", "zhang.wei", std::nullopt};
  const RuntimeResult missing = worker.submit(none).get();
  EXPECT_EQ(missing.status, RuntimeResult::Status::not_found);
  EXPECT_NE(missing.error.find("has no incident 2 (it has 1)"), std::string::npos) << missing.error;
  ResolveIncidentRequest resolve{"ticket-1", 1,           "told the supervisors by phone",
                                 "",         "zhang.wei", store.load("ticket-1")->revision};
  const RuntimeResult r = worker.submit(resolve).get();
  ASSERT_EQ(r.status, RuntimeResult::Status::ok) << r.error;
  EXPECT_TRUE(r.instance->incidents[0].resolved);
  const std::uint64_t revision = store.load("ticket-1")->revision;
  // Again, by someone else: already resolved, nothing recorded.
  resolve.actor = "chen.jing";
  resolve.revision.reset();
  EXPECT_EQ(worker.submit(resolve).get().status, RuntimeResult::Status::ok);
  worker.stop();
  EXPECT_EQ(store.load("ticket-1")->revision, revision);
  EXPECT_TRUE(store.load("ticket-1")->incidents[0].resolved);

  auto history = store.history("ticket-1");
  EXPECT_EQ(history.back().entry.kind, "incident_resolved");
  EXPECT_EQ(history.back().entry.message,
            "incident 1 resolved by zhang.wei: told the supervisors by phone");
  EXPECT_EQ(history.back().actor, "zhang.wei");
  const auto replayed = replay(*load(kTicket), *store.load("ticket-1"), history, {});
  EXPECT_TRUE(replayed.ok) << ::testing::PrintToString(replayed.differences);
  history.pop_back();
  const auto lost = replay(*load(kTicket), *store.load("ticket-1"), history, {});
  EXPECT_FALSE(lost.ok);
  EXPECT_EQ(lost.differences,
            std::vector<std::string>{"incident 1: stored resolved, replayed open"});
}

}  // namespace
}  // namespace ombud
