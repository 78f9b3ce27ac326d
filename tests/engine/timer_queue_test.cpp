#include "engine/timer_queue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace ombud {
namespace {

using testing::ElementsAre;
using testing::IsEmpty;

constexpr std::size_t kAll = std::numeric_limits<std::size_t>::max();

Timestamp at(std::int64_t ms) { return Timestamp{Millis{ms}}; }

TimerKey key(std::uint64_t instance, std::uint64_t timer = 1) { return TimerKey{instance, timer}; }

// "due@instance/timer" per timer, so a failing comparison reads as a timeline.
std::vector<std::string> timeline(const std::vector<DueEntry>& timers) {
  std::vector<std::string> out;
  out.reserve(timers.size());
  for (const DueEntry& t : timers) {
    out.push_back(std::to_string(t.due.time_since_epoch().count()) + "@" +
                  std::to_string(t.key.instance) + "/" + std::to_string(t.key.timer));
  }
  return out;
}

std::vector<std::string> pop_all(TimerQueue& q) {
  return timeline(q.pop_due(at(std::numeric_limits<std::int64_t>::max()), kAll));
}

TEST(TimerQueue, StartsEmpty) {
  TimerQueue q;
  EXPECT_EQ(q.size(), 0u);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.next_due(), std::nullopt);
  EXPECT_THAT(q.pop_due(at(1000), 10), IsEmpty());
}

TEST(TimerQueue, PopsInDueOrder) {
  TimerQueue q;
  q.insert(at(30), key(3));
  q.insert(at(10), key(1));
  q.insert(at(20), key(2));
  EXPECT_EQ(q.size(), 3u);
  EXPECT_THAT(pop_all(q), ElementsAre("10@1/1", "20@2/1", "30@3/1"));
  EXPECT_TRUE(q.empty());
}

TEST(TimerQueue, EqualDueTimesPopInInsertionOrder) {
  TimerQueue q;
  for (std::uint64_t i : {7, 3, 9, 1, 5}) q.insert(at(100), key(i));
  q.insert(at(50), key(2));
  EXPECT_THAT(pop_all(q),
              ElementsAre("50@2/1", "100@7/1", "100@3/1", "100@9/1", "100@1/1", "100@5/1"));
}

TEST(TimerQueue, InsertTellsWhetherTheKeyWasNew) {
  TimerQueue q;
  EXPECT_TRUE(q.insert(at(10), key(1)));
  EXPECT_TRUE(q.insert(at(10), key(1, 2)));
  EXPECT_FALSE(q.insert(at(20), key(1)));
  EXPECT_EQ(q.size(), 2u);
}

TEST(TimerQueue, KeysDifferingInInstanceOrTimerAreDistinct) {
  TimerQueue q;
  q.insert(at(1), key(1, 2));
  q.insert(at(2), key(2, 1));
  q.insert(at(3), key(1, 1));
  EXPECT_THAT(pop_all(q), ElementsAre("1@1/2", "2@2/1", "3@1/1"));
}

TEST(TimerQueue, ReinsertMovesTheTimerEarlier) {
  TimerQueue q;
  q.insert(at(10), key(1));
  q.insert(at(20), key(2));
  q.insert(at(30), key(3));
  q.insert(at(5), key(3));
  EXPECT_EQ(q.next_due(), at(5));
  EXPECT_THAT(pop_all(q), ElementsAre("5@3/1", "10@1/1", "20@2/1"));
}

TEST(TimerQueue, ReinsertMovesTheTimerLater) {
  TimerQueue q;
  q.insert(at(10), key(1));
  q.insert(at(20), key(2));
  q.insert(at(30), key(3));
  q.insert(at(25), key(1));
  EXPECT_EQ(q.due_of(key(1)), at(25));
  EXPECT_THAT(pop_all(q), ElementsAre("20@2/1", "25@1/1", "30@3/1"));
}

TEST(TimerQueue, ReinsertAtTheSameTimeCountsAsANewInsertion) {
  TimerQueue q;
  q.insert(at(10), key(1));
  q.insert(at(10), key(2));
  q.insert(at(10), key(3));
  q.insert(at(10), key(1));
  EXPECT_THAT(pop_all(q), ElementsAre("10@2/1", "10@3/1", "10@1/1"));
}

TEST(TimerQueue, CancelRemovesOnlyThatTimer) {
  TimerQueue q;
  q.insert(at(10), key(1));
  q.insert(at(20), key(2));
  q.insert(at(30), key(3));
  EXPECT_TRUE(q.cancel(key(2)));
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.due_of(key(2)), std::nullopt);
  EXPECT_THAT(pop_all(q), ElementsAre("10@1/1", "30@3/1"));
}

TEST(TimerQueue, CancellingTheEarliestMovesNextDue) {
  TimerQueue q;
  q.insert(at(10), key(1));
  q.insert(at(20), key(2));
  ASSERT_EQ(q.next_due(), at(10));
  q.cancel(key(1));
  EXPECT_EQ(q.next_due(), at(20));
  q.cancel(key(2));
  EXPECT_EQ(q.next_due(), std::nullopt);
}

TEST(TimerQueue, CancelOfAnUnknownKeyIsANoOp) {
  TimerQueue q;
  EXPECT_FALSE(q.cancel(key(1)));  // nothing allocated yet
  q.insert(at(10), key(1));
  EXPECT_FALSE(q.cancel(key(1, 2)));
  EXPECT_FALSE(q.cancel(key(2, 1)));
  EXPECT_EQ(q.size(), 1u);
  EXPECT_TRUE(q.cancel(key(1)));
  EXPECT_FALSE(q.cancel(key(1)));
  EXPECT_TRUE(q.empty());
}

TEST(TimerQueue, ACancelledKeyCanBeQueuedAgain) {
  TimerQueue q;
  q.insert(at(10), key(1));
  q.cancel(key(1));
  EXPECT_TRUE(q.insert(at(40), key(1)));
  EXPECT_THAT(pop_all(q), ElementsAre("40@1/1"));
}

TEST(TimerQueue, PopDueTakesOnlyTimersDueAtOrBeforeNow) {
  TimerQueue q;
  q.insert(at(10), key(1));
  q.insert(at(20), key(2));
  q.insert(at(21), key(3));
  EXPECT_THAT(q.pop_due(at(9), kAll), IsEmpty());
  EXPECT_THAT(timeline(q.pop_due(at(20), kAll)), ElementsAre("10@1/1", "20@2/1"));
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.next_due(), at(21));
}

TEST(TimerQueue, PopDueTakesAtMostMax) {
  TimerQueue q;
  for (std::uint64_t i = 1; i <= 5; ++i) q.insert(at(static_cast<std::int64_t>(i)), key(i));
  EXPECT_THAT(q.pop_due(at(100), 0), IsEmpty());
  EXPECT_THAT(timeline(q.pop_due(at(100), 2)), ElementsAre("1@1/1", "2@2/1"));
  EXPECT_THAT(timeline(q.pop_due(at(100), 2)), ElementsAre("3@3/1", "4@4/1"));
  EXPECT_THAT(timeline(q.pop_due(at(100), 2)), ElementsAre("5@5/1"));
  EXPECT_TRUE(q.empty());
}

TEST(TimerQueue, PopDueAppendsToTheCallersBuffer) {
  TimerQueue q;
  q.insert(at(10), key(1));
  q.insert(at(20), key(2));
  std::vector<DueEntry> out{DueEntry{at(1), key(99)}};
  EXPECT_EQ(q.pop_due(at(15), kAll, out), 1u);
  EXPECT_THAT(timeline(out), ElementsAre("1@99/1", "10@1/1"));
}

TEST(TimerQueue, PoppedKeysAreGone) {
  TimerQueue q;
  q.insert(at(10), key(1));
  q.pop_due(at(10), kAll);
  EXPECT_EQ(q.due_of(key(1)), std::nullopt);
  EXPECT_FALSE(q.cancel(key(1)));
  EXPECT_TRUE(q.insert(at(30), key(1)));
}

TEST(TimerQueue, DueTimesBeforeTheEpochOrderToo) {
  // Overdue timers found at start-up may be far in the past; nothing assumes positive times.
  TimerQueue q;
  q.insert(at(5), key(1));
  q.insert(at(-5), key(2));
  q.insert(at(std::numeric_limits<std::int64_t>::min()), key(3));
  EXPECT_EQ(q.next_due(), at(std::numeric_limits<std::int64_t>::min()));
  EXPECT_THAT(
      timeline(q.pop_due(at(0), kAll)),
      ElementsAre(std::to_string(std::numeric_limits<std::int64_t>::min()) + "@3/1", "-5@2/1"));
}

TEST(TimerQueue, RenumberingSequencesKeepsTheOrderOfTies) {
  TimerQueue q(4);  // renumber after every 4 inserts
  for (std::uint64_t i = 1; i <= 6; ++i) q.insert(at(100), key(i));
  for (std::uint64_t i = 7; i <= 9; ++i) q.insert(at(50), key(i));
  q.insert(at(100), key(2));  // moves to the back of the 100s
  q.cancel(key(4));
  for (std::uint64_t i = 10; i <= 12; ++i) q.insert(at(100), key(i));
  EXPECT_THAT(pop_all(q), ElementsAre("50@7/1", "50@8/1", "50@9/1", "100@1/1", "100@3/1", "100@5/1",
                                      "100@6/1", "100@2/1", "100@10/1", "100@11/1", "100@12/1"));
}

TEST(TimerQueue, ManyTimersPopInOrder) {
  TimerQueue q;
  std::mt19937_64 rng(42);
  std::vector<std::int64_t> dues;
  for (std::uint64_t i = 0; i < 20000; ++i) {
    const auto due = static_cast<std::int64_t>(rng() % 100000);
    dues.push_back(due);
    q.insert(at(due), key(i / 7, i % 7));
  }
  std::sort(dues.begin(), dues.end());
  std::vector<std::int64_t> popped;
  for (const DueEntry& t : q.pop_due(at(100000), kAll)) {
    popped.push_back(t.due.time_since_epoch().count());
  }
  EXPECT_EQ(popped, dues);
}

TEST(TimerQueue, ReserveMakesRoomUpFront) {
  TimerQueue q;
  q.reserve(1000);
  const std::size_t reserved = q.allocated_bytes();
  EXPECT_GE(reserved, 1000u * (16 + 24 + 4));
  for (std::uint64_t i = 0; i < 1000; ++i) q.insert(at(static_cast<std::int64_t>(i)), key(i));
  EXPECT_EQ(q.allocated_bytes(), reserved);
}

// ---- Against a reference model ------------------------------------------------------------------

// The obvious implementation: a multimap keeps equal due times in insertion order (emplace puts
// a new element at the end of its equal range), and a map finds a key's element.
class ReferenceTimers {
 public:
  bool insert(Timestamp due, TimerKey k) {
    const bool fresh = cancel(k) == false;
    by_key_[{k.instance, k.timer}] = by_due_.emplace(due, k);
    return fresh;
  }
  bool cancel(TimerKey k) {
    const auto it = by_key_.find({k.instance, k.timer});
    if (it == by_key_.end()) return false;
    by_due_.erase(it->second);
    by_key_.erase(it);
    return true;
  }
  std::vector<DueEntry> pop_due(Timestamp now, std::size_t max) {
    std::vector<DueEntry> out;
    while (out.size() < max && !by_due_.empty() && by_due_.begin()->first <= now) {
      const auto [due, k] = *by_due_.begin();
      out.push_back(DueEntry{due, k});
      cancel(k);
    }
    return out;
  }
  std::optional<Timestamp> next_due() const {
    if (by_due_.empty()) return std::nullopt;
    return by_due_.begin()->first;
  }
  std::optional<Timestamp> due_of(TimerKey k) const {
    const auto it = by_key_.find({k.instance, k.timer});
    if (it == by_key_.end()) return std::nullopt;
    return it->second->first;
  }
  std::size_t size() const { return by_due_.size(); }

 private:
  using ByDue = std::multimap<Timestamp, TimerKey>;
  ByDue by_due_;
  std::map<std::pair<std::uint64_t, std::uint64_t>, ByDue::iterator> by_key_;
};

// 100k random operations against both, comparing every answer. Due times fall on a 10 ms grid
// so that ties are common, some are already past, and keys come from a pool small enough that
// re-inserts and cancels of queued keys happen often.
void compare_with_reference(TimerQueue& q, std::uint64_t seed) {
  ReferenceTimers ref;
  std::mt19937_64 rng(seed);
  auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  auto random_key = [&] {
    return key(static_cast<std::uint64_t>(uniform(0, 299)),
               static_cast<std::uint64_t>(uniform(0, 39)));
  };
  std::int64_t now = 0;
  std::size_t max_size = 0;
  std::size_t popped = 0;
  for (int op = 0; op < 100000; ++op) {
    now += uniform(0, 4);
    const std::int64_t dice = uniform(0, 99);
    if (dice < 50) {
      const Timestamp due = at((now + uniform(-30, 20000)) / 10 * 10);
      const TimerKey k = random_key();
      ASSERT_EQ(q.insert(due, k), ref.insert(due, k)) << "op " << op;
    } else if (dice < 75) {
      const TimerKey k = random_key();
      ASSERT_EQ(q.cancel(k), ref.cancel(k)) << "op " << op;
    } else if (dice < 90) {
      const auto max = static_cast<std::size_t>(uniform(0, 30));
      const std::vector<DueEntry> expected = ref.pop_due(at(now), max);
      popped += expected.size();
      ASSERT_EQ(timeline(q.pop_due(at(now), max)), timeline(expected)) << "op " << op;
    } else {
      const TimerKey k = random_key();
      ASSERT_EQ(q.due_of(k), ref.due_of(k)) << "op " << op;
    }
    ASSERT_EQ(q.size(), ref.size()) << "op " << op;
    ASSERT_EQ(q.next_due(), ref.next_due()) << "op " << op;
    max_size = std::max(max_size, q.size());
  }
  ASSERT_EQ(pop_all(q), timeline(ref.pop_due(at(std::numeric_limits<std::int64_t>::max()), kAll)));
  // The run must have exercised what it claims to: a queue of thousands, and many pops.
  EXPECT_GT(max_size, 1500u) << max_size;
  EXPECT_GT(popped, 20000u) << popped;
}

TEST(TimerQueue, MatchesAReferenceModelOver100kRandomOperations) {
  TimerQueue q;
  compare_with_reference(q, 20240601);
}

TEST(TimerQueue, MatchesAReferenceModelWhileRenumberingOften) {
  TimerQueue q(5000);
  compare_with_reference(q, 7);
}

}  // namespace
}  // namespace ombud
