// The SQL store from many threads at once: group commits of different instances all land, and of
// several threads racing on one instance exactly one wins.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/adapters/sql/store_backends.h"

namespace ombud {
namespace {

const Timestamp kT0 = *parse_timestamp("2026-11-23T09:00:00Z");
constexpr int kThreads = 4;
constexpr int kBatches = 10;
constexpr int kBatchSize = 3;

Commit started(const std::string& id) {
  Commit c;
  c.instance.id = id;
  c.instance.workflow = "complaint";
  c.instance.state = "intake";
  c.instance.revision = 1;
  c.instance.created_at = c.instance.updated_at = kT0;
  c.actor = "api";
  c.history.push_back({kT0, "started", "started", {}});
  c.armed.push_back({id, 1, kT0 + std::chrono::hours(1)});
  c.notifications.push_back({"new_case", {"li.wei"}, "role:supervisor", "", ""});
  return c;
}

template <class Backend>
class StoreConcurrency : public ::testing::Test {
 protected:
  Backend backend_;
};

using SqlBackends = ::testing::Types<testing::SqliteBackend, testing::PostgresBackend>;
TYPED_TEST_SUITE(StoreConcurrency, SqlBackends, testing::BackendName);

TYPED_TEST(StoreConcurrency, GroupCommitsFromManyThreadsAllLand) {
  auto store = this->backend_.open_sql();
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<Commit> batch;
        for (int i = 0; i < kBatchSize; ++i) {
          batch.push_back(started("c-" + std::to_string(t) + "-" + std::to_string(b) + "-" +
                                  std::to_string(i)));
        }
        // Each thread has a counter of its own: the last batch's value must be the one kept.
        batch.back().counters.push_back({"thread." + std::to_string(t), b, b + 1});
        if (store->commit_all(batch) != CommitResult::ok) ++conflicts;
      }
    });
  }
  for (auto& th : threads) th.join();

  EXPECT_EQ(conflicts, 0);
  constexpr std::size_t kTotal = kThreads * kBatches * kBatchSize;
  InstanceFilter all;
  all.limit = 1000;
  EXPECT_EQ(store->find_instances(all).size(), kTotal);
  EXPECT_EQ(store->pending_timers(), kTotal);
  EXPECT_EQ(store->outbox(false, 1000).size(), kTotal);
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(store->get("thread." + std::to_string(t)), kBatches);
  EXPECT_EQ(store->history("c-3-9-2").size(), 1u);
}

TYPED_TEST(StoreConcurrency, OfThreadsRacingOnOneRevisionExactlyOneWins) {
  auto store = this->backend_.open_sql();
  ASSERT_EQ(store->commit(started("c-1")), CommitResult::ok);
  std::atomic<int> won{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Commit c = started("c-1");
      c.expected_revision = 1;
      c.instance.revision = 2;
      c.instance.state = "by-" + std::to_string(t);
      c.fired = DueTimer{"c-1", 1, kT0 + std::chrono::hours(1)};
      c.armed.clear();
      if (store->commit(c) == CommitResult::ok) ++won;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(won, 1);
  EXPECT_EQ(store->load("c-1")->revision, 2u);
  EXPECT_EQ(store->history("c-1").size(), 2u);
  EXPECT_EQ(store->pending_timers(), 0u);
}

// Two nodes (stores of their own on one database) start a case for the same caller at the same
// moment: each looked and found none open, so only the database can tell them apart. Under
// one_open exactly one start lands; under unique likewise, and for ever.
TYPED_TEST(StoreConcurrency, OfNodesStartingACaseForOneKeyAtOnceOneWins) {
  for (const KeyPolicy policy : {KeyPolicy::one_open, KeyPolicy::unique}) {
    const std::string tag = policy == KeyPolicy::unique ? "u" : "o";
    std::vector<std::unique_ptr<sql::SqlStore>> nodes;
    for (int t = 0; t < kThreads; ++t) nodes.push_back(this->backend_.open_sql());
    for (int round = 0; round < 5; ++round) {
      const std::string key = "1380000" + tag + std::to_string(round);
      std::atomic<int> won{0};
      std::vector<std::thread> threads;
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
          Commit c = started(tag + "-" + std::to_string(round) + "-" + std::to_string(t));
          c.instance.key = key;
          c.key_policy = policy;
          if (nodes[static_cast<std::size_t>(t)]->commit(c) == CommitResult::ok) ++won;
        });
      }
      for (auto& th : threads) th.join();
      EXPECT_EQ(won, 1) << "key " << key;
    }
  }
}

}  // namespace
}  // namespace ombud
