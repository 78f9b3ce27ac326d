// Printing diagnostics for people (compiler-style lines) and for tools (JSON).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "engine/diagnostics.h"

namespace ombud::cli {

void print_text(std::ostream& out, const Diagnostics& diags);
// {"valid": bool, "errors": N, "warnings": N, "files": [...], "diagnostics": [{file, line,
// column, severity, message}, ...]}
void print_json(std::ostream& out, const Diagnostics& diags, const std::vector<std::string>& files);

}  // namespace ombud::cli
