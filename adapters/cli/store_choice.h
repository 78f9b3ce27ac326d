// Which config and store a command works on, chosen the same way by every command that opens a
// store.
#pragma once

#include <optional>
#include <ostream>
#include <string>

namespace ombud::cli {

// `--config` when given; else config/ombud.yaml when there is one (where `ombud serve` looks);
// else "" (no config).
std::string chosen_config(const std::string& config_flag);

// `--store` when given; else the `store:` of the config file (as `ombud serve` reads it); else
// the default, sqlite:var/ombud.db. Nullopt, with the reasons written to `errors`, when a config
// file is named and cannot be read: a store guessed without it could be another one.
std::optional<std::string> chosen_store(const std::string& store_flag,
                                        const std::string& config_file, std::ostream& errors);

}  // namespace ombud::cli
