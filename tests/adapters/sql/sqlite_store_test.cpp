// SQLite-only behaviour: a file on disk that outlives the process, its pragmas, its migrations.
// The file is also read with the sqlite3 C library directly, so the checks do not trust the
// store's own reading of itself.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "adapters/sql/instance_row.h"
#include "adapters/sql/migrations.h"
#include "tests/adapters/sql/legacy_history.h"
#include "tests/adapters/sql/store_backends.h"

namespace ombud {
namespace {

using sql::StoreError;
using sql::StoreOptions;
using ::testing::HasSubstr;

const Timestamp kT0 = *parse_timestamp("2026-11-23T09:00:00Z");

Timestamp from_ms_for_test(long long ms) { return Timestamp{Millis{ms}}; }

SlaClock clock(const std::string& name, SlaClock::Status status, Timestamp due) {
  SlaClock c;
  c.name = name;
  c.status = status;
  c.due_at = due;
  return c;
}

Commit started(const std::string& id) {
  Commit c;
  c.instance.id = id;
  c.instance.workflow = "complaint";
  c.instance.state = "intake";
  c.instance.revision = 1;
  c.instance.created_at = c.instance.updated_at = kT0;
  c.history.push_back({kT0, "started", "started", {}});
  c.armed.push_back({id, 1, kT0 + std::chrono::hours(4)});
  c.counters.push_back({"complaint.serial", 0, 1});
  return c;
}

// The commit that moves `before` on by one revision, into `state`.
Commit moved(const Instance& before, const std::string& state) {
  Commit c;
  c.instance = before;
  c.instance.state = state;
  c.instance.revision = before.revision + 1;
  c.expected_revision = before.revision;
  c.history.push_back({kT0, state, state, {}});
  return c;
}

// One text value from the database file, read without the store.
std::string query_file(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string out = "<error>";
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
      out = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != nullptr
                ? reinterpret_cast<const char*>(sqlite3_column_text(st, 0))
                : "<none>";
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

class SqliteStore : public ::testing::Test {
 protected:
  std::filesystem::path file() const { return backend_.dir() / "var" / "ombud.db"; }
  testing::SqliteBackend backend_;
};

TEST_F(SqliteStore, DataSurvivesCloseAndReopen) {
  {
    auto store = backend_.open_sql();
    ASSERT_EQ(store->commit(started("c-1")), CommitResult::ok);
  }
  auto store = backend_.open_sql();
  ASSERT_TRUE(store->load("c-1"));
  EXPECT_EQ(store->load("c-1")->state, "intake");
  EXPECT_EQ(store->history("c-1").size(), 1u);
  EXPECT_EQ(store->pending_timers(), 1u);
  EXPECT_EQ(store->get("complaint.serial"), 1);
}

// A document kept from a commit is the row's body: the next commit replaces it, a batch that
// conflicts leaves it as it was, and an instance that aged out is read from the file.
TEST_F(SqliteStore, DocumentsKeptFromCommitsAreTheStoredRows) {
  auto store = backend_.open_sql(testing::options([](StoreOptions& o) { o.cached_documents = 2; }));
  auto stored_body = [&](const std::string& id) {
    return query_file(file(), "SELECT body FROM instances WHERE id = '" + id + "'");
  };
  Commit first = started("c-1");
  ASSERT_EQ(store->commit(first), CommitResult::ok);
  EXPECT_EQ(store->load_document("c-1"), stored_body("c-1"));

  const Commit second = moved(first.instance, "assigned");
  ASSERT_EQ(store->commit(second), CommitResult::ok);
  ASSERT_THAT(stored_body("c-1"), HasSubstr("\"assigned\""));
  EXPECT_EQ(store->load_document("c-1"), stored_body("c-1"));

  // Revision 3 of c-1 is written, then c-1 again at the stale revision 2: the batch conflicts,
  // nothing of it is kept.
  const Commit third = moved(second.instance, "resolved");
  Commit stale = second;
  stale.instance.id = "c-2";
  stale.expected_revision = 0;
  stale.instance.revision = 1;
  Commit conflicting = third;
  conflicting.expected_revision = 1;
  EXPECT_EQ(store->commit_all(std::vector<Commit>{stale, third, conflicting}),
            CommitResult::conflict);
  EXPECT_EQ(store->load_document("c-1"), stored_body("c-1"));
  EXPECT_THAT(*store->load_document("c-1"), HasSubstr("\"assigned\""));
  EXPECT_FALSE(store->load_document("c-2"));

  // Two commits of one instance in one batch: the later one is kept.
  const Commit fourth = moved(third.instance, "closed");
  ASSERT_EQ(store->commit_all(std::vector<Commit>{third, fourth}), CommitResult::ok);
  ASSERT_THAT(stored_body("c-1"), HasSubstr("\"closed\""));
  EXPECT_EQ(store->load_document("c-1"), stored_body("c-1"));

  // Three more instances with room for two: every one still reads as stored.
  for (const char* id : {"c-3", "c-4", "c-5"}) {
    Commit c = started(id);
    c.counters.clear();
    ASSERT_EQ(store->commit(c), CommitResult::ok);
  }
  for (const char* id : {"c-1", "c-3", "c-4", "c-5"}) {
    EXPECT_EQ(store->load_document(id), stored_body(id)) << id;
  }
}

// One process writes an SQLite file (decision 0007). If another one wrote it all the same, a
// kept document is stale until this store's next conflict, which drops every kept document.
TEST_F(SqliteStore, AConflictDropsTheKeptDocuments) {
  auto store = backend_.open_sql();
  Commit first = started("c-1");
  ASSERT_EQ(store->commit(first), CommitResult::ok);
  const std::string kept = *store->load_document("c-1");

  const Commit elsewhere = moved(first.instance, "assigned");
  ASSERT_EQ(backend_.open_sql()->commit(elsewhere), CommitResult::ok);
  EXPECT_EQ(store->load_document("c-1"), kept);  // stale: the documented limit

  const Commit stale = moved(first.instance, "resolved");  // still at revision 1 here
  ASSERT_EQ(store->commit(stale), CommitResult::conflict);
  EXPECT_EQ(store->load_document("c-1"),
            query_file(file(), "SELECT body FROM instances WHERE id = 'c-1'"));
  EXPECT_THAT(*store->load_document("c-1"), HasSubstr("\"assigned\""));
}

// A document read from the file is kept too (shown here by a write from elsewhere that it does
// not see), and this store's next commit of the instance replaces it.
TEST_F(SqliteStore, ADocumentReadIsKeptUntilItsNextCommit) {
  Commit first = started("c-1");
  ASSERT_EQ(backend_.open_sql()->commit(first), CommitResult::ok);
  auto store = backend_.open_sql();  // keeps nothing yet
  auto stored_body = [&] {
    return query_file(file(), "SELECT body FROM instances WHERE id = 'c-1'");
  };
  const std::string read = stored_body();
  EXPECT_EQ(store->load_document("c-1"), read);

  const Commit elsewhere = moved(first.instance, "assigned");
  ASSERT_EQ(backend_.open_sql()->commit(elsewhere), CommitResult::ok);
  EXPECT_EQ(store->load_document("c-1"), read);  // kept from the read

  const Commit next = moved(elsewhere.instance, "resolved");
  ASSERT_EQ(store->commit(next), CommitResult::ok);
  EXPECT_THAT(*store->load_document("c-1"), HasSubstr("\"resolved\""));
  EXPECT_EQ(store->load_document("c-1"), stored_body());
  EXPECT_FALSE(store->load_document("missing"));
}

TEST_F(SqliteStore, CreatesTheParentDirectory) {
  ASSERT_FALSE(std::filesystem::exists(file().parent_path()));
  backend_.open_sql();
  EXPECT_TRUE(std::filesystem::is_regular_file(file()));
}

TEST_F(SqliteStore, MigrationsRunOnceAcrossOpens) {
  {
    auto store = backend_.open_sql();
    const auto applied = store->applied_migrations();
    ASSERT_EQ(applied.size(), static_cast<std::size_t>(sql::SqlStore::latest_schema_version()));
    EXPECT_EQ(applied[0].version, 1);
    EXPECT_EQ(applied[0].name, "create_schema");
  }
  auto again = backend_.open_sql();
  EXPECT_TRUE(again->migrate().empty());
  EXPECT_EQ(again->applied_migrations().size(),
            static_cast<std::size_t>(sql::SqlStore::latest_schema_version()));
  EXPECT_EQ(query_file(file(), "SELECT COUNT(*) FROM schema_migrations"),
            std::to_string(sql::SqlStore::latest_schema_version()));
}

// A file a newer ombud migrated further: this build refuses it rather than misread its rows.
TEST_F(SqliteStore, ASchemaNewerThanThisBuildIsRefusedAtOpen) {
  backend_.open_sql();
  const int newer = sql::SqlStore::latest_schema_version() + 1;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file().c_str(), &db), SQLITE_OK);
  const std::string insert =
      "INSERT INTO schema_migrations VALUES (" + std::to_string(newer) + ", 'from_the_future', 0)";
  EXPECT_EQ(sqlite3_exec(db, insert.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  try {
    backend_.open_sql();
    FAIL() << "opened a schema at version " << newer;
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("schema at version " + std::to_string(newer) +
                          ", newer than this ombud knows (" + std::to_string(newer - 1) + ")"));
  }
}

TEST_F(SqliteStore, OpeningWithoutMigrateLeavesTheSchemaToMigrate) {
  auto store = backend_.open_sql(testing::options([](auto& o) { o.migrate = false; }));
  EXPECT_THROW(store->load("c-1"), StoreError);
  const auto applied = store->migrate();
  ASSERT_EQ(applied.size(), 10u);
  EXPECT_EQ(applied[0].name, "create_schema");
  EXPECT_EQ(applied[1].name, "api_tokens_and_inbox_dedup");
  EXPECT_EQ(applied[2].name, "sqlite_clustered_keys");
  EXPECT_EQ(applied[3].name, "history_row_per_step");
  EXPECT_EQ(applied[4].name, "timers_updated_in_place");
  EXPECT_EQ(applied[5].name, "commit_in_one_statement");
  EXPECT_EQ(applied[6].name, "forget_by_age");
  EXPECT_EQ(applied[7].name, "one_timer_row_per_case");
  EXPECT_EQ(applied[8].name, "cases_waiting_in_queues");
  EXPECT_FALSE(store->load("c-1"));
}

// A database written by a release that had migrations 1 and 2 only: migration 3 rebuilds its
// keyed tables clustered (WITHOUT ROWID) and keeps every row.
TEST_F(SqliteStore, UpgradingToClusteredTablesKeepsEveryRow) {
  std::filesystem::create_directories(file().parent_path());
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file().c_str(), &db), SQLITE_OK);
    auto exec = [&](const std::string& sql) {
      char* error = nullptr;
      const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
      EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (error != nullptr ? error : "");
      sqlite3_free(error);
    };
    exec(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at BIGINT NOT NULL)");
    for (const sql::Migration& m : sql::migrations(sql::Dialect::sqlite)) {
      if (m.version > 2) break;
      for (const std::string& statement : m.statements) exec(statement);
      exec("INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) + ", '" + m.name +
           "', 0)");
    }
    exec(
        "INSERT INTO instances VALUES ('c-1', 'complaint', 1, 'intake', 'k-1', '', '', 0, 2, "
        "0, 0, NULL, 0, '')");
    exec("INSERT INTO history VALUES ('c-1', 1, 0, 'started', 'started', '{}', '', '{}')");
    exec("INSERT INTO history VALUES ('c-1', 2, 0, 'event', 'ping', '{}', 'li.na', '')");
    exec("INSERT INTO timers VALUES ('c-1', 7, 1795000000000, 'node-a', 1795000001000)");
    exec("INSERT INTO used_keys VALUES ('complaint', 'k-1')");
    exec("INSERT INTO idempotency_keys VALUES ('call-1', '{\"instance\":\"c-1\"}', 0)");
    sqlite3_close(db);
  }
  auto store = backend_.open_sql(testing::options([](auto& o) { o.migrate = false; }));
  const auto applied = store->migrate();
  ASSERT_EQ(applied.size(), 8u);
  EXPECT_EQ(applied[0].version, 3);
  EXPECT_EQ(applied[1].version, 4);
  EXPECT_EQ(applied[2].version, 5);  // nothing to do on SQLite, recorded all the same
  EXPECT_EQ(applied[3].version, 6);  // as here
  for (const char* table : {"history", "timers", "used_keys", "idempotency_keys"}) {
    EXPECT_THAT(query_file(file(), std::string("SELECT sql FROM sqlite_master WHERE name = '") +
                                       table + "'"),
                HasSubstr("WITHOUT ROWID"))
        << table;
  }
  EXPECT_EQ(query_file(file(), "SELECT COUNT(*) FROM sqlite_master WHERE name = 'timers_due'"),
            "1");
  const auto history = store->history("c-1");
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].actor, "li.na");
  EXPECT_EQ(history[1].entry.message, "ping");
  const auto due = store->due_timers(from_ms_for_test(1795000000000), 10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].timer_id, 7u);
  EXPECT_TRUE(store->key_used("complaint", "k-1"));
  ASSERT_TRUE(store->idempotent_response("call-1"));
  EXPECT_EQ(store->idempotent_response("call-1")->at("instance"), "c-1");
}

// A database written before schema 4 (a row per history entry): migration 4 makes each old
// entry a step of its own and keeps what it said, and new steps go on after them.
TEST_F(SqliteStore, UpgradingToARowPerStepKeepsEveryHistoryEntry) {
  std::filesystem::create_directories(file().parent_path());
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file().c_str(), &db), SQLITE_OK);
    for (const std::string& statement : testing::legacy_store(sql::Dialect::sqlite, 3)) {
      char* error = nullptr;
      EXPECT_EQ(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &error), SQLITE_OK)
          << statement << ": " << (error != nullptr ? error : "");
      sqlite3_free(error);
    }
    sqlite3_close(db);
  }
  auto store = backend_.open_sql(testing::options([](auto& o) { o.migrate = false; }));
  const auto applied = store->migrate();
  ASSERT_EQ(applied.size(), 7u);
  EXPECT_EQ(applied[0].version, 4);
  EXPECT_THAT(query_file(file(), "SELECT sql FROM sqlite_master WHERE name = 'history'"),
              HasSubstr("WITHOUT ROWID"));
  EXPECT_EQ(query_file(file(),
                       "SELECT group_concat(revision) FROM (SELECT revision FROM history "
                       "WHERE instance_id = 'c-1' ORDER BY revision)"),
            "-3,-2,-1");
  testing::expect_legacy_history_kept(*store);
  EXPECT_EQ(query_file(file(),
                       "SELECT COUNT(*) FROM history WHERE instance_id = 'c-1' AND "
                       "revision = 3"),
            "1");
}

TEST_F(SqliteStore, UsesWalAndFullSynchronousByDefault) {
  auto store = backend_.open_sql(
      testing::options([](auto& o) { o.busy_timeout = std::chrono::milliseconds(1234); }));
  const auto settings = store->settings();
  EXPECT_EQ(settings.dialect, sql::Dialect::sqlite);
  EXPECT_EQ(settings.journal_mode, "wal");
  EXPECT_EQ(settings.synchronous, "full");
  EXPECT_EQ(settings.busy_timeout_ms, 1234);
  // WAL is recorded in the file itself.
  EXPECT_EQ(query_file(file(), "PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteStore, SynchronousIsConfigurable) {
  auto store = backend_.open_sql(
      testing::options([](auto& o) { o.synchronous = StoreOptions::Synchronous::normal; }));
  EXPECT_EQ(store->settings().synchronous, "normal");
  EXPECT_EQ(sql::parse_synchronous("off"), StoreOptions::Synchronous::off);
  EXPECT_FALSE(sql::parse_synchronous("fast"));
}

// An admin chooses it in the store URL (config/ombud.yaml's store:, or --store).
TEST_F(SqliteStore, TheStoreUrlChoosesSynchronous) {
  EXPECT_EQ(sql::open_store(backend_.url() + "?synchronous=normal")->settings().synchronous,
            "normal");
  EXPECT_EQ(sql::open_store(backend_.url() + "?synchronous=off")->settings().synchronous, "off");
  EXPECT_EQ(sql::open_store(backend_.url())->settings().synchronous, "full");
  // The query is not part of the file name.
  EXPECT_TRUE(std::filesystem::exists(file()));
  EXPECT_FALSE(std::filesystem::exists(file().string() + "?synchronous=off"));
}

// Starts cases c-0 … c-(n-1), one commit each.
void start_cases(Store& store, int n) {
  for (int i = 0; i < n; ++i) {
    Commit c = started("c-" + std::to_string(i));
    c.counters.clear();  // each would expect the serial at 0
    ASSERT_EQ(store.commit(c), CommitResult::ok);
  }
}

// The write-ahead log is copied into the database file by the store's own thread; the commit
// after each of its passes copies the rest, so that the log is written again from its start.
TEST_F(SqliteStore, TheLogIsCheckpointedOffTheCommittingThreadAndStartsAgain) {
  constexpr int kPages = 64;
  auto store = backend_.open_sql(testing::options([](auto& o) { o.checkpoint_pages = kPages; }));
  // About ten pages per commit, 3,000 in all: nearly fifty times the threshold.
  start_cases(*store, 300);
  const auto counts = store->checkpoint_counts();
  ASSERT_TRUE(counts.has_value());
  EXPECT_GT(counts->background, 0U);
  EXPECT_GT(counts->tail, 0U);
  // Had the log never started again, it would hold all 3,000 pages. A busy machine may keep the
  // thread from running, but at four times the threshold a commit checkpoints in its stead, so
  // the log ends near that length at most (plus the commit that went past it).
  EXPECT_LT(std::filesystem::file_size(file().string() + "-wal"), 8U * kPages * (24U + 4096U));
  // Everything is in the file, for a reader that never saw the log.
  store.reset();
  EXPECT_FALSE(std::filesystem::exists(file().string() + "-wal"));
  EXPECT_EQ(query_file(file(), "SELECT COUNT(*) FROM instances"), "300");
}

// checkpoint_pages 0 leaves checkpoints to SQLite, inside the commit.
TEST_F(SqliteStore, CheckpointsCanBeLeftToTheCommits) {
  auto store = backend_.open_sql(testing::options([](auto& o) { o.checkpoint_pages = 0; }));
  start_cases(*store, 300);
  EXPECT_FALSE(store->checkpoint_counts().has_value());
  EXPECT_EQ(query_file(file(), "SELECT COUNT(*) FROM instances"), "300");
}

TEST_F(SqliteStore, KeepsSlaColumnsForListings) {
  auto store = backend_.open_sql();
  Commit c = started("c-1");
  c.instance.slas.push_back(
      clock("resolve", SlaClock::Status::running, kT0 + std::chrono::hours(8)));
  c.instance.slas.push_back(clock("respond", SlaClock::Status::breached, kT0));
  c.instance.slas.back().breached = true;
  ASSERT_EQ(store->commit(c), CommitResult::ok);
  EXPECT_EQ(query_file(file(), "SELECT sla_due_at FROM instances WHERE id = 'c-1'"),
            std::to_string((kT0 + std::chrono::hours(8)).time_since_epoch().count()));
  EXPECT_EQ(query_file(file(), "SELECT sla_breached FROM instances WHERE id = 'c-1'"), "1");
  // Timestamps are integer milliseconds.
  EXPECT_EQ(query_file(file(), "SELECT typeof(due_at) FROM timers"), "integer");
}

// Complainants' names and numbers, token hashes: a new store is its owner's alone, and so are
// the log files SQLite writes beside it.
TEST_F(SqliteStore, ANewStoreIsReadableByItsOwnerOnly) {
  auto store = backend_.open_sql();
  ASSERT_EQ(store->commit(started("c-1")), CommitResult::ok);
  const auto mode = [](const std::string& path) {
    return std::filesystem::status(path).permissions() & std::filesystem::perms::all;
  };
  EXPECT_EQ(mode(file().string()),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(mode(file().string() + "-wal"), mode(file().string()));
}

TEST_F(SqliteStore, AFileThatCannotBeOpenedIsAStoreError) {
  std::filesystem::create_directories(file());  // a directory where the file should be
  try {
    backend_.open_sql();
    FAIL() << "opened a directory as a database";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr(file().string()));
  }
}

TEST(SlaColumns, EarliestRunningDeadlineAndAnyBreach) {
  Instance in;
  EXPECT_FALSE(sql::sla_columns(in).due_at);
  in.slas.push_back(clock("a", SlaClock::Status::paused, kT0));
  in.slas.push_back(clock("b", SlaClock::Status::running, kT0 + std::chrono::hours(2)));
  in.slas.push_back(clock("c", SlaClock::Status::running, kT0 + std::chrono::hours(1)));
  EXPECT_EQ(sql::sla_columns(in).due_at, kT0 + std::chrono::hours(1));
  EXPECT_FALSE(sql::sla_columns(in).breached);
  in.slas[0].breached = true;
  EXPECT_TRUE(sql::sla_columns(in).breached);
}

}  // namespace
}  // namespace ombud
