// The runtime over the in-memory store: correlation by key, key policies, idempotency, timers
// in order, fair assignment across restarts, schedules and notifications after commit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "adapters/yaml/config_loader.h"
#include "adapters/yaml/workflow_loader.h"
#include "engine/memory_store.h"
#include "engine/replay.h"
#include "engine/runtime.h"

namespace ombud {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const Timestamp kT0 = *parse_timestamp("2026-11-23T09:00:00Z");

Definition load(const std::string& yaml) {
  Diagnostics diags;
  auto def = yaml::load_workflow("test.yaml", yaml, diags);
  for (const auto& d : diags.items()) ADD_FAILURE() << d.to_string();
  return *def;
}

class RecordingNotifier final : public Notifier {
 public:
  void notify(const Instance& in, const Notification& n) override {
    sent.push_back(in.id + " " + n.template_name + " → " +
                   (n.recipients.empty() ? "" : n.recipients[0]));
  }
  void webhook(const Instance&, const OutboundWebhook& w) override {
    sent.push_back("webhook " + w.target);
  }
  std::vector<std::string> sent;
};

const char* kComplaint = R"(workflow: complaint
calendar: none
key: data.phone
key_policy: one_open
data:
  phone: {type: string, required: true}
  calls: {type: int, default: 1}
events:
  noted: {}  # declared, handled nowhere: always not handled
  called: {note: {type: string}, a: {type: int}, b: {type: object}}
initial: open
states:
  open:
    entry: [{assign: {queue: complaints, strategy: round_robin}}]
    after:
      - delay: 2h
        actions: [{notify: {to: assignee, template: reminder}}]
      - delay: 1d
        target: closed
    on:
      called:
        actions: [{set: {calls: "${ data.calls + 1 }"}}]
      resolve: closed
  closed: {type: final}
)";

const char* kDirectory = R"(directory:
  roles: {agent: {}}
  people:
    a.one: {roles: [agent]}
    b.two: {roles: [agent]}
    c.three: {roles: [agent]}
  queues:
    complaints: {roles: [agent]}
)";

class RuntimeTest : public ::testing::Test {
 protected:
  RuntimeTest() : def_(load(kComplaint)), clock_(kT0) {
    Diagnostics diags;
    config_ = *yaml::load_config("cfg.yaml", kDirectory, diags);
    directory_ = std::make_unique<ConfigDirectory>(config_);
  }

  Runtime runtime() {
    StepContext ctx;
    ctx.directory = directory_.get();
    Runtime rt(store_, clock_, ctx, &notifier_);
    rt.add_definition(def_);
    return rt;
  }

  RuntimeResult start(Runtime& rt, const std::string& phone, const std::string& key = "") {
    StartRequest r;
    r.workflow = "complaint";
    r.data = {{"phone", phone}};
    r.idempotency_key = key;
    return rt.start(r);
  }

  // An event for complaint-1, with an idempotency key unless it is "".
  static EventRequest event(const std::string& name, const std::string& key = "") {
    EventRequest e;
    e.instance_id = "complaint-1";
    e.event = name;
    e.idempotency_key = key;
    return e;
  }

  Definition def_;
  Config config_;
  std::unique_ptr<ConfigDirectory> directory_;
  MemoryStore store_;
  ManualClock clock_;
  RecordingNotifier notifier_;
};

TEST_F(RuntimeTest, StartsAnInstanceAndStoresIt) {
  Runtime rt = runtime();
  const RuntimeResult r = start(rt, "138");
  ASSERT_EQ(r.status, RuntimeResult::Status::ok) << r.error;
  EXPECT_EQ(r.instance->id, "complaint-1");
  const auto stored = store_.load("complaint-1");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(*stored, *r.instance);
  EXPECT_FALSE(store_.history("complaint-1").empty());
}

TEST_F(RuntimeTest, OneOpenRefusesASecondStartWithTheSameKey) {
  Runtime rt = runtime();
  ASSERT_EQ(start(rt, "138").status, RuntimeResult::Status::ok);
  const RuntimeResult again = start(rt, "138");
  EXPECT_EQ(again.status, RuntimeResult::Status::rejected);
  EXPECT_THAT(again.error, HasSubstr("exists: complaint-1"));
  EXPECT_EQ(start(rt, "139").status, RuntimeResult::Status::ok);
}

TEST_F(RuntimeTest, OneOpenAllowsANewCaseOnceTheOldOneEnded) {
  Runtime rt = runtime();
  ASSERT_EQ(start(rt, "138").status, RuntimeResult::Status::ok);
  EventRequest e;
  e.instance_id = "complaint-1";
  e.event = "resolve";
  ASSERT_EQ(rt.send(e).status, RuntimeResult::Status::ok);
  EXPECT_EQ(start(rt, "138").status, RuntimeResult::Status::ok);
}

TEST_F(RuntimeTest, EventsByKeyReachTheOpenCase) {
  Runtime rt = runtime();
  ASSERT_EQ(start(rt, "138").status, RuntimeResult::Status::ok);
  EventRequest e;
  e.workflow = "complaint";
  e.key = "138";
  e.event = "called";
  const RuntimeResult r = rt.send(e);
  ASSERT_EQ(r.status, RuntimeResult::Status::ok) << r.error;
  EXPECT_EQ(r.instance->id, "complaint-1");
  EXPECT_EQ(store_.load("complaint-1")->data.at("calls"), 2);
  e.key = "999";
  EXPECT_EQ(rt.send(e).status, RuntimeResult::Status::not_found);
}

TEST_F(RuntimeTest, UniqueRefusesAKeyEverUsed) {
  def_ =
      load(std::string(kComplaint).replace(std::string(kComplaint).find("one_open"), 8, "unique"));
  Runtime rt = runtime();
  ASSERT_EQ(start(rt, "138").status, RuntimeResult::Status::ok);
  EventRequest e;
  e.instance_id = "complaint-1";
  e.event = "resolve";
  ASSERT_EQ(rt.send(e).status, RuntimeResult::Status::ok);
  const RuntimeResult again = start(rt, "138");
  EXPECT_EQ(again.status, RuntimeResult::Status::rejected);
  EXPECT_THAT(again.error, HasSubstr("already taken"));
}

TEST_F(RuntimeTest, TheSameIdempotencyKeyTwiceHasOneEffect) {
  Runtime rt = runtime();
  ASSERT_EQ(start(rt, "138").status, RuntimeResult::Status::ok);
  const EventRequest e = event("called", "call-42");
  const RuntimeResult first = rt.send(e);
  const RuntimeResult second = rt.send(e);
  EXPECT_FALSE(first.replayed);
  EXPECT_TRUE(second.replayed);
  EXPECT_EQ(store_.load("complaint-1")->data.at("calls"), 2);
  ASSERT_TRUE(second.instance.has_value());
  EXPECT_EQ(second.instance->revision, first.instance->revision);
}

// A repeat learns the first call's outcome and the case as it is now; what is kept for that is
// the outcome and the case's id, not the whole first answer.
TEST_F(RuntimeTest, ARepeatedKeyAnswersTheFirstOutcomeWithTheCaseAsItIsNow) {
  Runtime rt = runtime();
  ASSERT_EQ(start(rt, "138").status, RuntimeResult::Status::ok);
  EventRequest e = event("called", "call-42");
  ASSERT_EQ(rt.send(e).status, RuntimeResult::Status::ok);
  // The outcome, the case, and a digest of the request the key was used for.
  const boost::json::object kept = *store_.idempotent_response("call-42");
  EXPECT_EQ(kept.size(), 3U);
  EXPECT_EQ(kept.at("status"), "ok");
  EXPECT_EQ(kept.at("instance"), (boost::json::object{{"id", "complaint-1"}}));
  EXPECT_EQ(kept.at("request").as_string().size(), 16U);
  const EventRequest late = event("noted", "call-43");
  ASSERT_EQ(rt.send(late).status, RuntimeResult::Status::not_handled);
  ASSERT_EQ(rt.send(event("resolve")).status, RuntimeResult::Status::ok);

  const RuntimeResult again = rt.send(e);
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.status, RuntimeResult::Status::ok);
  ASSERT_TRUE(again.instance.has_value());
  EXPECT_EQ(again.instance->state, "closed");
  EXPECT_TRUE(again.history.empty());
  const RuntimeResult late_again = rt.send(late);
  EXPECT_EQ(late_again.status, RuntimeResult::Status::not_handled);
  EXPECT_TRUE(late_again.replayed);
  EXPECT_EQ(store_.load("complaint-1")->data.at("calls"), 2);

  // An answer kept whole by an earlier build is read the same way.
  Commit old;
  old.instance = *store_.load("complaint-1");
  old.expected_revision = old.instance.revision;
  old.instance.revision += 1;
  old.idempotency_key = "call-44";
  old.response = {{"status", "ok"},
                  {"history", boost::json::array{}},
                  {"instance", to_json(*store_.load("complaint-1"))}};
  ASSERT_EQ(store_.commit(old), CommitResult::ok);
  e.idempotency_key = "call-44";
  const RuntimeResult kept_whole = rt.send(e);
  EXPECT_TRUE(kept_whole.replayed);
  ASSERT_TRUE(kept_whole.instance.has_value());
  EXPECT_EQ(kept_whole.instance->revision, old.instance.revision);
}

// A caller's key answers only for the request it was first used for. Used again for another
// case, event, payload or caller, it is refused and nothing is applied: answering would tell one
// caller about another's case and drop the second request without a word.
TEST_F(RuntimeTest, AKeyUsedAgainForAnotherRequestIsRefused) {
  Runtime rt = runtime();
  ASSERT_EQ(start(rt, "138").status, RuntimeResult::Status::ok);
  ASSERT_EQ(start(rt, "139").status, RuntimeResult::Status::ok);
  EventRequest first = event("called", "k-1");
  first.actor = "chen.jing";
  ASSERT_EQ(rt.send(first).status, RuntimeResult::Status::ok);
  const auto calls = [&](const std::string& id) { return store_.load(id)->data.at("calls"); };
  const boost::json::value calls_before = calls("complaint-2");

  EventRequest other_case = first;
  other_case.instance_id = "complaint-2";
  EventRequest other_event = first;
  other_event.event = "resolve";
  EventRequest other_data = first;
  other_data.data["note"] = "different";
  EventRequest other_caller = first;
  other_caller.actor = "li.na";
  for (const EventRequest& r : {other_case, other_event, other_data, other_caller}) {
    const RuntimeResult refused = rt.send(r);
    EXPECT_EQ(refused.status, RuntimeResult::Status::key_reused) << r.instance_id << r.event;
    EXPECT_FALSE(refused.instance.has_value());
  }
  EXPECT_EQ(calls("complaint-2"), calls_before);
  EXPECT_EQ(store_.load("complaint-1")->state, "open");

  // A start's key is not an event's either; the very same request is still answered.
  StartRequest s;
  s.workflow = "complaint";
  s.data = {{"phone", "140"}};
  s.idempotency_key = "k-1";
  EXPECT_EQ(rt.start(s).status, RuntimeResult::Status::key_reused);
  EXPECT_EQ(store_.instance_ids().size(), 2U);
  const RuntimeResult again = rt.send(first);
  EXPECT_EQ(again.status, RuntimeResult::Status::ok);
  EXPECT_TRUE(again.replayed);

  // The same data spelled otherwise (members in another order, 2 as 2.0) is the same request.
  EventRequest spelled = first;
  spelled.idempotency_key = "k-2";
  spelled.data = {{"a", 1}, {"b", boost::json::object{{"x", 2}, {"y", "z"}}}};
  ASSERT_EQ(rt.send(spelled).status, RuntimeResult::Status::ok);
  spelled.data = {{"b", boost::json::object{{"y", "z"}, {"x", 2.0}}}, {"a", 1}};
  const RuntimeResult respelled = rt.send(spelled);
  EXPECT_EQ(respelled.status, RuntimeResult::Status::ok);
  EXPECT_TRUE(respelled.replayed);
  spelled.data = {{"b", boost::json::object{{"y", "z"}, {"x", 2.5}}}, {"a", 1}};
  EXPECT_EQ(rt.send(spelled).status, RuntimeResult::Status::key_reused);

  // ombud's own keys name a phone system's delivery or an inbox entry: a provider's retry may
  // carry a payload that differs in passing, and is still answered.
  EventRequest delivery = event("called", std::string(kHookKeyPrefix) + "phone:CA1");
  ASSERT_EQ(rt.send(delivery).status, RuntimeResult::Status::ok);
  EXPECT_FALSE(store_.idempotent_response(delivery.idempotency_key)->contains("request"));
  delivery.data["attempt"] = 2;
  EXPECT_TRUE(rt.send(delivery).replayed);
}

// What a caller may send: an event the workflow knows, and not one it raises itself (unless it
// declares it, or the caller is exempt from roles, like an admin).
TEST_F(RuntimeTest, UnknownAndInternalEventsAreRefused) {
  const Definition d = load(R"(workflow: desk
calendar: none
events:
  remind: {}
initial: open
states:
  open:
    entry: [{raise: triage}]
    on:
      triage: {target: sorted}
  sorted:
    after: [{delay: 1h, actions: [{raise: overdue}, {raise: remind}]}]
    on:
      overdue: review
      remind: {}
      waiting: {}
  review:
    on:
      done: closed
  closed: {type: final}
)");
  StepContext ctx;
  Runtime rt(store_, clock_, ctx);
  rt.add_definition(d);
  StartRequest s;
  s.workflow = "desk";
  ASSERT_EQ(rt.start(s).status, RuntimeResult::Status::ok);
  const auto send = [&](const std::string& name, bool enforce_roles) {
    EventRequest e;
    e.instance_id = "desk-1";
    e.event = name;
    e.enforce_roles = enforce_roles;
    return rt.send(e);
  };
  const RuntimeResult typo = send("overdu", false);
  EXPECT_EQ(typo.status, RuntimeResult::Status::rejected);
  // Not "did you mean 'overdue'": that one is the workflow's own, no caller's to send.
  EXPECT_EQ(typo.error, "workflow 'desk' has no event 'overdu'");
  EXPECT_EQ(send("dnoe", false).error,
            "workflow 'desk' has no event 'dnoe' (did you mean 'done'?)");
  const RuntimeResult internal = send("overdue", true);
  EXPECT_EQ(internal.status, RuntimeResult::Status::rejected);
  EXPECT_NE(internal.error.find("raised by workflow 'desk' itself"), std::string::npos);
  EXPECT_EQ(send("triage", true).status, RuntimeResult::Status::rejected);
  EXPECT_EQ(store_.load("desk-1")->state, "sorted");
  EXPECT_EQ(send("remind", true).status, RuntimeResult::Status::ok);         // declared: sendable
  EXPECT_EQ(send("done", true).status, RuntimeResult::Status::not_handled);  // not in 'sorted'
  EXPECT_EQ(send("overdue", false).status, RuntimeResult::Status::ok);       // exempt from roles
  EXPECT_EQ(store_.load("desk-1")->state, "review");
}

// A caller's event is refused for an unknown person only when its own payload named them; a
// name from the case's data is nothing the caller can mend, so the step goes on with an incident.
TEST_F(RuntimeTest, AnUnknownPersonRefusesTheEventOnlyWhenThePayloadNamedThem) {
  const Definition d = load(R"(workflow: handover
calendar: none
data:
  owner: {type: string}
events:
  give: {to: {type: string, required: true}}
initial: open
states:
  open:
    on:
      give: {target: open, actions: [{assign: {to: "${ event.to }"}}]}
      back: {target: done, actions: [{assign: {to: "${ data.owner }"}}]}
  done: {type: final}
)");
  StepContext ctx;
  ctx.directory = directory_.get();
  Runtime rt(store_, clock_, ctx);
  rt.add_definition(d);
  StartRequest s;
  s.workflow = "handover";
  s.data = {{"owner", "left.the.company"}};
  ASSERT_EQ(rt.start(s).status, RuntimeResult::Status::ok);
  EventRequest give;
  give.instance_id = "handover-1";
  give.event = "give";
  give.data = {{"to", "ghost"}};
  EXPECT_EQ(rt.send(give).status, RuntimeResult::Status::rejected);
  give.data = {{"to", "b.two"}};
  ASSERT_EQ(rt.send(give).status, RuntimeResult::Status::ok);
  EventRequest back;
  back.instance_id = "handover-1";
  back.event = "back";
  const RuntimeResult r = rt.send(back);
  EXPECT_EQ(r.status, RuntimeResult::Status::ok);
  ASSERT_TRUE(r.instance.has_value());
  EXPECT_EQ(r.instance->state, "done");
  EXPECT_FALSE(r.instance->incidents.empty());
}

// An inbox replay must land or leave its entry open: an event the case does not handle then is
// refused, with nothing committed and no answer kept for its key.
TEST_F(RuntimeTest, RefusingUnhandledKeepsNothing) {
  Runtime rt = runtime();
  ASSERT_EQ(start(rt, "138").status, RuntimeResult::Status::ok);
  const std::uint64_t revision = store_.load("complaint-1")->revision;
  EventRequest e = event("noted", "inbox:7");
  e.refuse_unhandled = true;
  const RuntimeResult refused = rt.send(e);
  EXPECT_EQ(refused.status, RuntimeResult::Status::rejected);
  EXPECT_NE(refused.error.find("noted"), std::string::npos) << refused.error;
  EXPECT_EQ(store_.load("complaint-1")->revision, revision);
  EXPECT_FALSE(store_.idempotent_response("inbox:7"));
  e.event = "called";
  EXPECT_EQ(rt.send(e).status, RuntimeResult::Status::ok);
  EXPECT_TRUE(store_.idempotent_response("inbox:7"));
}

// A workflow that keys its cases by their data keeps that key: a start naming another would open
// a second case for a customer who has one open.
TEST_F(RuntimeTest, AStartMayNotReplaceTheWorkflowsKey) {
  Runtime rt = runtime();
  ASSERT_EQ(start(rt, "138").status, RuntimeResult::Status::ok);
  StartRequest r;
  r.workflow = "complaint";
  r.data = {{"phone", "138"}};
  r.key = "custom-key-1";
  const RuntimeResult refused = rt.start(r);
  EXPECT_EQ(refused.status, RuntimeResult::Status::rejected);
  EXPECT_NE(refused.error.find("takes its key from its data ('138')"), std::string::npos)
      << refused.error;
  EXPECT_EQ(store_.instance_ids().size(), 1U);
  r.data = {{"phone", "139"}};
  r.key = "139";  // the key it would compute: allowed
  EXPECT_EQ(rt.start(r).status, RuntimeResult::Status::ok);
}

TEST_F(RuntimeTest, AnIdempotentStartCreatesOneCase) {
  Runtime rt = runtime();
  const RuntimeResult first = start(rt, "138", "hotline-call-7");
  const RuntimeResult second = start(rt, "138", "hotline-call-7");
  EXPECT_EQ(second.status, RuntimeResult::Status::ok);
  EXPECT_TRUE(second.replayed);
  EXPECT_EQ(second.instance->id, first.instance->id);
  EXPECT_EQ(store_.instance_ids().size(), 1U);
}

// The outbox keeps a notification's texts as the case was when it was sent: it may leave much
// later, after the case moved on.
TEST_F(RuntimeTest, ANotificationKeepsItsTextsFromTheTemplateAsTheStepLeftTheCase) {
  Diagnostics diags;
  Config config = *yaml::load_config("cfg.yaml", std::string(kDirectory) + R"yaml(templates:
  reminder:
    subject: "Call ${ data.phone } back (${ instance.assignee }, ${ instance.state })"
    body: "Calls so far: ${ data.calls }. ${ data.missing }"
)yaml",
                                     diags);
  ASSERT_FALSE(diags.has_errors());
  StepContext ctx;
  ctx.directory = directory_.get();
  ctx.templates = &config;
  Runtime rt(store_, clock_, ctx, &notifier_);
  rt.add_definition(def_);
  ASSERT_EQ(start(rt, "138").status, RuntimeResult::Status::ok);
  clock_.set(kT0 + std::chrono::hours(3));
  ASSERT_EQ(rt.fire_due_timers(), 1);
  const auto sent = store_.outbox(false, 10);
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(sent[0].payload.at("subject"), "Call 138 back (a.one, open)");
  // A placeholder that fails leaves its reason in the text rather than no message at all.
  EXPECT_THAT(std::string(sent[0].payload.at("body").as_string()),
              ::testing::StartsWith("Calls so far: 1. <error: "));
}

// Replay (ombud verify) cannot choose again: the workload and the round-robin cursor of the
// moment are gone, and today's would pick someone else, or find room where there was none. It
// takes each assignment's outcome from the history.
TEST(Replay, AssignmentsComeOutAsTheyDidWhenTheStepRan) {
  Diagnostics diags;
  const Config config = *yaml::load_config("cfg.yaml", R"(directory:
  roles: {agent: {}}
  people:
    a.one: {roles: [agent], capacity: 1}
    b.two: {roles: [agent], capacity: 1}
  queues:
    desk: {roles: [agent]}
)",
                                           diags);
  ASSERT_FALSE(diags.has_errors());
  const Definition def = load(R"(workflow: ticket
calendar: none
data:
  owner: {type: string}
initial: open
states:
  open:
    entry:
      - assign: {queue: desk, strategy: round_robin}
      - set: {owner: "${ instance.assignee }"}
    on: {close: closed}
  closed: {type: final}
)");
  const ConfigDirectory directory(config);
  StepContext ctx;
  ctx.directory = &directory;
  MemoryStore store;
  ManualClock clock(kT0);
  Runtime rt(store, clock, ctx);
  rt.add_definition(def);
  for (int i = 0; i < 3; ++i) {
    StartRequest r;
    r.workflow = "ticket";
    ASSERT_EQ(rt.start(r).status, RuntimeResult::Status::ok);
  }
  // The second went to b.two by the cursor; the third found both at capacity.
  EXPECT_EQ(store.load("ticket-2")->assignee, "b.two");
  ASSERT_EQ(store.load("ticket-3")->incidents.size(), 1U);
  for (const char* id : {"ticket-1", "ticket-2", "ticket-3"}) {
    const Instance stored = *store.load(id);
    const ReplayResult r = replay(def, stored, store.history(id), ctx);
    EXPECT_THAT(r.differences, ::testing::IsEmpty()) << id;
    EXPECT_EQ(r.replayed.assignee, stored.assignee) << id;
  }
}

TEST_F(RuntimeTest, TimersFireInDueOrderAndExactlyOnce) {
  Runtime rt = runtime();
  ASSERT_EQ(start(rt, "138").status, RuntimeResult::Status::ok);
  clock_.set(kT0 + std::chrono::hours(1));
  EXPECT_EQ(rt.fire_due_timers(), 0);
  clock_.set(kT0 + std::chrono::hours(3));
  EXPECT_EQ(rt.fire_due_timers(), 1);
  EXPECT_EQ(rt.fire_due_timers(), 0);
  EXPECT_THAT(notifier_.sent, ElementsAre("complaint-1 reminder → a.one"));
  clock_.set(kT0 + std::chrono::hours(30));
  EXPECT_EQ(rt.fire_due_timers(), 1);
  EXPECT_TRUE(store_.load("complaint-1")->ended);
  EXPECT_FALSE(rt.next_timer_due().has_value());
}

// The store keeps a row for each case's earliest pending timer only (decision 0013); firing it
// arms the next one in the same commit, so a late clock still fires both, in order.
TEST_F(RuntimeTest, OnlyTheEarliestTimerIsARowAndFiringItArmsTheNext) {
  Runtime rt = runtime();
  const RuntimeResult started = start(rt, "138");
  ASSERT_EQ(started.status, RuntimeResult::Status::ok);
  ASSERT_EQ(started.instance->timers.size(), 2U);  // the 2 h reminder and the 1 d close
  const auto rows = [&] { return store_.due_timers(Timestamp::max(), 10); };
  const PendingTimer* first = earliest_timer(started.instance->timers);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->due, kT0 + std::chrono::hours(2));
  EXPECT_THAT(rows(), ElementsAre(DueTimer{"complaint-1", first->id, first->due}));

  // An event that leaves the timers alone writes no timer row.
  EventRequest called;
  called.instance_id = "complaint-1";
  called.event = "called";
  ASSERT_EQ(rt.send(called).status, RuntimeResult::Status::ok);
  EXPECT_THAT(rows(), ElementsAre(DueTimer{"complaint-1", first->id, first->due}));

  clock_.set(kT0 + std::chrono::hours(30));
  EXPECT_EQ(rt.fire_due_timers(), 2);  // the reminder, then the close its commit armed
  EXPECT_THAT(notifier_.sent, ElementsAre("complaint-1 reminder → a.one"));
  EXPECT_TRUE(store_.load("complaint-1")->ended);
  EXPECT_TRUE(rows().empty());

  // Ending a case early removes its row.
  ASSERT_EQ(start(rt, "139").status, RuntimeResult::Status::ok);
  EXPECT_EQ(rows().size(), 1U);
  EventRequest resolve;
  resolve.instance_id = "complaint-2";
  resolve.event = "resolve";
  ASSERT_EQ(rt.send(resolve).status, RuntimeResult::Status::ok);
  EXPECT_TRUE(rows().empty());
}

// A store written before decision 0013 has a row for every pending timer: each still fires
// once, in order, and the rule never relies on a row being absent.
TEST_F(RuntimeTest, RowsForEveryTimerWrittenBeforeStillFireOnceEach) {
  Runtime rt = runtime();
  ASSERT_EQ(start(rt, "138").status, RuntimeResult::Status::ok);
  const Instance in = *store_.load("complaint-1");
  Commit legacy;  // what an older build's start would have left: a row per timer
  legacy.instance = in;
  legacy.expected_revision = in.revision;
  legacy.instance.revision += 1;
  for (const PendingTimer& t : in.timers) legacy.armed.push_back({in.id, t.id, t.due});
  ASSERT_EQ(store_.commit(legacy), CommitResult::ok);
  ASSERT_EQ(store_.due_timers(Timestamp::max(), 10).size(), 2U);
  clock_.set(kT0 + std::chrono::hours(30));
  EXPECT_EQ(rt.fire_due_timers(), 2);
  EXPECT_TRUE(store_.load("complaint-1")->ended);
  EXPECT_TRUE(store_.due_timers(Timestamp::max(), 10).empty());
  EXPECT_THAT(notifier_.sent, ElementsAre("complaint-1 reminder → a.one"));
}

// A node that has not loaded a case's workflow version yet moves the timer's row a little later
// instead of dropping it: the case's only row must not be lost.
TEST_F(RuntimeTest, ATimerOfAVersionNotLoadedHereIsTriedAgainLater) {
  Runtime rt = runtime();
  ASSERT_EQ(start(rt, "138").status, RuntimeResult::Status::ok);
  StepContext ctx;
  ctx.directory = directory_.get();
  Runtime without(store_, clock_, ctx, &notifier_);  // knows no workflow
  clock_.set(kT0 + std::chrono::hours(3));
  const auto due = store_.due_timers(clock_.now(), 10);
  ASSERT_EQ(due.size(), 1U);
  const auto r = without.fire_timer(due[0]);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, RuntimeResult::Status::not_found);
  const auto moved = store_.due_timers(Timestamp::max(), 10);
  ASSERT_EQ(moved.size(), 1U);
  EXPECT_EQ(moved[0].timer_id, due[0].timer_id);
  EXPECT_GT(moved[0].due, clock_.now());
  EXPECT_TRUE(notifier_.sent.empty());
  // The node that has the version fires it once it is due again.
  clock_.set(moved[0].due);
  EXPECT_EQ(rt.fire_due_timers(), 1);
  EXPECT_THAT(notifier_.sent, ElementsAre("complaint-1 reminder → a.one"));
}

// A step that arms a timer earlier than the case's earliest writes its row and leaves the later
// one's row in place: both fire, each once, in order.
TEST_F(RuntimeTest, ATimerArmedBeforeTheEarliestGetsARowOfItsOwn) {
  Definition rush = load(R"(workflow: rush
calendar: none
initial: open
states:
  open:
    on:
      hurry: rushed
  rushed:
    after:
      - delay: 1h
        actions: [{notify: {to: assignee, template: reminder}}]
    on:
      done: closed
  closed: {type: final}
slas:
  resolve:
    goal: 5d
    start: [open, rushed]
    stop: [closed]
    escalate:
      - at: 100%
        actions: [{notify: {to: assignee, template: overdue}}]
)");
  StepContext ctx;
  ctx.directory = directory_.get();
  Runtime rt(store_, clock_, ctx, &notifier_);
  rt.add_definition(rush);
  StartRequest r;
  r.workflow = "rush";
  const RuntimeResult started = rt.start(r);
  ASSERT_EQ(started.status, RuntimeResult::Status::ok);
  const std::string id = started.instance->id;
  const auto rows = [&] { return store_.due_timers(Timestamp::max(), 10); };
  const std::size_t sla_timers = started.instance->timers.size();  // the breach and its level
  ASSERT_EQ(rows().size(), 1U);
  const Timestamp breach = rows()[0].due;
  EXPECT_GE(breach, kT0 + std::chrono::hours(24 * 5));
  EXPECT_LT(breach, kT0 + std::chrono::hours(24 * 5) + std::chrono::seconds(1));

  EventRequest hurry;
  hurry.instance_id = id;
  hurry.event = "hurry";
  ASSERT_EQ(rt.send(hurry).status, RuntimeResult::Status::ok);
  const auto both = rows();
  ASSERT_EQ(both.size(), 2U);
  EXPECT_EQ(both[0].due, kT0 + std::chrono::hours(1));  // the new earliest has its row
  EXPECT_EQ(both[1].due, breach);                       // the SLA's row stays

  clock_.set(kT0 + std::chrono::hours(2));
  EXPECT_EQ(rt.fire_due_timers(), 1);
  EXPECT_EQ(rows().size(), 1U);
  clock_.set(kT0 + std::chrono::hours(24 * 5 + 1));
  EXPECT_EQ(rt.fire_due_timers(), static_cast<int>(sla_timers));
  EXPECT_TRUE(rows().empty());
  ASSERT_EQ(notifier_.sent.size(), 2U);
  EXPECT_THAT(notifier_.sent[0], HasSubstr("reminder"));
  EXPECT_THAT(notifier_.sent[1], HasSubstr("overdue"));
}

TEST_F(RuntimeTest, RoundRobinIsFairAcrossRestarts) {
  std::vector<std::string> assignees;
  for (int i = 0; i < 6; ++i) {
    Runtime rt = runtime();  // a new runtime each time: the cursor lives in the store
    const RuntimeResult r = start(rt, "13" + std::to_string(i));
    ASSERT_EQ(r.status, RuntimeResult::Status::ok) << r.error;
    assignees.push_back(r.instance->assignee);
  }
  EXPECT_THAT(assignees, ElementsAre("a.one", "b.two", "c.three", "a.one", "b.two", "c.three"));
}

TEST_F(RuntimeTest, OpenCasesAreCountedPerAssignee) {
  Runtime rt = runtime();
  ASSERT_EQ(start(rt, "1").status, RuntimeResult::Status::ok);
  ASSERT_EQ(start(rt, "2").status, RuntimeResult::Status::ok);
  EXPECT_EQ(store_.open_cases("a.one"), 1);
  EXPECT_EQ(store_.open_cases("b.two"), 1);
  EventRequest e;
  e.instance_id = "complaint-1";
  e.event = "resolve";
  ASSERT_EQ(rt.send(e).status, RuntimeResult::Status::ok);
  EXPECT_EQ(store_.open_cases("a.one"), 0);
}

TEST_F(RuntimeTest, RejectedEventsChangeNothing) {
  Runtime rt = runtime();
  ASSERT_EQ(start(rt, "138").status, RuntimeResult::Status::ok);
  const Instance before = *store_.load("complaint-1");
  EventRequest e;
  e.instance_id = "complaint-1";
  e.event = "resolve";
  ASSERT_EQ(rt.send(e).status, RuntimeResult::Status::ok);
  const Instance ended = *store_.load("complaint-1");
  const RuntimeResult late = rt.send(e);
  EXPECT_EQ(late.status, RuntimeResult::Status::rejected);
  EXPECT_EQ(*store_.load("complaint-1"), ended);
  EXPECT_NE(before, ended);
}

TEST_F(RuntimeTest, ScheduleStartsInstancesAtCronMinutesInItsTimeZone) {
  Definition weekly = load(R"(workflow: weekly
data:
  team: {type: string}
initial: open
states:
  open: {on: {done: closed}}
  closed: {type: final}
schedule:
  cron: "0 9 * * MON"
  timezone: Asia/Shanghai
  data: {team: sales}
)");
  Runtime rt = runtime();
  rt.add_definition(weekly);
  // 2026-11-23 is a Monday; 09:00 in Shanghai is 01:00 UTC.
  const auto started = rt.run_schedules(*parse_timestamp("2026-11-22T00:00:00Z"),
                                        *parse_timestamp("2026-11-29T00:00:00Z"));
  ASSERT_EQ(started.size(), 1U);
  ASSERT_TRUE(started[0].instance.has_value());
  EXPECT_EQ(started[0].instance->created_at, *parse_timestamp("2026-11-23T01:00:00Z"));
  EXPECT_EQ(started[0].instance->data.at("team"), "sales");
}

}  // namespace
}  // namespace ombud

namespace ombud {
namespace {

TEST_F(RuntimeTest, TwoRuntimesOnOneStoreNeverHandOutTheSameId) {
  // Two nodes on one database: each takes instance ids in blocks, so starts do not contend.
  Runtime a = runtime();
  Runtime b = runtime();
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    Runtime& rt = i % 3 == 0 ? b : a;
    const RuntimeResult r = start(rt, "p" + std::to_string(i));
    ASSERT_EQ(r.status, RuntimeResult::Status::ok) << r.error;
    EXPECT_TRUE(ids.insert(r.instance->id).second) << r.instance->id << " handed out twice";
  }
  EXPECT_EQ(ids.size(), 100U);
}

// Each block of instance ids is a commit of its own: a runtime starting cases quickly reserves
// bigger blocks (32, 64, 128, ... up to 512), so that it commits fewer of them.
class ReserveCountingStore final : public MemoryStore {
 public:
  std::int64_t reserve(std::string_view counter, std::int64_t count) override {
    blocks.push_back(count);
    return MemoryStore::reserve(counter, count);
  }
  std::vector<std::int64_t> blocks;
};

TEST_F(RuntimeTest, InstanceIdsComeInBlocksThatGrowWhileCasesArriveQuickly) {
  ReserveCountingStore store;
  StepContext ctx;
  ctx.directory = directory_.get();
  Runtime rt(store, clock_, ctx);
  rt.add_definition(def_);
  for (int i = 1; i <= 2000; ++i) {
    const RuntimeResult r = start(rt, "p" + std::to_string(i));
    ASSERT_EQ(r.status, RuntimeResult::Status::ok) << r.error;
    ASSERT_EQ(r.instance->id, "complaint-" + std::to_string(i));  // no gaps within one process
  }
  // The manual clock stands still: every block was used up within a second of the last, so each
  // doubles it: 32 + 64 + 128 + 256 + 512 + 512 + 512 = 2,016 ids in 7 commits, where blocks of
  // 32 would take 63.
  EXPECT_EQ(store.blocks, (std::vector<std::int64_t>{32, 64, 128, 256, 512, 512, 512}));

  // After a quiet spell the next block is the smallest again.
  clock_.set(clock_.now() + std::chrono::minutes(5));
  for (int i = 2001; i <= 2017; ++i)
    ASSERT_EQ(start(rt, "p" + std::to_string(i)).status, RuntimeResult::Status::ok);
  EXPECT_EQ(store.blocks.back(), 32);
  EXPECT_EQ(start(rt, "p2018").instance->id, "complaint-2018");
}

// The store fails while a step's `start:` opens the child case, after the parent's step was
// committed: the caller hears that the step was applied (an error would have it sent again),
// and the parent's incident says the child is missing.
class ChildIdsFailStore final : public MemoryStore {
 public:
  std::int64_t reserve(std::string_view counter, std::int64_t count) override {
    if (counter == "ids:followup") throw StoreFailure("database went away");
    return MemoryStore::reserve(counter, count);
  }
};

TEST_F(RuntimeTest, AChildThatCannotBeStartedLeavesTheParentsStepApplied) {
  ChildIdsFailStore store;
  Runtime rt(store, clock_, {});
  const Definition parent = load(R"(workflow: parent
calendar: none
initial: open
states:
  open:
    on:
      go:
        target: done
        actions: [{start: {workflow: followup, data: {}}}]
  done: {type: final}
)");
  const Definition child = load(R"(workflow: followup
calendar: none
initial: open
states:
  open: {}
)");
  rt.add_definition(parent);
  rt.add_definition(child);
  StartRequest s;
  s.workflow = "parent";
  const RuntimeResult started = rt.start(s);
  ASSERT_EQ(started.status, RuntimeResult::Status::ok) << started.error;
  EventRequest e;
  e.instance_id = started.instance->id;
  e.event = "go";
  const RuntimeResult r = rt.send(e);
  EXPECT_EQ(r.status, RuntimeResult::Status::ok) << r.error;
  const auto after = store.load(started.instance->id);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->state, "done");
  ASSERT_EQ(after->incidents.size(), 1U);
  EXPECT_NE(
      after->incidents[0].message.find("could not start a 'followup' case: database went away"),
      std::string::npos)
      << after->incidents[0].message;
}

// Another node draws serials between this step's read of the sequence and its commit.
class RacingStore final : public MemoryStore {
 public:
  std::int64_t get(std::string_view counter) const override {
    const std::int64_t v = MemoryStore::get(counter);
    if (counter == "seq:ticket" && races > 0) {
      --races;
      const_cast<RacingStore*>(this)->reserve(counter, 2);
    }
    return v;
  }
  mutable int races = 0;
};

TEST(RuntimeSerials, ASequenceMovesOnlyFromTheValueTheStepRead) {
  Definition def = load(R"(workflow: ticket
calendar: none
initial: open
states:
  open:
    on:
      number:
        target: numbered
        actions: [{serial: {field: number, sequence: ticket, format: "T-{seq}"}}]
  numbered: {type: final}
)");
  RacingStore store;
  ManualClock clock(kT0);
  Runtime rt(store, clock, StepContext{});
  rt.add_definition(def);
  StartRequest s;
  s.workflow = "ticket";
  ASSERT_EQ(rt.start(s).status, RuntimeResult::Status::ok);
  store.races = 1;
  EventRequest e;
  e.instance_id = "ticket-1";
  e.event = "number";
  // The step read 0 and would write 1, but the sequence is at 2 by then: a conflict, not a
  // second "T-1".
  const RuntimeResult raced = rt.send(e);
  EXPECT_EQ(raced.status, RuntimeResult::Status::conflict);
  EXPECT_EQ(store.get("seq:ticket"), 2);
  const RuntimeResult retried = rt.send(e);
  ASSERT_EQ(retried.status, RuntimeResult::Status::ok) << retried.error;
  EXPECT_EQ(retried.instance->data.at("number"), "T-3");
  EXPECT_EQ(store.get("seq:ticket"), 3);
}

}  // namespace
}  // namespace ombud
