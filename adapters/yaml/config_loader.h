// Loads config/ombud.yaml into the engine's Config model, with the same file:line:col
// diagnostics as workflows. Unknown keys anywhere are errors.
#pragma once

#include <optional>
#include <string>

#include "engine/config.h"
#include "engine/diagnostics.h"

namespace ombud::yaml {

// Returns the config when it could be read as a map (possibly with errors in `diags`; a config
// with errors must not be used to run). Never throws.
std::optional<Config> load_config(const std::string& file, const std::string& text,
                                  Diagnostics& diags);
std::optional<Config> load_config_file(const std::string& path, Diagnostics& diags);

}  // namespace ombud::yaml
