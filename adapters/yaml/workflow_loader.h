// Loads a workflow YAML file into the engine's Definition model.
//
// This is the structural half of validation: YAML syntax, unknown and duplicate keys, value
// types, durations, percentages, cron lines and expression syntax. The semantic half (states
// and fields that must exist, expression types, reachability, references into the config) is
// engine/definition_check.h. Both report into the same Diagnostics, all problems in one run.
#pragma once

#include <optional>
#include <string>

#include "engine/definition.h"
#include "engine/diagnostics.h"

namespace ombud::yaml {

// Builds a Definition from YAML text. Returns nullopt only when the text is not a YAML map at
// all; otherwise returns the best Definition it could build, with every problem in `diags`
// (a Definition loaded with errors must not be run). Never throws.
std::optional<Definition> load_workflow(const std::string& file, const std::string& text,
                                        Diagnostics& diags);

// Reads the file first; a file that cannot be read is reported as `file: error: ...`.
std::optional<Definition> load_workflow_file(const std::string& path, Diagnostics& diags);

// Reads a whole file into `out`; false when it cannot be read.
bool read_file(const std::string& path, std::string& out);

}  // namespace ombud::yaml
