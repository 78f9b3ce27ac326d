// The schema, as numbered migrations shared by SQLite and PostgreSQL. A migration is never edited
// once released: a change to the schema is a new migration at the end of the list.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "adapters/sql/store_url.h"

namespace ombud::sql {

struct Migration {
  int version = 0;  // 1, 2, ... in order, recorded in schema_migrations
  std::string name;
  std::vector<std::string> statements;  // in this dialect, run in one transaction
};

// Every migration, oldest first, with the per-dialect spellings filled in.
std::vector<Migration> migrations(Dialect dialect);

}  // namespace ombud::sql
