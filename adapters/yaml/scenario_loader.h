// Simulation scenarios for `ombud simulate`: a workflow, a virtual clock and a script of steps.
//
//   workflow: ../workflows/complaint.yaml    # or a list of files; relative to the scenario
//   config: ../config/ombud.yaml             # optional: calendars, directory, templates
//   start_at: "2026-11-23T09:00:00+08:00"    # where the virtual clock starts
//   steps:
//     - start: {data: {phone: "13800000000"}}         # the first unnamed start is `main`
//     - event: acknowledge                           # to `main` unless `to:` or `key:` says
//     - advance: 26h                                 # wall-clock time; timers fire on the way
//     - expect: {state: investigating, sla.resolve: running}
//
// The loader is the structural half (YAML shape, unknown keys with "did you mean", durations,
// timestamps, instance names, a clock that never runs backwards); check_scenario is the half
// that needs the loaded workflows and config (workflow, event, state, SLA, field and person
// names, start and event data against their schemas). Both report `file:line:col` diagnostics
// for every problem in one run, and never throw. docs: tests/simulate/README.md.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/definition.h"
#include "engine/diagnostics.h"
#include "engine/time.h"

namespace ombud::yaml {

// One key of an `expect` step: `state`, `assignee`, `priority`, `queue`, `ended`, `incidents`,
// `data.FIELD[.SUB...]` or `sla.NAME`, with the value it must have.
struct Expectation {
  enum class Kind { state, assignee, priority, queue, ended, incidents, data, sla };
  Kind kind = Kind::state;
  std::string key;    // as written: "data.reopened", "sla.resolve", "state"
  std::string field;  // data: the path after `data.` ("reopened", "address.city"); sla: NAME
  boost::json::value expected;  // strings for state/assignee/priority/queue/sla ("" = nobody),
                                // bool for ended, int for incidents, any JSON for data
  std::optional<std::string> plain_text;  // data: the text of an unquoted scalar, as written
  SourcePos pos;                          // the key
  SourcePos value_pos;                    // the value
};

struct ScenarioStep {
  enum class Kind { start, event, advance, advance_to, expect, note };
  Kind kind = Kind::note;
  int number = 0;  // 1-based position in `steps`
  SourcePos pos;   // the step's map

  // start: the instance's name (`as`, or "main" for the first unnamed start; "" for an unnamed
  // start that is expected to be refused). event, expect: the target — a name bound by an earlier
  // start, or an instance id such as `complaint-2` (ids always contain '-', names never do);
  // empty for an event sent by business key.
  std::string instance;
  SourcePos instance_pos;

  // start: the workflow to start; event with `key:`: the workflow whose open case is meant.
  // Empty means the scenario's first workflow.
  std::string workflow;
  SourcePos workflow_pos;

  std::string event;  // event: its name
  std::string key;    // event: sent by business key instead of to an instance
  bool by_key = false;
  boost::json::object data;  // start: initial data; event: payload
  SourcePos data_pos;
  std::string idempotency_key;
  std::string actor;  // event: a person of the directory; their roles are checked
  SourcePos actor_pos;
  // start, event: the call must be refused with an error containing this text.
  std::optional<std::string> expect_error;

  Duration advance;   // advance: wall-clock time (a day is 24 h; `w` is refused)
  Timestamp until{};  // advance, advance_to: where the clock is after the step

  std::vector<Expectation> expectations;  // expect
  std::string note;                       // note: a line for the reader of the timeline
};

struct Scenario {
  std::string file;
  std::string title;
  std::string description;
  std::vector<std::string> workflow_files;  // resolved against the scenario's directory
  std::vector<SourcePos> workflow_pos;
  std::string config_file;  // "" when none; resolved like workflow_files
  SourcePos config_pos;
  Timestamp start_at{};
  std::string timezone;  // optional IANA zone for showing times; "" = the workflow calendar's
  SourcePos timezone_pos;
  std::vector<ScenarioStep> steps;
};

// Builds a Scenario from YAML text. Returns nullopt only when the text is not a YAML map at
// all; otherwise the best Scenario it could build, with every problem in `diags` (a scenario
// loaded with errors must not be run). Never throws.
std::optional<Scenario> load_scenario(const std::string& file, const std::string& text,
                                      Diagnostics& diags);

// Reads the file first; a file that cannot be read is reported as `file: error: ...`.
std::optional<Scenario> load_scenario_file(const std::string& path, Diagnostics& diags);

// Checks a loaded scenario against the workflows it runs and the config (null when none):
// workflow names in `start`/`workflow:`, event names (did you mean), states, SLAs and data fields
// in `expect`, people in `actor` and `assignee`, and start/event data against the schemas (unless
// the step expects an error). Also reports a workflow that names a calendar when no config is
// given, since its durations would silently become wall-clock time.
// `definitions` are those of scenario.workflow_files, in that order.
void check_scenario(const Scenario& scenario, const std::vector<Definition>& definitions,
                    const Config* config, Diagnostics& diags);

// The value a `data.FIELD` expectation asks for, read as the field's type when the schema is
// known: an unquoted scalar expected of a string-like field (string, enum, timestamp, duration)
// is taken as its text, so `data.phone: 13800000000` means the string "13800000000".
boost::json::value expected_data_value(const Expectation& expectation, const FieldSchema* field);

}  // namespace ombud::yaml
