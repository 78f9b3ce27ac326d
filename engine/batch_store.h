// Group commit: a Store that collects the commits of several steps in memory and writes them
// to the store beneath in one transaction when flushed.
//
// The worker runs a batch of requests against a BatchStore: each step sees what the earlier
// steps of the batch did (their instances, counters, keys and idempotency answers), as if they
// were committed, and nothing reaches the database until flush() writes them all at once. One
// fsync then acknowledges many events. If the flush reports a conflict (another node changed an
// instance), nothing of the batch was written and the worker redoes its requests one by one.
//
// Optionally (remember_committed) it keeps the instances its flushes wrote, so that the next
// batches step them without reading them back. That is only right while this process is the
// one writing them; a copy gone stale (another process committed the instance) fails the
// flush's revision check, and the worker then forgets every copy and redoes the batch.
//
// Pipelining (seal/landed): the worker may hand a batch's commits to another thread to write
// and step the next batch meanwhile. A sealed batch stays visible to the steps that follow, as
// if committed, until the worker reports how its write ended (landed). If it was not written,
// everything stepped on top of it is dropped too and must be stepped again.
//
// Reads of things a batch does not track (history, timers, outbox, inbox, definitions) go to
// the store beneath; writes to them outside commits (claims, inbox, publishing) pass straight
// through. Not thread-safe: one batch belongs to one thread. The only exception is a sealed
// batch's commits, which one other thread may read (to write them) until landed().
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/generations.h"
#include "engine/store.h"

namespace ombud {

class BatchStore final : public Store {
 public:
  explicit BatchStore(Store& base) : base_(base) {}

  // Commits collected since the last flush, seal or discard.
  std::size_t pending() const { return current_.commits.size(); }
  // Writes the collected commits in one transaction; forgets them either way. Throws what the
  // store beneath throws (then nothing was written). Not while a batch is sealed.
  CommitResult flush();
  // Forgets the collected commits without writing them (a sealed batch stays).
  void discard();
  // The earliest due time among the timers the collected commits arm.
  std::optional<Timestamp> earliest_armed() const { return current_.earliest_armed; }

  // Seals the collected commits for another thread to write (with the store beneath's
  // commit_all): they stay readable by the steps that follow until landed(). The span stays
  // valid and unchanged until then. At most one batch is sealed at a time.
  std::span<const Commit> seal();
  bool sealed() const { return sealed_ != nullptr; }
  // How the sealed batch's write ended. Written: it is in the store (and its instances are kept
  // when remembering). Not written: it is dropped, and so is everything collected since.
  void landed(bool written);
  // open_cases() of a person whose count the sealed batch changes cannot be read from the store
  // while the write may land at any moment (it would be counted twice or not at all): it calls
  // this to wait for the write to end, then reads the store as it is. Set by the worker.
  std::function<void()> wait_for_sealed;
  // Asks the store beneath in one go what the steps about to run will ask (read_ahead): the
  // instances the batch does not hold yet, idempotency keys, open cases by key. load(),
  // idempotent_response() and find_open_by_key() then answer from here.
  void prefetch(const ReadAhead& ask);
  // Keep up to about `capacity` committed instances in memory (0: none, the default).
  void remember_committed(std::size_t capacity);
  // Drops every kept instance (after a conflict, or when someone else may have written).
  void forget_committed();

  std::int64_t get(std::string_view counter) const override;
  std::optional<Instance> load(const std::string& id) const override;
  std::optional<std::string> find_open_by_key(const std::string& workflow,
                                              const std::string& key) const override;
  bool key_used(const std::string& workflow, const std::string& key) const override;
  std::optional<boost::json::object> idempotent_response(const std::string& key) const override;
  CommitResult commit(const Commit& commit) override;
  CommitResult commit_owned(Commit&& commit) override;
  CommitResult commit_all(std::span<const Commit> commits) override;
  // Outside the batch: a block is the caller's even if the batch is thrown away.
  std::int64_t reserve(std::string_view counter, std::int64_t count) override {
    return base_.reserve(counter, count);
  }
  std::vector<DueTimer> due_timers(Timestamp until, std::size_t limit) const override {
    return base_.due_timers(until, limit);
  }
  std::optional<Timestamp> next_timer_due() const override { return base_.next_timer_due(); }
  std::vector<DueTimer> claim_timers(const TimerClaim& claim) override {
    return base_.claim_timers(claim);
  }
  void release_timers(const std::string& node) override { base_.release_timers(node); }
  std::size_t pending_timers() const override { return base_.pending_timers(); }
  std::size_t undelivered_messages() const override { return base_.undelivered_messages(); }
  std::vector<StoredHistory> history(const std::string& instance_id) const override {
    return base_.history(instance_id);
  }
  int open_cases(std::string_view person) const override;
  std::vector<Instance> find_instances(const InstanceFilter& filter) const override {
    return base_.find_instances(filter);
  }
  PublishResult publish_definition(const PublishedDefinition& definition,
                                   EarlierContent earlier) override {
    return base_.publish_definition(definition, earlier);
  }
  std::vector<PublishedDefinition> definition_versions(const std::string& name) const override {
    return base_.definition_versions(name);
  }
  std::vector<PublishedDefinition> latest_definitions() const override {
    return base_.latest_definitions();
  }
  std::vector<OutboxMessage> claim_outbox(Timestamp now, Timestamp lease_until,
                                          std::size_t limit) override {
    return base_.claim_outbox(now, lease_until, limit);
  }
  void outbox_delivered(const std::vector<std::uint64_t>& ids, Timestamp at) override {
    base_.outbox_delivered(ids, at);
  }
  Forgotten forget(const ForgetBefore& f) override { return base_.forget(f); }
  void outbox_failed(std::uint64_t id, const std::string& error,
                     Timestamp next_attempt_at) override {
    base_.outbox_failed(id, error, next_attempt_at);
  }
  std::vector<OutboxMessage> outbox(bool undelivered_only, std::size_t limit) const override {
    return base_.outbox(undelivered_only, limit);
  }
  std::uint64_t add_to_inbox(const InboxEntry& entry) override { return base_.add_to_inbox(entry); }
  std::vector<InboxEntry> inbox(bool open_only, std::uint64_t after_id,
                                std::size_t limit) const override {
    return base_.inbox(open_only, after_id, limit);
  }
  std::optional<InboxEntry> inbox_entry(std::uint64_t id) const override {
    return base_.inbox_entry(id);
  }
  bool mark_inbox_replayed(std::uint64_t id, const std::string& instance_id) override {
    return base_.mark_inbox_replayed(id, instance_id);
  }
  void save_api_token(const ApiTokenRow& token) override { base_.save_api_token(token); }
  std::optional<ApiTokenRow> find_api_token(const std::string& hash) const override {
    return base_.find_api_token(hash);
  }
  std::vector<ApiTokenRow> api_tokens() const override { return base_.api_tokens(); }
  bool revoke_api_token(const std::string& id) override { return base_.revoke_api_token(id); }

 private:
  Store& base_;
  // What an instance looked like in the store beneath when this batch loaded it: enough to
  // check a commit against it and to keep the open-case counts, without loading it again.
  struct Loaded {
    std::uint64_t revision = 0;
    bool ended = false;
    std::string assignee;
  };

  // A batch's commits and what they changed, read before the store beneath.
  struct Layer {
    std::vector<Commit> commits;
    // The index in `commits` of each instance's latest commit.
    std::map<std::string, std::size_t, std::less<>> instances;
    std::map<std::string, std::int64_t, std::less<>> counters;
    // Idempotency key → the index in `commits` of the commit that stored its answer.
    std::map<std::string, std::size_t, std::less<>> idempotency;
    std::set<std::pair<std::string, std::string>> keys_used;
    std::set<std::pair<std::string, std::uint64_t>> fired;
    std::map<std::string, int, std::less<>> open_cases_delta;
    std::optional<Timestamp> earliest_armed;

    const Instance* instance(std::string_view id) const {
      auto it = instances.find(id);
      return it != instances.end() ? &commits[it->second].instance : nullptr;
    }
  };
  // The instance as the collected commits, then the sealed ones, left it (nullptr: neither).
  const Instance* layered(std::string_view id) const;

  Layer current_;
  std::unique_ptr<Layer> sealed_;  // not changed from seal() until landed()
  // wait_for_sealed() returned: the sealed batch's write has ended.
  mutable bool sealed_settled_ = false;
  mutable std::map<std::string, Loaded, std::less<>> loaded_;
  mutable std::map<std::string, Instance, std::less<>> prefetched_;
  // What the store beneath answered while this batch was stepped, so that it is not asked again:
  // open-case counts by person (read after any wait for the sealed batch, so they hold its write
  // if it landed), idempotency answers (nullopt: the key was not held) and open cases by key.
  // Forgotten with the batch, and when the sealed batch lands (the store beneath then holds what
  // the sealed layer answered for before).
  mutable std::map<std::string, int, std::less<>> base_open_cases_;
  mutable std::map<std::string, std::optional<boost::json::object>, std::less<>> responses_below_;
  mutable std::map<std::pair<std::string, std::string>, std::optional<std::string>> open_below_;
  void forget_below() const;

  // Committed instances, by id: the ones in use stay, the others age out.
  mutable Generations<Instance> committed_;
};

}  // namespace ombud
