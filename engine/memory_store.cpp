#include "engine/memory_store.h"

namespace ombud {

std::int64_t MemoryStore::get(std::string_view counter) const {
  auto it = counters_.find(counter);
  return it == counters_.end() ? 0 : it->second;
}

std::optional<Instance> MemoryStore::load(const std::string& id) const {
  auto it = instances_.find(id);
  if (it == instances_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> MemoryStore::find_open_by_key(const std::string& workflow,
                                                         const std::string& key) const {
  for (const auto& [id, in] : instances_) {
    if (!in.ended && in.workflow == workflow && in.key == key) return id;
  }
  return std::nullopt;
}

bool MemoryStore::key_used(const std::string& workflow, const std::string& key) const {
  return keys_used_.count({workflow, key}) > 0;
}

std::optional<boost::json::object> MemoryStore::idempotent_response(const std::string& key) const {
  auto it = idempotency_.find(key);
  if (it == idempotency_.end()) return std::nullopt;
  return it->second;
}

CommitResult MemoryStore::commit(const Commit& c) {
  auto it = instances_.find(c.instance.id);
  const std::uint64_t current = it == instances_.end() ? 0 : it->second.revision;
  if (current != c.expected_revision) return CommitResult::conflict;
  if (it != instances_.end() && !it->second.ended && !it->second.assignee.empty()) {
    open_cases_[it->second.assignee] -= 1;
  }
  if (!c.instance.ended && !c.instance.assignee.empty()) open_cases_[c.instance.assignee] += 1;
  instances_[c.instance.id] = c.instance;
  if (!c.instance.key.empty()) keys_used_.insert({c.instance.workflow, c.instance.key});
  auto& h = history_[c.instance.id];
  h.insert(h.end(), c.history.begin(), c.history.end());
  for (const auto& t : c.cancelled) timers_.erase({t.due, t.instance_id, t.timer_id});
  for (const auto& t : c.armed) timers_.insert({t.due, t.instance_id, t.timer_id});
  for (const auto& u : c.counters) counters_[u.name] = u.value;
  if (!c.idempotency_key.empty()) idempotency_[c.idempotency_key] = c.response;
  return CommitResult::ok;
}

std::vector<DueTimer> MemoryStore::due_timers(Timestamp until, std::size_t limit) const {
  std::vector<DueTimer> out;
  for (const auto& [due, id, timer] : timers_) {
    if (due > until || out.size() >= limit) break;
    out.push_back({id, timer, due});
  }
  return out;
}

std::optional<Timestamp> MemoryStore::next_timer_due() const {
  if (timers_.empty()) return std::nullopt;
  return std::get<0>(*timers_.begin());
}

std::vector<HistoryEntry> MemoryStore::history(const std::string& instance_id) const {
  auto it = history_.find(instance_id);
  return it == history_.end() ? std::vector<HistoryEntry>{} : it->second;
}

int MemoryStore::open_cases(std::string_view person) const {
  auto it = open_cases_.find(person);
  return it == open_cases_.end() ? 0 : it->second;
}

std::vector<std::string> MemoryStore::instance_ids() const {
  std::vector<std::string> ids;
  for (const auto& [id, in] : instances_) ids.push_back(id);
  return ids;
}

}  // namespace ombud
