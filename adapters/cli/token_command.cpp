// `ombud token create --role R [--person ID] [--label TEXT] [--config FILE] [--store URL]`
// `ombud token list [--store URL]`, `ombud token revoke ID [--store URL]`
//
// API tokens live in the store, hashed: `create` prints the token once and never again. Roles:
// admin, supervisor, agent, hook (see adapters/api/api.h for what each may do). A token made for
// a person acts with that person's directory roles where a transition names `roles:`, and its
// calls are recorded in history under the person's id: `create` refuses a person the config's
// directory does not have. The store is --store, else the config's (config/ombud.yaml when
// there is one), as for `ombud serve`.
#include <iostream>
#include <memory>
#include <sstream>

#include "adapters/cli/commands.h"
#include "adapters/cli/store_choice.h"
#include "adapters/http/api_token.h"
#include "adapters/node/node.h"
#include "adapters/yaml/config_loader.h"

namespace ombud::cli {

namespace {

struct TokenOptions {
  std::string config;
  std::string store;  // "": the config's (chosen_store)
  std::string role;
  std::string person;
  std::string label;
  std::string id;
};

// The store the token commands work on; throws when the config it comes from cannot be read (a
// token saved to a guessed store would never work on the server).
std::string store_url(const TokenOptions& o) {
  std::ostringstream why;
  auto store = chosen_store(o.store, chosen_config(o.config), why);
  if (!store) throw std::runtime_error(why.str());
  if (const std::string missing = missing_sqlite_store(*store); !missing.empty()) {
    throw std::runtime_error("no store at " + missing +
                             " (a relative sqlite: path is taken from the current directory; "
                             "ombud serve creates the store on its first start): name the "
                             "server's with --store or --config");
  }
  return *store;
}

int create_token(const TokenOptions& o) {
  if (!o.person.empty()) {
    const std::string file = chosen_config(o.config);
    if (file.empty()) {
      // The server refuses a token whose person its directory lacks: made unchecked, it might
      // be a token nobody can use.
      std::cerr << "ombud token: no config to check '" << o.person
                << "' against: pass --config FILE (the server's), whose directory has the person\n";
      return 1;
    } else {
      Diagnostics diags;
      const auto config = yaml::load_config_file(file, diags);
      if (!config) {
        for (const auto& d : diags.items()) std::cerr << d.to_string() << "\n";
        return 1;
      }
      if (config->find_person(o.person) == nullptr) {
        std::cerr << "ombud token: nobody called '" << o.person << "' in the directory of " << file
                  << "\n";
        return 1;
      }
    }
  }
  try {
    auto store = open_store_url(store_url(o));
    const http::NewApiToken token = http::generate_api_token();
    store->save_api_token({token.id, token.hash, o.role, o.person,
                           o.label.empty() ? o.role + " token" : o.label, SystemClock().now(),
                           false});
    std::cout << token.token << "\n";
    std::cerr << "created " << o.role << " token " << token.id
              << " (shown once: keep it; revoke with `ombud token revoke " << token.id << "`)\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "ombud token: " << e.what() << "\n";
    return 1;
  }
}

int list_tokens(const TokenOptions& o) {
  try {
    auto store = open_store_url(store_url(o));
    for (const ApiTokenRow& t : store->api_tokens()) {
      std::cout << t.id << "  " << t.role << "  " << (t.person.empty() ? "-" : t.person) << "  "
                << format_timestamp(t.created_at) << "  " << (t.revoked ? "revoked" : "active")
                << "  " << t.label << "\n";
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "ombud token: " << e.what() << "\n";
    return 1;
  }
}

int revoke_token(const TokenOptions& o) {
  try {
    auto store = open_store_url(store_url(o));
    for (const ApiTokenRow& t : store->api_tokens()) {
      if (t.id == o.id && t.revoked) {
        std::cout << o.id << " was revoked already\n";
        return 0;
      }
    }
    if (!store->revoke_api_token(o.id)) {
      std::cerr << "ombud token: no token " << o.id << "\n";
      return 1;
    }
    std::cout << "revoked " << o.id << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "ombud token: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

void add_token_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<TokenOptions>();
  CLI::App* cmd = app.add_subcommand("token", "Create, list and revoke API tokens");
  cmd->require_subcommand(1);
  const std::string store_help = "Store URL (default: the config's store)";
  const std::string config_help = "Config file (default: config/ombud.yaml if present)";
  cmd->add_option("--store", o->store, store_help);
  cmd->add_option("--config", o->config, config_help);

  CLI::App* create = cmd->add_subcommand("create", "Make a token and print it (once)");
  create->add_option("--role", o->role, "admin, supervisor, agent or hook")
      ->required()
      ->check(CLI::IsMember({"admin", "supervisor", "agent", "hook"}));
  create->add_option("--person", o->person, "The directory person the token acts as");
  create->add_option("--label", o->label, "What or whom the token is for");
  create->add_option("--store", o->store, store_help);
  create->add_option("--config", o->config, config_help);
  create->callback([&run, o] { run = [o] { return create_token(*o); }; });

  CLI::App* list = cmd->add_subcommand("list", "List tokens (ids and roles, never secrets)");
  list->add_option("--store", o->store, store_help);
  list->add_option("--config", o->config, config_help);
  list->callback([&run, o] { run = [o] { return list_tokens(*o); }; });

  CLI::App* revoke = cmd->add_subcommand("revoke", "Revoke a token by its id");
  revoke->add_option("id", o->id, "The token's id (from create or list)")->required();
  revoke->add_option("--store", o->store, store_help);
  revoke->add_option("--config", o->config, config_help);
  revoke->callback([&run, o] { run = [o] { return revoke_token(*o); }; });
}

}  // namespace ombud::cli
