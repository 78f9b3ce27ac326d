// Group commit on PostgreSQL: a batch of commits written by one statement. Each kind of row
// (instances, history, timers, keys, counters, outbox) is one data-modifying WITH query of
// that statement, its rows passed as arrays; the statement's result checks the row counts that
// optimistic concurrency depends on and raises a serialization failure when one is short, which
// undoes the whole statement.
//
// Run outside BEGIN … COMMIT, the statement is its own transaction: a commit costs one round
// trip to the server, where a transaction of a statement per kind of row cost one per statement
// plus BEGIN and COMMIT. With the server across a network, the round trips are the cost.
//
// Internal to the SQL adapter (it compiles SOCI's headers); SqlStore uses it for PostgreSQL.
// SQLite has no round trips, and writes row by row with statements prepared once.
#pragma once

#include <soci/soci.h>

#include <array>
#include <span>
#include <string>

#include "engine/store.h"

namespace ombud::sql {

// A PostgreSQL array literal of `texts` ({"a","b \\"c\\""}), to bind as text and cast.
std::string pg_text_array(std::span<const std::string> texts);

class PgBatchWriter {
 public:
  // Prepares its statement on `session`, which must stay open while the writer is used.
  explicit PgBatchWriter(soci::session& session);
  PgBatchWriter(const PgBatchWriter&) = delete;
  PgBatchWriter& operator=(const PgBatchWriter&) = delete;

  // Writes `commits`, in order, as one statement: in autocommit mode that is the transaction.
  // False: a conflict (an instance's revision moved, a new id exists, a fired timer is gone, an
  // idempotency key is taken, a counter moved), and nothing was written. A chain of commits on
  // one instance must each follow the one before.
  bool write(std::span<const Commit> commits);

  static constexpr std::size_t kParams = 47;

 private:
  // False when the commits on one instance are not a chain, each on the one before.
  bool fill_instances(std::span<const Commit> commits);
  void fill_timers(std::span<const Commit> commits);
  void fill_keys_and_history(std::span<const Commit> commits);
  bool fill_counters(std::span<const Commit> commits);
  void fill_outbox(std::span<const Commit> commits);

  // The bound parameters, PostgreSQL array literals refilled for each batch, in the order the
  // statement names them. Bound by address: never resized.
  std::array<std::string, kParams> params_;
  int checked_ = 0;  // what the statement returns (0 when every count held)
  soci::statement write_;
};

}  // namespace ombud::sql
