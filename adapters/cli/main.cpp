// ombud: the composition root. It only assembles the subcommands; each lives in its own file.
#include <CLI/CLI.hpp>
#include <iostream>

#include "adapters/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"ombud — workflow and complaint-escalation engine"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "ombud 0.1.0");
  ombud::cli::Runner run;
  ombud::cli::add_validate_command(app, run);
  ombud::cli::add_graph_command(app, run);
  ombud::cli::add_simulate_command(app, run);
  ombud::cli::add_pipe_command(app, run);
  ombud::cli::add_verify_command(app, run);
  ombud::cli::add_migrate_command(app, run);
  ombud::cli::add_backup_command(app, run);
  ombud::cli::add_serve_command(app, run);
  ombud::cli::add_token_command(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return run ? run() : 2;
}
