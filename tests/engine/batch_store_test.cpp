// The group commit's batch (BatchStore): what it asks the store beneath, and that an answer the
// store gave before the sealed batch was written is not trusted after it.
#include "engine/batch_store.h"

#include <gtest/gtest.h>

#include <vector>

#include "engine/memory_store.h"

namespace ombud {
namespace {

const Timestamp kT0 = *parse_timestamp("2026-11-23T09:00:00Z");

// A memory store that counts the questions it is asked one by one and in one go.
class CountingStore final : public MemoryStore {
 public:
  std::optional<std::string> find_open_by_key(const std::string& workflow,
                                              const std::string& key) const override {
    ++open_by_key;
    return MemoryStore::find_open_by_key(workflow, key);
  }
  std::optional<boost::json::object> idempotent_response(const std::string& key) const override {
    ++responses;
    return MemoryStore::idempotent_response(key);
  }
  int open_cases(std::string_view person) const override {
    ++counts;
    return MemoryStore::open_cases(person);
  }
  ReadAheadAnswers read_ahead(const ReadAhead& ask) const override {
    ++read_aheads;
    asked.push_back(ask);
    // The answers of the questions one by one, not counted as such.
    ReadAheadAnswers out;
    for (const std::string& id : ask.instances) {
      if (auto in = MemoryStore::load(id)) out.instances.push_back(std::move(*in));
    }
    for (const std::string& key : ask.idempotency_keys) {
      if (auto r = MemoryStore::idempotent_response(key)) out.responses[key] = std::move(*r);
    }
    for (const auto& [workflow, key] : ask.open_keys) {
      if (auto id = MemoryStore::find_open_by_key(workflow, key)) {
        out.open[{workflow, key}] = std::move(*id);
      }
    }
    return out;
  }

  mutable int open_by_key = 0;
  mutable int responses = 0;
  mutable int counts = 0;
  mutable int read_aheads = 0;
  mutable std::vector<ReadAhead> asked;
};

Commit opened(const std::string& id, const std::string& phone, const std::string& assignee) {
  Commit c;
  c.instance.id = id;
  c.instance.workflow = "complaint";
  c.instance.version = 1;
  c.instance.state = "assigned";
  c.instance.key = phone;
  c.instance.assignee = assignee;
  c.instance.created_at = c.instance.updated_at = kT0;
  c.instance.revision = 1;
  c.history.push_back({kT0, "started", "started", {}});
  return c;
}

TEST(BatchStore, AssignmentLoadsAreAskedOncePerPersonAndBatchAndCountTheBatchsOwnCases) {
  CountingStore base;
  ASSERT_EQ(base.commit(opened("complaint-1", "13800000001", "li.na")), CommitResult::ok);
  BatchStore batch(base);

  EXPECT_EQ(batch.open_cases("li.na"), 1);
  EXPECT_EQ(batch.open_cases("li.na"), 1);
  EXPECT_EQ(base.counts, 1);
  ASSERT_EQ(batch.commit(opened("complaint-2", "13800000002", "li.na")), CommitResult::ok);
  EXPECT_EQ(batch.open_cases("li.na"), 2);
  EXPECT_EQ(batch.open_cases("wang.fang"), 0);
  EXPECT_EQ(base.counts, 2);

  // A new batch asks again: the store beneath may have changed meanwhile.
  ASSERT_EQ(batch.flush(), CommitResult::ok);
  EXPECT_EQ(batch.open_cases("li.na"), 2);
  EXPECT_EQ(base.counts, 3);
}

TEST(BatchStore, ReadAheadAsksOnceAndItsAnswersAreForgottenWhenTheSealedBatchLands) {
  CountingStore base;
  BatchStore batch(base);
  // The batch being written: it opens complaint-1 for 13800000001 under idempotency key call-1.
  Commit first = opened("complaint-1", "13800000001", "li.na");
  first.idempotency_key = "call-1";
  first.response = {{"instance", "complaint-1"}};
  ASSERT_EQ(batch.commit(first), CommitResult::ok);
  const std::span<const Commit> sealed = batch.seal();
  base.responses = 0;  // its commit asked for call-1

  // The next batch reads ahead while it is written.
  ReadAhead ask;
  ask.idempotency_keys = {"call-1", "call-2", "call-2"};
  ask.open_keys = {{"complaint", "13800000001"}, {"complaint", "13800000002"}};
  batch.prefetch(ask);
  ASSERT_EQ(base.read_aheads, 1);
  // call-1 is the sealed batch's own: the store beneath is not asked about it.
  EXPECT_EQ(base.asked[0].idempotency_keys, std::vector<std::string>{"call-2"});
  EXPECT_EQ(base.asked[0].open_keys.size(), 2u);

  EXPECT_FALSE(batch.idempotent_response("call-2"));
  EXPECT_EQ(*batch.idempotent_response("call-1"), first.response);
  EXPECT_EQ(batch.find_open_by_key("complaint", "13800000001"), "complaint-1");
  EXPECT_FALSE(batch.find_open_by_key("complaint", "13800000002"));
  EXPECT_EQ(base.responses, 0);
  EXPECT_EQ(base.open_by_key, 0);
  batch.prefetch(ask);  // asked already
  EXPECT_EQ(base.read_aheads, 1);

  // The sealed batch is written and lands: the store beneath told "no open case for
  // 13800000001" before it held complaint-1, so that answer must not outlive the sealed layer
  // (a second complaint for the number would be opened).
  ASSERT_EQ(base.commit_all(sealed), CommitResult::ok);
  batch.landed(true);
  EXPECT_EQ(batch.find_open_by_key("complaint", "13800000001"), "complaint-1");
  EXPECT_EQ(*batch.idempotent_response("call-1"), first.response);
  EXPECT_EQ(base.open_by_key, 1);
  EXPECT_EQ(base.responses, 1);
}

TEST(BatchStore, AStepsSecondIdempotencyQuestionIsNotAskedBelow) {
  CountingStore base;
  BatchStore batch(base);
  EXPECT_FALSE(batch.idempotent_response("call-5"));  // the step asks before it runs
  Commit c = opened("complaint-1", "13800000001", "");
  c.idempotency_key = "call-5";
  c.response = {{"instance", "complaint-1"}};
  ASSERT_EQ(batch.commit(c), CommitResult::ok);  // and its commit asks again
  EXPECT_EQ(base.responses, 1);
  EXPECT_EQ(*batch.idempotent_response("call-5"), c.response);

  // The same key again in the same batch is refused.
  Commit again = opened("complaint-2", "13800000002", "");
  again.idempotency_key = "call-5";
  EXPECT_EQ(batch.commit(again), CommitResult::conflict);
}

}  // namespace
}  // namespace ombud
