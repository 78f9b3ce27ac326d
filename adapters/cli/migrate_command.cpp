// `ombud migrate --store URL [--synchronous full|normal|off]`
// Brings the store's schema up to date and says what it did. The server migrates at start-up as
// well; this command lets an admin do it (and see it) before rolling out a new version.
#include <iostream>
#include <memory>

#include "adapters/cli/commands.h"
#include "adapters/sql/sql_store.h"

namespace ombud::cli {

namespace {

struct MigrateOptions {
  std::string store;
};

int run_migrate(const MigrateOptions& o) {
  try {
    // Opened without migrating, so that the migrations applied here can be listed.
    sql::StoreOptions options;
    options.pool_size = 1;
    options.migrate = false;
    auto store = sql::open_store(o.store, options);
    const auto applied = store->migrate();
    for (const auto& m : applied) {
      std::cout << "applied " << m.version << " " << m.name << "\n";
    }
    const auto all = store->applied_migrations();
    const int version = all.empty() ? 0 : all.back().version;
    std::cout << (applied.empty() ? "schema up to date" : "schema migrated") << " at version "
              << version << " (" << sql::shown_store_url(o.store) << ")\n";
    return 0;
  } catch (const sql::StoreError& e) {
    std::cerr << "ombud migrate: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

void add_migrate_command(CLI::App& app, Runner& run) {
  auto options = std::make_shared<MigrateOptions>();
  CLI::App* cmd =
      app.add_subcommand("migrate", "Apply the store's pending schema migrations and list them");
  cmd->add_option("--store", options->store,
                  "Store URL: sqlite:PATH or postgresql://user@host:port/database")
      ->required();
  cmd->callback([&run, options] { run = [options] { return run_migrate(*options); }; });
}

}  // namespace ombud::cli
