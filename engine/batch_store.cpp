#include "engine/batch_store.h"

#include <algorithm>
#include <iterator>

namespace ombud {

CommitResult BatchStore::flush() {
  if (commits_.empty()) return CommitResult::ok;
  std::vector<Commit> commits = std::move(commits_);
  discard();
  CommitResult result = CommitResult::conflict;
  try {
    result = base_.commit_all(commits);
  } catch (...) {
    forget_committed();  // the database may or may not hold the batch: trust nothing kept
    throw;
  }
  if (result == CommitResult::conflict) {
    forget_committed();
  } else {
    for (Commit& c : commits) {  // later commits of one id win
      const std::string id = c.instance.id;
      committed_.put(id, std::move(c.instance));
    }
  }
  return result;
}

void BatchStore::prefetch(std::span<const std::string> ids) {
  std::vector<std::string> wanted;
  for (const std::string& id : ids) {
    if (id.empty() || instances_.count(id) > 0 || committed_.contains(id) ||
        prefetched_.count(id) > 0) {
      continue;
    }
    wanted.push_back(id);
  }
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  if (wanted.empty()) return;
  for (Instance& in : base_.load_many(wanted)) {
    std::string id = in.id;
    prefetched_.insert_or_assign(std::move(id), std::move(in));
  }
}

void BatchStore::remember_committed(std::size_t capacity) { committed_.set_capacity(capacity); }

void BatchStore::forget_committed() { committed_.clear(); }

void BatchStore::discard() {
  commits_.clear();
  instances_.clear();
  loaded_.clear();
  prefetched_.clear();
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
  if (it != instances_.end()) return commits_[it->second].instance;
  std::optional<Instance> found;
  if (const Instance* kept = committed_.find(id)) {
    found = *kept;
  } else if (auto read = prefetched_.find(id); read != prefetched_.end()) {
    found = std::move(read->second);
    prefetched_.erase(read);
  } else {
    found = base_.load(id);
  }
  if (found) loaded_[id] = {found->revision, found->ended, found->assignee};
  return found;
}

std::optional<std::string> BatchStore::find_open_by_key(const std::string& workflow,
                                                        const std::string& key) const {
  // An instance this batch touched is judged by its batch version; the batch holds few.
  for (const auto& [id, index] : instances_) {
    const Instance& in = commits_[index].instance;
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

CommitResult BatchStore::commit(const Commit& c) { return commit_owned(Commit(c)); }

CommitResult BatchStore::commit_owned(Commit&& c) {
  // The checks the store beneath would make, against what this batch knows; the flush makes
  // them again against the database. An instance is judged by its latest commit in this batch,
  // else by what the batch loaded. A new instance is not looked up: an id taken already makes
  // the flush conflict.
  Loaded current;
  bool exists = false;
  if (auto it = instances_.find(c.instance.id); it != instances_.end()) {
    const Instance& in = commits_[it->second].instance;
    current = {in.revision, in.ended, in.assignee};
    exists = true;
  } else if (auto seen = loaded_.find(c.instance.id); seen != loaded_.end()) {
    current = seen->second;
    exists = true;
  } else if (c.expected_revision != 0) {
    // Not loaded through this batch (a caller holding an instance of its own): ask the store.
    (void)load(c.instance.id);
    auto again = loaded_.find(c.instance.id);
    if (again == loaded_.end()) return CommitResult::conflict;
    current = again->second;
    exists = true;
  }
  if ((exists ? current.revision : 0) != c.expected_revision) return CommitResult::conflict;
  if (c.fired && fired_.count({c.fired->instance_id, c.fired->timer_id}) > 0) {
    return CommitResult::conflict;
  }
  if (!c.idempotency_key.empty() && idempotent_response(c.idempotency_key)) {
    return CommitResult::conflict;
  }
  for (const auto& w : c.counters) {
    if (get(w.name) != w.expected) return CommitResult::conflict;
  }
  if (exists && !current.ended && !current.assignee.empty()) {
    open_cases_delta_[current.assignee] -= 1;
  }
  if (!c.instance.ended && !c.instance.assignee.empty()) {
    open_cases_delta_[c.instance.assignee] += 1;
  }
  for (const auto& u : c.counters) counters_[u.name] = u.value;
  if (!c.idempotency_key.empty()) idempotency_[c.idempotency_key] = c.response;
  if (!c.instance.key.empty()) keys_used_.insert({c.instance.workflow, c.instance.key});
  if (c.fired) fired_.insert({c.fired->instance_id, c.fired->timer_id});
  for (const auto& t : c.armed) {
    if (!earliest_armed_ || t.due < *earliest_armed_) earliest_armed_ = t.due;
  }
  instances_[c.instance.id] = commits_.size();
  commits_.push_back(std::move(c));
  return CommitResult::ok;
}

CommitResult BatchStore::commit_all(std::span<const Commit> commits) {
  // Used by nobody inside a batch; kept atomic all the same.
  const std::size_t before = commits_.size();
  for (const auto& c : commits) {
    if (commit(c) == CommitResult::conflict) {
      // Rebuild the overlay from the commits that stay (what was loaded stays known).
      std::vector<Commit> keep(
          std::make_move_iterator(commits_.begin()),
          std::make_move_iterator(commits_.begin() + static_cast<long>(before)));
      auto loaded = std::move(loaded_);
      discard();
      loaded_ = std::move(loaded);
      for (auto& k : keep) (void)commit_owned(std::move(k));
      return CommitResult::conflict;
    }
  }
  return CommitResult::ok;
}

}  // namespace ombud
