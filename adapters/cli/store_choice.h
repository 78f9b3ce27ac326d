// Which store a command works on, chosen the same way by every command that opens one.
#pragma once

#include <string>

namespace ombud::cli {

// `--store` when given; else the `store:` of the config file (as `ombud serve` reads it); else
// the default, sqlite:var/ombud.db. A config that cannot be read gives the default here: opening
// the node reads it again and reports why.
std::string chosen_store(const std::string& store_flag, const std::string& config_file);

}  // namespace ombud::cli
