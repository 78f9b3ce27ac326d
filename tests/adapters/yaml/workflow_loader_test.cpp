// Bad workflow definitions, each asserting the exact line, column and message an admin sees.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "adapters/yaml/config_loader.h"
#include "tests/adapters/yaml/test_support.h"

namespace ombud {
namespace {

using testing::config_of;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::workflow_problems;

// The smallest valid workflow; the cases below each break one thing in a copy of it.
constexpr const char* kValid = R"(workflow: demo
initial: open
states:
  open:
    on:
      close: closed
  closed:
    type: final
)";

TEST(WorkflowLoader, AcceptsTheSmallestValidWorkflow) {
  EXPECT_THAT(workflow_problems(kValid), IsEmpty());
}

TEST(WorkflowLoader, LoadsTheModel) {
  Diagnostics diags;
  const auto def = yaml::load_workflow("wf.yaml", kValid, diags);
  ASSERT_TRUE(def.has_value());
  EXPECT_EQ(def->name, "demo");
  EXPECT_EQ(def->initial, "open");
  ASSERT_EQ(def->states.size(), 2U);
  EXPECT_FALSE(def->states[0].final);
  EXPECT_TRUE(def->states[1].final);
  ASSERT_EQ(def->states[0].on.size(), 1U);
  EXPECT_EQ(def->states[0].on[0].event, "close");
  EXPECT_EQ(def->states[0].on[0].transitions[0].target, "closed");
  EXPECT_EQ(def->states[0].on[0].pos, (SourcePos{6, 7}));
}

// Names, messages and values are served as JSON, which is UTF-8: a file that is not is refused
// at the first byte that is not, counted in characters along its line.
TEST(WorkflowLoader, RefusesTextThatIsNotUtf8) {
  EXPECT_THAT(workflow_problems("workflow: demo\ntitle: Leave \xff\xfe request\n"),
              ElementsAre("2:14: error: byte 0xff is not UTF-8; save the file as UTF-8"));
  EXPECT_THAT(workflow_problems(std::string("workflow: demo\ntitle: \xe4\xbd\xa0 \0x\n", 27)),
              ElementsAre("2:10: error: a NUL byte; a YAML file is UTF-8 text"));
  // Truncated, overlong and surrogate forms are not UTF-8 either.
  for (const char* bad : {"\xe4\xbd", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
    EXPECT_THAT(workflow_problems(std::string("workflow: demo\ntitle: ") + bad + "\n"),
                ElementsAre(::testing::HasSubstr("is not UTF-8")))
        << bad;
  }
}

// "Reason: ${ event.reason }" was kept as written, braces and all; an unclosed ${ likewise.
TEST(WorkflowLoader, TextAroundAnExpressionIsAnErrorAtItsDollar) {
  const std::string head =
      "workflow: demo\ncalendar: none\ndata: {note: {type: string}}\nevents: {go: {reason: {type: "
      "string}}}\ninitial: open\nstates:\n  open:\n    on:\n      go:\n        target: done\n"
      "        actions:\n          - set: {note: ";
  const std::string tail = "}\n  done: {type: final}\n";
  EXPECT_THAT(workflow_problems(head + R"("Reason: ${ event.reason }")" + tail),
              ElementsAre(::testing::StartsWith("12:34: error: a value is plain text or one ${")));
  EXPECT_THAT(workflow_problems(head + "\"${ event.reason } (by phone)\"" + tail),
              ElementsAre(::testing::StartsWith("12:26: error: a value is plain text or one ${")));
  EXPECT_THAT(workflow_problems(head + R"("${ event.reason")" + tail),
              ElementsAre("12:26: error: this ${ is not closed with }; text that holds ${ itself "
                          "is a string inside an expression: ${ 'code ${A7' }"));
  // That way round, ${ is text.
  EXPECT_THAT(workflow_problems(head + R"("${ 'code ${A7' }")" + tail), ::testing::IsEmpty());
  EXPECT_THAT(workflow_problems(head + R"("${ 'Reason: ' + event.reason }")" + tail),
              ::testing::IsEmpty());
}

TEST(WorkflowLoader, ReportsYamlSyntaxErrorsWithPosition) {
  EXPECT_THAT(workflow_problems("workflow: demo\nstates: [open, closed\n"),
              ElementsAre("3:1: error: YAML syntax error: end of sequence flow not found"));
}

// yaml-cpp calls a tab in the indentation "end of map not found" or "illegal map value"; the
// message names the tab instead, where it is. A tab inside a block scalar's text is no error.
TEST(WorkflowLoader, NamesATabInTheIndentation) {
  EXPECT_THAT(workflow_problems("workflow: demo\ninitial: a\nstates:\n  a:\n\ttype: final\n"),
              ElementsAre("5:1: error: a tab in the indentation; YAML indents with spaces only"));
  EXPECT_THAT(workflow_problems("workflow: demo\ninitial: a\nstates:\n\ta: {type: final}\n"),
              ElementsAre("4:1: error: a tab in the indentation; YAML indents with spaces only"));
  EXPECT_THAT(workflow_problems("workflow: demo\ndescription: |\n  one\n  \ttwo\n"
                                "states: [open, closed\n"),
              ElementsAre("6:1: error: YAML syntax error: end of sequence flow not found"));
  // Also when the block scalar's tab is on the line right above the fault.
  EXPECT_THAT(workflow_problems("workflow: demo\ndescription: |\n  one\n  \ttwo\ninitial: a: b\n"),
              ElementsAre(::testing::HasSubstr("5:11: error: YAML syntax error")));
}

TEST(WorkflowLoader, RejectsADocumentThatIsNotAMap) {
  EXPECT_THAT(workflow_problems("- open\n- closed\n"),
              ElementsAre("1:1: error: a workflow file must be a map with 'workflow', 'initial' "
                          "and 'states', got a list"));
}

TEST(WorkflowLoader, RejectsASecondDocument) {
  EXPECT_THAT(
      workflow_problems(std::string(kValid) + "---\nworkflow: other\n"),
      ::testing::Contains("10:1: error: expected a single YAML document; found another one here"));
}

TEST(WorkflowLoader, ReportsUnknownTopLevelKeyWithSuggestion) {
  EXPECT_THAT(
      workflow_problems("workflow: demo\nintial: open\nstates:\n  open: {}\n"),
      ElementsAre("1:1: error: the workflow is missing required key 'initial'",
                  "2:1: error: unknown key 'intial' in workflow (did you mean 'initial'?)"));
}

TEST(WorkflowLoader, ListsTheAllowedKeysWhenNothingIsClose) {
  EXPECT_THAT(
      workflow_problems(std::string(kValid) + "colour: blue\n"),
      ElementsAre("9:1: error: unknown key 'colour' in workflow (expected one of: workflow, "
                  "title, description, calendar, key, key_policy, data, events, initial, "
                  "states, on, on_assign, slas, schedule)"));
}

TEST(WorkflowLoader, ReportsDuplicateKeys) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
initial: open
states:
  open:
    on: {close: closed}
  open:
    on: {close: closed}
  closed: {type: final}
)"),
              ElementsAre("6:3: error: duplicate key 'open' (first defined at line 4)"));
}

TEST(WorkflowLoader, ReportsMissingKeysAtTheMapThatLacksThem) {
  EXPECT_THAT(workflow_problems("workflow: demo\ninitial: open\n"),
              ElementsAre("1:1: error: the workflow is missing required key 'states'"));
}

TEST(WorkflowLoader, RejectsAnInvalidWorkflowName) {
  EXPECT_THAT(workflow_problems(std::string("workflow: Complaint Form\n") + (kValid + 15)),
              ElementsAre("1:11: error: workflow name 'Complaint Form' is not a valid name "
                          "(lower-case letters, digits and '_', starting with a letter)"));
}

TEST(WorkflowLoader, ReportsUnknownTargetWithSuggestion) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
initial: open
states:
  open:
    on:
      close: closd
  closed:
    type: final
)"),
              ElementsAre("6:14: error: unknown target state 'closd' (did you mean 'closed'?)"));
}

TEST(WorkflowLoader, ReportsUnknownInitialState) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
initial: opne
states:
  open:
    on: {close: closed}
  closed: {type: final}
)"),
              ElementsAre("2:10: error: unknown initial state 'opne' (did you mean 'open'?)"));
}

TEST(WorkflowLoader, RejectsTransitionsOutOfAFinalState) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
initial: open
states:
  open:
    on: {close: closed}
  closed:
    type: final
    on: {reopen: open}
)"),
              ElementsAre("8:5: error: final state 'closed' cannot have transitions ('on')"));
}

TEST(WorkflowLoader, RejectsTimersInAFinalState) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
initial: open
states:
  open:
    on: {close: closed}
  closed:
    type: final
    after:
      - delay: 1d
        target: open
)"),
              ElementsAre("8:5: error: final state 'closed' cannot have timers ('after')"));
}

TEST(WorkflowLoader, RejectsUnknownStateType) {
  EXPECT_THAT(
      workflow_problems(R"(workflow: demo
initial: open
states:
  open:
    on: {close: closed}
  closed:
    type: finished
)"),
      ::testing::Contains("7:11: error: state type must be 'final' or 'normal', got 'finished'"));
}

TEST(WorkflowLoader, ReportsUnknownStateKeyWithSuggestion) {
  EXPECT_THAT(
      workflow_problems(R"(workflow: demo
initial: open
states:
  open:
    entyr: []
    on: {close: closed}
  closed: {type: final}
)"),
      ElementsAre("5:5: error: unknown key 'entyr' in state 'open' (did you mean 'entry'?)"));
}

TEST(WorkflowLoader, ReportsMalformedDurations) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
initial: open
states:
  open:
    on: {close: closed}
    after:
      - delay: 5x
        target: closed
  closed: {type: final}
)"),
              ElementsAre("7:16: error: delay: '5x' is not a duration (use 30s, 15m, 4h, 2d, 1w or "
                          "combinations such as 1d4h)"));
}

TEST(WorkflowLoader, RejectsUnitsOutOfOrder) {
  EXPECT_THAT(
      workflow_problems(R"(workflow: demo
initial: open
states:
  open:
    on: {close: closed}
    after:
      - delay: 4h1d
        target: closed
  closed: {type: final}
)"),
      ElementsAre("7:16: error: delay: '4h1d' is not a duration (use 30s, 15m, 4h, 2d, 1w or "
                  "combinations such as 1d4h)"));
}

TEST(WorkflowLoader, RejectsAZeroDelay) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
initial: open
states:
  open:
    on: {close: closed}
    after:
      - delay: 0s
        target: closed
  closed: {type: final}
)"),
              ElementsAre("7:16: error: delay must be longer than zero"));
}

TEST(WorkflowLoader, RejectsATimerThatDoesNothing) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
initial: open
states:
  open:
    on: {close: closed}
    after:
      - delay: 1h
  closed: {type: final}
)"),
              ElementsAre("7:9: error: timer in 'after' of state 'open' has neither a target nor "
                          "actions: it would do nothing"));
}

TEST(WorkflowLoader, RejectsAnActionWithTwoKeys) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
initial: open
states:
  open:
    entry:
      - priority: high
        raise: close
    on: {close: closed}
  closed: {type: final}
)"),
              ElementsAre("6:9: error: an action has exactly one key; this one has 2 (priority, "
                          "raise): write each action as its own list item"));
}

TEST(WorkflowLoader, ReportsUnknownActionWithSuggestion) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
initial: open
states:
  open:
    entry:
      - notfy: {to: assignee}
    on: {close: closed}
  closed: {type: final}
)"),
              ElementsAre("6:9: error: unknown action 'notfy' (did you mean 'notify'?)"));
}

TEST(WorkflowLoader, ReportsUnknownPriority) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
initial: open
states:
  open:
    entry: [{priority: hihg}]
    on: {close: closed}
  closed: {type: final}
)"),
              ElementsAre("5:24: error: priority must be low, normal, high or urgent, got 'hihg' "
                          "(did you mean 'high'?)"));
}

TEST(WorkflowLoader, ReportsUnknownRecipient) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
initial: open
states:
  open:
    entry:
      - notify: {to: "boss:li.na", template: hello}
    on: {close: closed}
  closed: {type: final}
)"),
              ElementsAre("6:22: error: unknown recipient 'boss:li.na' (use assignee, role:R, "
                          "queue:Q, person:ID, manager_of:assignee or ${ expr })"));
}

TEST(WorkflowLoader, AssignNeedsExactlyOneTarget) {
  EXPECT_THAT(
      workflow_problems(R"(workflow: demo
initial: open
states:
  open:
    entry:
      - assign: {queue: complaints, role: supervisor}
    on: {close: closed}
  closed: {type: final}
)"),
      ElementsAre("6:17: error: assign needs exactly one of queue, to, role or manager_of"));
}

TEST(WorkflowLoader, StrategyOnlyAppliesToQueues) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
initial: open
states:
  open:
    entry:
      - assign:
          role: supervisor
          strategy: round_robin
    on: {close: closed}
  closed: {type: final}
)"),
              ElementsAre("8:11: error: 'strategy' only applies to assign with a queue"));
}

TEST(WorkflowLoader, ReportsUnknownStrategy) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
initial: open
states:
  open:
    entry:
      - assign: {queue: complaints, strategy: least_load}
    on: {close: closed}
  closed: {type: final}
)"),
              ElementsAre("6:47: error: strategy must be round_robin or least_loaded, got "
                          "'least_load' (did you mean 'least_loaded'?)"));
}

TEST(WorkflowLoader, ChecksSerialFormats) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
data:
  number: {type: string}
initial: open
states:
  open:
    entry:
      - serial: {field: number, sequence: contract, format: "HT-{yyyy}-{n:05}"}
      # Numbering yearly needs the year in the number; restart is never or yearly.
      - serial: {field: number, sequence: s, format: "N-{seq}", restart: yearly}
      - serial: {field: number, sequence: t, format: "N-{yy}-{seq}", restart: monthly}
    on: {close: closed}
  closed: {type: final}
)"),
              ElementsAre("8:61: error: serial format: unknown placeholder '{n:05}' (use {yyyy}, "
                          "{yy}, {mm}, {dd}, {seq} or {seq:05})",
                          ::testing::HasSubstr("restart: yearly needs the year in the format"),
                          ::testing::HasSubstr("restart must be never or yearly, not 'monthly'")));
}

TEST(WorkflowLoader, SerialFieldMustBeAStringField) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
data:
  number: {type: int}
initial: open
states:
  open:
    entry:
      - serial: {field: number, sequence: contract, format: "HT-{seq:05}"}
    on: {close: closed}
  closed: {type: final}
)"),
              ElementsAre("8:9: error: serial numbers are strings, but field 'number' is int"));
}

TEST(WorkflowLoader, SetOfAnUndeclaredFieldSuggestsTheDeclaredOne) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
data:
  score: {type: int}
initial: open
states:
  open:
    entry:
      - set: {scroe: 5}
    on: {close: closed}
  closed: {type: final}
)"),
              ElementsAre("8:15: error: data has no field 'scroe' (did you mean 'score'?); declare "
                          "it under 'data:'"));
}

// on_assign's actions are checked like any others, at their line:col.
TEST(WorkflowLoader, OnAssignActionsAreChecked) {
  EXPECT_THAT(workflow_problems(std::string(kValid) +
                                "on_assign:\n  - set: {score: 5}\n  - raise: nothing\n"),
              ElementsAre("10:11: error: data has no field 'score'; declare it under 'data:'",
                          "11:5: warning: event 'nothing' is raised but no transition handles it"));
}

TEST(WorkflowLoader, SetOfALiteralOfTheWrongType) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
data:
  score: {type: int, min: 1, max: 5}
initial: open
states:
  open:
    entry:
      - set: {score: 9}
    on: {close: closed}
  closed: {type: final}
)"),
              ::testing::SizeIs(1));
}

// The problems of a workflow whose only data field is `field` (line 3, from column 3).
std::vector<std::string> field_problems(const std::string& field) {
  return workflow_problems("workflow: demo\ndata:\n  " + field +
                           "\ninitial: open\nstates:\n  open: {on: {close: closed}}\n"
                           "  closed: {type: final}\n");
}

TEST(WorkflowLoader, ReportsUnknownFieldTypeWithSuggestion) {
  EXPECT_THAT(field_problems("phone: {type: strng}"),
              ElementsAre("3:17: error: unknown type 'strng' (did you mean 'string'?) (types: "
                          "string, int, number, bool, enum, timestamp, duration, list, object)"));
  // Another schema language's name for one of ours.
  EXPECT_THAT(field_problems("score: {type: integer}"),
              ElementsAre(::testing::StartsWith(
                  "3:17: error: unknown type 'integer' (did you mean 'int'?)")));
  // One mistake, one error: the lines that read or set the field are not wrong as well.
  EXPECT_THAT(workflow_problems(R"(workflow: demo
data:
  score: {type: integr}
events:
  rate: {score: {type: integr}}
initial: open
states:
  open:
    entry: [{set: {score: 1}}, {raise: {event: rate, data: {score: 2}}}]
    on:
      rate: {target: closed, guard: "data.score > 3 && event.score > 0"}
  closed: {type: final}
)"),
              ElementsAre(::testing::StartsWith("3:17: error: unknown type 'integr'"),
                          ::testing::StartsWith("5:24: error: unknown type 'integr'")));
  // A quoted true is text, and the message says that is the fault.
  EXPECT_THAT(field_problems(R"(score: {type: int, required: "true"})"),
              ElementsAre("3:32: error: required must be true or false without quotes: quoted, "
                          "\"true\" is text"));
}

TEST(WorkflowLoader, EnumNeedsValues) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
data:
  channel: {type: enum}
initial: open
states:
  open: {on: {close: closed}}
  closed: {type: final}
)"),
              ElementsAre("3:12: error: data field 'channel' is an enum and needs 'values'"));
}

TEST(WorkflowLoader, EnumDefaultMustBeOneOfTheValues) {
  const auto problems = workflow_problems(R"(workflow: demo
data:
  channel: {type: enum, values: [phone, email], default: fax}
initial: open
states:
  open: {on: {close: closed}}
  closed: {type: final}
)");
  ASSERT_THAT(problems, ::testing::SizeIs(1));
  EXPECT_THAT(problems[0], ::testing::StartsWith("3:58: error: default of data field 'channel': "));
}

TEST(WorkflowLoader, ValuesOnlyOnEnums) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
data:
  phone: {type: string, values: [a, b]}
initial: open
states:
  open: {on: {close: closed}}
  closed: {type: final}
)"),
              ElementsAre("3:33: error: 'values' is only allowed on enum fields"));
}

TEST(WorkflowLoader, MinMustNotExceedMax) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
data:
  score: {type: int, min: 5, max: 1}
initial: open
states:
  open: {on: {close: closed}}
  closed: {type: final}
)"),
              ElementsAre("3:10: error: data field 'score': min 5 is greater than max 1"));
}

TEST(WorkflowLoader, ReportsMisspelledKeyPolicy) {
  EXPECT_THAT(workflow_problems(std::string(kValid) + "key: data.phone\nkey_policy: one-open\n"),
              ::testing::Contains("10:13: error: key_policy must be none, one_open or unique, got "
                                  "'one-open' (did you mean 'one_open'?)"));
}

TEST(WorkflowLoader, ReportsSlaStatesThatDoNotExist) {
  EXPECT_THAT(workflow_problems(std::string(kValid) + R"(slas:
  resolve:
    goal: 3d
    start: [open]
    pause: [waiting]
    stop: [closed]
)"),
              ElementsAre("13:13: error: unknown state 'waiting'"));
}

TEST(WorkflowLoader, ReportsBadEscalationLevels) {
  EXPECT_THAT(workflow_problems(std::string(kValid) + R"(slas:
  resolve:
    goal: 3d
    start: [open]
    stop: [closed]
    escalate:
      - at: 150
        actions: [{priority: high}]
      - at: abc%
        actions: [{priority: urgent}]
)"),
              ElementsAre("15:13: error: '150' is neither a percentage of the goal (75%) nor a "
                          "working duration (4h)",
                          "17:13: error: 'abc%' is not a percentage of the goal (write e.g. 50%, "
                          "100%, 150%)"));
}

TEST(WorkflowLoader, AStateCannotBothStartAndStopAClock) {
  EXPECT_THAT(workflow_problems(std::string(kValid) + R"(slas:
  resolve:
    goal: 3d
    start: [open]
    stop: [open, closed]
)"),
              ElementsAre("12:13: error: state 'open' both starts and stops SLA 'resolve'"));
  EXPECT_THAT(workflow_problems(std::string(kValid) + R"(slas:
  resolve:
    goal: 3d
    start: [open]
    stop: [closed]
    cancel: [closed, open]
)"),
              ElementsAre("12:13: error: state 'open' both starts and cancels SLA 'resolve'",
                          "14:14: error: state 'closed' cancels SLA 'resolve' and is also under "
                          "its stop"));
}

TEST(WorkflowLoader, ReportsCronErrorsInsideTheLine) {
  const auto problems = workflow_problems(std::string(kValid) + R"(schedule:
  cron: "0 9 * * MNO"
  timezone: Asia/Shanghai
)");
  ASSERT_THAT(problems, ::testing::SizeIs(1));
  EXPECT_THAT(problems[0], ::testing::StartsWith("10:18: error: cron: "));
}

TEST(WorkflowLoader, ReportsUnknownTimeZones) {
  EXPECT_THAT(workflow_problems(std::string(kValid) + R"(schedule:
  cron: "0 9 * * MON"
  timezone: Asia/Shangai
)"),
              ElementsAre("11:13: error: unknown time zone 'Asia/Shangai' (use an IANA name such "
                          "as Asia/Shanghai)"));
}

TEST(WorkflowLoader, WarnsAboutUnreachableStates) {
  EXPECT_THAT(
      workflow_problems(std::string(kValid) + R"(  orphan:
    on: {close: closed}
)"),
      ElementsAre("9:3: warning: state 'orphan' is unreachable from the initial state 'open'"));
}

TEST(WorkflowLoader, WarnsAboutStatesWithNoWayOut) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
initial: open
states:
  open:
    on: {close: closed, stall: limbo}
  limbo: {}
  closed: {type: final}
)"),
              ElementsAre("6:3: warning: no final state can be reached from state 'limbo'"));
}

TEST(WorkflowLoader, StrictTurnsWarningsIntoErrors) {
  EXPECT_THAT(
      workflow_problems(std::string(kValid) + "  orphan:\n    on: {close: closed}\n", nullptr,
                        /*strict=*/true),
      ElementsAre("9:3: error: state 'orphan' is unreachable from the initial state 'open'"));
}

TEST(WorkflowLoader, WarnsAboutTransitionsHiddenBehindAnUnguardedOne) {
  EXPECT_THAT(
      workflow_problems(R"(workflow: demo
initial: open
states:
  open:
    on:
      close:
        - target: closed
        - target: open
  closed: {type: final}
)"),
      ElementsAre("8:11: warning: this transition on 'close' is never taken: the one before "
                  "it has no guard"));
}

TEST(WorkflowLoader, WarnsAboutRaisedEventsNobodyHandles) {
  EXPECT_THAT(
      workflow_problems(R"(workflow: demo
initial: open
states:
  open:
    entry: [{raise: escalate}]
    on: {close: closed}
  closed: {type: final}
)"),
      ElementsAre("5:14: warning: event 'escalate' is raised but no transition handles it"));
}

// A raise's payload is checked when the definition loads, not first at run time, where a bad one
// leaves the case stuck with an incident.
TEST(WorkflowLoader, ChecksARaisesPayloadAgainstTheEventsSchema) {
  EXPECT_THAT(
      workflow_problems(R"(workflow: demo
events:
  reject: {reason: {type: string, required: true}}
initial: open
states:
  open:
    entry:
      - raise: {event: overdue, data: {level: 2}}
      - raise: {event: reject}
      - raise: {event: reject, data: {reason: 5}}
      - raise: {event: reject, data: {reason: "${ 1 + 1 }"}}
    on: {overdue: closed, reject: closed}
  closed: {type: final}
)"),
      ElementsAre(
          ::testing::StartsWith("8:47: warning: event 'overdue' is not declared under 'events:'"),
          "9:9: error: raise of 'reject' leaves out its required field 'reason'",
          "10:47: error: raise of 'reject': field 'reason': expected string, got int",
          "11:51: error: raise of 'reject': field 'reason' is string, not int"));
}

// Scheduled starts would all be refused without the data's required fields.
TEST(WorkflowLoader, ScheduleDataMustHaveTheRequiredFields) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
data:
  employee: {type: string, required: true}
  starts: {type: string, required: true}
  days: {type: int, required: true, default: 1}
schedule: {cron: "0 9 * * MON", timezone: Asia/Shanghai, data: {employee: li.na}}
initial: open
states:
  open: {on: {close: closed}}
  closed: {type: final}
)"),
              ElementsAre(::testing::StartsWith(
                  "6:11: error: schedule data leaves out the required field 'starts'")));
}

// What a start would refuse every time, `validate` refuses first: data given to a workflow's
// own fields, fields it lacks or leaves out, and people the directory does not have.
TEST(WorkflowLoader, ScheduledAndChildStartDataIsCheckedAgainstTheStartedWorkflow) {
  const Config config = config_of(
      "directory:\n  roles: {agent: {}, hr: {}}\n  people:\n    li.na: {roles: [agent]}\n");
  EXPECT_THAT(workflow_problems(R"(workflow: demo
data:
  who: {type: string, person: agent}
  note: {type: string, internal: true}
  need: {type: string, required: true}
schedule: {cron: "0 9 * * MON", timezone: UTC, data: {who: li.na, need: x, note: set}}
initial: open
states:
  open:
    entry:
      - start: {workflow: demo, data: {who: wang.fang, need: x}}
      - start: {workflow: demo, data: {whoo: li.na, note: "${ data.need }"}}
    on: {close: closed}
  closed: {type: final}
)",
                                &config),
              ElementsAre("6:82: error: schedule data 'note': the field is kept by the workflow "
                          "itself and is not given at start: every scheduled start would be "
                          "refused",
                          "11:45: error: start of 'demo': data 'who': nobody called 'wang.fang' "
                          "in the directory",
                          ::testing::StartsWith("12:9: error: start of 'demo': data leaves out the "
                                                "required field 'need'"),
                          "12:46: error: start of 'demo': data 'whoo': workflow 'demo' has no "
                          "such field (did you mean 'who'?)",
                          ::testing::StartsWith("12:59: error: start of 'demo': data 'note': the "
                                                "field is kept by the workflow itself")));
}

// A node starting up only warns about start data naming someone who left the directory: the
// person's leaving must not keep the server from starting.
TEST(WorkflowLoader, APersonWhoLeftIsAWarningWhenANodeStarts) {
  const Config config =
      config_of("directory:\n  roles: {agent: {}}\n  people:\n    li.na: {roles: [agent]}\n");
  Diagnostics diags;
  const auto def = yaml::load_workflow("wf.yaml", R"(workflow: demo
data:
  who: {type: string, person: true}
schedule: {cron: "0 9 * * MON", timezone: UTC, data: {who: wang.fang}}
initial: open
states:
  open: {on: {close: closed}}
  closed: {type: final}
)",
                                       diags);
  ASSERT_TRUE(def);
  CheckOptions options;
  options.config = &config;
  options.absent_people = Severity::warning;
  check_definition(*def, diags, options);
  EXPECT_THAT(testing::lines_of(diags, "wf.yaml"),
              ElementsAre("4:60: warning: schedule data 'who': nobody called 'wang.fang' in the "
                          "directory"));
}

// A webhook to a target the config lacks would wait in the outbox for ever.
TEST(WorkflowLoader, AWebhookNamesATargetOfTheConfig) {
  const Config config = config_of("webhook_targets:\n  crm: {url: \"http://crm/hooks\"}\n");
  EXPECT_THAT(workflow_problems(R"(workflow: demo
initial: open
states:
  open:
    entry:
      - webhook: {target: crm, body: {id: "${ instance.id }"}}
      - webhook: {target: cmr, body: {}}
    on: {close: closed}
  closed: {type: final}
)",
                                &config),
              ElementsAre("7:9: error: unknown webhook target 'cmr' (did you mean 'crm'?); "
                          "declare it under 'webhook_targets:' in the config"));
}

// Unknown names of the directory are reported at the name, not at the action or transition that
// holds it (in block style those are other lines).
TEST(WorkflowLoader, UnknownDirectoryNamesArePointedAtThemselves) {
  const Config config = config_of(R"(directory:
  roles: {agent: {}, manager: {}}
  people:
    li.na: {roles: [agent]}
  queues:
    hr: {roles: [manager]}
templates:
  leave_escalated: {subject: "s", body: "b"}
)");
  EXPECT_THAT(workflow_problems(R"(workflow: demo
initial: open
states:
  open:
    on:
      close:
        target: closed
        roles:
          - manager
          - directr
        actions:
          - notify:
              to: queue:hrr
              template: leave_escalatd
          - assign:
              role: nobody
  closed: {type: final}
)",
                                &config),
              ElementsAre(::testing::StartsWith("10:13: error: unknown role 'directr'"),
                          ::testing::StartsWith("13:19: error: unknown queue 'hrr'"),
                          ::testing::StartsWith("14:25: error: unknown template 'leave_escalatd'"),
                          ::testing::StartsWith("16:21: error: unknown role 'nobody'")));
}

// A mistake under a YAML anchor is one mistake, however many aliases use it.
TEST(WorkflowLoader, AMistakeUnderAnAnchorIsReportedOnce) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
initial: a
states:
  a:
    on:
      go: &go {target: clsoed}
  b:
    on:
      go: *go
  closed: {type: final}
)"),
              ElementsAre("6:24: error: unknown target state 'clsoed' (did you mean 'closed'?)"));
}

TEST(WorkflowLoader, InternalIsForDataFieldsThatNoStartGives) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
data:
  number: {type: string, internal: true, required: true}
  owner: {type: int, person: true}
events:
  note: {text: {type: string, internal: true}}
initial: open
states:
  open: {on: {note: closed}}
  closed: {type: final}
)"),
              ElementsAre("3:36: error: data field 'number' is internal, so no start gives it: it "
                          "cannot be required (give it a default)",
                          "4:30: error: 'person' is only allowed on string fields (a person id)",
                          "6:41: error: 'internal' is only allowed on data fields: an event's "
                          "payload is its sender's"));
}

// Roles that name people: `assignee`, and `data.FIELD` for a string field of the case's data.
TEST(WorkflowLoader, RolesThatNamePeopleAreChecked) {
  EXPECT_THAT(workflow_problems(R"(workflow: demo
data:
  employee: {type: string}
  days: {type: number}
initial: open
states:
  open:
    on:
      approve: {target: closed, roles: [assignee, data.employee]}
      reject: {target: closed, roles: [data.employe, data.days]}
  closed: {type: final}
)"),
              ElementsAre("10:40: error: roles: data has no field 'employe' (did you mean "
                          "'employee'?); declare it under 'data:'",
                          "10:54: error: roles: 'data.days' must name a string field holding a "
                          "person id, not number"));
  // With a config, a near miss of `assignee` is named like a near miss of a role.
  const Config config = config_of("directory:\n  roles: {manager: {}}\n");
  EXPECT_THAT(workflow_problems(R"(workflow: demo
initial: open
states:
  open: {on: {approve: {target: closed, roles: [asignee]}}}
  closed: {type: final}
)",
                                &config),
              ElementsAre(::testing::HasSubstr("unknown role 'asignee' in roles (did you mean "
                                               "'assignee'?)")));
  // `assignee` is not a name a directory may give a role.
  EXPECT_THAT(ombud::testing::config_problems("directory:\n  roles: {assignee: {}}\n"),
              ElementsAre(::testing::HasSubstr("'assignee' is not a role name")));
}

TEST(WorkflowLoader, WarnsAboutDeclaredEventsNobodyHandles) {
  EXPECT_THAT(
      workflow_problems(R"(workflow: demo
events:
  visited: {score: {type: int}}
initial: open
states:
  open: {on: {close: closed}}
  closed: {type: final}
)"),
      ElementsAre("3:3: warning: event 'visited' is declared but no transition handles it"));
}

TEST(WorkflowLoader, ReportsEveryProblemInOneRun) {
  const auto problems = workflow_problems(R"(workflow: demo
initial: open
states:
  open:
    entyr: []
    on:
      close: closd
    after:
      - delay: soon
        target: closed
  closed:
    type: final
)");
  EXPECT_THAT(problems, ElementsAre(::testing::StartsWith("5:5: error: unknown key 'entyr'"),
                                    ::testing::StartsWith("7:14: error: unknown target state"),
                                    ::testing::StartsWith("9:16: error: delay: 'soon'")));
}

TEST(WorkflowLoader, ExpandsAliasesButRefusesAliasBombs) {
  std::string bomb = "workflow: demo\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) bomb += std::string(k ? ", " : "") + "*a" + std::to_string(i - 1);
    bomb += "]\n";
  }
  const auto problems = workflow_problems(bomb);
  EXPECT_THAT(problems, ::testing::Contains(::testing::HasSubstr(
                            "error: document too large after expanding aliases")));
}

TEST(WorkflowLoader, NeverCrashesOnOddInputs) {
  for (const char* text :
       {"", "~", "[]", "{}", "workflow:", "states: 5", "states:\n  - a\n",
        "initial: [a]\nstates: {a: [1]}", "on: 1", "slas: {x: 1}",
        "workflow: x\ninitial: a\nstates:\n  a:\n    on:\n      e: [1, {target: [a]}]\n",
        "\t\tworkflow: x", "workflow: \"unterminated", "? [a]\n: b\n"}) {
    EXPECT_NO_THROW((void)workflow_problems(text)) << text;
  }
}

}  // namespace
}  // namespace ombud
