// A Store kept in memory: what `ombud simulate` and the engine tests run on, and the reference
// behaviour the SQL store must match. Commits are atomic (they either apply entirely or report a
// conflict and change nothing). Not thread-safe.
#pragma once

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "engine/store.h"

namespace ombud {

class MemoryStore final : public Store {
 public:
  std::int64_t get(std::string_view counter) const override;
  std::optional<Instance> load(const std::string& id) const override;
  std::optional<std::string> find_open_by_key(const std::string& workflow,
                                              const std::string& key) const override;
  bool key_used(const std::string& workflow, const std::string& key) const override;
  std::optional<boost::json::object> idempotent_response(const std::string& key) const override;
  CommitResult commit(const Commit& commit) override;
  std::vector<DueTimer> due_timers(Timestamp until, std::size_t limit) const override;
  std::optional<Timestamp> next_timer_due() const override;
  std::vector<HistoryEntry> history(const std::string& instance_id) const override;
  int open_cases(std::string_view person) const override;

  std::vector<std::string> instance_ids() const;

 private:
  std::map<std::string, Instance> instances_;
  std::map<std::string, std::vector<HistoryEntry>> history_;
  // (due, instance, timer id): iteration order is firing order.
  std::set<std::tuple<Timestamp, std::string, std::uint64_t>> timers_;
  std::map<std::string, std::int64_t, std::less<>> counters_;
  std::map<std::string, boost::json::object> idempotency_;
  std::set<std::pair<std::string, std::string>> keys_used_;
  std::map<std::string, int, std::less<>> open_cases_;
};

}  // namespace ombud
