// `ombud token create --role R [--person ID] [--label TEXT] [--store URL]`
// `ombud token list [--store URL]`, `ombud token revoke ID [--store URL]`
//
// API tokens live in the store, hashed: `create` prints the token once and never again. Roles:
// admin, supervisor, agent, hook (see adapters/api/api.h for what each may do). A token made for
// a person acts with that person's directory roles where a transition names `roles:`.
#include <iostream>
#include <memory>

#include "adapters/cli/commands.h"
#include "adapters/http/api_token.h"
#include "adapters/node/node.h"

namespace ombud::cli {

namespace {

struct TokenOptions {
  std::string store = "sqlite:var/ombud.db";
  std::string role;
  std::string person;
  std::string label;
  std::string id;
};

int create_token(const TokenOptions& o) {
  try {
    auto store = open_store_url(o.store);
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
    auto store = open_store_url(o.store);
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
    auto store = open_store_url(o.store);
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
  cmd->add_option("--store", o->store, "Store URL")->capture_default_str();

  CLI::App* create = cmd->add_subcommand("create", "Make a token and print it (once)");
  create->add_option("--role", o->role, "admin, supervisor, agent or hook")
      ->required()
      ->check(CLI::IsMember({"admin", "supervisor", "agent", "hook"}));
  create->add_option("--person", o->person, "The directory person the token acts as");
  create->add_option("--label", o->label, "What or whom the token is for");
  create->add_option("--store", o->store, "Store URL");
  create->callback([&run, o] { run = [o] { return create_token(*o); }; });

  CLI::App* list = cmd->add_subcommand("list", "List tokens (ids and roles, never secrets)");
  list->add_option("--store", o->store, "Store URL");
  list->callback([&run, o] { run = [o] { return list_tokens(*o); }; });

  CLI::App* revoke = cmd->add_subcommand("revoke", "Revoke a token by its id");
  revoke->add_option("id", o->id, "The token's id (from create or list)")->required();
  revoke->add_option("--store", o->store, "Store URL");
  revoke->callback([&run, o] { run = [o] { return revoke_token(*o); }; });
}

}  // namespace ombud::cli
