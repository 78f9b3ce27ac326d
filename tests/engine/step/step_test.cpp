// step() and start(): the semantics of WORKFLOW_FORMAT.md, one behaviour per test, on the wall
// clock (no calendars) unless a test says otherwise.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include <boost/json/serialize.hpp>

#include "adapters/yaml/workflow_loader.h"
#include "engine/step.h"

namespace ombud {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Timestamp at(const char* text) { return *parse_timestamp(text); }
const Timestamp kT0 = at("2026-11-23T09:00:00Z");

Definition load(const std::string& yaml) {
  Diagnostics diags;
  auto def = yaml::load_workflow("test.yaml", yaml, diags);
  for (const auto& d : diags.items()) ADD_FAILURE() << d.to_string();
  return *def;
}

std::vector<std::string> kinds(const Outcome& out) {
  std::vector<std::string> k;
  for (const auto& h : out.history) k.push_back(h.kind);
  return k;
}

std::string trace(const Instance& in) { return std::string(in.data.at("trace").as_string()); }

Event event(const std::string& name, boost::json::object data = {}) {
  return Event{name, std::move(data), std::nullopt, ""};
}

const char* kOrder = R"(workflow: order
data:
  trace: {type: string, default: ""}
initial: a
states:
  a:
    exit: [{set: {trace: "${ data.trace + '[exit a]' }"}}]
    on:
      go:
        target: b
        actions: [{set: {trace: "${ data.trace + '[go]' }"}}]
      note:
        actions: [{set: {trace: "${ data.trace + '[note]' }"}}]
  b:
    entry: [{set: {trace: "${ data.trace + '[entry b]' }"}}]
    on: {finish: done}
  done: {type: final}
)";

TEST(Step, RunsExitThenTransitionThenEntryActions) {
  const Definition def = load(kOrder);
  const Outcome started = start(def, "x-1", {}, kT0, {});
  const Outcome out = step(def, started.instance, event("go"), kT0, {});
  EXPECT_EQ(out.result, Outcome::Result::handled);
  EXPECT_EQ(out.instance.state, "b");
  EXPECT_EQ(trace(out.instance), "[exit a][go][entry b]");
}

TEST(Step, InternalTransitionRunsOnlyItsActions) {
  const Definition def = load(kOrder);
  const Outcome started = start(def, "x-1", {}, kT0, {});
  const Outcome out = step(def, started.instance, event("note"), kT0, {});
  EXPECT_EQ(out.instance.state, "a");
  EXPECT_EQ(trace(out.instance), "[note]");
}

TEST(Step, UnhandledEventIsRecordedAndChangesNothingButTheRevision) {
  const Definition def = load(kOrder);
  const Outcome started = start(def, "x-1", {}, kT0, {});
  const Outcome out = step(def, started.instance, event("finish"), kT0, {});
  EXPECT_EQ(out.result, Outcome::Result::not_handled);
  EXPECT_THAT(kinds(out), ElementsAre("not_handled"));
  EXPECT_EQ(out.instance.state, "a");
  EXPECT_EQ(out.instance.revision, started.instance.revision + 1);
}

// step() copies the instance field by field (its data separately): a field it forgot would come
// back default-constructed.
TEST(Step, CopiesEveryFieldOfTheInstance) {
  const Definition def = load(kOrder);
  Instance in = start(def, "x-1", {{"trace", "kept"}}, kT0, {}).instance;
  in.workflow = "order";
  in.version = 7;
  in.key = "k-1";
  in.assignee = "li.na";
  in.queue = "front";
  in.priority = Priority::urgent;
  in.created_at = kT0 - std::chrono::hours(1);
  SlaClock clock;
  clock.name = "resolve";
  clock.status = SlaClock::Status::paused;
  clock.breached = true;
  clock.cycle = 2;
  clock.fired = {1, 0, 3, 0, 5, 6};  // more levels than fit inline
  in.slas.push_back(clock);
  PendingTimer timer;
  timer.id = 4;
  timer.kind = PendingTimer::Kind::escalation;
  timer.owner = "resolve";
  timer.index = 2;
  timer.cycle = 2;
  in.timers.push_back(timer);
  in.incidents.push_back({kT0, "something", true});
  in.next_timer_id = 5;
  in.ended = false;
  const Outcome out = step(def, in, event("finish"), kT0 + std::chrono::hours(1), {});
  ASSERT_EQ(out.result, Outcome::Result::not_handled);
  Instance expected = in;
  expected.revision += 1;
  expected.updated_at = kT0 + std::chrono::hours(1);
  EXPECT_EQ(out.instance, expected);
  EXPECT_EQ(boost::json::serialize(to_json(out.instance)),
            boost::json::serialize(to_json(expected)));
}

TEST(Step, FinalStateEndsTheCaseAndLaterEventsAreRejected) {
  const Definition def = load(kOrder);
  Instance in = start(def, "x-1", {}, kT0, {}).instance;
  in = step(def, in, event("go"), kT0, {}).instance;
  const Outcome done = step(def, in, event("finish"), kT0, {});
  EXPECT_TRUE(done.instance.ended);
  const Outcome late = step(def, done.instance, event("go"), kT0, {});
  EXPECT_EQ(late.result, Outcome::Result::rejected);
  EXPECT_THAT(late.error, HasSubstr("has ended"));
  EXPECT_EQ(late.instance, done.instance);
}

const char* kGuards = R"(workflow: guards
data:
  score: {type: int}
  outcome: {type: string}
  divisor: {type: int, default: 0}
events:
  visited: {score: {type: int, required: true, min: 1, max: 5}}
initial: visit
states:
  visit:
    on:
      visited:
        - guard: event.score >= 4
          target: closed
          actions: [{set: {outcome: happy}}]
        - guard: event.score >= 2
          target: closed
          actions: [{set: {outcome: fine}}]
        - target: reopened
          actions: [{set: {outcome: unhappy}}]
      broken:
        - guard: 10 / data.divisor > 1
          target: closed
        - target: reopened
  reopened:
    on: {visited: closed}
  closed: {type: final}
on:
  ping:
    actions: [{set: {outcome: pong}}]
)";

TEST(Step, FirstTransitionWhoseGuardHoldsWins) {
  const Definition def = load(kGuards);
  const Instance in = start(def, "g-1", {}, kT0, {}).instance;
  EXPECT_EQ(step(def, in, event("visited", {{"score", 5}}), kT0, {}).instance.data.at("outcome"),
            "happy");
  EXPECT_EQ(step(def, in, event("visited", {{"score", 3}}), kT0, {}).instance.data.at("outcome"),
            "fine");
  const Outcome low = step(def, in, event("visited", {{"score", 1}}), kT0, {});
  EXPECT_EQ(low.instance.data.at("outcome"), "unhappy");
  EXPECT_EQ(low.instance.state, "reopened");
}

TEST(Step, PayloadIsValidatedAgainstTheEventSchema) {
  const Definition def = load(kGuards);
  const Instance in = start(def, "g-1", {}, kT0, {}).instance;
  const Outcome missing = step(def, in, event("visited"), kT0, {});
  EXPECT_EQ(missing.result, Outcome::Result::rejected);
  EXPECT_EQ(missing.error, "event 'visited': field 'score' is required");
  const Outcome high = step(def, in, event("visited", {{"score", 9}}), kT0, {});
  EXPECT_EQ(high.result, Outcome::Result::rejected);
  EXPECT_THAT(high.error, HasSubstr("field 'score'"));
  const Outcome unknown = step(def, in, event("visited", {{"scroe", 3}}), kT0, {});
  // Every problem at once: the misspelt field, and so the missing one.
  EXPECT_EQ(unknown.error,
            "event 'visited': unknown field 'scroe' (did you mean 'score'?); field 'score' is "
            "required");
  EXPECT_EQ(unknown.instance, in);
}

TEST(Step, AGuardThatFailsAtRunTimeIsFalseAndAnIncident) {
  const Definition def = load(kGuards);
  const Instance in = start(def, "g-1", {}, kT0, {}).instance;
  const Outcome out = step(def, in, event("broken"), kT0, {});
  EXPECT_EQ(out.instance.state, "reopened");
  ASSERT_EQ(out.instance.incidents.size(), 1U);
  EXPECT_THAT(out.instance.incidents[0].message, HasSubstr("10 / data.divisor > 1"));
}

TEST(Step, GlobalOnAppliesInEveryNonFinalState) {
  const Definition def = load(kGuards);
  Instance in = start(def, "g-1", {}, kT0, {}).instance;
  EXPECT_EQ(step(def, in, event("ping"), kT0, {}).instance.data.at("outcome"), "pong");
  in = step(def, in, event("visited", {{"score", 1}}), kT0, {}).instance;
  EXPECT_EQ(step(def, in, event("ping"), kT0, {}).instance.data.at("outcome"), "pong");
}

// A field the workflow keeps itself is refused in start data; a refused start names every
// problem, not only the first.
TEST(Step, AStartMayNotGiveAnInternalFieldAndHearsEveryProblem) {
  const Definition def = load(R"(workflow: contract
data:
  amount: {type: number, required: true}
  limit: {type: number, default: 300000, internal: true}
  drafter: {type: string, required: true}
initial: draft
states:
  draft: {on: {done: closed}}
  closed: {type: final}
)");
  const Outcome own_limit =
      start(def, "c-1", {{"amount", 5}, {"drafter", "ma.jun"}, {"limit", 1e9}}, kT0, {});
  EXPECT_EQ(own_limit.result, Outcome::Result::rejected);
  EXPECT_EQ(own_limit.error,
            "data: field 'limit' is kept by the workflow itself and is not given at start");
  const Outcome several = start(def, "c-2", {{"amount", "lots"}, {"limit", 1}}, kT0, {});
  EXPECT_EQ(several.error,
            "data: field 'amount': expected number, got string; field 'limit' is kept by the "
            "workflow itself and is not given at start; field 'drafter' is required");
  const Outcome ok = start(def, "c-3", {{"amount", 5}, {"drafter", "ma.jun"}}, kT0, {});
  EXPECT_EQ(ok.result, Outcome::Result::handled);
  EXPECT_EQ(ok.instance.data.at("limit"), 300000);
}

// A `person` field names someone of the directory, holding the role when one is given; replay
// (check_people off) accepts whoever the directory had when the case began.
TEST(Step, APersonFieldNamesSomeoneOfTheDirectory) {
  const Definition def = load(R"(workflow: owned
data:
  owner: {type: string, required: true, person: account_manager}
initial: open
states:
  open: {on: {done: closed}}
  closed: {type: final}
)");
  struct TwoPeople final : Directory {
    static Person make(std::string id, std::string role) {
      Person p;
      p.id = std::move(id);
      p.roles = {std::move(role)};
      return p;
    }
    Person huang = make("huang.li", "account_manager");
    Person ma = make("ma.jun", "salesperson");
    const Person* person(std::string_view id) const override {
      return id == huang.id ? &huang : id == ma.id ? &ma : nullptr;
    }
    std::vector<const Person*> queue_members(std::string_view) const override { return {}; }
    std::vector<const Person*> people_with_role(std::string_view) const override { return {}; }
  } directory;
  StepContext ctx;
  ctx.directory = &directory;
  EXPECT_EQ(start(def, "o-1", {{"owner", "huang.li"}}, kT0, ctx).result, Outcome::Result::handled);
  EXPECT_EQ(start(def, "o-2", {{"owner", "nobody.here"}}, kT0, ctx).error,
            "data: field 'owner': nobody called 'nobody.here' in the directory");
  EXPECT_EQ(start(def, "o-3", {{"owner", "ma.jun"}}, kT0, ctx).error,
            "data: field 'owner': ma.jun does not have the role account_manager");
  ctx.check_people = false;
  EXPECT_EQ(start(def, "o-4", {{"owner", "nobody.here"}}, kT0, ctx).result,
            Outcome::Result::handled);
}

TEST(Step, RolesRestrictWhoMaySendAnEvent) {
  const Definition def = load(R"(workflow: roles
initial: open
states:
  open:
    on:
      cancel: {target: closed, roles: [supervisor]}
  closed: {type: final}
)");
  const Instance in = start(def, "r-1", {}, kT0, {}).instance;
  StepContext agent;
  agent.enforce_roles = true;
  agent.actor_roles = {"agent"};
  const Outcome denied = step(def, in, event("cancel"), kT0, agent);
  EXPECT_EQ(denied.result, Outcome::Result::rejected);
  EXPECT_EQ(denied.error, "event 'cancel' in 'open' needs one of the roles: supervisor");
  StepContext supervisor = agent;
  supervisor.actor_roles = {"supervisor"};
  EXPECT_TRUE(step(def, in, event("cancel"), kT0, supervisor).instance.ended);
}

// `assignee` and `data.FIELD` in roles name people, not roles: only the case's assignee
// approves, only the requester withdraws; holding the approvers' role is not enough.
TEST(Step, RolesNameTheAssigneeOrThePersonInADataField) {
  const Definition def = load(R"(workflow: leave
data:
  employee: {type: string, required: true}
initial: deciding
states:
  deciding:
    entry: [{assign: {to: li.na}}]
    on:
      approve: {target: approved, roles: [assignee]}
      withdraw: {target: withdrawn, roles: [data.employee, supervisor]}
  approved: {type: final}
  withdrawn: {type: final}
)");
  const Instance in = start(def, "l-1", {{"employee", "wang.fang"}}, kT0, {}).instance;
  ASSERT_EQ(in.assignee, "li.na");
  StepContext manager;
  manager.enforce_roles = true;
  manager.actor_roles = {"manager"};
  Event approve = event("approve");
  approve.actor = "sun.hao";  // a manager, but not the one the case waits for
  const Outcome denied = step(def, in, approve, kT0, manager);
  EXPECT_EQ(denied.result, Outcome::Result::rejected);
  EXPECT_EQ(denied.error, "event 'approve' in 'deciding' needs one of the roles: assignee (li.na)");
  approve.actor = "li.na";
  EXPECT_EQ(step(def, in, approve, kT0, manager).instance.state, "approved");

  Event withdraw = event("withdraw");
  withdraw.actor = "li.na";
  const Outcome not_hers = step(def, in, withdraw, kT0, manager);
  EXPECT_EQ(not_hers.error,
            "event 'withdraw' in 'deciding' needs one of the roles: data.employee (wang.fang), "
            "supervisor");
  withdraw.actor = "wang.fang";
  EXPECT_EQ(step(def, in, withdraw, kT0, manager).instance.state, "withdrawn");
  // A token made for a role names nobody: it is nobody's assignee.
  approve.actor = "token:4f2a";
  EXPECT_EQ(step(def, in, approve, kT0, manager).result, Outcome::Result::rejected);
  approve.actor = "";
  EXPECT_EQ(step(def, in, approve, kT0, manager).result, Outcome::Result::rejected);
}

TEST(Step, RaisedEventsAreHandledInTheSameStep) {
  const Definition def = load(R"(workflow: choice
data:
  vip: {type: bool, default: false}
initial: intake
states:
  intake:
    entry: [{raise: route}]
    on:
      route:
        - guard: data.vip
          target: fast
        - target: normal
  fast: {on: {done: closed}}
  normal: {on: {done: closed}}
  closed: {type: final}
)");
  EXPECT_EQ(start(def, "c-1", {{"vip", true}}, kT0, {}).instance.state, "fast");
  EXPECT_EQ(start(def, "c-2", {}, kT0, {}).instance.state, "normal");
}

TEST(Step, EventPayloadDefaultsReachGuardsAndActionsButNotTheHistory) {
  const Definition def = load(R"(workflow: rating
data:
  score: {type: int}
events:
  rate: {score: {type: int, default: 3}}
initial: open
states:
  open:
    on:
      rate:
        - guard: event.score >= 3
          target: good
          actions: [{set: {score: "${ event.score }"}}]
        - target: bad
  good: {type: final}
  bad: {type: final}
)");
  const Instance in = start(def, "r-1", {}, kT0, {}).instance;
  const Outcome defaulted = step(def, in, event("rate"), kT0, {});
  EXPECT_EQ(defaulted.instance.state, "good");
  EXPECT_EQ(defaulted.instance.data.at("score").as_int64(), 3);
  // The event entry records the payload as it was sent.
  ASSERT_EQ(defaulted.history.at(0).kind, "event");
  EXPECT_TRUE(defaulted.history.at(0).details.object().at("data").as_object().empty());
  EXPECT_EQ(step(def, in, event("rate", {{"score", 1}}), kT0, {}).instance.state, "bad");
}

TEST(Definition, FindStateIsRightWithoutOrWithAStaleIndex) {
  Definition def = load(kOrder);
  ASSERT_EQ(def.state_index.size(), def.states.size());  // the loader builds it
  ASSERT_NE(def.find_state("b"), nullptr);
  EXPECT_EQ(def.find_state("b")->name, "b");
  EXPECT_EQ(def.find_state("nowhere"), nullptr);

  std::reverse(def.states.begin(), def.states.end());  // positions no longer match the index
  EXPECT_EQ(def.find_state("a")->name, "a");
  EXPECT_EQ(def.find_state("done")->name, "done");
  def.state_index.clear();
  EXPECT_EQ(def.find_state("b")->name, "b");
  EXPECT_EQ(step(def, start(def, "x-1", {}, kT0, {}).instance, event("go"), kT0, {}).instance.state,
            "b");
}

TEST(Step, ARaiseLoopBecomesAnIncidentNotAHang) {
  const Definition def = load(R"(workflow: loop
initial: a
states:
  a:
    on:
      spin:
        actions: [{raise: spin}]
      stop: closed
  closed: {type: final}
)");
  const Instance in = start(def, "l-1", {}, kT0, {}).instance;
  const Outcome out = step(def, in, event("spin"), kT0, {});
  ASSERT_EQ(out.instance.incidents.size(), 1U);
  EXPECT_THAT(out.instance.incidents[0].message, HasSubstr("more than 32 raised events"));
}

const char* kTimers = R"(workflow: timers
data:
  reminded: {type: int, default: 0}
  due: {type: timestamp}
initial: waiting
states:
  waiting:
    after:
      - delay: 2h
        actions: [{set: {reminded: "${ data.reminded + 1 }"}}]
      - delay: 1d
        target: closed
    at:
      - time: data.due
        target: closed
    on:
      replied: working
  working:
    on: {wait: waiting, finish: closed}
  closed: {type: final}
calendar: none
)";

TEST(Step, AfterTimersAreArmedOnEntry) {
  const Definition def = load(kTimers);
  const Outcome out = start(def, "t-1", {{"due", "2026-11-30T00:00:00Z"}}, kT0, {});
  ASSERT_EQ(out.instance.timers.size(), 3U);
  EXPECT_EQ(out.instance.timers[0].due, kT0 + std::chrono::hours(2));
  EXPECT_EQ(out.instance.timers[1].due, kT0 + std::chrono::hours(24));
  EXPECT_EQ(out.instance.timers[2].due, at("2026-11-30T00:00:00Z"));
  EXPECT_EQ(out.armed.size(), 3U);
}

TEST(Step, TimersAreCancelledOnExit) {
  const Definition def = load(kTimers);
  const Instance in = start(def, "t-1", {{"due", "2026-11-30T00:00:00Z"}}, kT0, {}).instance;
  const Outcome out = step(def, in, event("replied"), kT0, {});
  EXPECT_TRUE(out.instance.timers.empty());
  EXPECT_EQ(out.cancelled.size(), 3U);
}

TEST(Step, ATimerWithoutTargetRunsItsActionsAndStays) {
  const Definition def = load(kTimers);
  const Instance in = start(def, "t-1", {{"due", "2026-11-30T00:00:00Z"}}, kT0, {}).instance;
  Event fire;
  fire.timer_id = in.timers[0].id;
  const Outcome out = step(def, in, fire, kT0 + std::chrono::hours(2), {});
  EXPECT_EQ(out.instance.state, "waiting");
  EXPECT_EQ(out.instance.data.at("reminded"), 1);
  EXPECT_EQ(out.instance.timers.size(), 2U);
}

TEST(Step, ATimerWithATargetTransitionsAndRecordsLateness) {
  const Definition def = load(kTimers);
  const Instance in = start(def, "t-1", {{"due", "2026-11-30T00:00:00Z"}}, kT0, {}).instance;
  Event fire;
  fire.timer_id = in.timers[1].id;
  const Outcome out = step(def, in, fire, kT0 + std::chrono::hours(25), {});
  EXPECT_TRUE(out.instance.ended);
  EXPECT_THAT(out.history[0].message, HasSubstr("fired (late by 1h)"));
  EXPECT_TRUE(out.instance.timers.empty());
}

TEST(Step, ATimerThatIsNoLongerPendingIsIgnored) {
  const Definition def = load(kTimers);
  const Instance in = start(def, "t-1", {{"due", "2026-11-30T00:00:00Z"}}, kT0, {}).instance;
  Event stale;
  stale.timer_id = 999;
  const Outcome out = step(def, in, stale, kT0, {});
  EXPECT_EQ(out.result, Outcome::Result::not_handled);
  EXPECT_EQ(out.instance.state, "waiting");
}

TEST(Start, AppliesDefaultsChecksRequiredFieldsAndComputesTheKey) {
  const Definition def = load(R"(workflow: keyed
key: data.phone
data:
  phone: {type: string, required: true}
  channel: {type: enum, values: [phone, visit], default: phone}
initial: open
states:
  open: {on: {close: closed}}
  closed: {type: final}
)");
  const Outcome ok = start(def, "k-1", {{"phone", "13800000000"}}, kT0, {});
  EXPECT_EQ(ok.instance.key, "13800000000");
  EXPECT_EQ(ok.instance.data.at("channel"), "phone");
  const Outcome missing = start(def, "k-2", {}, kT0, {});
  EXPECT_EQ(missing.result, Outcome::Result::rejected);
  EXPECT_EQ(missing.error, "data: field 'phone' is required");
  const Outcome bad = start(def, "k-3", {{"phone", "1"}, {"channel", "fax"}}, kT0, {});
  EXPECT_EQ(bad.result, Outcome::Result::rejected);
  EXPECT_THAT(bad.error, HasSubstr("channel"));
}

class FixedCounters final : public Counters {
 public:
  std::int64_t get(std::string_view) const override { return 41; }
};

TEST(Step, SerialNumbersComeFromTheCounterAndAreReportedForCommit) {
  const Definition def = load(R"(workflow: serials
data:
  number: {type: string}
initial: draft
states:
  draft:
    entry: [{serial: {field: number, sequence: contract, format: "HT-{yyyy}-{seq:05}"}}]
    on: {done: closed}
  closed: {type: final}
)");
  const FixedCounters counters;
  StepContext ctx;
  ctx.counters = &counters;
  const Outcome out = start(def, "s-1", {}, kT0, ctx);
  EXPECT_EQ(out.instance.data.at("number"), "HT-2026-00042");
  ASSERT_EQ(out.counters.size(), 1U);
  EXPECT_EQ(out.counters[0].name, "seq:contract");
  EXPECT_EQ(out.counters[0].value, 42);
}

// restart: yearly keeps a counter per year: the first contract of 2027 is number 1 of 2027.
TEST(Step, AYearlySequenceHasACounterPerYear) {
  const Definition def = load(R"(workflow: serials
data:
  number: {type: string}
initial: draft
states:
  draft:
    entry:
      - serial: {field: number, sequence: contract, format: "HT-{yyyy}-{seq:05}", restart: yearly}
    on: {done: closed}
  closed: {type: final}
)");
  struct PerYear final : Counters {
    std::int64_t get(std::string_view name) const override {
      return name == "seq:contract:2026" ? 41 : 0;
    }
  } counters;
  StepContext ctx;
  ctx.counters = &counters;
  const Outcome late_2026 = start(def, "s-1", {}, kT0, ctx);
  EXPECT_EQ(late_2026.instance.data.at("number"), "HT-2026-00042");
  ASSERT_EQ(late_2026.counters.size(), 1U);
  EXPECT_EQ(late_2026.counters[0].name, "seq:contract:2026");
  const Outcome early_2027 =
      start(def, "s-2", {}, parse_timestamp("2027-01-04T09:00:00Z").value(), ctx);
  EXPECT_EQ(early_2027.instance.data.at("number"), "HT-2027-00001");
  EXPECT_EQ(early_2027.counters[0].name, "seq:contract:2027");
}

const char* kSla = R"(workflow: sla
calendar: none
initial: received
states:
  received: {on: {ask: waiting, resolve: resolved}}
  waiting: {on: {reply: received}}
  resolved: {on: {reopen: received, close: closed}}
  closed: {type: final}
slas:
  resolve:
    goal: 10h
    start: [received]
    pause: [waiting]
    stop: [resolved, closed]
    escalate:
      - at: 50%
        actions: [{priority: high}]
      - at: 8h
        repeat: 1h
        actions: [{priority: urgent}]
)";

// Fires the earliest pending timer at its due time.
Outcome fire_next(const Definition& def, const Instance& in) {
  auto it = std::min_element(in.timers.begin(), in.timers.end(),
                             [](const auto& a, const auto& b) { return a.due < b.due; });
  Event e;
  e.timer_id = it->id;
  return step(def, in, e, it->due, {});
}

TEST(SlaClock, StartsOnEnteringAStartState) {
  const Definition def = load(kSla);
  const Instance in = start(def, "s-1", {}, kT0, {}).instance;
  const SlaClock* c = in.sla("resolve");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, SlaClock::Status::running);
  EXPECT_EQ(c->cycle, 1);
  EXPECT_EQ(c->due_at, kT0 + std::chrono::hours(10));
  EXPECT_EQ(c->budget, std::chrono::hours(10));
}

TEST(SlaClock, PausesWhileWaitingOnTheCustomerAndTheDueTimeMoves) {
  const Definition def = load(kSla);
  Instance in = start(def, "s-1", {}, kT0, {}).instance;
  in = step(def, in, event("ask"), kT0 + std::chrono::hours(2), {}).instance;
  EXPECT_EQ(in.sla("resolve")->status, SlaClock::Status::paused);
  EXPECT_EQ(in.sla("resolve")->elapsed, std::chrono::hours(2));
  EXPECT_TRUE(std::none_of(in.timers.begin(), in.timers.end(),
                           [](const auto& t) { return t.kind == PendingTimer::Kind::escalation; }));
  in = step(def, in, event("reply"), kT0 + std::chrono::hours(5), {}).instance;
  EXPECT_EQ(in.sla("resolve")->status, SlaClock::Status::running);
  EXPECT_EQ(in.sla("resolve")->paused_total, std::chrono::hours(3));
  EXPECT_EQ(in.sla("resolve")->due_at, kT0 + std::chrono::hours(13));
}

// Levels fire at the first instant past their threshold: one millisecond of working time later.
TEST(SlaClock, EscalationLevelsFireAtPercentagesAndRepeat) {
  const Definition def = load(kSla);
  const Millis past(1);
  Outcome out = start(def, "s-1", {}, kT0, {});
  out = fire_next(def, out.instance);  // 50% = 5h
  EXPECT_EQ(out.instance.priority, Priority::high);
  EXPECT_EQ(out.instance.updated_at, kT0 + std::chrono::hours(5) + past);
  out = fire_next(def, out.instance);  // 8h
  EXPECT_EQ(out.instance.priority, Priority::urgent);
  EXPECT_EQ(out.instance.updated_at, kT0 + std::chrono::hours(8) + past);
  out = fire_next(def, out.instance);  // repeat at 9h
  EXPECT_EQ(out.instance.updated_at, kT0 + std::chrono::hours(9) + past);
  EXPECT_EQ(out.instance.sla("resolve")->fired[1], 2);
  EXPECT_FALSE(out.instance.sla("resolve")->breached);
  out = fire_next(def, out.instance);  // the goal (10h) is exceeded...
  EXPECT_TRUE(out.instance.sla("resolve")->breached);
  EXPECT_THAT(out.history.back().message, HasSubstr("SLA resolve breached"));
  out = fire_next(def, out.instance);  // ...and the repeat at 10h fires after the breach
  EXPECT_EQ(out.instance.sla("resolve")->fired[1], 3);
}

// An escalation raises priority; it does not lower a case already above its level.
TEST(SlaClock, AnEscalationNeverLowersThePriority) {
  const Definition def = load(kSla);
  Instance in = start(def, "s-1", {}, kT0, {}).instance;
  in.priority = Priority::urgent;          // e.g. set by a transition before the clock ran out
  const Outcome out = fire_next(def, in);  // 50%: priority high
  EXPECT_EQ(out.instance.priority, Priority::urgent);
  EXPECT_TRUE(std::none_of(out.history.begin(), out.history.end(),
                           [](const HistoryEntry& h) { return h.kind == "priority"; }));
}

TEST(SlaClock, StopsMetOrBreachedAndStartsANewCycleOnReentry) {
  const Definition def = load(kSla);
  Instance in = start(def, "s-1", {}, kT0, {}).instance;
  in = step(def, in, event("resolve"), kT0 + std::chrono::hours(4), {}).instance;
  EXPECT_EQ(in.sla("resolve")->status, SlaClock::Status::met);
  EXPECT_EQ(in.sla("resolve")->elapsed, std::chrono::hours(4));
  in = step(def, in, event("reopen"), kT0 + std::chrono::hours(5), {}).instance;
  EXPECT_EQ(in.sla("resolve")->status, SlaClock::Status::running);
  EXPECT_EQ(in.sla("resolve")->cycle, 2);
  in = step(def, in, event("resolve"), kT0 + std::chrono::hours(17), {}).instance;
  EXPECT_EQ(in.sla("resolve")->status, SlaClock::Status::breached);
}

// kSla, where `event` moves a received case to `state` (its YAML: `spec`), which cancels the
// resolve clock.
Definition sla_with_cancel_state(const std::string& event, const std::string& state,
                                 const std::string& spec) {
  std::string text = kSla;
  text.replace(text.find("resolve: resolved}}"), 19,
               "resolve: resolved, " + event + ": " + state + "}}");
  text.replace(text.find("  closed: {type: final}\n"), 0, "  " + state + ": " + spec + "\n");
  text.replace(text.find("    escalate:"), 0, "    cancel: [" + state + "]\n");
  return load(text);
}

// A withdrawn case's clock is neither met nor breached, unless its goal had already passed.
TEST(SlaClock, ACancelStateWithdrawsTheClockUnlessItHadBreached) {
  const Definition def = sla_with_cancel_state("withdraw", "withdrawn", "{type: final}");
  Instance in = start(def, "s-1", {}, kT0, {}).instance;
  const Outcome early = step(def, in, event("withdraw"), kT0 + std::chrono::hours(4), {});
  const SlaClock& withdrawn = *early.instance.sla("resolve");
  EXPECT_EQ(withdrawn.status, SlaClock::Status::cancelled);
  EXPECT_FALSE(withdrawn.breached);
  EXPECT_EQ(withdrawn.elapsed, std::chrono::hours(4));
  EXPECT_TRUE(early.instance.timers.empty());  // its escalations are cancelled with it
  const auto sla_entry = std::find_if(early.history.begin(), early.history.end(),
                                      [](const HistoryEntry& h) { return h.kind == "sla"; });
  ASSERT_NE(sla_entry, early.history.end());
  EXPECT_THAT(sla_entry->message, HasSubstr("SLA resolve cancelled (4h"));
  EXPECT_THAT(sla_entry->details.text(), HasSubstr(R"("met":false,"cancelled":true)"));
  std::string error;
  const auto back = instance_from_json(to_json(early.instance), &error);
  ASSERT_TRUE(back.has_value()) << error;
  EXPECT_EQ(*back, early.instance);

  const Instance late = step(def, in, event("withdraw"), kT0 + std::chrono::hours(12), {}).instance;
  EXPECT_EQ(late.sla("resolve")->status, SlaClock::Status::breached);
}

// A state that is not final can cancel a clock too (a case put on hold for good), and a start
// state begins a new cycle after it as after a stop.
TEST(SlaClock, ACancelStateThatIsNotFinalWithdrawsTheClockAndANewCycleCanStart) {
  const Definition def = sla_with_cancel_state("shelve", "shelved", "{on: {revive: received}}");
  Instance in = start(def, "s-1", {}, kT0, {}).instance;
  in = step(def, in, event("shelve"), kT0 + std::chrono::hours(2), {}).instance;
  EXPECT_EQ(in.state, "shelved");
  EXPECT_EQ(in.sla("resolve")->status, SlaClock::Status::cancelled);
  EXPECT_TRUE(in.timers.empty());
  in = step(def, in, event("revive"), kT0 + std::chrono::hours(3), {}).instance;
  EXPECT_EQ(in.sla("resolve")->status, SlaClock::Status::running);
  EXPECT_EQ(in.sla("resolve")->cycle, 2);
}

TEST(SlaClock, StatusIsBreachedOnceTheGoalPassesEvenWhileRunning) {
  const Definition def = load(kSla);
  const Instance in = start(def, "s-1", {}, kT0, {}).instance;
  const BusinessCalendar wall = BusinessCalendar::wall_clock();
  EXPECT_EQ(sla_status_at(*in.sla("resolve"), kT0 + std::chrono::hours(9), wall),
            SlaClock::Status::running);
  EXPECT_EQ(sla_status_at(*in.sla("resolve"), kT0 + std::chrono::hours(11), wall),
            SlaClock::Status::breached);
}

TEST(Instance, RoundTripsThroughJson) {
  const Definition def = load(kSla);
  Instance in = start(def, "s-1", {}, kT0, {}).instance;
  in = step(def, in, event("ask"), kT0 + std::chrono::hours(2), {}).instance;
  std::string error;
  const auto back = instance_from_json(to_json(in), &error);
  ASSERT_TRUE(back.has_value()) << error;
  EXPECT_EQ(*back, in);
}

TEST(FiredCounts, BehavesLikeAVectorInlineAndOnTheHeap) {
  FiredCounts counts;
  counts.assign(3, 0);
  counts.set(1, 2);
  EXPECT_EQ(counts, (FiredCounts{0, 2, 0}));
  EXPECT_EQ(counts.bump(1), 3);
  EXPECT_EQ(counts.bump(0), 1);
  EXPECT_EQ(counts, (FiredCounts{1, 3, 0}));
  counts.resize(6, 7);  // past the inline capacity
  EXPECT_EQ(counts, (FiredCounts{1, 3, 0, 7, 7, 7}));
  counts.push_back(9);
  FiredCounts copy = counts;
  FiredCounts moved = std::move(counts);
  EXPECT_EQ(copy, moved);
  EXPECT_EQ(moved.size(), 7u);
  EXPECT_EQ(moved[6], 9);
  moved = FiredCounts{1};
  EXPECT_EQ(moved, (FiredCounts{1}));
  EXPECT_NE(moved, copy);
  moved = copy;  // inline from the heap
  EXPECT_EQ(moved, copy);
  moved = *&moved;  // self-assignment
  EXPECT_EQ(moved, copy);
  copy.resize(0);  // on the heap with no counts
  moved = copy;
  EXPECT_TRUE(moved.empty());
  moved.push_back(4);
  EXPECT_EQ(moved, (FiredCounts{4}));
}

// Inline counts are 16-bit: a count past 65,535 (or a negative one read from a document) moves
// them all to the heap, unchanged.
TEST(FiredCounts, CountsOutsideSixteenBitsMoveToTheHeap) {
  FiredCounts counts{3, 65535};
  counts.set(0, 65536);
  EXPECT_EQ(counts[0], 65536);
  EXPECT_EQ(counts[1], 65535);
  EXPECT_EQ(counts.bump(1), 65536);
  EXPECT_EQ(counts, (FiredCounts{65536, 65536}));
  const FiredCounts negative{-1, 2};
  EXPECT_EQ(negative[0], -1);
  EXPECT_EQ(negative[1], 2);
  FiredCounts small{0, 2};
  EXPECT_NE(small, negative);
  small.set(0, -1);
  EXPECT_EQ(small, negative);  // equal counts, one inline and one on the heap
}

TEST(FiredCounts, PacksIntoTwelveBytes) {
  EXPECT_EQ(sizeof(FiredCounts), 12u);
  EXPECT_EQ(sizeof(SlaClock), 72u);
  EXPECT_EQ(sizeof(PendingTimer), 32u);
}

TEST(InternedName, EqualTextsAreEqualNames) {
  const InternedName a = std::string("waiting_customer");
  const InternedName b = "waiting_customer";
  EXPECT_EQ(a, b);
  EXPECT_EQ(&a.str(), &b.str());
  EXPECT_EQ(sizeof(InternedName), 4u);
  EXPECT_EQ(a, std::string("waiting_customer"));
  EXPECT_NE(a, InternedName("investigating"));
  EXPECT_TRUE(InternedName().empty());
  EXPECT_EQ(InternedName(), InternedName(""));
}

}  // namespace
}  // namespace ombud
