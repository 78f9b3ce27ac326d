#include "engine/batch_store.h"

namespace ombud {

CommitResult BatchStore::flush() {
  if (commits_.empty()) return CommitResult::ok;
  std::vector<Commit> commits = std::move(commits_);
  discard();
  return base_.commit_all(commits);
}

void BatchStore::discard() {
  commits_.clear();
  instances_.clear();
  counters_.clear();
  idempotency_.clear();
  keys_used_.clear();
  fired_.clear();
  open_cases_delta_.clear();
  earliest_armed_.reset();
}

std::int64_t BatchStore::get(std::string_view counter) const {
  auto it = counters_.find(counter);
  return it != counters_.end() ? it->second : base_.get(counter);
}

std::optional<Instance> BatchStore::load(const std::string& id) const {
  auto it = instances_.find(id);
  if (it != instances_.end()) return it->second;
  return base_.load(id);
}

std::optional<std::string> BatchStore::find_open_by_key(const std::string& workflow,
                                                        const std::string& key) const {
  // An instance this batch touched is judged by its batch version; the batch holds few.
  for (const auto& [id, in] : instances_) {
    if (!in.ended && in.workflow == workflow && in.key == key) return id;
  }
  auto found = base_.find_open_by_key(workflow, key);
  if (found && instances_.count(*found) > 0) return std::nullopt;  // ended within the batch
  return found;
}

bool BatchStore::key_used(const std::string& workflow, const std::string& key) const {
  return keys_used_.count({workflow, key}) > 0 || base_.key_used(workflow, key);
}

std::optional<boost::json::object> BatchStore::idempotent_response(const std::string& key) const {
  auto it = idempotency_.find(key);
  if (it != idempotency_.end()) return it->second;
  return base_.idempotent_response(key);
}

int BatchStore::open_cases(std::string_view person) const {
  auto it = open_cases_delta_.find(person);
  return base_.open_cases(person) + (it == open_cases_delta_.end() ? 0 : it->second);
}

CommitResult BatchStore::commit(const Commit& c) {
  // The checks the store beneath would make, against what this batch knows; the flush makes
  // them again against the database.
  const std::optional<Instance> current = load(c.instance.id);
  const std::uint64_t revision = current ? current->revision : 0;
  if (revision != c.expected_revision) return CommitResult::conflict;
  if (c.fired && fired_.count({c.fired->instance_id, c.fired->timer_id}) > 0) {
    return CommitResult::conflict;
  }
  if (!c.idempotency_key.empty() && idempotent_response(c.idempotency_key)) {
    return CommitResult::conflict;
  }
  for (const auto& w : c.counters) {
    if (get(w.name) != w.expected) return CommitResult::conflict;
  }
  if (current && !current->ended && !current->assignee.empty()) {
    open_cases_delta_[current->assignee] -= 1;
  }
  if (!c.instance.ended && !c.instance.assignee.empty()) {
    open_cases_delta_[c.instance.assignee] += 1;
  }
  instances_[c.instance.id] = c.instance;
  for (const auto& u : c.counters) counters_[u.name] = u.value;
  if (!c.idempotency_key.empty()) idempotency_[c.idempotency_key] = c.response;
  if (!c.instance.key.empty()) keys_used_.insert({c.instance.workflow, c.instance.key});
  if (c.fired) fired_.insert({c.fired->instance_id, c.fired->timer_id});
  for (const auto& t : c.armed) {
    if (!earliest_armed_ || t.due < *earliest_armed_) earliest_armed_ = t.due;
  }
  commits_.push_back(c);
  return CommitResult::ok;
}

CommitResult BatchStore::commit_all(std::span<const Commit> commits) {
  // Used by nobody inside a batch; kept atomic all the same.
  const std::size_t before = commits_.size();
  for (const auto& c : commits) {
    if (commit(c) == CommitResult::conflict) {
      // Rebuild the overlay from the commits that stay.
      std::vector<Commit> keep(commits_.begin(), commits_.begin() + static_cast<long>(before));
      discard();
      for (const auto& k : keep) (void)commit(k);
      return CommitResult::conflict;
    }
  }
  return CommitResult::ok;
}

}  // namespace ombud
