#include "engine/batch_store.h"

#include <algorithm>
#include <cassert>
#include <iterator>

namespace ombud {

CommitResult BatchStore::flush() {
  assert(!sealed_);
  if (current_.commits.empty()) return CommitResult::ok;
  std::vector<Commit> commits = std::move(current_.commits);
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

std::span<const Commit> BatchStore::seal() {
  assert(!sealed_);
  sealed_ = std::make_unique<Layer>(std::move(current_));
  sealed_settled_ = false;
  discard();
  return sealed_->commits;
}

void BatchStore::landed(bool written) {
  if (!sealed_) return;
  if (written) {
    // Nobody else reads the sealed commits any more: their instances move into the kept ones.
    for (Commit& c : sealed_->commits) {  // later commits of one id win
      const std::string id = c.instance.id;
      committed_.put(id, std::move(c.instance));
    }
  } else {
    forget_committed();  // the database may or may not hold it: trust nothing kept
    discard();           // stepped on top of what was not written
  }
  sealed_.reset();
  sealed_settled_ = false;
  forget_below();
}

void BatchStore::forget_below() const {
  base_open_cases_.clear();
  responses_below_.clear();
  open_below_.clear();
}

const Instance* BatchStore::layered(std::string_view id) const {
  if (const Instance* in = current_.instance(id)) return in;
  return sealed_ ? sealed_->instance(id) : nullptr;
}

namespace {

template <class T>
void sort_unique(std::vector<T>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

void BatchStore::prefetch(const ReadAhead& ask) {
  // Only what the batches and the earlier answers cannot tell.
  ReadAhead wanted;
  for (const std::string& id : ask.instances) {
    if (id.empty() || layered(id) != nullptr || committed_.contains(id) ||
        prefetched_.count(id) > 0) {
      continue;
    }
    wanted.instances.push_back(id);
  }
  const auto in_layers = [&](const std::string& key) {
    return current_.idempotency.count(key) > 0 || (sealed_ && sealed_->idempotency.count(key) > 0);
  };
  for (const std::string& key : ask.idempotency_keys) {
    if (key.empty() || in_layers(key) || responses_below_.count(key) > 0) {
      continue;
    }
    wanted.idempotency_keys.push_back(key);
  }
  for (const auto& workflow_key : ask.open_keys) {
    if (workflow_key.second.empty() || open_below_.count(workflow_key) > 0) continue;
    wanted.open_keys.push_back(workflow_key);
  }
  sort_unique(wanted.instances);
  sort_unique(wanted.idempotency_keys);
  sort_unique(wanted.open_keys);
  if (wanted.instances.empty() && wanted.idempotency_keys.empty() && wanted.open_keys.empty()) {
    return;
  }
  ReadAheadAnswers answers = base_.read_ahead(wanted);
  for (Instance& in : answers.instances) {
    std::string id = in.id;
    prefetched_.insert_or_assign(std::move(id), std::move(in));
  }
  for (const std::string& key : wanted.idempotency_keys) {
    auto found = answers.responses.find(key);
    responses_below_[key] = found != answers.responses.end()
                                ? std::optional<boost::json::object>(std::move(found->second))
                                : std::nullopt;
  }
  for (const auto& workflow_key : wanted.open_keys) {
    auto found = answers.open.find(workflow_key);
    open_below_[workflow_key] = found != answers.open.end()
                                    ? std::optional<std::string>(std::move(found->second))
                                    : std::nullopt;
  }
}

void BatchStore::remember_committed(std::size_t capacity) { committed_.set_capacity(capacity); }

void BatchStore::forget_committed() { committed_.clear(); }

void BatchStore::discard() {
  current_ = Layer{};
  loaded_.clear();
  prefetched_.clear();
  forget_below();
}

std::int64_t BatchStore::get(std::string_view counter) const {
  if (auto it = current_.counters.find(counter); it != current_.counters.end()) return it->second;
  if (sealed_) {
    if (auto it = sealed_->counters.find(counter); it != sealed_->counters.end()) {
      return it->second;
    }
  }
  return base_.get(counter);
}

std::optional<Instance> BatchStore::load(const std::string& id) const {
  if (const Instance* in = layered(id)) return *in;
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
  // An instance the batches touched is judged by its latest version; they hold few.
  auto open_with_key = [&](const Instance& in) {
    return !in.ended && in.workflow == workflow && in.key == key;
  };
  for (const auto& [id, index] : current_.instances) {
    if (open_with_key(current_.commits[index].instance)) return id;
  }
  if (sealed_) {
    for (const auto& [id, index] : sealed_->instances) {
      if (current_.instances.count(id) == 0 && open_with_key(sealed_->commits[index].instance)) {
        return id;
      }
    }
  }
  std::optional<std::string> found;
  if (auto read = open_below_.find(std::pair(workflow, key)); read != open_below_.end()) {
    found = read->second;
  } else {
    found = base_.find_open_by_key(workflow, key);
  }
  if (found && layered(*found) != nullptr) return std::nullopt;  // no longer open, or re-keyed
  return found;
}

bool BatchStore::key_used(const std::string& workflow, const std::string& key) const {
  return current_.keys_used.count({workflow, key}) > 0 ||
         (sealed_ && sealed_->keys_used.count({workflow, key}) > 0) ||
         base_.key_used(workflow, key);
}

std::optional<boost::json::object> BatchStore::idempotent_response(const std::string& key) const {
  if (auto it = current_.idempotency.find(key); it != current_.idempotency.end()) {
    return current_.commits[it->second].response;
  }
  if (sealed_) {
    if (auto it = sealed_->idempotency.find(key); it != sealed_->idempotency.end()) {
      return sealed_->commits[it->second].response;
    }
  }
  // A step asks before it runs and its commit asks again: the store beneath is asked once. A
  // key it did not hold cannot reach it from this node but through the batches, which are
  // asked first; another node's commit of the same key makes the flush conflict.
  if (auto read = responses_below_.find(key); read != responses_below_.end()) return read->second;
  auto below = base_.idempotent_response(key);
  responses_below_[key] = below;
  return below;
}

int BatchStore::open_cases(std::string_view person) const {
  int delta = 0;
  if (auto it = current_.open_cases_delta.find(person); it != current_.open_cases_delta.end()) {
    delta += it->second;
  }
  if (sealed_ && !sealed_settled_) {
    auto it = sealed_->open_cases_delta.find(person);
    if (it != sealed_->open_cases_delta.end() && it->second != 0) {
      if (wait_for_sealed) {
        // Written or not, the store beneath now holds the whole truth about the sealed batch
        // (and if it was not written, what is stepped now is dropped anyway).
        wait_for_sealed();
        sealed_settled_ = true;
      } else {
        delta += it->second;
      }
    }
  }
  // Assignment asks for every candidate's count at each step: the store beneath is asked once
  // per person and batch. Another node's assignments meanwhile are missed for that long, as
  // they would be between the read and the commit anyway.
  auto below = base_open_cases_.find(person);
  if (below == base_open_cases_.end()) {
    below = base_open_cases_.emplace(std::string(person), base_.open_cases(person)).first;
  }
  return below->second + delta;
}

CommitResult BatchStore::commit(const Commit& c) { return commit_owned(Commit(c)); }

CommitResult BatchStore::commit_owned(Commit&& c) {
  // The checks the store beneath would make, against what the batches know; the flush makes
  // them again against the database. An instance is judged by its latest commit in the
  // batches, else by what the batch loaded. A new instance is not looked up: an id taken
  // already makes the flush conflict.
  Loaded current;
  bool exists = false;
  if (const Instance* in = layered(c.instance.id)) {
    current = {in->revision, in->ended, in->assignee};
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
  if (c.fired) {
    const std::pair<std::string, std::uint64_t> timer{c.fired->instance_id, c.fired->timer_id};
    if (current_.fired.count(timer) > 0 || (sealed_ && sealed_->fired.count(timer) > 0)) {
      return CommitResult::conflict;
    }
  }
  if (!c.idempotency_key.empty() && idempotent_response(c.idempotency_key)) {
    return CommitResult::conflict;
  }
  for (const auto& w : c.counters) {
    if (get(w.name) != w.expected) return CommitResult::conflict;
  }
  Layer& layer = current_;
  if (exists && !current.ended && !current.assignee.empty()) {
    layer.open_cases_delta[current.assignee] -= 1;
  }
  if (!c.instance.ended && !c.instance.assignee.empty()) {
    layer.open_cases_delta[c.instance.assignee] += 1;
  }
  for (const auto& u : c.counters) layer.counters[u.name] = u.value;
  if (!c.idempotency_key.empty()) layer.idempotency[c.idempotency_key] = layer.commits.size();
  if (!c.instance.key.empty()) layer.keys_used.insert({c.instance.workflow, c.instance.key});
  if (c.fired) layer.fired.insert({c.fired->instance_id, c.fired->timer_id});
  for (const auto& t : c.armed) {
    if (!layer.earliest_armed || t.due < *layer.earliest_armed) layer.earliest_armed = t.due;
  }
  layer.instances[c.instance.id] = layer.commits.size();
  layer.commits.push_back(std::move(c));
  return CommitResult::ok;
}

CommitResult BatchStore::commit_all(std::span<const Commit> commits) {
  // Used by nobody inside a batch; kept atomic all the same.
  const std::size_t before = current_.commits.size();
  for (const auto& c : commits) {
    if (commit(c) == CommitResult::conflict) {
      // Rebuild the overlay from the commits that stay (what was loaded stays known).
      std::vector<Commit> keep(
          std::make_move_iterator(current_.commits.begin()),
          std::make_move_iterator(current_.commits.begin() + static_cast<long>(before)));
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
