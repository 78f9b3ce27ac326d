// The runtime: load → step → commit → acknowledge, around the pure step().
//
// It correlates events by business key, enforces `key_policy`, replays idempotent requests,
// fires due timers in order and starts scheduled instances. Effects that leave the process
// (notifications, webhooks) are handed to the Notifier only after their commit. Events for one
// instance are processed one at a time, in order (this class is not thread-safe: one runtime
// per thread of control; the server serialises per instance in front of it).
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/definition.h"
#include "engine/step.h"
#include "engine/store.h"

namespace ombud {

// Receives notifications and webhooks after they were committed.
class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual void notify(const Instance& instance, const Notification& notification) = 0;
  virtual void webhook(const Instance& instance, const OutboundWebhook& webhook) = 0;
};

// The end of a not_found error for a case whose workflow version this node has not loaded (it
// was published through another node a moment ago): loading the versions and asking again
// answers it.
inline constexpr std::string_view kNotLoaded = " is not loaded";

// What a caller is told about a start or an event.
struct RuntimeResult {
  // key_reused: the idempotency key was kept for a different request (another case, event,
  // caller or data); nothing was done. stale_revision: the caller acted on a revision of the
  // case it is no longer at; nothing was done.
  enum class Status {
    ok,
    not_handled,
    rejected,
    not_found,
    conflict,
    unavailable,
    key_reused,
    stale_revision
  };
  Status status = Status::ok;
  std::string error;
  // unavailable because the store failed: `error` is what the database said (its statement, other
  // requests' values), for the log and the operator, not for the caller.
  bool store_failure = false;
  std::optional<Instance> instance;
  std::vector<HistoryEntry> history;  // what this call added
  // Answered from an earlier call with the same idempotency key: that call's status, and the
  // case as it is now (without history).
  bool replayed = false;
  // Replayed, and that earlier call was a webhook delivery kept in this inbox entry.
  std::uint64_t inbox_entry = 0;

  boost::json::object to_json() const;
};

inline bool version_not_loaded(const RuntimeResult& r) {
  return r.status == RuntimeResult::Status::not_found && r.error.ends_with(kNotLoaded);
}

struct StartRequest {
  std::string workflow;
  boost::json::object data;
  std::string key;  // the business key; "" = the workflow's `key:` expression decides
  std::string idempotency_key;
  std::string actor;
};

// One start a workflow's `schedule:` asks for: the minute its cron line matched, and the start
// with its data (`now` read as that minute), or why the data could not be made.
struct ScheduledStart {
  Timestamp due{};
  StartRequest request;  // actor "schedule"; idempotency key "schedule:<workflow>:<due>"
  std::string problem;   // non-empty: not startable ("'now + x' failed: ...")
};

// The starts `def`'s schedule asks for in (from, to], in order; none without a schedule. The
// idempotency key makes each one once, whichever node or pass asks for it first.
std::vector<ScheduledStart> scheduled_starts(const Definition& def, Timestamp from, Timestamp to);

struct EventRequest {
  std::string instance_id;  // or, when empty, workflow + key
  std::string workflow;
  std::string key;
  std::string event;
  boost::json::object data;
  std::string idempotency_key;
  std::string actor;
  std::vector<std::string> actor_roles;
  bool enforce_roles = false;
  // Not handled in the case's state: refused (rejected), nothing committed or kept, instead of
  // recorded as not handled. An inbox replay must land, or leave its entry open.
  bool refuse_unhandled = false;
  // The revision the caller saw: refused (stale_revision) when the case is at another. Checked
  // against the case the step runs on, so two callers who saw the same revision cannot both
  // pass.
  std::optional<std::uint64_t> revision;
};

// A supervisor moves a case to a person (`to`), or takes it from its assignee to wait in a
// queue (`queue`; with neither, the queue it waits in already). The caller checks that the
// person and the queue are in the directory (the API does, against the config).
struct AssignRequest {
  std::string instance_id;
  std::string to;
  std::string queue;
  std::string reason;
  std::string idempotency_key;
  std::string actor;
  std::optional<std::uint64_t> revision;  // as EventRequest::revision
};

// A supervisor marks an incident of a case resolved (someone assigned the case by hand, the
// missing template was added). The incident stays in the case, marked resolved; the history
// says who resolved it, when and why. Allowed on an ended case too.
struct ResolveIncidentRequest {
  std::string instance_id;
  std::size_t incident = 0;  // its position in the case's `incidents`, from 1
  std::string note;
  std::string idempotency_key;
  std::string actor;
  std::optional<std::uint64_t> revision;  // as EventRequest::revision
};

class Runtime {
 public:
  // `context` supplies calendars and the directory; its counters and workload are replaced by
  // the store's. Definitions must outlive the runtime.
  Runtime(Store& store, const Clock& clock, StepContext context, Notifier* notifier = nullptr);

  // Registers a version of a workflow. New instances start on the highest version registered;
  // running ones stay on the version they started on.
  void add_definition(const Definition& def, int version = 1);
  // The latest version, or null.
  const Definition* definition(const std::string& workflow) const;
  const Definition* definition(const std::string& workflow, int version) const;

  RuntimeResult start(const StartRequest& request);
  RuntimeResult send(const EventRequest& request);
  RuntimeResult assign(const AssignRequest& request);
  // Not found when the case has no such incident; ok with nothing recorded when it is
  // resolved already.
  RuntimeResult resolve_incident(const ResolveIncidentRequest& request);

  // Fires every timer due at or before now(), earliest first; returns how many fired. Each
  // firing is its own step and commit.
  int fire_due_timers();
  // Fires the next due timer only if it is due at or before `until` (the simulator moves its
  // clock to each timer's due time first). Returns the result, or nullopt when none is due.
  std::optional<RuntimeResult> fire_next_timer(Timestamp until);
  // Fires one timer the store reported due (or a node claimed). Nullopt when its case is gone
  // or the timer is no longer pending (cancelled meanwhile).
  // Status conflict when the row was deleted meanwhile (fired or cancelled elsewhere).
  std::optional<RuntimeResult> fire_timer(const DueTimer& timer);
  std::optional<Timestamp> next_timer_due() const { return store_.next_timer_due(); }

  // Starts the instances whose `schedule:` cron matched a minute in (from, to].
  std::vector<RuntimeResult> run_schedules(Timestamp from, Timestamp to);

 private:
  RuntimeResult start_at(const StartRequest& request, Timestamp now);
  void record_incident(const std::string& instance_id, const std::string& message);
  // The case a supervisor's request acts on, into `loaded`; or the answer when there is nothing
  // to step: the idempotency key's earlier answer, no such case, a stale revision.
  std::optional<RuntimeResult> load_case(const std::string& instance_id,
                                         const std::string& idempotency_key,
                                         const std::string& digest,
                                         std::optional<std::uint64_t> revision,
                                         std::optional<Instance>& loaded) const;
  // The answer to a repeated idempotency key: the first call's status, the case as it is now;
  // key_reused when the key was kept for a request other than `request` (request_digest()).
  std::optional<RuntimeResult> replayed(const std::string& idempotency_key,
                                        const std::string& request) const;
  // `request`: the digest kept with the answer of an idempotency key ("" = none).
  RuntimeResult apply(const Instance& before, Outcome outcome, const std::string& idempotency_key,
                      const std::string& request, bool is_new, const std::optional<DueTimer>& fired,
                      const std::string& actor, boost::json::object input);
  StepContext context_for(const StepContext* overrides) const;
  // The next instance number of `workflow`, from a block reserved in the store.
  std::int64_t next_instance_number(const std::string& workflow);

  Store& store_;
  const Clock& clock_;
  StepContext context_;
  Notifier* notifier_;
  // The events of a definition: those a transition takes, and those it raises itself without
  // declaring them under `events:` (which callers other than admins may not send).
  struct EventNames {
    std::set<std::string, std::less<>> handled;
    std::set<std::string, std::less<>> internal;
  };
  std::map<const Definition*, EventNames> event_names_;
  std::map<std::string, std::pair<const Definition*, int>> definitions_;  // the latest
  std::map<std::pair<std::string, int>, const Definition*> versions_;
  struct IdBlock {
    std::int64_t next = 1;
    std::int64_t last = 0;
    std::int64_t size = 0;  // of the last reservation
    Timestamp reserved_at{};
  };
  std::map<std::string, IdBlock> id_blocks_;  // workflow → the ids this runtime may hand out
};

}  // namespace ombud
