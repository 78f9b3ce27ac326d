// The subcommands of the `ombud` executable. Each registers its options on the CLI11 app and
// returns the process exit status when run.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace ombud::cli {

// Registers a subcommand; `run` is set to the function that executes it when it was chosen.
using Runner = std::function<int()>;

void add_validate_command(CLI::App& app, Runner& run);
void add_graph_command(CLI::App& app, Runner& run);
void add_simulate_command(CLI::App& app, Runner& run);
void add_pipe_command(CLI::App& app, Runner& run);
void add_verify_command(CLI::App& app, Runner& run);
void add_migrate_command(CLI::App& app, Runner& run);
void add_backup_command(CLI::App& app, Runner& run);
void add_serve_command(CLI::App& app, Runner& run);
void add_token_command(CLI::App& app, Runner& run);

}  // namespace ombud::cli
