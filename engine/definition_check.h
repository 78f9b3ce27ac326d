// The semantic half of validating a workflow: everything that needs the whole definition (and
// optionally the config) to decide. The structural half is the YAML loader.
//
// Errors: unknown states in initial/target/start/pause/stop; set of undeclared data fields or of
// values of the wrong type; expression type errors (event fields only inside a transition for
// that event); goals and `at` times of the wrong type; unknown time zones; with a config,
// unknown calendars, queues, roles, people and templates.
// Warnings (errors when `strict`): unreachable states, states with no way to a final state,
// events raised or declared that no transition handles.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/definition.h"
#include "engine/diagnostics.h"

namespace ombud {

struct CheckOptions {
  const Config* config = nullptr;  // null: references into the config are not checked
  bool strict = false;             // report warnings as errors
  // Names of the workflows known alongside this one (for `start:`); null: not checked.
  const std::vector<std::string>* workflows = nullptr;
  // The workflow of that name (null when unknown); when given, `start:` data is checked
  // against the started workflow's data.
  std::function<const Definition*(const std::string&)> find_workflow;
  // Start data naming somebody the directory lacks: an error for `validate` and a PUT; a node
  // starting up only warns, since a person leaving the directory must not keep it from
  // starting (the starts that name them are refused, each with an incident).
  Severity absent_people = Severity::error;
};

void check_definition(const Definition& def, Diagnostics& diags, const CheckOptions& options);

// The webhook routes of `config` against the workflows they start or send to (`find`: the
// workflow by name, or null): an unknown workflow, or an event the workflow does not handle,
// would send every delivery of that route to the inbox.
void check_hook_routes(const Config& config,
                       const std::function<const Definition*(const std::string&)>& find,
                       const std::vector<std::string>& workflow_names, Diagnostics& diags,
                       Severity severity = Severity::error);

// The roles an API token can have; transition `roles:` may name these or any directory role.
const std::vector<std::string>& api_roles();

}  // namespace ombud
