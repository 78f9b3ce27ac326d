// A Store kept in memory: what `ombud simulate` and the engine tests run on, and the reference
// behaviour the SQL store must match (both pass tests/adapters/sql/store_conformance_test.cpp).
// Commits are atomic: they either apply entirely or report a conflict and change nothing.
// Thread-safe (one mutex): the engine's worker and its outbox deliverer may share it.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "engine/store.h"

namespace ombud {

class MemoryStore : public Store {
 public:
  std::int64_t get(std::string_view counter) const override;
  std::optional<Instance> load(const std::string& id) const override;
  std::optional<std::string> find_open_by_key(const std::string& workflow,
                                              const std::string& key) const override;
  bool key_used(const std::string& workflow, const std::string& key) const override;
  std::optional<boost::json::object> idempotent_response(const std::string& key) const override;
  CommitResult commit(const Commit& commit) override;
  CommitResult commit_all(std::span<const Commit> commits) override;
  std::int64_t reserve(std::string_view counter, std::int64_t count) override;
  std::vector<DueTimer> due_timers(Timestamp until, std::size_t limit) const override;
  std::optional<Timestamp> next_timer_due() const override;
  std::vector<DueTimer> claim_timers(const TimerClaim& claim) override;
  void release_timers(const std::string& node) override;
  std::size_t pending_timers() const override;
  std::size_t undelivered_messages() const override;
  std::vector<StoredHistory> history(const std::string& instance_id) const override;
  int open_cases(std::string_view person) const override;
  std::vector<Instance> find_instances(const InstanceFilter& filter) const override;
  PublishResult publish_definition(const PublishedDefinition& definition,
                                   EarlierContent earlier) override;
  std::vector<PublishedDefinition> definition_versions(const std::string& name) const override;
  std::vector<PublishedDefinition> latest_definitions() const override;
  std::vector<OutboxMessage> claim_outbox(Timestamp now, Timestamp lease_until,
                                          std::size_t limit) override;
  void outbox_delivered(const std::vector<std::uint64_t>& ids, Timestamp at) override;
  void outbox_failed(std::uint64_t id, const std::string& error,
                     Timestamp next_attempt_at) override;
  std::vector<OutboxMessage> outbox(bool undelivered_only, std::size_t limit) const override;
  Forgotten forget(const ForgetBefore& f) override;
  std::uint64_t add_to_inbox(const InboxEntry& entry) override;
  std::vector<InboxEntry> inbox(bool open_only, std::uint64_t after_id,
                                std::size_t limit) const override;
  std::optional<InboxEntry> inbox_entry(std::uint64_t id) const override;
  bool mark_inbox_replayed(std::uint64_t id, const std::string& instance_id) override;
  void save_api_token(const ApiTokenRow& token) override;
  std::optional<ApiTokenRow> find_api_token(const std::string& hash) const override;
  std::vector<ApiTokenRow> api_tokens() const override;
  bool revoke_api_token(const std::string& id) override;

  // Instance ids in the order the instances were created.
  std::vector<std::string> instance_ids() const;

 private:
  struct Lease {
    std::string node;
    Timestamp until{};
  };

  // Checks one commit against the current state plus the commits before it in the same batch.
  bool conflicts(const Commit& c, const std::map<std::string, std::uint64_t>& revisions,
                 const std::set<std::pair<std::string, std::uint64_t>>& fired,
                 const std::map<std::string, std::int64_t>& counters) const;
  std::int64_t get_locked(std::string_view counter) const;
  void apply(const Commit& c);

  mutable std::mutex mutex_;
  std::map<std::string, Instance> instances_;
  std::vector<std::string> creation_order_;
  std::map<std::string, std::vector<StoredHistory>> history_;
  // (due, instance, timer id): iteration order is firing order.
  std::set<std::tuple<Timestamp, std::string, std::uint64_t>> timers_;
  std::map<std::pair<std::string, std::uint64_t>, Lease> leases_;
  std::map<std::string, std::int64_t, std::less<>> counters_;
  struct KeptAnswer {
    boost::json::object response;
    Timestamp at;  // when its step committed
  };
  std::map<std::string, KeptAnswer> idempotency_;
  std::set<std::pair<std::string, std::string>> keys_used_;
  std::map<std::string, int, std::less<>> open_cases_;
  std::map<std::string, std::vector<PublishedDefinition>> definitions_;
  std::map<std::uint64_t, OutboxMessage> outbox_;
  std::uint64_t last_outbox_id_ = 0;  // ids are never reused, even after messages are forgotten
  std::map<std::uint64_t, InboxEntry> inbox_;
  std::map<std::string, ApiTokenRow> tokens_;  // by hash
};

}  // namespace ombud
