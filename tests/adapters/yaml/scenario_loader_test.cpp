// Simulation scenarios: what the loader builds, and every mistake at its exact position.
#include "adapters/yaml/scenario_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "adapters/yaml/config_loader.h"
#include "adapters/yaml/workflow_loader.h"
#include "tests/adapters/yaml/test_support.h"

namespace ombud {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using yaml::Expectation;
using yaml::ScenarioStep;

// Scenarios live in the source tree's root here, so `workflows/…` and `config/…` resolve.
const std::string kFile = std::string(OMBUD_SOURCE_DIR) + "/scn.yaml";

std::vector<std::string> scenario_problems(const std::string& text) {
  Diagnostics diags;
  (void)yaml::load_scenario(kFile, text, diags);
  diags.sort();
  return testing::lines_of(diags, kFile);
}

// Loads the scenario, the shipped complaint and leave workflows and (optionally) the shipped
// config, then runs check_scenario; returns the scenario's diagnostics.
std::vector<std::string> checked_problems(const std::string& text, bool with_config = true) {
  Diagnostics diags;
  const auto scenario = yaml::load_scenario(kFile, text, diags);
  EXPECT_TRUE(scenario.has_value());
  EXPECT_FALSE(diags.has_errors()) << diags.items().front().to_string();
  Diagnostics ignored;
  std::vector<Definition> defs;
  for (const auto& f : scenario->workflow_files) {
    if (auto d = yaml::load_workflow_file(f, ignored)) defs.push_back(std::move(*d));
  }
  std::optional<Config> config;
  if (with_config)
    config = yaml::load_config_file(std::string(OMBUD_SOURCE_DIR) + "/config/ombud.yaml", ignored);
  yaml::check_scenario(*scenario, defs, config ? &*config : nullptr, diags);
  diags.sort();
  return testing::lines_of(diags, kFile);
}

constexpr const char* kHead = R"(workflow: workflows/complaint.yaml
config: config/ombud.yaml
start_at: "2026-11-23T09:00:00+08:00"
steps:
)";

std::string with_steps(const std::string& steps) { return kHead + steps; }

TEST(ScenarioLoader, LoadsEveryKindOfStep) {
  Diagnostics diags;
  const auto s = yaml::load_scenario(
      kFile, with_steps(R"(  - start: {data: {phone: "13800000000", reopened: 0}}
  - start: {as: second, data: {phone: "13800000001"}, idempotency_key: k-1}
  - event: acknowledge
    actor: li.na
  - event: customer_called
    key: 13800000001
    data: {call_id: C-1}
  - advance: 1d2h
  - advance_to: "2026-11-25T09:00:00+08:00"
  - expect: {instance: second, state: assigned, assignee: null, priority: high, ended: false,
             incidents: 0, data.phone: 13800000001, sla.resolve: running}
  - note: The complainant calls back
)"),
      diags);
  ASSERT_TRUE(s.has_value());
  EXPECT_THAT(diags.items(), IsEmpty());
  EXPECT_THAT(s->workflow_files,
              ElementsAre(std::string(OMBUD_SOURCE_DIR) + "/workflows/complaint.yaml"));
  EXPECT_EQ(s->config_file, std::string(OMBUD_SOURCE_DIR) + "/config/ombud.yaml");
  EXPECT_EQ(format_timestamp(s->start_at), "2026-11-23T01:00:00Z");
  ASSERT_EQ(s->steps.size(), 8U);

  const ScenarioStep& first = s->steps[0];
  EXPECT_EQ(first.kind, ScenarioStep::Kind::start);
  EXPECT_EQ(first.instance, "main");  // the first unnamed start
  EXPECT_EQ(first.data.at("phone"), "13800000000");
  EXPECT_EQ(first.data.at("reopened"), 0);
  EXPECT_EQ(s->steps[1].instance, "second");
  EXPECT_EQ(s->steps[1].idempotency_key, "k-1");

  const ScenarioStep& ack = s->steps[2];
  EXPECT_EQ(ack.kind, ScenarioStep::Kind::event);
  EXPECT_EQ(ack.event, "acknowledge");
  EXPECT_EQ(ack.instance, "main");  // events go to main unless told
  EXPECT_EQ(ack.actor, "li.na");
  EXPECT_EQ((SourcePos{7, 5}), ack.pos);

  const ScenarioStep& call = s->steps[3];
  EXPECT_TRUE(call.by_key);
  EXPECT_EQ(call.key, "13800000001");
  EXPECT_EQ(call.instance, "");

  // The clock is followed statically: 09:00 + 1d2h on the wall clock, then a fixed instant.
  EXPECT_EQ(format_timestamp(s->steps[4].until), "2026-11-24T03:00:00Z");
  EXPECT_EQ(s->steps[4].advance, (Duration{1, std::chrono::hours(2)}));
  EXPECT_EQ(format_timestamp(s->steps[5].until), "2026-11-25T01:00:00Z");

  const ScenarioStep& expect = s->steps[6];
  EXPECT_EQ(expect.instance, "second");
  ASSERT_EQ(expect.expectations.size(), 7U);
  EXPECT_EQ(expect.expectations[1].kind, Expectation::Kind::assignee);
  EXPECT_EQ(expect.expectations[1].expected, "");  // null: nobody
  EXPECT_EQ(expect.expectations[3].expected, false);
  const Expectation& phone = expect.expectations[5];
  EXPECT_EQ(phone.kind, Expectation::Kind::data);
  EXPECT_EQ(phone.field, "phone");
  EXPECT_EQ(phone.expected, 13800000001);
  EXPECT_EQ(phone.pos, (SourcePos{15, 28}));
  const Expectation& sla = expect.expectations[6];
  EXPECT_EQ(sla.kind, Expectation::Kind::sla);
  EXPECT_EQ(sla.field, "resolve");
  EXPECT_EQ(sla.expected, "running");

  EXPECT_EQ(s->steps[7].note, "The complainant calls back");
}

TEST(ScenarioLoader, ReadsAnUnquotedNumberAsTextForAStringField) {
  Expectation e;
  e.kind = Expectation::Kind::data;
  e.expected = 13800000001;
  e.plain_text = "13800000001";
  FieldSchema phone;
  phone.type = FieldType::string;
  FieldSchema count;
  count.type = FieldType::int_;
  EXPECT_EQ(yaml::expected_data_value(e, &phone), "13800000001");
  EXPECT_EQ(yaml::expected_data_value(e, &count), 13800000001);
  EXPECT_EQ(yaml::expected_data_value(e, nullptr), 13800000001);
}

TEST(ScenarioLoader, RejectsUnknownTopLevelKeysAndMissingOnes) {
  EXPECT_THAT(scenario_problems("workflow: workflows/complaint.yaml\nstart_at: "
                                "\"2026-11-23T09:00:00Z\"\nstpes: []\n"),
              ElementsAre("1:1: error: the scenario is missing required key 'steps'",
                          "3:1: error: unknown key 'stpes' in scenario (did you mean 'steps'?)"));
}

TEST(ScenarioLoader, ReportsAWorkflowFileThatDoesNotExist) {
  EXPECT_THAT(scenario_problems("workflow: workflows/complaint.yml\nstart_at: "
                                "\"2026-11-23T09:00:00Z\"\nsteps: [{advance: 1h}]\n"),
              ElementsAre("1:11: error: workflow file 'workflows/complaint.yml' not found (looked "
                          "for " +
                          std::string(OMBUD_SOURCE_DIR) +
                          "/workflows/complaint.yml; paths are relative to the scenario file)"));
}

TEST(ScenarioLoader, RejectsTimestampsWithoutAZone) {
  EXPECT_THAT(scenario_problems("workflow: workflows/complaint.yaml\nstart_at: 2026-11-23 "
                                "09:00\nsteps: [{advance: 1h}]\n"),
              ElementsAre("2:11: error: start_at: '2026-11-23 09:00' is not a timestamp (write RFC "
                          "3339 with a zone, e.g. 2026-11-23T09:00:00+08:00)"));
}

TEST(ScenarioLoader, RejectsUnknownTimeZones) {
  EXPECT_THAT(scenario_problems(std::string(kHead) + "  - advance: 1h\ntimezone: Asia/Beijing\n"),
              ElementsAre("6:11: error: unknown time zone 'Asia/Beijing' (use an IANA name such as "
                          "Asia/Shanghai)"));
}

TEST(ScenarioLoader, SuggestsTheStepKindForAMisspelledKey) {
  EXPECT_THAT(scenario_problems(with_steps("  - advnce: 2h\n")),
              ElementsAre("5:5: error: unknown key 'advnce' in step (did you mean 'advance'?)"));
}

TEST(ScenarioLoader, RejectsAStepWithoutAKind) {
  EXPECT_THAT(scenario_problems(with_steps("  - data: {phone: x}\n")),
              ElementsAre("5:5: error: a step needs one of: start, event, advance, advance_to, "
                          "expect, note"));
}

TEST(ScenarioLoader, RejectsAStepThatDoesTwoThings) {
  EXPECT_THAT(scenario_problems(with_steps("  - event: acknowledge\n    advance: 1h\n")),
              ElementsAre("5:5: error: no instance to send to: start one first (the first unnamed "
                          "start is 'main') or name it with to: NAME",
                          "6:5: error: a step does exactly one thing, but this one has both "
                          "'event' and 'advance' (make them two steps)"));
}

TEST(ScenarioLoader, RejectsOptionsThatBelongToAnotherStepKind) {
  EXPECT_THAT(scenario_problems(with_steps(R"(  - start: {data: {phone: "1"}}
    as: first
  - advance: 1h
    data: {x: 1}
)")),
              ElementsAre("6:5: error: unknown key 'as' in step (a start's name goes inside it: "
                          "start: {as: NAME, data: {...}})",
                          "8:5: error: 'data' does not belong in an advance step"));
}

TEST(ScenarioLoader, RejectsBadDurations) {
  EXPECT_THAT(
      scenario_problems(with_steps("  - advance: 2days\n  - advance: 1w\n  - advance: 0s\n")),
      ElementsAre("5:14: error: advance: '2days' is not a duration (use 30s, 15m, 4h, 2d or "
                  "combinations such as 1d4h)",
                  "6:14: error: advance: 'w' would be 5 days on the wall clock; write 7d for "
                  "a calendar week",
                  "7:14: error: advance must be longer than zero"));
}

TEST(ScenarioLoader, TheClockNeverGoesBack) {
  EXPECT_THAT(
      scenario_problems(with_steps(R"(  - advance: 1d
  - advance_to: "2026-11-24T08:00:00+08:00"
)")),
      ElementsAre("6:17: error: advance_to 2026-11-24T08:00:00+08:00 is before the clock at "
                  "this step (2026-11-24T01:00:00Z); the clock never goes back"));
}

TEST(ScenarioLoader, ASecondUnnamedStartNeedsAName) {
  EXPECT_THAT(scenario_problems(with_steps(R"(  - start: {data: {phone: "1"}}
  - start: {data: {phone: "2"}}
  - start: {data: {phone: "1"}, expect_error: "exists"}
)")),
              ElementsAre("6:12: error: a second start needs a name: add `as: NAME` (the first "
                          "unnamed start is 'main')"));
}

TEST(ScenarioLoader, RejectsTakenAndMalformedInstanceNames) {
  EXPECT_THAT(scenario_problems(with_steps(R"(  - start: {as: first, data: {phone: "1"}}
  - start: {as: first, data: {phone: "2"}}
  - start: {as: Second, data: {phone: "3"}}
)")),
              ElementsAre("6:17: error: instance name 'first' is already taken by step 1 (line 5)",
                          "7:17: error: instance name 'Second' is not a valid name (lower-case "
                          "letters, digits and '_', starting with a letter)"));
}

TEST(ScenarioLoader, SuggestsAnInstanceNameThatWasStarted) {
  EXPECT_THAT(scenario_problems(with_steps(R"(  - start: {as: long_leave, data: {phone: "1"}}
  - event: acknowledge
    to: lon_leave
  - expect: {instance: complaint-7, state: closed}
)")),
              ElementsAre("7:9: error: no instance named 'lon_leave' has been started before this "
                          "step (did you mean 'long_leave'?)"));
}

TEST(ScenarioLoader, AnEventGoesToAnInstanceOrByKeyNotBoth) {
  EXPECT_THAT(
      scenario_problems(with_steps(R"(  - start: {data: {phone: "1"}}
  - event: customer_called
    to: main
    key: "1"
  - event: acknowledge
    workflow: complaint
)")),
      ElementsAre("8:10: error: an event goes either to an instance (to:) or by business key "
                  "(key:), not both",
                  "10:15: error: workflow: goes with key: (an instance already knows its "
                  "workflow)"));
}

TEST(ScenarioLoader, RejectsMistakesInExpect) {
  EXPECT_THAT(scenario_problems(with_steps(R"(  - start: {data: {phone: "1"}}
  - expect: {stat: closed, dta.score: 3, priority: hihg, sla.resolve: runing, ended: yes,
             incidents: -1, data.: 1, sla.Resolve: met}
  - expect: {instance: main}
)")),
              ElementsAre("6:14: error: unknown key 'stat' in expect (did you mean 'state'?)",
                          "6:28: error: unknown key 'dta.score' in expect (did you mean "
                          "'data.score'?)",
                          "6:52: error: priority must be one of low, normal, high, urgent, got "
                          "'hihg' (did you mean 'high'?)",
                          "6:71: error: SLA status must be one of idle, running, paused, met, "
                          "breached, cancelled, got 'runing' (did you mean 'running'?)",
                          "6:86: error: ended must be true or false, got 'yes'",
                          "7:25: error: incidents is a count: 0 or more",
                          "7:29: error: 'data.' must name a field: data.FIELD (or data.FIELD.SUB)",
                          "7:39: error: 'sla.Resolve' must name an SLA clock: sla.NAME",
                          "8:13: error: expect has nothing to check (state, assignee, priority, "
                          "queue, ended, incidents, data.FIELD, sla.NAME)"));
}

TEST(ScenarioLoader, ScenariosHoldValuesNotExpressions) {
  EXPECT_THAT(scenario_problems(with_steps(R"(  - start: {data: {phone: "${ '1' + '2' }"}}
)")),
              ElementsAre("5:27: error: scenarios hold plain values; '${ '1' + '2' }' would not be "
                          "evaluated (write the value itself)"));
}

TEST(ScenarioLoader, ExpectErrorNeedsText) {
  EXPECT_THAT(scenario_problems(with_steps(R"(  - start: {data: {phone: "1"}, expect_error: ""}
)")),
              ElementsAre("5:47: error: expect_error needs the text the error must contain"));
}

TEST(ScenarioCheck, AcceptsAScenarioThatMatchesItsWorkflow) {
  EXPECT_THAT(
      checked_problems(with_steps(R"(  - start: {data: {phone: "13800000000", channel: agency}}
  - event: acknowledge
    actor: li.na
  - event: customer_called
    key: "13800000000"
  - expect: {state: investigating, assignee: li.na, queue: complaints, data.phone: 13800000000,
             data.reopened: 0, sla.resolve: running}
)")),
      IsEmpty());
}

TEST(ScenarioCheck, SuggestsEventsStatesSlasFieldsAndPeople) {
  EXPECT_THAT(
      checked_problems(with_steps(R"(  - start: {data: {phone: "13800000000"}}
  - event: acknowlege
    actor: li.n
  - expect: {state: investigatng, sla.resolv: met, data.reopend: 1, assignee: wang.fan,
             queue: complaint, data.reopened: one}
)")),
      ElementsAre("6:5: error: workflow 'complaint' has no event 'acknowlege' (did you mean "
                  "'acknowledge'?)",
                  "7:12: error: unknown person 'li.n' (did you mean 'li.na'?)",
                  "8:21: error: workflow 'complaint' has no state 'investigatng' (did you "
                  "mean 'investigating'?)",
                  "8:35: error: workflow 'complaint' has no SLA 'resolv' (did you mean "
                  "'resolve'?)",
                  "8:52: error: workflow 'complaint' has no data field 'reopend' (did you "
                  "mean 'reopened'?)",
                  "8:79: error: unknown person 'wang.fan' (did you mean 'wang.fang'?)",
                  "9:21: error: unknown queue 'complaint' (did you mean 'complaints'?)",
                  "9:47: error: data.reopened: expected int, got string"));
}

TEST(ScenarioCheck, ChecksStartAndEventDataAgainstTheSchemas) {
  EXPECT_THAT(checked_problems(with_steps(R"(  - start: {data: {phone: 13800000000}}
  - start: {as: other, data: {phone: "13800000001", chanel: phone}}
  - start: {data: {phone: 1}, expect_error: "field 'phone'"}
  - event: visited
    data: {score: 9}
)")),
              ElementsAre("5:19: error: start data: field 'phone': expected string, got int",
                          "6:30: error: start data: unknown field 'chanel' (did you mean "
                          "'channel'?)",
                          "9:11: error: event 'visited': field 'score': 9 is above max 5"));
}

TEST(ScenarioCheck, AWorkflowWithACalendarNeedsAConfig) {
  EXPECT_THAT(checked_problems(R"(workflow: workflows/complaint.yaml
start_at: "2026-11-23T09:00:00+08:00"
steps:
  - advance: 1h
)",
                               /*with_config=*/false),
              ElementsAre("1:11: error: workflow 'complaint' measures time in calendar 'office': "
                          "give the scenario a config: that defines it"));
}

TEST(ScenarioCheck, ReportsAnUnknownWorkflowToStart) {
  EXPECT_THAT(checked_problems(with_steps(R"(  - start: {workflow: complain, data: {phone: "1"}}
)")),
              ElementsAre("5:23: error: unknown workflow 'complain' (did you mean 'complaint'?) "
                          "(the scenario loads: complaint)"));
}

}  // namespace
}  // namespace ombud
