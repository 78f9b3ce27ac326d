// The Store port over SQL (SOCI): SQLite for one node, PostgreSQL for several.
//
//   auto store = ombud::sql::open_store("sqlite:var/ombud.db");  // creates var/, migrates
//   store->commit(c);                                            // one transaction
//
// Same schema and the same numbered migrations on both databases (adapters/sql/migrations.cpp);
// open_store() applies the pending ones unless StoreOptions::migrate is false. Every value is a
// bound parameter. Timestamps are stored as integer milliseconds since the Unix epoch (UTC) on
// both databases, so ordering and comparisons are plain integer ones.
//
// Threads: a SqlStore is safe to use from any number of threads at once. Every call takes its own
// connection from a pool (StoreOptions::pool_size). On SQLite, calls that write also take one
// mutex, because SQLite has a single writer anyway and waiting on a mutex is cheaper than
// SQLITE_BUSY retries; reads run beside the writer (WAL). Other processes on the same SQLite file
// are waited for up to `busy_timeout`.
//
// Failures: a conflict is a CommitResult, as the port says. A database failure (connection lost,
// disk full, schema missing) throws StoreError naming the operation; nothing of the failed call
// was written.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/sql/store_url.h"
#include "engine/store.h"

namespace ombud::sql {

class StoreError : public StoreFailure {
 public:
  using StoreFailure::StoreFailure;
};

struct StoreOptions {
  // SQLite's durability per commit (PRAGMA synchronous). full: a commit that returned survives a
  // power loss. normal: in WAL mode it survives a crash of ombud, but the last commits may be
  // lost when the machine loses power — about 10× the commit rate on this hardware.
  // off: for throwaway databases only.
  enum class Synchronous { full, normal, off };
  Synchronous synchronous = Synchronous::full;
  // SQLite: how long a call waits for another process that holds the write lock.
  std::chrono::milliseconds busy_timeout{5000};
  // Connections kept open. PostgreSQL: calls beyond this many wait for a free connection.
  // SQLite: readers in parallel (writers are serialised regardless).
  std::size_t pool_size = 4;
  // Apply pending migrations at open. `ombud migrate` opens with false, then calls migrate().
  bool migrate = true;
  // SQLite: how many instance documents this store keeps from its own commits and reads, so
  // that load_document() (GET /v1/instances/{id}) answers recently used cases without a read
  // (0: none; between half of this and this many are kept). Right while one process writes the
  // SQLite file (decision 0007: a second node needs PostgreSQL); a conflict drops them all.
  // PostgreSQL, shared by nodes, always reads.
  std::size_t cached_documents = 10'000;
  // SQLite: once a commit leaves the write-ahead log this many pages long, a thread of the
  // store's own copies the log into the database file (adapters/sql/sqlite_checkpointer.h),
  // so that commits do not wait for that copy and its fsync. The log file grows to about this
  // size (4,000 pages: 16 MB); at four times it a commit copies, as SQLite would. A longer log
  // means fewer copies of pages that many commits change. 0: SQLite's default, the commit that
  // takes the log past 1,000 pages copies it.
  int checkpoint_pages = 4000;
};

std::optional<StoreOptions::Synchronous> parse_synchronous(std::string_view text);

struct AppliedMigration {
  int version = 0;
  std::string name;
  Timestamp applied_at{};
};

// SQLite with StoreOptions::checkpoint_pages: checkpoints that succeeded, run by the store's
// thread; the rests of the log copied by the commit after one; checkpoints run by a commit because
// that thread had fallen far behind (a sign of long reads or a slow disk).
struct CheckpointCounts {
  std::uint64_t background = 0;
  std::uint64_t tail = 0;
  std::uint64_t fallen_behind = 0;
};

// What the database says about the connection settings (read back, not what was asked for).
struct StoreSettings {
  Dialect dialect = Dialect::sqlite;
  std::string journal_mode;       // SQLite: "wal"
  std::string synchronous;        // SQLite: "full" | "normal" | "off"; PG: synchronous_commit
  long long busy_timeout_ms = 0;  // SQLite
  std::size_t pool_size = 0;
  std::string server_version;
};

class SqlStore final : public Store {
 public:
  ~SqlStore() override;
  SqlStore(const SqlStore&) = delete;
  SqlStore& operator=(const SqlStore&) = delete;

  // Applies the migrations the database has not seen yet, all in one transaction (both databases
  // have transactional DDL, so a failed migration leaves the schema as it was), and returns them
  // (empty when the schema is current). Safe when several processes migrate at once: they take
  // turns (PostgreSQL advisory lock; SQLite write lock).
  std::vector<AppliedMigration> migrate();
  // Every migration recorded in schema_migrations, oldest first.
  std::vector<AppliedMigration> applied_migrations() const;
  // The newest schema version this build knows.
  static int latest_schema_version();

  // SQLite: writes a consistent copy of the whole store to `file` (which must not exist), made
  // readable by its owner only, while the server goes on writing (VACUUM INTO: one read
  // transaction). PostgreSQL: throws StoreError pointing at pg_dump.
  void backup_to(const std::string& file) const;

  StoreSettings settings() const;
  // Nullopt unless SQLite checkpoints on the store's thread. Reads nothing from the database.
  std::optional<CheckpointCounts> checkpoint_counts() const;
  Dialect dialect() const;

  // Store.
  std::int64_t get(std::string_view counter) const override;
  std::optional<Instance> load(const std::string& id) const override;
  ReadAheadAnswers read_ahead(const ReadAhead& ask) const override;
  std::optional<std::string> load_document(const std::string& id) const override;
  std::optional<std::string> find_open_by_key(const std::string& workflow,
                                              const std::string& key) const override;
  bool key_used(const std::string& workflow, const std::string& key) const override;
  std::optional<boost::json::object> idempotent_response(const std::string& key) const override;
  CommitResult commit(const Commit& commit) override;
  CommitResult commit_all(std::span<const Commit> commits) override;
  std::int64_t reserve(std::string_view counter, std::int64_t count) override;
  std::vector<DueTimer> due_timers(Timestamp until, std::size_t limit) const override;
  std::optional<Timestamp> next_timer_due() const override;
  std::vector<DueTimer> claim_timers(const TimerClaim& claim) override;
  void release_timers(const std::string& node) override;
  std::size_t pending_timers() const override;
  std::size_t undelivered_messages() const override;
  std::vector<StoredHistory> history(const std::string& instance_id) const override;
  int open_cases(std::string_view person) const override;
  std::vector<Instance> find_instances(const InstanceFilter& filter) const override;
  PublishResult publish_definition(const PublishedDefinition& definition,
                                   EarlierContent earlier) override;
  std::vector<PublishedDefinition> definition_versions(const std::string& name) const override;
  std::vector<PublishedDefinition> latest_definitions() const override;
  std::vector<OutboxMessage> claim_outbox(Timestamp now, Timestamp lease_until,
                                          std::size_t limit) override;
  void outbox_delivered(const std::vector<std::uint64_t>& ids, Timestamp at) override;
  void outbox_failed(std::uint64_t id, const std::string& error,
                     Timestamp next_attempt_at) override;
  std::vector<OutboxMessage> outbox(bool undelivered_only, std::size_t limit) const override;
  Forgotten forget(const ForgetBefore& f) override;
  std::uint64_t add_to_inbox(const InboxEntry& entry) override;
  std::vector<InboxEntry> inbox(bool open_only, std::uint64_t after_id,
                                std::size_t limit) const override;
  std::optional<InboxEntry> inbox_entry(std::uint64_t id) const override;
  bool mark_inbox_replayed(std::uint64_t id, const std::string& instance_id) override;
  void save_api_token(const ApiTokenRow& token) override;
  std::optional<ApiTokenRow> find_api_token(const std::string& hash) const override;
  std::vector<ApiTokenRow> api_tokens() const override;
  bool revoke_api_token(const std::string& id) override;

 private:
  struct Impl;
  explicit SqlStore(std::unique_ptr<Impl> impl);
  CommitResult write_all(std::span<const Commit> commits);
  friend std::unique_ptr<SqlStore> open_store(const std::string& url, const StoreOptions& options);

  std::unique_ptr<Impl> impl_;
};

// Opens (and for SQLite creates, with its parent directory) the store at `url` and, unless
// options.migrate is false, brings its schema up to date. Throws StoreError for a bad URL, a
// database that cannot be opened, or a failed migration; the message names the URL (without
// its password).
std::unique_ptr<SqlStore> open_store(const std::string& url, const StoreOptions& options = {});

}  // namespace ombud::sql
