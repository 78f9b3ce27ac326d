// The Store contract, run on every store: the in-memory reference, SQLite on disk and a real
// PostgreSQL 15. The same test body must pass on all three.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "tests/adapters/sql/store_backends.h"

namespace ombud {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const Timestamp kT0 = *parse_timestamp("2026-11-23T09:00:00Z");
Timestamp at(int seconds) { return kT0 + std::chrono::seconds(seconds); }

Instance make_instance(const std::string& id, std::uint64_t revision = 1) {
  Instance in;
  in.id = id;
  in.workflow = "complaint";
  in.version = 2;
  in.state = "intake";
  in.data = {{"phone", "+8613800000000"}, {"score", 4.5}, {"tags", boost::json::array{"a", "b"}}};
  in.key = "+8613800000000";
  in.assignee = "li.wei";
  in.queue = "front-desk";
  in.priority = Priority::high;
  in.created_at = at(0);
  in.updated_at = at(static_cast<int>(revision));
  in.revision = revision;
  in.next_timer_id = 3;
  return in;
}

Commit new_commit(const std::string& id) {
  Commit c;
  c.instance = make_instance(id);
  c.expected_revision = 0;
  c.actor = "api";
  c.history.push_back({at(0), "started", "started in intake", Details().add("via", "phone")});
  return c;
}

// The commit that moves `in` one revision on.
Commit next_commit(const Instance& in) {
  Commit c;
  c.instance = in;
  c.expected_revision = in.revision;
  c.instance.revision = in.revision + 1;
  c.instance.updated_at = in.updated_at + std::chrono::seconds(1);
  c.actor = "li.wei";
  return c;
}

template <class Backend>
class StoreConformance : public ::testing::Test {
 protected:
  void SetUp() override { store_ = backend_.open(); }
  void TearDown() override { store_.reset(); }

  Store& store() { return *store_; }

  Backend backend_;
  std::unique_ptr<Store> store_;
};

using Backends =
    ::testing::Types<testing::MemoryBackend, testing::SqliteBackend, testing::PostgresBackend>;
TYPED_TEST_SUITE(StoreConformance, Backends, testing::BackendName);

// A new case's business key under its workflow's key_policy is checked by the commit itself
// (another node may have started one a moment ago): one_open while a case with the key is open,
// unique for ever; a case's end gives a one_open key back; without a policy, nothing is checked.
TYPED_TEST(StoreConformance, ANewCasesBusinessKeyIsCheckedAgainstItsPolicy) {
  auto start = [&](const std::string& id, const std::string& key, KeyPolicy policy) {
    Commit c = new_commit(id);
    c.instance.key = key;
    c.key_policy = policy;
    return this->store().commit(c);
  };
  ASSERT_EQ(start("open-1", "139-a", KeyPolicy::one_open), CommitResult::ok);
  EXPECT_EQ(start("open-2", "139-a", KeyPolicy::one_open), CommitResult::conflict);
  EXPECT_FALSE(this->store().load("open-2"));
  Commit end = next_commit(*this->store().load("open-1"));
  end.instance.ended = true;
  ASSERT_EQ(this->store().commit(end), CommitResult::ok);
  EXPECT_EQ(start("open-3", "139-a", KeyPolicy::one_open), CommitResult::ok);

  ASSERT_EQ(start("unique-1", "139-b", KeyPolicy::unique), CommitResult::ok);
  Commit gone = next_commit(*this->store().load("unique-1"));
  gone.instance.ended = true;
  ASSERT_EQ(this->store().commit(gone), CommitResult::ok);
  EXPECT_EQ(start("unique-2", "139-b", KeyPolicy::unique), CommitResult::conflict);

  EXPECT_EQ(start("free-1", "139-c", KeyPolicy::none), CommitResult::ok);
  EXPECT_EQ(start("free-2", "139-c", KeyPolicy::none), CommitResult::ok);

  // Two starts of one key in one batch: the second conflicts, and neither is written.
  Commit first = new_commit("batch-1");
  first.instance.key = "139-d";
  first.key_policy = KeyPolicy::one_open;
  Commit second = new_commit("batch-2");
  second.instance.key = "139-d";
  second.key_policy = KeyPolicy::one_open;
  const std::vector<Commit> both{first, second};
  EXPECT_EQ(this->store().commit_all(both), CommitResult::conflict);
  EXPECT_FALSE(this->store().load("batch-1"));
}

TYPED_TEST(StoreConformance, CommitThenLoadGivesTheSameInstance) {
  Commit c = new_commit("c-1");
  SlaClock clock;
  clock.name = "resolve";
  clock.status = SlaClock::Status::running;
  clock.cycle = 1;
  clock.started_at = clock.since = at(0);
  clock.due_at = at(3600);
  clock.budget = Millis(3600000);
  clock.fired = {1, 0};
  c.instance.slas.push_back(clock);
  PendingTimer timer;
  timer.id = 2;
  timer.kind = PendingTimer::Kind::escalation;
  timer.due = at(1800);
  timer.owner = "resolve";
  c.instance.timers.push_back(timer);
  c.instance.incidents.push_back({at(5), "nobody to assign", false});
  ASSERT_EQ(this->store().commit(c), CommitResult::ok);

  auto loaded = this->store().load("c-1");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(*loaded, c.instance);
  EXPECT_EQ(boost::json::serialize(to_json(*loaded)), boost::json::serialize(to_json(c.instance)));
  EXPECT_FALSE(this->store().load("c-2"));
}

TYPED_TEST(StoreConformance, StaleRevisionConflictsAndWritesNothing) {
  ASSERT_EQ(this->store().commit(new_commit("c-1")), CommitResult::ok);
  const Instance v1 = *this->store().load("c-1");
  Commit second = next_commit(v1);
  second.instance.state = "assigned";
  ASSERT_EQ(this->store().commit(second), CommitResult::ok);

  Commit stale = next_commit(v1);  // loaded at revision 1, but 2 is current
  stale.instance.state = "closed";
  stale.history.push_back({at(9), "transition", "intake → closed", {}});
  stale.armed.push_back({"c-1", 7, at(100)});
  stale.counters.push_back({"complaint.serial", 0, 41});
  stale.notifications.push_back({"closed", {"li.wei"}, "assignee", "", ""});
  stale.idempotency_key = "req-1";
  EXPECT_EQ(this->store().commit(stale), CommitResult::conflict);

  EXPECT_EQ(this->store().load("c-1")->state, "assigned");
  EXPECT_EQ(this->store().load("c-1")->revision, 2u);
  EXPECT_EQ(this->store().history("c-1").size(), 1u);
  EXPECT_EQ(this->store().pending_timers(), 0u);
  EXPECT_EQ(this->store().get("complaint.serial"), 0);
  EXPECT_THAT(this->store().outbox(false, 10), IsEmpty());
  EXPECT_FALSE(this->store().idempotent_response("req-1"));
}

TYPED_TEST(StoreConformance, UpdatingAnInstanceThatDoesNotExistConflicts) {
  Commit c = next_commit(make_instance("ghost", 3));
  EXPECT_EQ(this->store().commit(c), CommitResult::conflict);
  EXPECT_FALSE(this->store().load("ghost"));
}

TYPED_TEST(StoreConformance, FiredTimerThatIsGoneConflicts) {
  Commit start = new_commit("c-1");
  start.armed.push_back({"c-1", 1, at(60)});
  ASSERT_EQ(this->store().commit(start), CommitResult::ok);
  const Instance v1 = *this->store().load("c-1");

  Commit fire = next_commit(v1);
  fire.actor = "timer";
  fire.fired = DueTimer{"c-1", 1, at(60)};
  ASSERT_EQ(this->store().commit(fire), CommitResult::ok);
  EXPECT_EQ(this->store().pending_timers(), 0u);

  // Another node fires the same timer from its stale copy: already fired, nothing written.
  Commit again = next_commit(*this->store().load("c-1"));
  again.fired = DueTimer{"c-1", 1, at(60)};
  again.history.push_back({at(61), "timer", "fired twice?", {}});
  EXPECT_EQ(this->store().commit(again), CommitResult::conflict);
  EXPECT_EQ(this->store().load("c-1")->revision, 2u);
  EXPECT_EQ(this->store().history("c-1").size(), 1u);
}

// In one batch: a timer fires and its step arms the same id again; another fires and a later
// step of the batch cancels it; a third is cancelled. PostgreSQL writes the batch as one
// statement, in which no row may be changed twice: each of these must still come out right.
TYPED_TEST(StoreConformance, ABatchThatFiresTimersAndArmsOrCancelsThemAgainLeavesItsLastWord) {
  Commit a = new_commit("c-1");
  a.armed = {{"c-1", 1, at(60)}, {"c-1", 2, at(60)}, {"c-1", 3, at(90)}};
  Commit b = new_commit("c-2");
  b.armed = {{"c-2", 1, at(60)}};
  ASSERT_EQ(this->store().commit_all(std::vector{a, b}), CommitResult::ok);

  Commit fire = next_commit(a.instance);
  fire.actor = "timer";
  fire.fired = DueTimer{"c-1", 1, at(60)};
  fire.armed = {{"c-1", 1, at(120)}};
  fire.cancelled = {{"c-1", 3, at(90)}};
  Commit fire_again = next_commit(fire.instance);
  fire_again.fired = DueTimer{"c-1", 2, at(60)};
  Commit other = next_commit(b.instance);
  other.fired = DueTimer{"c-2", 1, at(60)};
  Commit after = next_commit(other.instance);
  after.cancelled = {{"c-2", 1, at(60)}};
  ASSERT_EQ(this->store().commit_all(std::vector{fire, other, fire_again, after}),
            CommitResult::ok);
  EXPECT_EQ(this->store().due_timers(at(1000), 10), (std::vector<DueTimer>{{"c-1", 1, at(120)}}));
  EXPECT_EQ(this->store().load("c-1")->revision, 3u);
  EXPECT_EQ(this->store().load("c-2")->revision, 3u);

  // The same fire from a stale copy: the row has moved to t=120, so it already fired.
  Commit stale = next_commit(fire_again.instance);
  stale.fired = DueTimer{"c-1", 1, at(60)};
  stale.armed = {{"c-1", 1, at(180)}};
  EXPECT_EQ(this->store().commit(stale), CommitResult::conflict);
  EXPECT_EQ(this->store().due_timers(at(1000), 10), (std::vector<DueTimer>{{"c-1", 1, at(120)}}));
  EXPECT_EQ(this->store().load("c-1")->revision, 3u);
}

TYPED_TEST(StoreConformance, NewInstanceWithAnExistingIdConflicts) {
  ASSERT_EQ(this->store().commit(new_commit("c-1")), CommitResult::ok);
  Commit dup = new_commit("c-1");
  dup.instance.state = "other";
  dup.counters.push_back({"complaint.serial", 0, 2});
  EXPECT_EQ(this->store().commit(dup), CommitResult::conflict);
  EXPECT_EQ(this->store().load("c-1")->state, "intake");
  EXPECT_EQ(this->store().get("complaint.serial"), 0);
  EXPECT_EQ(this->store().history("c-1").size(), 1u);
}

TYPED_TEST(StoreConformance, RepeatedIdempotencyKeyConflictsAndTheFirstResponseIsKept) {
  Commit first = new_commit("c-1");
  first.idempotency_key = "call-77";
  first.response = {{"instance", "c-1"}, {"created", true}};
  ASSERT_EQ(this->store().commit(first), CommitResult::ok);

  Commit second = new_commit("c-2");
  second.idempotency_key = "call-77";
  second.response = {{"instance", "c-2"}};
  EXPECT_EQ(this->store().commit(second), CommitResult::conflict);
  EXPECT_FALSE(this->store().load("c-2"));
  auto response = this->store().idempotent_response("call-77");
  ASSERT_TRUE(response);
  EXPECT_EQ(*response, first.response);
  EXPECT_FALSE(this->store().idempotent_response("call-78"));
}

// What the worker asks for a whole batch at once gets the answers the questions one by one get:
// instances that exist, idempotency answers, the open case of a business key (not an ended one).
TYPED_TEST(StoreConformance, ReadAheadAnswersWhatTheQuestionsOneByOneWouldAnswer) {
  Commit open = new_commit("c-1");
  open.idempotency_key = "call-1";
  open.response = {{"instance", "c-1"}, {"created", true}};
  Commit ended = new_commit("c-2");
  ended.instance.key = "+8613900000000";
  ended.instance.ended = true;
  ended.instance.state = "closed";
  ended.idempotency_key = "call-2";
  ended.response = {{"instance", "c-2"}};
  ASSERT_EQ(this->store().commit_all(std::vector<Commit>{open, ended}), CommitResult::ok);

  ReadAhead ask;
  ask.instances = {"c-1", "c-2", "c-9"};
  ask.idempotency_keys = {"call-1", "call-2", "call-9"};
  ask.open_keys = {{"complaint", "+8613800000000"},
                   {"complaint", "+8613900000000"},
                   {"contract", "+8613800000000"}};
  const ReadAheadAnswers answers = this->store().read_ahead(ask);

  std::vector<std::string> ids;
  for (const Instance& in : answers.instances) ids.push_back(in.id);
  std::sort(ids.begin(), ids.end());
  EXPECT_THAT(ids, ElementsAre("c-1", "c-2"));
  for (const Instance& in : answers.instances) EXPECT_EQ(in, *this->store().load(in.id));
  ASSERT_EQ(answers.responses.size(), 2u);
  EXPECT_EQ(answers.responses.at("call-1"), open.response);
  EXPECT_EQ(answers.responses.at("call-2"), ended.response);
  ASSERT_EQ(answers.open.size(), 1u);
  EXPECT_EQ(answers.open.at({"complaint", "+8613800000000"}), "c-1");

  // Nothing asked, nothing answered; and the store still answers one by one afterwards (no
  // read transaction left open on a pooled connection).
  const ReadAheadAnswers none = this->store().read_ahead({});
  EXPECT_TRUE(none.instances.empty() && none.responses.empty() && none.open.empty());
  ASSERT_EQ(this->store().commit(next_commit(*this->store().load("c-1"))), CommitResult::ok);
  for (const Instance& in : this->store().read_ahead(ask).instances) {
    EXPECT_EQ(in.revision, in.id == "c-1" ? 2u : 1u) << in.id;
  }
}

TYPED_TEST(StoreConformance, CommitAllWritesEverythingOrNothing) {
  ASSERT_EQ(this->store().commit(new_commit("c-0")), CommitResult::ok);
  // A batch whose last commit conflicts (c-0 exists): the others must not be written either.
  std::vector<Commit> batch{new_commit("c-1"), new_commit("c-2"), new_commit("c-0")};
  batch[0].counters.push_back({"serial", 0, 1});
  batch[1].armed.push_back({"c-2", 1, at(5)});
  EXPECT_EQ(this->store().commit_all(batch), CommitResult::conflict);
  EXPECT_FALSE(this->store().load("c-1"));
  EXPECT_FALSE(this->store().load("c-2"));
  EXPECT_EQ(this->store().get("serial"), 0);
  EXPECT_EQ(this->store().pending_timers(), 0u);

  // The same instance twice in one batch: the second sees the first.
  batch.pop_back();
  Commit c1_next = next_commit(batch[0].instance);
  c1_next.history.push_back({at(3), "event", "called again", {}});
  batch.push_back(c1_next);
  ASSERT_EQ(this->store().commit_all(batch), CommitResult::ok);
  EXPECT_EQ(this->store().load("c-1")->revision, 2u);
  EXPECT_EQ(this->store().history("c-1").size(), 2u);
  EXPECT_TRUE(this->store().load("c-2"));
  EXPECT_EQ(this->store().get("serial"), 1);
  EXPECT_EQ(this->store().pending_timers(), 1u);
}

// A group commit as the worker makes it: several steps of one instance in a row, timers armed
// by one step and cancelled by the next, a counter moved by two steps, history numbered on
// across the steps and across batches, text that needs quoting on its way to the database.
TYPED_TEST(StoreConformance, ABatchWithChainsOfStepsKeepsTheirOrder) {
  Commit start = new_commit("c-1");
  start.armed.push_back({"c-1", 1, at(60)});
  start.counters = {{"serial", 0, 1}};
  Commit second = next_commit(start.instance);
  second.instance.state = "assigned";
  second.instance.assignee = "wang.fang";
  second.cancelled.push_back({"c-1", 1, at(60)});
  second.armed.push_back({"c-1", 2, at(120)});
  second.counters = {{"serial", 1, 2}};
  second.history.push_back(
      {at(2), "assigned", "to \"wang.fang\" {a,b} \\ NULL", Details().add("q", "x\"y")});
  Commit third = next_commit(second.instance);
  third.instance.data["note"] = "comma, brace } quote \" backslash \\";
  third.history.push_back({at(3), "set", "note", {}});
  third.history.push_back({at(3), "transition", "assigned → assigned", {}});
  Commit other = new_commit("c-2");
  other.idempotency_key = "call-7";
  other.response = {{"instance", "c-2"}};
  const std::vector<Commit> batch{start, second, other, third};
  ASSERT_EQ(this->store().commit_all(batch), CommitResult::ok);

  const auto c1 = this->store().load("c-1");
  ASSERT_TRUE(c1);
  EXPECT_EQ(*c1, third.instance);
  EXPECT_EQ(this->store().get("serial"), 2);
  EXPECT_EQ(this->store().due_timers(at(1000), 10), (std::vector<DueTimer>{{"c-1", 2, at(120)}}));
  const auto history = this->store().history("c-1");
  ASSERT_EQ(history.size(), 4u);
  for (std::size_t i = 0; i < history.size(); ++i) EXPECT_EQ(history[i].seq, i + 1);
  EXPECT_EQ(history[1].entry.message, "to \"wang.fang\" {a,b} \\ NULL");
  EXPECT_EQ(history[1].entry.details.object(), (boost::json::object{{"q", "x\"y"}}));
  EXPECT_EQ(history[3].entry.kind, "transition");
  InstanceFilter by_assignee;
  by_assignee.assignee = "wang.fang";
  EXPECT_EQ(this->store().find_instances(by_assignee).size(), 1u);
  EXPECT_TRUE(this->store().idempotent_response("call-7"));

  // The next batch numbers c-1's history on from where this one stopped.
  Commit fourth = next_commit(third.instance);
  fourth.history.push_back({at(4), "event", "again", {}});
  ASSERT_EQ(this->store().commit_all(std::vector<Commit>{fourth}), CommitResult::ok);
  EXPECT_EQ(this->store().history("c-1").back().seq, 5u);

  // A batch whose chain does not continue from the stored revision writes nothing.
  Commit stale = next_commit(third.instance);
  Commit after_stale = next_commit(stale.instance);
  EXPECT_EQ(this->store().commit_all(std::vector<Commit>{stale, after_stale}),
            CommitResult::conflict);
  EXPECT_EQ(this->store().load("c-1")->revision, fourth.instance.revision);
}

TYPED_TEST(StoreConformance, ManyInstancesReadInOneGoAndDocumentsAsStored) {
  Commit a = new_commit("c-1");
  a.instance.data["note"] = "quote \" and {brace}";
  ASSERT_EQ(this->store().commit_all(std::vector<Commit>{a, new_commit("c-2")}), CommitResult::ok);
  ReadAhead ask;
  ask.instances = {"c-2", "missing", "c-1"};
  auto many = this->store().read_ahead(ask).instances;
  std::sort(many.begin(), many.end(),
            [](const Instance& x, const Instance& y) { return x.id < y.id; });
  ASSERT_EQ(many.size(), 2u);
  EXPECT_EQ(many[0], a.instance);
  EXPECT_EQ(many[1].id, "c-2");
  EXPECT_TRUE(this->store().read_ahead({}).instances.empty());

  const auto document = this->store().load_document("c-1");
  ASSERT_TRUE(document);
  EXPECT_EQ(boost::json::parse(*document), boost::json::value(to_json(a.instance)));
  EXPECT_FALSE(this->store().load_document("missing"));
}

TYPED_TEST(StoreConformance, BusinessKeysFindOpenInstancesAndStayUsedAfterTheEnd) {
  Commit a = new_commit("c-1");
  ASSERT_EQ(this->store().commit(a), CommitResult::ok);
  EXPECT_EQ(this->store().find_open_by_key("complaint", "+8613800000000"), "c-1");
  EXPECT_FALSE(this->store().find_open_by_key("contract", "+8613800000000"));
  EXPECT_TRUE(this->store().key_used("complaint", "+8613800000000"));
  EXPECT_FALSE(this->store().key_used("complaint", "+86139"));

  Commit end = next_commit(a.instance);
  end.instance.ended = true;
  end.instance.state = "closed";
  ASSERT_EQ(this->store().commit(end), CommitResult::ok);
  EXPECT_FALSE(this->store().find_open_by_key("complaint", "+8613800000000"));
  EXPECT_TRUE(this->store().key_used("complaint", "+8613800000000"));
}

TYPED_TEST(StoreConformance, CountersChangeWithTheCommit) {
  EXPECT_EQ(this->store().get("complaint.serial"), 0);
  Commit c = new_commit("c-1");
  c.counters = {{"complaint.serial", 0, 1}, {"week.2026-48", 0, 7}};
  ASSERT_EQ(this->store().commit(c), CommitResult::ok);
  Commit d = next_commit(c.instance);
  d.counters = {{"complaint.serial", 1, 2}};
  ASSERT_EQ(this->store().commit(d), CommitResult::ok);
  EXPECT_EQ(this->store().get("complaint.serial"), 2);
  EXPECT_EQ(this->store().get("week.2026-48"), 7);
}

TYPED_TEST(StoreConformance, ACounterThatMovedSinceTheStepReadItConflicts) {
  // Two nodes read serial 0 and both hand out 1: the second commit must not land.
  Commit first = new_commit("c-1");
  first.counters = {{"complaint.serial", 0, 1}};
  ASSERT_EQ(this->store().commit(first), CommitResult::ok);
  Commit second = new_commit("c-2");
  second.counters = {{"complaint.serial", 0, 1}};
  EXPECT_EQ(this->store().commit(second), CommitResult::conflict);
  EXPECT_FALSE(this->store().load("c-2"));
  Commit stale = next_commit(first.instance);
  stale.counters = {{"complaint.serial", 5, 6}};
  EXPECT_EQ(this->store().commit(stale), CommitResult::conflict);
  EXPECT_EQ(this->store().get("complaint.serial"), 1);
}

TYPED_TEST(StoreConformance, ReservedBlocksNeverOverlap) {
  // Instance ids come in blocks: (new - count, new] belongs to the caller alone.
  EXPECT_EQ(this->store().reserve("ids:complaint", 32), 32);
  EXPECT_EQ(this->store().reserve("ids:complaint", 32), 64);
  EXPECT_EQ(this->store().reserve("ids:contract", 5), 5);
  EXPECT_EQ(this->store().get("ids:complaint"), 64);
  Commit c = new_commit("c-1");
  c.counters = {{"ids:contract", 5, 6}};
  ASSERT_EQ(this->store().commit(c), CommitResult::ok);
  EXPECT_EQ(this->store().reserve("ids:contract", 1), 7);
}

TYPED_TEST(StoreConformance, TheStepInputRidesOnItsFirstHistoryRow) {
  Commit c = new_commit("c-1");
  c.actor = "li.na";
  c.input = {{"start", {{"phone", "138"}}}};
  c.history.push_back({at(1), "assigned", "assigned to li.na", {}});
  ASSERT_EQ(this->store().commit(c), CommitResult::ok);
  const auto h = this->store().history("c-1");
  ASSERT_EQ(h.size(), c.history.size());
  EXPECT_EQ(h.front().input, c.input);
  EXPECT_EQ(h.front().actor, "li.na");
  EXPECT_TRUE(h.back().input.empty());
}

TYPED_TEST(StoreConformance, DueTimersComeEarliestFirstAndCancelledOnesGo) {
  EXPECT_FALSE(this->store().next_timer_due());
  Commit a = new_commit("c-a");
  a.armed = {{"c-a", 1, at(30)}, {"c-a", 2, at(10)}};
  Commit b = new_commit("c-b");
  b.armed = {{"c-b", 1, at(10)}, {"c-b", 2, at(90)}};
  ASSERT_EQ(this->store().commit_all(std::vector{a, b}), CommitResult::ok);

  EXPECT_EQ(this->store().pending_timers(), 4u);
  EXPECT_EQ(this->store().next_timer_due(), at(10));
  EXPECT_THAT(this->store().due_timers(at(30), 10),
              ElementsAre(DueTimer{"c-a", 2, at(10)}, DueTimer{"c-b", 1, at(10)},
                          DueTimer{"c-a", 1, at(30)}));
  EXPECT_THAT(this->store().due_timers(at(30), 1), ElementsAre(DueTimer{"c-a", 2, at(10)}));

  Commit cancel = next_commit(a.instance);
  cancel.cancelled = {{"c-a", 2, at(10)}};
  ASSERT_EQ(this->store().commit(cancel), CommitResult::ok);
  EXPECT_THAT(this->store().due_timers(at(1000), 10),
              ElementsAre(DueTimer{"c-b", 1, at(10)}, DueTimer{"c-a", 1, at(30)},
                          DueTimer{"c-b", 2, at(90)}));
}

// `node` asks at t=`now` for the timers due by t=60, leasing them until t=`lease` and renewing
// its own leases that end by t=`renew`.
std::vector<DueTimer> claim(Store& s, const std::string& node, int now, int lease, int renew,
                            std::size_t limit = 10) {
  return s.claim_timers({.node = node,
                         .until = at(60),
                         .now = at(now),
                         .lease_until = at(lease),
                         .renew_before = at(renew),
                         .limit = limit});
}

TYPED_TEST(StoreConformance, TimerLeasesKeepNodesApartUntilTheyExpireOrAreReleased) {
  Commit a = new_commit("c-a");
  a.armed = {{"c-a", 1, at(10)}, {"c-a", 2, at(20)}, {"c-a", 3, at(30)}, {"c-a", 4, at(500)}};
  ASSERT_EQ(this->store().commit(a), CommitResult::ok);
  Store& s = this->store();

  // node-1 leases the two earliest until t=100; node-2 gets only what is left and due.
  EXPECT_THAT(claim(s, "node-1", 0, 100, 100, 2),
              ElementsAre(DueTimer{"c-a", 1, at(10)}, DueTimer{"c-a", 2, at(20)}));
  EXPECT_THAT(claim(s, "node-2", 0, 100, 100), ElementsAre(DueTimer{"c-a", 3, at(30)}));
  EXPECT_THAT(claim(s, "node-2", 50, 150, 150),
              ElementsAre(DueTimer{"c-a", 3, at(30)}));  // renews its own
  // A lease of its own that runs long enough is left alone: neither rewritten nor returned.
  EXPECT_THAT(claim(s, "node-1", 50, 120, 99), IsEmpty());

  // node-1 renews its own; a lease that expired (at t=100) goes to whoever asks.
  EXPECT_THAT(claim(s, "node-1", 50, 120, 120),
              ElementsAre(DueTimer{"c-a", 1, at(10)}, DueTimer{"c-a", 2, at(20)}));
  EXPECT_THAT(claim(s, "node-2", 120, 200, 200),
              ElementsAre(DueTimer{"c-a", 1, at(10)}, DueTimer{"c-a", 2, at(20)},
                          DueTimer{"c-a", 3, at(30)}));

  // node-2 shuts down: node-1 takes its timers at once, long before the leases would expire.
  s.release_timers("node-2");
  EXPECT_THAT(claim(s, "node-1", 121, 300, 300),
              ElementsAre(DueTimer{"c-a", 1, at(10)}, DueTimer{"c-a", 2, at(20)},
                          DueTimer{"c-a", 3, at(30)}));

  // Firing a leased timer deletes it, lease and all.
  Commit fire = next_commit(a.instance);
  fire.fired = DueTimer{"c-a", 1, at(10)};
  ASSERT_EQ(s.commit(fire), CommitResult::ok);
  EXPECT_THAT(claim(s, "node-2", 400, 500, 500),
              ElementsAre(DueTimer{"c-a", 2, at(20)}, DueTimer{"c-a", 3, at(30)}));
}

TYPED_TEST(StoreConformance, AClaimAsksForASliceOfDueTimes) {
  Commit a = new_commit("c-a");
  a.armed = {{"c-a", 1, at(10)}, {"c-a", 2, at(20)}, {"c-a", 3, at(30)}, {"c-a", 4, at(40)}};
  ASSERT_EQ(this->store().commit(a), CommitResult::ok);
  Store& s = this->store();
  const auto slice = [&](const std::string& node, int after, int until) {
    return s.claim_timers({.node = node,
                           .after = at(after),
                           .until = at(until),
                           .now = at(0),
                           .lease_until = at(100),
                           .renew_before = at(0),
                           .limit = 10});
  };

  // Due after `after` (not at it), up to and including `until`.
  EXPECT_THAT(slice("node-1", 10, 30),
              ElementsAre(DueTimer{"c-a", 2, at(20)}, DueTimer{"c-a", 3, at(30)}));
  // What lies before the slice was not leased: another node still gets it.
  EXPECT_THAT(slice("node-2", 0, 60),
              ElementsAre(DueTimer{"c-a", 1, at(10)}, DueTimer{"c-a", 4, at(40)}));
  EXPECT_THAT(slice("node-1", 0, 60), IsEmpty());
}

TYPED_TEST(StoreConformance, HistoryKeepsOrderActorsAndDetails) {
  Commit a = new_commit("c-1");
  a.history.push_back({at(0), "assigned", "assigned to li.wei", Details().add("to", "li.wei")});
  ASSERT_EQ(this->store().commit(a), CommitResult::ok);
  Commit b = next_commit(a.instance);
  b.actor = "timer";
  b.history = {{at(60), "timer", "reminder fired 2s late", Details().add("late_ms", 2000)}};
  ASSERT_EQ(this->store().commit(b), CommitResult::ok);

  const auto h = this->store().history("c-1");
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].seq, 1u);
  EXPECT_EQ(h[1].seq, 2u);
  EXPECT_EQ(h[2].seq, 3u);
  EXPECT_EQ(h[0].entry.kind, "started");
  EXPECT_EQ(h[1].entry.kind, "assigned");
  EXPECT_EQ(h[1].entry.details.object(), (boost::json::object{{"to", "li.wei"}}));
  EXPECT_EQ(h[0].actor, "api");
  EXPECT_EQ(h[2].actor, "timer");
  EXPECT_EQ(h[2].entry.at, at(60));
  EXPECT_EQ(h[2].entry.message, "reminder fired 2s late");
  EXPECT_THAT(this->store().history("c-2"), IsEmpty());
}

// A filter with some fields set: where([](auto& f) { f.state = "closed"; }).
template <class Set>
InstanceFilter where(Set set) {
  InstanceFilter f;
  set(f);
  return f;
}

std::vector<std::string> ids(const std::vector<Instance>& list) {
  std::vector<std::string> out;
  for (const auto& in : list) out.push_back(in.id);
  return out;
}

TYPED_TEST(StoreConformance, FindInstancesBySlaBreachedOrAtRisk) {
  auto with_clock = [](const std::string& id, int due_in, bool breached) {
    Commit c = new_commit(id);
    SlaClock clock;
    clock.name = "resolve";
    clock.status = SlaClock::Status::running;
    clock.due_at = at(due_in);
    clock.breached = breached;
    c.instance.slas.push_back(clock);
    return c;
  };
  std::vector<Commit> batch{with_clock("c-1", 100, true),     // missed its goal
                            with_clock("c-2", 50, false),     // past due at 60 s, not yet marked
                            with_clock("c-3", 600, false),    // due in 9 min: at risk
                            with_clock("c-4", 99999, false),  // far off
                            new_commit("c-5")};               // no clock
  ASSERT_EQ(this->store().commit_all(batch), CommitResult::ok);
  InstanceFilter f;
  f.now = at(60);
  f.at_risk_within = std::chrono::minutes(30);
  f.sla = InstanceFilter::Sla::breached;
  EXPECT_THAT(ids(this->store().find_instances(f)), ElementsAre("c-1", "c-2"));
  f.sla = InstanceFilter::Sla::at_risk;
  EXPECT_THAT(ids(this->store().find_instances(f)), ElementsAre("c-3"));
}

TYPED_TEST(StoreConformance, FindInstancesFiltersAndPagesById) {
  std::vector<Commit> batch;
  for (const char* id : {"c-3", "c-1", "c-5", "c-2", "c-4"}) batch.push_back(new_commit(id));
  batch[1].instance.state = "closed";  // c-1
  batch[1].instance.ended = true;
  batch[2].instance.assignee = "zhang.min";  // c-5
  batch[3].instance.workflow = "contract";   // c-2
  batch[4].instance.key = "k-4";             // c-4
  batch[0].instance.assignee.clear();        // c-3 waits in a queue
  batch[0].instance.queue = "complaints";
  ASSERT_EQ(this->store().commit_all(batch), CommitResult::ok);
  Store& s = this->store();

  EXPECT_THAT(ids(s.find_instances({})), ElementsAre("c-1", "c-2", "c-3", "c-4", "c-5"));
  EXPECT_THAT(ids(s.find_instances(where([](auto& f) { f.limit = 2; }))),
              ElementsAre("c-1", "c-2"));
  EXPECT_THAT(ids(s.find_instances(where([](auto& f) {
                f.after_id = "c-2";
                f.limit = 2;
              }))),
              ElementsAre("c-3", "c-4"));
  EXPECT_THAT(ids(s.find_instances(where([](auto& f) { f.workflow = "contract"; }))),
              ElementsAre("c-2"));
  EXPECT_THAT(ids(s.find_instances(where([](auto& f) { f.state = "closed"; }))),
              ElementsAre("c-1"));
  EXPECT_THAT(ids(s.find_instances(where([](auto& f) { f.assignee = "zhang.min"; }))),
              ElementsAre("c-5"));
  EXPECT_THAT(ids(s.find_instances(where([](auto& f) { f.key = "k-4"; }))), ElementsAre("c-4"));
  EXPECT_THAT(ids(s.find_instances(where([](auto& f) {
                f.workflow = "complaint";
                f.open_only = true;
              }))),
              ElementsAre("c-3", "c-4", "c-5"));
  EXPECT_THAT(ids(s.find_instances(where([](auto& f) {
                f.workflow = "complaint";
                f.assignee = "li.wei";
              }))),
              ElementsAre("c-1", "c-4"));
  EXPECT_THAT(ids(s.find_instances(where([](auto& f) { f.queue = "complaints"; }))),
              ElementsAre("c-3"));
  EXPECT_EQ(s.find_instances(where([](auto& f) { f.key = "k-4"; })).front(), batch[4].instance);
}

TYPED_TEST(StoreConformance, OpenCasesCountsOpenInstancesPerAssignee) {
  std::vector<Commit> batch{new_commit("c-1"), new_commit("c-2"), new_commit("c-3")};
  batch[2].instance.ended = true;
  ASSERT_EQ(this->store().commit_all(batch), CommitResult::ok);
  EXPECT_EQ(this->store().open_cases("li.wei"), 2);
  Commit move = next_commit(batch[0].instance);
  move.instance.assignee = "zhang.min";
  ASSERT_EQ(this->store().commit(move), CommitResult::ok);
  EXPECT_EQ(this->store().open_cases("li.wei"), 1);
  EXPECT_EQ(this->store().open_cases("zhang.min"), 1);
  EXPECT_EQ(this->store().open_cases("nobody"), 0);
}

TYPED_TEST(StoreConformance, PublishingUnchangedContentMakesNoNewVersion) {
  PublishedDefinition d{"complaint", 0, "sha256:aa", "workflow: complaint\n", "admin", at(0)};
  auto first = this->store().publish_definition(d);
  EXPECT_TRUE(first.created);
  EXPECT_EQ(first.definition.version, 1);
  auto same = this->store().publish_definition(d);
  EXPECT_FALSE(same.created);
  EXPECT_EQ(same.definition.version, 1);

  d.content_hash = "sha256:bb";
  d.source = "workflow: complaint\n# v2\n";
  d.published_at = at(60);
  auto second = this->store().publish_definition(d);
  EXPECT_TRUE(second.created);
  EXPECT_EQ(second.definition.version, 2);
  this->store().publish_definition(
      {"contract", 0, "sha256:cc", "workflow: contract\n", "ops", at(5)});

  const auto versions = this->store().definition_versions("complaint");
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].content_hash, "sha256:aa");
  EXPECT_EQ(versions[0].source, "workflow: complaint\n");
  EXPECT_EQ(versions[0].published_by, "admin");
  EXPECT_EQ(versions[0].published_at, at(0));
  EXPECT_EQ(versions[1].version, 2);
  const auto latest = this->store().latest_definitions();
  ASSERT_EQ(latest.size(), 2u);
  EXPECT_EQ(latest[0].name, "complaint");
  EXPECT_EQ(latest[0].version, 2);
  EXPECT_EQ(latest[1].name, "contract");
  EXPECT_THAT(this->store().definition_versions("nope"), IsEmpty());
}

TYPED_TEST(StoreConformance, EarlierContentIsPublishedAgainOnlyWhenAsked) {
  PublishedDefinition v1{"complaint", 0, "sha256:aa", "workflow: complaint\n", "files", at(0)};
  PublishedDefinition v2{"complaint", 0, "sha256:bb", "workflow: complaint\n#2\n", "ana", at(9)};
  ASSERT_TRUE(this->store().publish_definition(v1).created);
  ASSERT_TRUE(this->store().publish_definition(v2).created);

  // A node starting with the old file leaves version 2 the latest and says which version it has.
  auto kept = this->store().publish_definition(v1, EarlierContent::keep_latest);
  EXPECT_FALSE(kept.created);
  EXPECT_EQ(kept.earlier_version, 1);
  EXPECT_EQ(kept.definition.version, 2);
  EXPECT_EQ(kept.definition.published_by, "ana");
  // The latest's own content, or new content, is not "earlier".
  auto same = this->store().publish_definition(v2, EarlierContent::keep_latest);
  EXPECT_FALSE(same.created);
  EXPECT_EQ(same.earlier_version, 0);
  PublishedDefinition v3{"complaint", 0, "sha256:cc", "workflow: complaint\n#3\n", "files", at(20)};
  auto third = this->store().publish_definition(v3, EarlierContent::keep_latest);
  EXPECT_TRUE(third.created);
  EXPECT_EQ(third.definition.version, 3);
  EXPECT_EQ(third.earlier_version, 0);
  // An admin's PUT of the old content makes it the latest again, as a new version.
  auto again = this->store().publish_definition(v1);
  EXPECT_TRUE(again.created);
  EXPECT_EQ(again.definition.version, 4);
  EXPECT_EQ(this->store().definition_versions("complaint").size(), 4u);
}

TYPED_TEST(StoreConformance, OutboxIsClaimedWithLeasesRetriedAndMarkedDelivered) {
  Commit c = new_commit("c-1");
  c.notifications.push_back({"assigned", {"li.wei"}, "assignee", "", ""});
  c.webhooks.push_back({"crm", boost::json::object{{"case", "c-1"}}});
  ASSERT_EQ(this->store().commit(c), CommitResult::ok);
  Store& s = this->store();

  const auto all = s.outbox(false, 10);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].kind, "notification");
  EXPECT_EQ(all[0].payload, outbox_payload(c.notifications[0]));
  EXPECT_EQ(all[0].instance_id, "c-1");
  EXPECT_EQ(all[0].created_at, c.instance.updated_at);
  EXPECT_EQ(all[1].kind, "webhook");
  EXPECT_EQ(all[1].payload, outbox_payload(c.webhooks[0]));
  EXPECT_EQ(all[0].attempts, 0);
  EXPECT_LT(all[0].id, all[1].id);

  auto claimed = s.claim_outbox(at(10), at(40), 1);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, all[0].id);
  EXPECT_EQ(claimed[0].attempts, 1);
  EXPECT_EQ(claimed[0].next_attempt_at, at(40));
  // Leased until t=40: a second deliverer gets only the other message.
  claimed = s.claim_outbox(at(11), at(41), 10);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, all[1].id);
  EXPECT_THAT(s.claim_outbox(at(12), at(42), 10), IsEmpty());

  s.outbox_failed(all[0].id, "smtp: 451 try later", at(100));
  s.outbox_delivered({all[1].id}, at(13));
  EXPECT_THAT(s.claim_outbox(at(99), at(130), 10), IsEmpty());
  claimed = s.claim_outbox(at(100), at(130), 10);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].attempts, 2);
  EXPECT_EQ(claimed[0].last_error, "smtp: 451 try later");

  const auto open = s.outbox(true, 10);
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].id, all[0].id);
  EXPECT_FALSE(open[0].delivered_at);
  const auto delivered = s.outbox(false, 10)[1];
  EXPECT_EQ(delivered.delivered_at, at(13));
  EXPECT_EQ(delivered.attempts, 1);
  EXPECT_EQ(s.outbox(false, 1).size(), 1u);
}

// Housekeeping forgets old idempotency answers and delivered messages, oldest first and a
// bounded number per call, and nothing else.
TYPED_TEST(StoreConformance, ForgetDropsOldAnswersAndDeliveredMessagesOnly) {
  Store& s = this->store();
  std::vector<Commit> commits;
  for (int i = 0; i < 4; ++i) {
    Commit c = new_commit("c-" + std::to_string(i));
    c.instance.updated_at = at(10 * (i + 1));             // keys kept since t=10, 20, 30, 40
    c.idempotency_key = "call-" + std::to_string(9 - i);  // named against their age: 9, 8, 7, 6
    c.response = {{"instance", c.instance.id}};
    c.notifications.push_back({"assigned", {"li.wei"}, "assignee", "", ""});
    commits.push_back(c);
  }
  ASSERT_EQ(s.commit_all(commits), CommitResult::ok);
  const auto messages = s.outbox(false, 10);
  ASSERT_EQ(messages.size(), 4u);
  s.outbox_delivered({messages[0].id}, at(16));  // delivered against their ids' order
  s.outbox_delivered({messages[1].id}, at(15));
  s.outbox_delivered({messages[3].id}, at(100));  // messages[2] is never delivered

  // Nothing asked, nothing forgotten.
  Forgotten none = s.forget({});
  EXPECT_EQ(none.idempotency_keys, 0u);
  EXPECT_EQ(none.delivered_messages, 0u);

  // Kept since before t=35: three keys; delivered before t=50: two messages. One per call.
  const ForgetBefore before{.idempotency_keys = at(35), .delivered_messages = at(50), .limit = 1};
  Forgotten first = s.forget(before);
  EXPECT_EQ(first.idempotency_keys, 1u);
  EXPECT_EQ(first.delivered_messages, 1u);
  EXPECT_FALSE(s.idempotent_response("call-9"));  // the oldest went first
  EXPECT_TRUE(s.idempotent_response("call-8"));
  EXPECT_EQ(s.outbox(false, 10)[0].id, messages[0].id);  // delivered at t=15 went first
  Forgotten rest = s.forget({.idempotency_keys = at(35), .delivered_messages = at(50)});
  EXPECT_EQ(rest.idempotency_keys, 2u);
  EXPECT_EQ(rest.delivered_messages, 1u);
  EXPECT_EQ(s.forget(before).idempotency_keys, 0u);

  EXPECT_FALSE(s.idempotent_response("call-8"));
  EXPECT_FALSE(s.idempotent_response("call-7"));
  EXPECT_TRUE(s.idempotent_response("call-6"));
  const auto left = s.outbox(false, 10);
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].id, messages[2].id);  // undelivered: kept however old
  EXPECT_EQ(left[1].id, messages[3].id);  // delivered after t=50
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(s.load("c-" + std::to_string(i)));
  EXPECT_EQ(s.history("c-0").size(), 1u);

  // An inbox replay's answer is kept as long as its entry: it is what answers a second replay.
  Commit replayed = new_commit("c-5");
  replayed.instance.updated_at = at(1);
  replayed.idempotency_key = std::string(kInboxKeyPrefix) + "7";
  replayed.response = {{"instance", "c-5"}};
  ASSERT_EQ(s.commit(replayed), CommitResult::ok);
  EXPECT_EQ(s.forget({.idempotency_keys = at(1000)}).idempotency_keys, 1u);  // call-6
  EXPECT_TRUE(s.idempotent_response("inbox:7"));

  // A forgotten key is a new request again; message ids are never given twice, not even the
  // last one's after it was forgotten.
  EXPECT_EQ(s.forget({.delivered_messages = at(1000)}).delivered_messages, 1u);
  Commit again = new_commit("c-9");
  again.idempotency_key = "call-9";
  again.response = {{"instance", "c-9"}};
  again.notifications.push_back({"assigned", {"li.wei"}, "assignee", "", ""});
  ASSERT_EQ(s.commit(again), CommitResult::ok);
  EXPECT_EQ(*s.idempotent_response("call-9"), again.response);
  EXPECT_GT(s.outbox(false, 10).back().id, messages[3].id);
}

TYPED_TEST(StoreConformance, AnInboxEntryWithAKnownSenderIdIsKeptOnce) {
  Store& s = this->store();
  InboxEntry e{0, "hooks/phone", at(5), "no route", {{"from", "+86139"}}, "", "phone:CA1"};
  const auto first = s.add_to_inbox(e);
  e.reason = "delivered again";
  EXPECT_EQ(s.add_to_inbox(e), first);
  e.dedup_key = "phone:CA2";
  EXPECT_NE(s.add_to_inbox(e), first);
  e.dedup_key = "";
  const auto a = s.add_to_inbox(e);
  EXPECT_NE(s.add_to_inbox(e), a);  // without an id every delivery is kept
  EXPECT_EQ(s.inbox(false, 0, 10).size(), 4u);
  EXPECT_EQ(s.inbox_entry(first)->reason, "no route");
  EXPECT_EQ(s.inbox_entry(first)->dedup_key, "phone:CA1");
  // The delivery's id answers a retry with the entry, kept in the same transaction.
  const auto kept = s.idempotent_response("phone:CA1");
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->at("inbox").to_number<std::uint64_t>(), first);
  EXPECT_EQ(kept->at("status"), "inbox");
  // A key that already answers for a committed step keeps that answer.
  Commit c = new_commit("c-1");
  c.idempotency_key = "phone:CA3";
  c.response = {{"status", "ok"}, {"instance", {{"id", "c-1"}}}};
  ASSERT_EQ(s.commit(c), CommitResult::ok);
  e.dedup_key = "phone:CA3";
  s.add_to_inbox(e);
  EXPECT_EQ(*s.idempotent_response("phone:CA3"), c.response);
}

TYPED_TEST(StoreConformance, ApiTokensAreFoundByHashAndRevokedById) {
  Store& s = this->store();
  ApiTokenRow t{"a1b2c3", "a1b2c3ffff", "agent", "li.na", "li.na's phone", at(1), false};
  s.save_api_token(t);
  s.save_api_token({"d4e5f6", "d4e5f6ffff", "admin", "", "setup", at(2), false});
  auto found = s.find_api_token("a1b2c3ffff");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->role, "agent");
  EXPECT_EQ(found->person, "li.na");
  EXPECT_EQ(found->label, "li.na's phone");
  EXPECT_EQ(found->created_at, at(1));
  EXPECT_FALSE(found->revoked);
  EXPECT_FALSE(s.find_api_token("a1b2c3"));  // the id is not the hash
  EXPECT_TRUE(s.revoke_api_token("a1b2c3"));
  EXPECT_FALSE(s.revoke_api_token("nope"));
  EXPECT_TRUE(s.find_api_token("a1b2c3ffff")->revoked);
  ASSERT_EQ(s.api_tokens().size(), 2u);
  EXPECT_EQ(s.api_tokens()[0].id, "a1b2c3");
}

TYPED_TEST(StoreConformance, InboxKeepsUnmatchedEventsAndReplaysEachOnce) {
  Store& s = this->store();
  InboxEntry e{0, "hooks/phone", at(5), "no open complaint for +86139", {{"from", "+86139"}}, "",
               ""};
  const auto first = s.add_to_inbox(e);
  e.reason = "unknown route";
  const auto second = s.add_to_inbox(e);
  EXPECT_LT(first, second);

  auto entry = s.inbox_entry(first);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->source, "hooks/phone");
  EXPECT_EQ(entry->received_at, at(5));
  EXPECT_EQ(entry->reason, "no open complaint for +86139");
  EXPECT_EQ(entry->payload, (boost::json::object{{"from", "+86139"}}));
  EXPECT_EQ(entry->replayed_into, "");
  EXPECT_FALSE(s.inbox_entry(second + 100));

  EXPECT_TRUE(s.mark_inbox_replayed(first, "c-9"));
  EXPECT_FALSE(s.mark_inbox_replayed(first, "c-10"));
  EXPECT_FALSE(s.mark_inbox_replayed(second + 100, "c-10"));
  EXPECT_EQ(s.inbox_entry(first)->replayed_into, "c-9");
  ASSERT_EQ(s.inbox(true, 0, 10).size(), 1u);
  EXPECT_EQ(s.inbox(true, 0, 10)[0].id, second);
  EXPECT_EQ(s.inbox(false, 0, 10).size(), 2u);
  EXPECT_EQ(s.inbox(false, 0, 1).size(), 1u);
  // Paged: after the first entry comes the second, and after the last nothing.
  ASSERT_EQ(s.inbox(false, first, 10).size(), 1u);
  EXPECT_EQ(s.inbox(false, first, 10)[0].id, second);
  EXPECT_THAT(s.inbox(false, second, 10), IsEmpty());
  EXPECT_THAT(s.inbox(true, first, 10).size(), 1u);
}

}  // namespace
}  // namespace ombud
