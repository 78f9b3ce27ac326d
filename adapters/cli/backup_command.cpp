// `ombud backup [--config FILE] [--store URL] FILE`
// A consistent copy of an SQLite store, taken while the server runs (docs/durability.md,
// "Backups"). Copying the file itself is not one: the last commits may be only in its -wal file.
#include <iostream>
#include <memory>

#include "adapters/cli/commands.h"
#include "adapters/cli/store_choice.h"
#include "adapters/sql/sql_store.h"

namespace ombud::cli {

namespace {

struct BackupOptions {
  std::string config;
  std::string store;
  std::string file;
};

int run_backup(const BackupOptions& o) {
  const auto url = chosen_store(o.store, chosen_config(o.config), std::cerr);
  if (!url) return 2;
  if (const std::string missing = missing_sqlite_store(*url); !missing.empty()) {
    std::cerr << "ombud backup: no store at " << missing << "\n";
    return 2;
  }
  try {
    // Read as it is: a backup changes nothing, not even the schema.
    sql::StoreOptions options;
    options.pool_size = 1;
    options.migrate = false;
    options.checkpoint_pages = 0;
    sql::open_store(*url, options)->backup_to(o.file);
    std::cout << "backed up " << sql::shown_store_url(*url) << " to " << o.file << "\n";
    return 0;
  } catch (const sql::StoreError& e) {
    std::cerr << "ombud backup: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

void add_backup_command(CLI::App& app, Runner& run) {
  auto options = std::make_shared<BackupOptions>();
  CLI::App* cmd =
      app.add_subcommand("backup", "Copy an SQLite store, consistently, while the server runs");
  cmd->add_option("file", options->file, "The copy to write (a new file)")->required();
  cmd->add_option("--config", options->config,
                  "Config file whose store to back up (default: config/ombud.yaml if present)");
  cmd->add_option("--store", options->store, "Store URL (default: the config's store)");
  cmd->callback([&run, options] { run = [options] { return run_backup(*options); }; });
}

}  // namespace ombud::cli
