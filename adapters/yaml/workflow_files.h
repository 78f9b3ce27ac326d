// Loading a set of workflow files as one unit: what `ombud validate` checks and what the server
// publishes. Directories expand to their *.yaml / *.yml files (sorted, not recursive).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/definition.h"
#include "engine/diagnostics.h"

namespace ombud::yaml {

struct WorkflowSet {
  std::vector<std::string> files;       // every file that was read, in order
  std::vector<Definition> definitions;  // those that loaded (check `diags` for errors)
};

// Expands `paths`, loads every file, and checks each definition (with `config` when given,
// and, when there are several files, `start:` references against the names in the set). Two files
// declaring the same workflow name are an error. A path that does not exist is an error.
// `absent_people`: see CheckOptions.
WorkflowSet load_workflow_set(const std::vector<std::string>& paths, const Config* config,
                              bool strict, Diagnostics& diags,
                              Severity absent_people = Severity::error);

}  // namespace ombud::yaml
