// Store URLs as people write them in config/ombud.yaml and on the command line, and what they
// mean for SOCI:
//
//   sqlite:PATH[?synchronous=full|normal|off] a database file (relative to the working directory)
//   postgresql://user[:password]@host[:port]/db[?param=value&...]   (also postgres://)
//
// An SQLite path cannot contain '?': what follows it is the query. SQLite's synchronous is full
// unless the URL says otherwise: normal survives a crash of ombud
// but may lose the last commits when the machine loses power (docs/durability.md); off is for
// throwaway databases. PostgreSQL query parameters are passed on to libpq as connection keywords
// (sslmode, connect_timeout, options, application_name, ...), so anything libpq accepts works here.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ombud::sql {

enum class Dialect { sqlite, postgresql };

struct StoreUrl {
  Dialect dialect = Dialect::sqlite;
  std::string sqlite_path;         // sqlite: the file, as written
  std::string sqlite_synchronous;  // sqlite: "full", "normal", "off", or "" (the store's default)
  std::string connect_string;      // what SOCI's backend is opened with (libpq keywords for PG)
};

// Nullopt with `error` set to a message naming the URL and what is wrong with it. Passwords never
// appear in the message.
std::optional<StoreUrl> parse_store_url(std::string_view url, std::string* error);

// The URL as it may appear in messages and logs: a password replaced by ***.
std::string shown_store_url(std::string_view url);

}  // namespace ombud::sql
