// Group commit on PostgreSQL: a batch of commits written with one statement per kind of row
// (instances, history, timers, keys, counters, outbox), the rows passed as arrays, instead of
// one statement per row. Every statement is a round trip to the server, and with hundreds of
// commits in a batch the round trips, not the rows, were the cost.
//
// Internal to the SQL adapter (it compiles SOCI's headers); SqlStore uses it for PostgreSQL.
// SQLite has no round trips, and writes row by row with statements prepared once.
#pragma once

#include <soci/soci.h>

#include <array>
#include <span>
#include <string>
#include <vector>

#include "engine/store.h"

namespace ombud::sql {

// A PostgreSQL array literal of `texts` ({"a","b \\"c\\""}), to bind as text and cast.
std::string pg_text_array(std::span<const std::string> texts);

class PgBatchWriter {
 public:
  // Prepares its statements on `session`, which must stay open while the writer is used.
  explicit PgBatchWriter(soci::session& session);
  PgBatchWriter(const PgBatchWriter&) = delete;
  PgBatchWriter& operator=(const PgBatchWriter&) = delete;

  // Writes `commits`, in order, inside the caller's open transaction. False: a conflict (an
  // instance's revision moved, a new id exists, a fired timer is gone, an idempotency key is
  // taken, a counter moved); the caller must roll back.
  bool write(std::span<const Commit> commits);

 private:
  struct Rows;
  bool write_instances(const Rows& rows);
  void write_history(std::span<const Commit> commits);
  bool write_counters(std::span<const Commit> commits);

  // The bound parameters: PostgreSQL array literals, one per column, refilled for each batch
  // (statements run one after the other, so they share them). Bound by address: never resized.
  std::array<std::string, 15> params_;

  soci::statement insert_instances_, update_instances_, delete_fired_, insert_idempotency_,
      insert_used_keys_, insert_history_, delete_timers_, upsert_timers_, update_counters_,
      insert_counters_, insert_outbox_;
  std::string counter_name_;  // the names a counter statement returns
};

}  // namespace ombud::sql
