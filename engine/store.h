// The Store port: where instances, their history, timers, counters and idempotency keys live.
//
// A step's whole outcome is written by one commit() — instance, history, timers armed and
// cancelled, outbox, counters and the idempotency key — so it happens entirely or not at all;
// the caller acknowledges only after commit() returned. The SQL adapter (adapters/sql) and the
// in-memory store (engine/memory_store.h) implement it.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/instance.h"
#include "engine/step.h"

namespace ombud {

// A timer as the store indexes it: which instance, which of its timers, when.
struct DueTimer {
  std::string instance_id;
  std::uint64_t timer_id = 0;
  Timestamp due{};
};

// Everything one step changes, committed atomically.
struct Commit {
  Instance instance;                    // the new instance (revision already incremented)
  std::uint64_t expected_revision = 0;  // the revision it was loaded at; 0 for a new instance
  std::vector<HistoryEntry> history;
  std::vector<DueTimer> armed;
  std::vector<DueTimer> cancelled;  // includes the timer that fired, if any
  std::vector<Notification> notifications;
  std::vector<OutboundWebhook> webhooks;
  std::vector<CounterUpdate> counters;
  std::string idempotency_key;   // "" when none
  boost::json::object response;  // what the caller was told, replayed for a repeated key
};

enum class CommitResult { ok, conflict };

class Store : public Counters {
 public:
  virtual std::optional<Instance> load(const std::string& id) const = 0;
  // The open (not ended) instance of `workflow` with business key `key`, if any.
  virtual std::optional<std::string> find_open_by_key(const std::string& workflow,
                                                      const std::string& key) const = 0;
  // Whether any instance of `workflow`, open or ended, ever had `key`.
  virtual bool key_used(const std::string& workflow, const std::string& key) const = 0;
  // The response stored with an idempotency key by an earlier commit.
  virtual std::optional<boost::json::object> idempotent_response(const std::string& key) const = 0;
  // conflict: the instance's revision is no longer `expected_revision` (nothing was written).
  virtual CommitResult commit(const Commit& commit) = 0;
  // Timers due at or before `until`, earliest first, at most `limit`.
  virtual std::vector<DueTimer> due_timers(Timestamp until, std::size_t limit) const = 0;
  virtual std::optional<Timestamp> next_timer_due() const = 0;
  virtual std::vector<HistoryEntry> history(const std::string& instance_id) const = 0;
  // Open cases per assignee, for least-loaded assignment.
  virtual int open_cases(std::string_view person) const = 0;
};

}  // namespace ombud
