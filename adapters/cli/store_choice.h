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

// The file of a `sqlite:` store that does not exist, else "". Commands that only read or add to
// a store refuse one: opening it would make a new, empty store (a typo, or a relative path
// taken from another directory), and whatever they did would be lost to the server.
std::string missing_sqlite_store(const std::string& store_url);

}  // namespace ombud::cli
