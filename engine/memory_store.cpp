#include "engine/memory_store.h"

#include <algorithm>
#include <boost/json/serialize.hpp>

namespace ombud {

std::optional<std::string> Store::load_document(const std::string& id) const {
  auto in = load(id);
  if (!in) return std::nullopt;
  return boost::json::serialize(to_json(*in));
}

bool sla_matches(const InstanceFilter& f, const Instance& in) {
  if (f.sla == InstanceFilter::Sla::any) return true;
  bool breached = false;
  std::optional<Timestamp> due;
  for (const SlaClock& clock : in.slas) {
    if (clock.breached || clock.status == SlaClock::Status::breached) breached = true;
    if (clock.status == SlaClock::Status::running && (!due || clock.due_at < *due)) {
      due = clock.due_at;
    }
  }
  if (due && *due <= f.now) breached = true;
  if (f.sla == InstanceFilter::Sla::breached) return breached;
  return !breached && due && *due <= f.now + f.at_risk_within;
}

std::string answered_case(const boost::json::object& answer) {
  const auto* instance = answer.if_contains("instance");
  if (instance == nullptr || !instance->is_object()) return {};
  const auto* id = instance->as_object().if_contains("id");
  return id != nullptr && id->is_string() ? std::string(id->as_string()) : std::string();
}

boost::json::object inbox_answer(std::uint64_t entry_id) {
  return {{"status", "inbox"}, {"inbox", entry_id}};
}

boost::json::object outbox_payload(const Notification& n) {
  boost::json::array recipients;
  for (const auto& r : n.recipients) recipients.emplace_back(r);
  boost::json::object out{
      {"template", n.template_name}, {"to", n.to}, {"recipients", std::move(recipients)}};
  if (!n.subject.empty()) out["subject"] = n.subject;
  if (!n.body.empty()) out["body"] = n.body;
  return out;
}

boost::json::object outbox_payload(const OutboundWebhook& w) {
  return {{"target", w.target}, {"body", w.body}};
}

std::int64_t MemoryStore::get(std::string_view counter) const {
  const std::lock_guard lock(mutex_);
  return get_locked(counter);
}

std::int64_t MemoryStore::reserve(std::string_view counter, std::int64_t count) {
  const std::lock_guard lock(mutex_);
  auto it = counters_.find(counter);
  if (it == counters_.end()) it = counters_.emplace(std::string(counter), 0).first;
  it->second += count;
  return it->second;
}

std::optional<Instance> MemoryStore::load(const std::string& id) const {
  const std::lock_guard lock(mutex_);
  auto it = instances_.find(id);
  if (it == instances_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> MemoryStore::find_open_by_key(const std::string& workflow,
                                                         const std::string& key) const {
  const std::lock_guard lock(mutex_);
  for (const auto& [id, in] : instances_) {
    if (!in.ended && in.workflow == workflow && in.key == key) return id;
  }
  return std::nullopt;
}

bool MemoryStore::key_used(const std::string& workflow, const std::string& key) const {
  const std::lock_guard lock(mutex_);
  return keys_used_.count({workflow, key}) > 0;
}

std::optional<boost::json::object> MemoryStore::idempotent_response(const std::string& key) const {
  const std::lock_guard lock(mutex_);
  auto it = idempotency_.find(key);
  if (it == idempotency_.end()) return std::nullopt;
  return it->second.response;
}

std::int64_t MemoryStore::get_locked(std::string_view counter) const {
  auto it = counters_.find(counter);
  return it == counters_.end() ? 0 : it->second;
}

bool MemoryStore::conflicts(const Commit& c, const std::map<std::string, std::uint64_t>& revisions,
                            const std::set<std::pair<std::string, std::uint64_t>>& fired,
                            const std::map<std::string, std::int64_t>& counters) const {
  std::uint64_t current = 0;
  if (auto r = revisions.find(c.instance.id); r != revisions.end()) {
    current = r->second;
  } else if (auto it = instances_.find(c.instance.id); it != instances_.end()) {
    current = it->second.revision;
  }
  if (current != c.expected_revision) return true;
  if (c.fired) {
    const bool exists =
        timers_.count({c.fired->due, c.fired->instance_id, c.fired->timer_id}) > 0 &&
        fired.count({c.fired->instance_id, c.fired->timer_id}) == 0;
    if (!exists) return true;
  }
  if (!c.idempotency_key.empty() && idempotency_.count(c.idempotency_key) > 0) return true;
  for (const auto& w : c.counters) {
    auto it = counters.find(w.name);
    const std::int64_t value = it != counters.end() ? it->second : get_locked(w.name);
    if (value != w.expected) return true;
  }
  return false;
}

void MemoryStore::apply(const Commit& c) {
  auto it = instances_.find(c.instance.id);
  if (it == instances_.end()) {
    creation_order_.push_back(c.instance.id);
  } else if (!it->second.ended && !it->second.assignee.empty()) {
    open_cases_[it->second.assignee] -= 1;
  }
  if (!c.instance.ended && !c.instance.assignee.empty()) open_cases_[c.instance.assignee] += 1;
  instances_[c.instance.id] = c.instance;
  if (!c.instance.key.empty()) keys_used_.insert({c.instance.workflow, c.instance.key});
  auto& h = history_[c.instance.id];
  for (std::size_t i = 0; i < c.history.size(); ++i) {
    h.push_back({h.size() + 1, c.actor, c.history[i], i == 0 ? c.input : boost::json::object{}});
  }
  auto drop = [&](const DueTimer& t) {
    timers_.erase({t.due, t.instance_id, t.timer_id});
    leases_.erase({t.instance_id, t.timer_id});
  };
  if (c.fired) drop(*c.fired);
  for (const auto& t : c.cancelled) drop(t);
  for (const auto& t : c.armed) timers_.insert({t.due, t.instance_id, t.timer_id});
  for (const auto& u : c.counters) counters_[u.name] = u.value;
  if (!c.idempotency_key.empty()) {
    idempotency_[c.idempotency_key] = {c.response, c.instance.updated_at};
  }
  auto enqueue = [&](std::string kind, boost::json::object payload) {
    OutboxMessage m;
    m.id = ++last_outbox_id_;
    m.instance_id = c.instance.id;
    m.kind = std::move(kind);
    m.payload = std::move(payload);
    m.created_at = c.instance.updated_at;
    m.next_attempt_at = c.instance.updated_at;
    outbox_[m.id] = std::move(m);
  };
  for (const auto& n : c.notifications) enqueue("notification", outbox_payload(n));
  for (const auto& w : c.webhooks) enqueue("webhook", outbox_payload(w));
}

CommitResult MemoryStore::commit(const Commit& c) { return commit_all({&c, 1}); }

CommitResult MemoryStore::commit_all(std::span<const Commit> commits) {
  const std::lock_guard lock(mutex_);
  // Check everything first, as if each commit before had been applied; then apply all.
  std::map<std::string, std::uint64_t> revisions;
  std::set<std::pair<std::string, std::uint64_t>> fired;
  std::set<std::string> keys;
  std::map<std::string, std::int64_t> counters;
  std::set<std::pair<std::string, std::string>> business_keys;  // claimed by this batch
  std::set<std::string> ended;                                  // by this batch
  for (const auto& c : commits) {
    if (conflicts(c, revisions, fired, counters)) return CommitResult::conflict;
    if (!c.idempotency_key.empty() && !keys.insert(c.idempotency_key).second) {
      return CommitResult::conflict;
    }
    if (c.key_policy != KeyPolicy::none && c.expected_revision == 0) {
      const std::pair<std::string, std::string> key{c.instance.workflow, c.instance.key};
      if (!business_keys.insert(key).second) return CommitResult::conflict;
      const bool taken =
          c.key_policy == KeyPolicy::unique
              ? keys_used_.count(key) > 0
              : std::any_of(instances_.begin(), instances_.end(), [&](const auto& entry) {
                  const Instance& in = entry.second;
                  return !in.ended && ended.count(in.id) == 0 && in.workflow == key.first &&
                         in.key == key.second;
                });
      if (taken) return CommitResult::conflict;
    }
    if (c.instance.ended) ended.insert(c.instance.id);
    revisions[c.instance.id] = c.instance.revision;
    if (c.fired) fired.insert({c.fired->instance_id, c.fired->timer_id});
    for (const auto& w : c.counters) counters[w.name] = w.value;
  }
  for (const auto& c : commits) apply(c);
  return CommitResult::ok;
}

std::vector<DueTimer> MemoryStore::due_timers(Timestamp until, std::size_t limit) const {
  const std::lock_guard lock(mutex_);
  std::vector<DueTimer> out;
  for (const auto& [due, id, timer] : timers_) {
    if (due > until || out.size() >= limit) break;
    out.push_back({id, timer, due});
  }
  return out;
}

std::optional<Timestamp> MemoryStore::next_timer_due() const {
  const std::lock_guard lock(mutex_);
  if (timers_.empty()) return std::nullopt;
  return std::get<0>(*timers_.begin());
}

std::vector<DueTimer> MemoryStore::claim_timers(const TimerClaim& claim) {
  const std::lock_guard lock(mutex_);
  std::vector<DueTimer> out;
  // The first timer due after `after` (an empty id sorts before every other).
  const auto first = claim.after == Timestamp::min()
                         ? timers_.begin()
                         : timers_.lower_bound({claim.after + Millis(1), std::string(), 0});
  for (auto it = first; it != timers_.end(); ++it) {
    const auto& [due, id, timer] = *it;
    if (due > claim.until || out.size() >= claim.limit) break;
    auto lease = leases_.find({id, timer});
    if (lease != leases_.end() && lease->second.until > claim.now &&
        (lease->second.node != claim.node || lease->second.until > claim.renew_before)) {
      continue;
    }
    leases_[{id, timer}] = {claim.node, claim.lease_until};
    out.push_back({id, timer, due});
  }
  return out;
}

void MemoryStore::release_timers(const std::string& node) {
  const std::lock_guard lock(mutex_);
  std::erase_if(leases_, [&](const auto& entry) { return entry.second.node == node; });
}

std::size_t MemoryStore::pending_timers() const {
  const std::lock_guard lock(mutex_);
  return timers_.size();
}

std::size_t MemoryStore::undelivered_messages() const {
  const std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(outbox_.begin(), outbox_.end(), [](const auto& m) {
    return !m.second.delivered_at.has_value();
  }));
}

std::vector<StoredHistory> MemoryStore::history(const std::string& instance_id) const {
  const std::lock_guard lock(mutex_);
  auto it = history_.find(instance_id);
  return it == history_.end() ? std::vector<StoredHistory>{} : it->second;
}

int MemoryStore::open_cases(std::string_view person) const {
  const std::lock_guard lock(mutex_);
  auto it = open_cases_.find(person);
  return it == open_cases_.end() ? 0 : it->second;
}

std::vector<Instance> MemoryStore::find_instances(const InstanceFilter& f) const {
  const std::lock_guard lock(mutex_);
  std::vector<Instance> out;
  for (auto it = instances_.upper_bound(f.after_id); it != instances_.end(); ++it) {
    if (out.size() >= f.limit) break;
    const Instance& in = it->second;
    if (!f.workflow.empty() && in.workflow != f.workflow) continue;
    if (!f.state.empty() && in.state != f.state) continue;
    if (!f.assignee.empty() && in.assignee != f.assignee) continue;
    if (!f.queue.empty() && (in.queue != f.queue || !in.assignee.empty() || in.ended)) continue;
    if (!f.key.empty() && in.key != f.key) continue;
    if (f.open_only && in.ended) continue;
    if (!sla_matches(f, in)) continue;
    out.push_back(in);
  }
  return out;
}

PublishResult MemoryStore::publish_definition(const PublishedDefinition& definition,
                                              EarlierContent earlier) {
  const std::lock_guard lock(mutex_);
  auto& versions = definitions_[definition.name];
  if (!versions.empty() && versions.back().content_hash == definition.content_hash) {
    return {versions.back(), false};
  }
  if (earlier == EarlierContent::keep_latest) {
    for (const auto& v : versions) {
      if (v.content_hash == definition.content_hash) return {versions.back(), false, v.version};
    }
  }
  PublishedDefinition d = definition;
  d.version = static_cast<int>(versions.size()) + 1;
  versions.push_back(d);
  return {d, true};
}

std::vector<PublishedDefinition> MemoryStore::definition_versions(const std::string& name) const {
  const std::lock_guard lock(mutex_);
  auto it = definitions_.find(name);
  return it == definitions_.end() ? std::vector<PublishedDefinition>{} : it->second;
}

std::vector<PublishedDefinition> MemoryStore::latest_definitions() const {
  const std::lock_guard lock(mutex_);
  std::vector<PublishedDefinition> out;
  for (const auto& [name, versions] : definitions_) {
    if (!versions.empty()) out.push_back(versions.back());
  }
  return out;
}

std::vector<OutboxMessage> MemoryStore::claim_outbox(Timestamp now, Timestamp lease_until,
                                                     std::size_t limit) {
  const std::lock_guard lock(mutex_);
  std::vector<OutboxMessage> out;
  for (auto& [id, m] : outbox_) {
    if (out.size() >= limit) break;
    if (m.delivered_at || m.next_attempt_at > now) continue;
    m.attempts += 1;
    m.next_attempt_at = lease_until;
    out.push_back(m);
  }
  return out;
}

void MemoryStore::outbox_delivered(const std::vector<std::uint64_t>& ids, Timestamp at) {
  const std::lock_guard lock(mutex_);
  for (const std::uint64_t id : ids) {
    if (auto it = outbox_.find(id); it != outbox_.end()) {
      it->second.delivered_at = at;
      it->second.last_error.clear();
    }
  }
}

Forgotten MemoryStore::forget(const ForgetBefore& f) {
  const std::lock_guard lock(mutex_);
  Forgotten out;
  // Oldest first, as the SQL stores do through their age indexes.
  std::vector<std::pair<Timestamp, std::string>> keys;
  for (const auto& [key, kept] : idempotency_) {
    if (kept.at < f.idempotency_keys && !key.starts_with(kInboxKeyPrefix)) {
      keys.emplace_back(kept.at, key);
    }
  }
  std::sort(keys.begin(), keys.end());
  for (const auto& [at, key] : keys) {
    if (out.idempotency_keys >= f.limit) break;
    idempotency_.erase(key);
    ++out.idempotency_keys;
  }
  std::vector<std::pair<Timestamp, std::uint64_t>> delivered;
  for (const auto& [id, m] : outbox_) {
    if (m.delivered_at && *m.delivered_at < f.delivered_messages) {
      delivered.emplace_back(*m.delivered_at, id);
    }
  }
  std::sort(delivered.begin(), delivered.end());
  for (const auto& [at, id] : delivered) {
    if (out.delivered_messages >= f.limit) break;
    outbox_.erase(id);
    ++out.delivered_messages;
  }
  return out;
}

void MemoryStore::outbox_failed(std::uint64_t id, const std::string& error,
                                Timestamp next_attempt_at) {
  const std::lock_guard lock(mutex_);
  if (auto it = outbox_.find(id); it != outbox_.end()) {
    it->second.last_error = error;
    it->second.next_attempt_at = next_attempt_at;
  }
}

std::vector<OutboxMessage> MemoryStore::outbox(bool undelivered_only, std::size_t limit) const {
  const std::lock_guard lock(mutex_);
  std::vector<OutboxMessage> out;
  for (const auto& [id, m] : outbox_) {
    if (out.size() >= limit) break;
    if (undelivered_only && m.delivered_at) continue;
    out.push_back(m);
  }
  return out;
}

std::uint64_t MemoryStore::add_to_inbox(const InboxEntry& entry) {
  const std::lock_guard lock(mutex_);
  if (!entry.dedup_key.empty()) {
    for (const auto& [id, kept] : inbox_) {
      if (kept.dedup_key == entry.dedup_key) return id;
    }
  }
  InboxEntry e = entry;
  e.id = inbox_.empty() ? 1 : inbox_.rbegin()->first + 1;
  e.replayed_into.clear();
  inbox_[e.id] = e;
  if (!e.dedup_key.empty()) {
    idempotency_.try_emplace(e.dedup_key, KeptAnswer{inbox_answer(e.id), e.received_at});
  }
  return e.id;
}

std::vector<InboxEntry> MemoryStore::inbox(bool open_only, std::uint64_t after_id,
                                           std::size_t limit) const {
  const std::lock_guard lock(mutex_);
  std::vector<InboxEntry> out;
  for (auto it = inbox_.upper_bound(after_id); it != inbox_.end(); ++it) {
    const auto& e = it->second;
    if (out.size() >= limit) break;
    if (open_only && !e.replayed_into.empty()) continue;
    out.push_back(e);
  }
  return out;
}

std::optional<InboxEntry> MemoryStore::inbox_entry(std::uint64_t id) const {
  const std::lock_guard lock(mutex_);
  auto it = inbox_.find(id);
  if (it == inbox_.end()) return std::nullopt;
  return it->second;
}

bool MemoryStore::mark_inbox_replayed(std::uint64_t id, const std::string& instance_id) {
  const std::lock_guard lock(mutex_);
  auto it = inbox_.find(id);
  if (it == inbox_.end() || !it->second.replayed_into.empty()) return false;
  it->second.replayed_into = instance_id;
  return true;
}

void MemoryStore::save_api_token(const ApiTokenRow& token) {
  const std::lock_guard lock(mutex_);
  tokens_[token.hash] = token;
}

std::optional<ApiTokenRow> MemoryStore::find_api_token(const std::string& hash) const {
  const std::lock_guard lock(mutex_);
  auto it = tokens_.find(hash);
  if (it == tokens_.end()) return std::nullopt;
  return it->second;
}

std::vector<ApiTokenRow> MemoryStore::api_tokens() const {
  const std::lock_guard lock(mutex_);
  std::vector<ApiTokenRow> out;
  for (const auto& [hash, t] : tokens_) out.push_back(t);
  return out;
}

bool MemoryStore::revoke_api_token(const std::string& id) {
  const std::lock_guard lock(mutex_);
  for (auto& [hash, t] : tokens_) {
    if (t.id == id) {
      t.revoked = true;
      return true;
    }
  }
  return false;
}

std::vector<std::string> MemoryStore::instance_ids() const {
  const std::lock_guard lock(mutex_);
  return creation_order_;
}

}  // namespace ombud
