// PostgreSQL-only behaviour: several nodes (several SqlStore objects, each with its own pool) on
// one database, migrations shared by them, and the server's settings.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include <unistd.h>

#include "tests/adapters/sql/legacy_history.h"
#include "tests/adapters/sql/store_backends.h"

namespace ombud {
namespace {

const Timestamp kT0 = *parse_timestamp("2026-11-23T09:00:00Z");

class PostgresStore : public ::testing::Test {
 protected:
  testing::PostgresBackend backend_;
};

TEST_F(PostgresStore, TheTestClusterIsPostgresql15) {
  auto store = backend_.open_sql();
  const auto settings = store->settings();
  EXPECT_EQ(settings.dialect, sql::Dialect::postgresql);
  EXPECT_EQ(settings.server_version.substr(0, 3), "15.");
  EXPECT_EQ(settings.synchronous, "on");
  EXPECT_EQ(settings.pool_size, 4u);
}

TEST_F(PostgresStore, SecondNodeFindsTheSchemaMigrated) {
  auto first = backend_.open_sql();
  auto second = backend_.open_sql();
  EXPECT_TRUE(second->migrate().empty());
  const auto applied = second->applied_migrations();
  ASSERT_EQ(applied.size(), static_cast<std::size_t>(sql::SqlStore::latest_schema_version()));
  EXPECT_EQ(applied[0].name, "create_schema");
}

// Claims rewrite the timer rows they lease; pages with room to spare let PostgreSQL keep the new
// version beside the old one without new index entries (migration 5).
TEST_F(PostgresStore, TimerPagesLeaveRoomForLeasesToBeWrittenInPlace) {
  auto store = backend_.open_sql();
  EXPECT_EQ(
      testing::postgres_query(
          backend_.url(),
          "SELECT array_to_string(reloptions, ',') FROM pg_class WHERE oid = 'timers'::regclass"),
      "fillfactor=50");
}

TEST_F(PostgresStore, NodesStartingTogetherMigrateOnce) {
  std::vector<std::unique_ptr<sql::SqlStore>> nodes(3);
  std::vector<std::thread> threads;
  for (auto& node : nodes) {
    threads.emplace_back(
        [&] { node = backend_.open_sql(testing::options([](auto& o) { o.pool_size = 1; })); });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(nodes[0]);
  EXPECT_EQ(nodes[0]->applied_migrations().size(),
            static_cast<std::size_t>(sql::SqlStore::latest_schema_version()));
}

// A database written before schema 4 (a row per history entry): the PostgreSQL spelling of
// migration 4 keeps every entry as the SQLite one does.
TEST_F(PostgresStore, UpgradingToARowPerStepKeepsEveryHistoryEntry) {
  for (const std::string& statement : testing::legacy_store(sql::Dialect::postgresql, 3)) {
    testing::postgres_exec(backend_.url(), statement);
  }
  auto store = backend_.open_sql(testing::options([](auto& o) { o.migrate = false; }));
  const auto applied = store->migrate();
  ASSERT_EQ(applied.size(), 7u);
  for (std::size_t i = 0; i < applied.size(); ++i) {
    EXPECT_EQ(applied[i].version, static_cast<int>(4 + i));
  }
  testing::expect_legacy_history_kept(*store);
}

// Nodes claiming at the same moment never get the same timer (SKIP LOCKED skips rows another
// claim has locked instead of waiting for it and then taking them again), and between them they
// get all of the due ones. A node's claim includes its own leases, so each node claims once.
TEST_F(PostgresStore, ConcurrentClaimsFromSeveralNodesAreDisjoint) {
  auto setup = backend_.open_sql();
  Commit c;
  c.instance.id = "c-1";
  c.instance.workflow = "complaint";
  c.instance.revision = 1;
  for (std::uint64_t i = 1; i <= 200; ++i) {
    c.armed.push_back({"c-1", i, kT0 + std::chrono::milliseconds(i)});
  }
  ASSERT_EQ(setup->commit(c), CommitResult::ok);

  constexpr int kNodes = 4;
  std::vector<std::unique_ptr<sql::SqlStore>> nodes;
  for (int n = 0; n < kNodes; ++n) {
    nodes.push_back(backend_.open_sql(testing::options([](auto& o) {
      o.pool_size = 1;
      o.migrate = false;
    })));
  }
  std::vector<std::vector<DueTimer>> got(kNodes);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int n = 0; n < kNodes; ++n) {
    threads.emplace_back([&, n] {
      ++ready;
      while (ready < kNodes) std::this_thread::yield();  // start together
      got[n] = nodes[n]->claim_timers({.node = "node-" + std::to_string(n),
                                       .until = kT0 + std::chrono::seconds(1),
                                       .now = kT0,
                                       .lease_until = kT0 + std::chrono::minutes(1),
                                       .renew_before = kT0 + std::chrono::minutes(1),
                                       .limit = 60});
    });
  }
  for (auto& t : threads) t.join();

  std::map<std::uint64_t, int> owner;
  for (int n = 0; n < kNodes; ++n) {
    for (const auto& t : got[n]) {
      auto [it, fresh] = owner.emplace(t.timer_id, n);
      EXPECT_TRUE(fresh) << "timer " << t.timer_id << " leased to node " << it->second
                         << " and node " << n;
    }
  }
  EXPECT_EQ(owner.size(), 200u);
}

// The server drops the store's connection (a restart, a failover, pg_terminate_backend): the
// node carries on, on a connection opened again, without being restarted.
TEST_F(PostgresStore, AConnectionTheServerDroppedIsOpenedAgain) {
  const std::string app = "ombud_revive_" + std::to_string(::getpid());
  auto store = sql::open_store(backend_.url() + "&application_name=" + app,
                               testing::options([](auto& o) { o.pool_size = 3; }));
  const auto drop = [&] {
    EXPECT_EQ(testing::postgres_query(backend_.url(),
                                      "SELECT count(pg_terminate_backend(pid)) FROM "
                                      "pg_stat_activity WHERE application_name = '" +
                                          app + "'"),
              "3");
  };
  // Every connection of the pool in use once, so that all three are open when dropped.
  const auto use_all = [&] {
    std::vector<std::thread> readers;
    std::atomic<int> loaded{0};
    for (int i = 0; i < 3; ++i) {
      readers.emplace_back([&] {
        for (int k = 0; k < 20; ++k) loaded += store->load("c-1").has_value() ? 1 : 0;
      });
    }
    for (auto& t : readers) t.join();
    return loaded.load();
  };
  Commit c;
  c.instance.id = "c-1";
  c.instance.workflow = "complaint";
  c.instance.revision = 1;
  ASSERT_EQ(store->commit(c), CommitResult::ok);

  ASSERT_EQ(use_all(), 60);
  // Reads are made again on new connections, from several threads at once: the callers see
  // nothing.
  drop();
  EXPECT_EQ(use_all(), 60);
  EXPECT_EQ(store->pending_timers(), 0U);

  // A commit is not made again (it may have reached the server): this one fails, and says so;
  // the next one works, with statements prepared anew.
  drop();
  Commit next = c;
  next.expected_revision = 1;
  next.instance.revision = 2;
  EXPECT_THROW(store->commit(next), sql::StoreError);
  EXPECT_EQ(store->commit(next), CommitResult::ok);
  EXPECT_EQ(store->load("c-1")->revision, 2);
}

TEST_F(PostgresStore, AConnectionFailureIsAStoreErrorNamingTheUrl) {
  try {
    sql::open_store("postgresql://nobody:pw@127.0.0.1:1/none?connect_timeout=2");
    FAIL() << "connected to port 1";
  } catch (const sql::StoreError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("nobody:***@127.0.0.1:1/none"));
    EXPECT_THAT(e.what(), ::testing::Not(::testing::HasSubstr(":pw@")));
  }
}

}  // namespace
}  // namespace ombud
