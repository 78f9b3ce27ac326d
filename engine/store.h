// The Store port: where instances, their history, timers, counters, idempotency keys, the
// outbox, the inbox and published definitions live.
//
// A step's whole outcome is written by one commit — instance, history, the timer that fired,
// timers armed and cancelled, outbox, counters and the idempotency key — so it happens entirely
// or not at all; the caller acknowledges only after the commit returned. commit_all() writes
// several steps in one transaction (group commit). The SQL adapter (adapters/sql) and the
// in-memory store (engine/memory_store.h) implement the port and pass the same conformance
// tests (tests/adapters/sql/store_conformance_test.cpp).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value_ref.hpp>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/instance.h"
#include "engine/step.h"

namespace ombud {

// A timer as the store indexes it: which instance, which of its timers, when.
// What a Store throws when the database failed it: unreachable, restarting, out of space. The
// caller may retry later; the HTTP API answers 503.
class StoreFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DueTimer {
  std::string instance_id;
  std::uint64_t timer_id = 0;
  Timestamp due{};

  friend bool operator==(const DueTimer&, const DueTimer&) = default;
};

// What a node asks for when it leases timers (Store::claim_timers).
struct TimerClaim {
  std::string node;
  // Only timers due after `after` and at or before `until`. A refill that already holds what
  // was due up to some point asks for the slice beyond it; Timestamp::min() asks for all (a
  // sweep: expired leases of dead nodes, renewals).
  Timestamp after = Timestamp::min();
  Timestamp until{};
  Timestamp now{};
  Timestamp lease_until{};
  Timestamp renew_before{};
  std::size_t limit = 0;
};

// A named counter (serial, round-robin cursor, id sequence) moving from the value the step read
// to a new one. A stored value other than `expected` is a conflict: two nodes never hand out the
// same serial.
struct CounterWrite {
  std::string name;
  std::int64_t expected = 0;
  std::int64_t value = 0;

  friend bool operator==(const CounterWrite&, const CounterWrite&) = default;
};

// Everything one step changes, committed atomically.
struct Commit {
  Instance instance;                    // the new instance (revision already incremented)
  std::uint64_t expected_revision = 0;  // the revision it was loaded at; 0 for a new instance
  std::string actor;                    // who caused it: a person, "timer", "schedule", "" = system
  // What caused the step, kept with its first history row so that history can be replayed:
  // {"start": data} | {"event": name, "data": {...}} | {"timer": id} | {"incident": message}
  // | {"assign": person, "reason": text}.
  boost::json::object input;
  std::vector<HistoryEntry> history;
  // The timer this step handles. Its row must still exist and is deleted by this commit: a
  // timer fires exactly once. A missing row is a conflict (another node fired it).
  std::optional<DueTimer> fired;
  std::vector<DueTimer> armed;
  std::vector<DueTimer> cancelled;
  std::vector<Notification> notifications;  // → outbox, delivered after the commit
  std::vector<OutboundWebhook> webhooks;    // → outbox
  std::vector<CounterWrite> counters;
  std::string idempotency_key;  // "" when none
  // A new case's workflow's key_policy, for its business key: the commit conflicts when another
  // case holds the key (one_open: an open one; unique: any, ever). The runtime looked before the
  // step; this holds against another node starting one at the same moment.
  KeyPolicy key_policy = KeyPolicy::none;
  // Kept with the idempotency key, for a repeat (Runtime::replayed): {"status", "instance":
  // {"id"}}.
  boost::json::object response;
};

// conflict: an instance's revision is no longer its `expected_revision`, a fired timer is gone,
// a new instance's id exists, a counter moved, the idempotency key is taken, or a new case's
// business key is (key_policy). Nothing was written.
enum class CommitResult { ok, conflict };

// A notification or outbound webhook waiting to leave, or delivered. Delivery is at least once:
// a message is claimed with a lease, and retried with backoff until it is marked delivered.
struct OutboxMessage {
  std::uint64_t id = 0;
  std::string instance_id;
  std::string kind;             // "notification" or "webhook"
  boost::json::object payload;  // notification: template, to, recipients; webhook: target, body
  int attempts = 0;             // claims so far
  Timestamp created_at{};
  Timestamp next_attempt_at{};  // not before this (also the lease of a claimed message)
  std::string last_error;
  std::optional<Timestamp> delivered_at;
};

// Idempotency keys ombud makes itself begin with these; a caller's own key may not.
inline constexpr std::string_view kHookKeyPrefix = "hook:";    // webhooks, by provider event id
inline constexpr std::string_view kInboxKeyPrefix = "inbox:";  // inbox replays, by entry id
// Why a caller's key may not be used ("" when it may).
inline std::string reserved_key_reason(std::string_view key) {
  for (std::string_view reserved : {kHookKeyPrefix, kInboxKeyPrefix}) {
    if (key.starts_with(reserved)) {
      return "keys beginning with '" + std::string(reserved) + "' are reserved for ombud's own";
    }
  }
  return "";
}

// What Store::forget may drop: rows kept since before these instants (Timestamp::min(): none).
struct ForgetBefore {
  Timestamp idempotency_keys = Timestamp::min();    // by when the key's step committed
  Timestamp delivered_messages = Timestamp::min();  // by when the message was delivered
  std::size_t limit = 1000;                         // rows of each kind per call
};
struct Forgotten {
  std::size_t idempotency_keys = 0;
  std::size_t delivered_messages = 0;
};

// An event that came in (a webhook, say) and matched no instance or route. Kept until someone
// replays it into an instance; never dropped.
struct InboxEntry {
  std::uint64_t id = 0;  // assigned by the store
  std::string source;    // "hooks/twilio", "api", ...
  Timestamp received_at{};
  std::string reason;  // why it matched nothing
  boost::json::object payload;
  std::string replayed_into;  // the instance it was replayed into, "" while open
  std::string dedup_key;      // the sender's event id; an entry with a key already kept is not
                              // added again ("" = none)
};

// An API token as the store keeps it: only the SHA-256 of the secret, never the secret.
struct ApiTokenRow {
  std::string id;      // a public handle (a prefix of the hash) for listing and revoking
  std::string hash;    // lowercase hex SHA-256 of the token
  std::string role;    // admin, supervisor, agent or hook
  std::string person;  // the directory person it acts as ("" = none): their roles count for
                       // a transition's `roles:`
  std::string label;
  Timestamp created_at{};
  bool revoked = false;
};

// One published version of a workflow definition, with the YAML exactly as it was published.
struct PublishedDefinition {
  std::string name;
  int version = 0;  // 1, 2, ... per name; assigned by the store
  std::string content_hash;
  std::string source;
  std::string published_by;
  Timestamp published_at{};
};

struct PublishResult {
  PublishedDefinition definition;  // the newest version after the call
  bool created = false;            // false: the content was unchanged, no new version
  int earlier_version = 0;  // not created because the content is that of this earlier version
};

// What publishing content equal to an earlier, superseded version does. An admin's PUT makes it
// the latest again; a node's start-up leaves the newer latest in place, because its file is then
// older than what was published since (a PUT through the API, or a node of a rolling deploy).
enum class EarlierContent { publish_again, keep_latest };

// Which instances a listing returns, in id order after `after_id` (the cursor).
struct InstanceFilter {
  std::string workflow;  // "" = any, and likewise below
  std::string state;
  std::string assignee;
  std::string queue;  // open cases waiting, unassigned, in this queue
  std::string key;
  bool open_only = false;
  // SLA: breached = some clock missed its goal (or a running one is past due at `now`);
  // at_risk = not breached, and a running clock comes due within `at_risk_within` of `now`.
  enum class Sla { any, breached, at_risk };
  Sla sla = Sla::any;
  Timestamp now{};
  Millis at_risk_within{3'600'000};
  std::string after_id;
  std::size_t limit = 50;
};

// One history row as the store keeps it: the step's entry plus who caused it.
struct StoredHistory {
  std::uint64_t seq = 0;  // increasing per instance
  std::string actor;
  HistoryEntry entry;
  boost::json::object input;  // the commit's input on its first row, else empty
};

// What a batch of steps is about to ask the store, asked in one go (Store::read_ahead).
struct ReadAhead {
  std::vector<std::string> instances;                          // load()
  std::vector<std::string> idempotency_keys;                   // idempotent_response()
  std::vector<std::pair<std::string, std::string>> open_keys;  // find_open_by_key(workflow, key)
};

// Its answers; what is missing was not found.
struct ReadAheadAnswers {
  std::vector<Instance> instances;                                  // in no particular order
  std::map<std::string, boost::json::object> responses;             // by idempotency key
  std::map<std::pair<std::string, std::string>, std::string> open;  // (workflow, key) → id
};

class Store : public Counters {
 public:
  virtual std::optional<Instance> load(const std::string& id) const = 0;
  // The instance as its JSON document (to_json, serialized), for callers that only pass it on:
  // a store that keeps the document hands it out as it is, without parsing it.
  virtual std::optional<std::string> load_document(const std::string& id) const;
  // load(), idempotent_response() and find_open_by_key() for many at once: one read transaction
  // (SQLite) or few round trips (PostgreSQL) instead of one per question. The worker asks it for
  // a batch before stepping it. Instances that do not exist are left out.
  virtual ReadAheadAnswers read_ahead(const ReadAhead& ask) const {
    ReadAheadAnswers out;
    for (const std::string& id : ask.instances) {
      if (auto in = load(id)) out.instances.push_back(std::move(*in));
    }
    for (const std::string& key : ask.idempotency_keys) {
      if (auto response = idempotent_response(key)) out.responses[key] = std::move(*response);
    }
    for (const auto& [workflow, key] : ask.open_keys) {
      if (auto id = find_open_by_key(workflow, key)) out.open[{workflow, key}] = std::move(*id);
    }
    return out;
  }
  // The open (not ended) instance of `workflow` with business key `key`, if any.
  virtual std::optional<std::string> find_open_by_key(const std::string& workflow,
                                                      const std::string& key) const = 0;
  // Whether any instance of `workflow`, open or ended, ever had `key`.
  virtual bool key_used(const std::string& workflow, const std::string& key) const = 0;
  // The response stored with an idempotency key by an earlier commit.
  virtual std::optional<boost::json::object> idempotent_response(const std::string& key) const = 0;
  virtual CommitResult commit(const Commit& commit) = 0;
  // The same, for a caller that is done with `commit`: a store that keeps commits (the group
  // commit's batch) takes it over instead of copying it.
  virtual CommitResult commit_owned(Commit&& commit) { return this->commit(commit); }
  // Several commits in order, in one transaction: all are written, or (conflict) none.
  virtual CommitResult commit_all(std::span<const Commit> commits) = 0;
  // Adds `count` to a counter in a transaction of its own and returns its new value: the caller
  // owns the values (new - count, new]. Instance ids come in such blocks, so nodes starting cases
  // of one workflow do not contend on one row (unused ids leave gaps; serials use commits).
  virtual std::int64_t reserve(std::string_view counter, std::int64_t count) = 0;

  // Timers due at or before `until`, earliest first, at most `limit` (one process: simulate).
  virtual std::vector<DueTimer> due_timers(Timestamp until, std::size_t limit) const = 0;
  virtual std::optional<Timestamp> next_timer_due() const = 0;
  // Several nodes: leases up to `limit` timers due in (`after`, `until`] to `node` until
  // `lease_until`, earliest first — timers nobody holds, whose lease expired at `now`, or that
  // `node` holds with a lease ending at or before `renew_before` (renewing them). Timers `node`
  // holds for longer are left as they are and not returned: a node that keeps its claims in
  // memory renews them only when they run short, instead of rewriting every row it holds on
  // every refill. A lease only keeps nodes from firing the same timer at the same time; the row
  // is deleted by the commit of the step the timer causes.
  virtual std::vector<DueTimer> claim_timers(const TimerClaim& claim) = 0;
  // Gives up `node`'s leases (on shutdown), so other nodes take its timers at their next claim
  // of the whole look-ahead instead of after the leases ran out.
  virtual void release_timers(const std::string& node) = 0;
  virtual std::size_t pending_timers() const = 0;
  // Outbox messages not delivered yet (waiting, or failed and waiting for their next attempt).
  virtual std::size_t undelivered_messages() const = 0;

  virtual std::vector<StoredHistory> history(const std::string& instance_id) const = 0;
  // Open cases per assignee, for least-loaded assignment.
  virtual int open_cases(std::string_view person) const = 0;
  virtual std::vector<Instance> find_instances(const InstanceFilter& filter) const = 0;

  // Definitions: a new version only when the content hash differs from the newest's. The check
  // of `earlier` runs in the same transaction as the insert, so two nodes starting together
  // cannot interleave a stale file's publication between one's check and the other's insert.
  virtual PublishResult publish_definition(
      const PublishedDefinition& definition,
      EarlierContent earlier = EarlierContent::publish_again) = 0;
  virtual std::vector<PublishedDefinition> definition_versions(const std::string& name) const = 0;
  virtual std::vector<PublishedDefinition> latest_definitions() const = 0;

  // Outbox: messages not delivered whose next_attempt_at <= now, oldest first; each claimed
  // one gets attempts + 1 and next_attempt_at = lease_until.
  virtual std::vector<OutboxMessage> claim_outbox(Timestamp now, Timestamp lease_until,
                                                  std::size_t limit) = 0;
  // Marks these messages delivered at `at`, all in one transaction (one flush on SQLite).
  virtual void outbox_delivered(const std::vector<std::uint64_t>& ids, Timestamp at) = 0;
  virtual void outbox_failed(std::uint64_t id, const std::string& error,
                             Timestamp next_attempt_at) = 0;
  virtual std::vector<OutboxMessage> outbox(bool undelivered_only, std::size_t limit) const = 0;

  // Housekeeping: forgets idempotency answers kept since before `f.idempotency_keys` (a repeat of
  // such a key is a new request) and outbox messages delivered before `f.delivered_messages`, at
  // most `f.limit` rows of each kind per call, so that a call is a short write. Instances,
  // history, timers, undelivered messages and the inbox are never forgotten, nor the answers of
  // inbox replays (keys beginning with kInboxKeyPrefix): they are what makes a second replay of
  // an entry answer without applying its event again, for as long as the entry is kept.
  virtual Forgotten forget(const ForgetBefore& f) = 0;

  // Inbox. Adding an entry whose dedup_key is kept already returns that entry's id. A new entry
  // with a dedup_key also keeps, in the same transaction, the idempotency answer
  // inbox_answer(id) under that key (unless one is kept already): a retry of the delivery is
  // answered with the entry, even once a case it could go to exists.
  virtual std::uint64_t add_to_inbox(const InboxEntry& entry) = 0;
  // Entries in id order after `after_id` (0: from the first), at most `limit`.
  virtual std::vector<InboxEntry> inbox(bool open_only, std::uint64_t after_id,
                                        std::size_t limit) const = 0;
  virtual std::optional<InboxEntry> inbox_entry(std::uint64_t id) const = 0;
  // False when the entry does not exist or was replayed already.
  virtual bool mark_inbox_replayed(std::uint64_t id, const std::string& instance_id) = 0;

  // API tokens (by the hash of the secret).
  virtual void save_api_token(const ApiTokenRow& token) = 0;
  virtual std::optional<ApiTokenRow> find_api_token(const std::string& hash) const = 0;
  virtual std::vector<ApiTokenRow> api_tokens() const = 0;
  // False when there is no token with this id.
  virtual bool revoke_api_token(const std::string& id) = 0;
};

// Whether `instance` passes the filter's SLA condition (every store judges it the same way).
bool sla_matches(const InstanceFilter& filter, const Instance& instance);

// The payload an outbox row carries for a notification or a webhook (one format for every store).
boost::json::object outbox_payload(const Notification& notification);

// The idempotency answer add_to_inbox keeps under a delivery's key: {"status":"inbox","inbox":id}.
boost::json::object inbox_answer(std::uint64_t entry_id);

// The case a kept idempotency answer names ({"instance": {"id": ...}}), or "" when none.
std::string answered_case(const boost::json::object& answer);
boost::json::object outbox_payload(const OutboundWebhook& webhook);

}  // namespace ombud
