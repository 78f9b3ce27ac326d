// The heart of the engine: what happens to an instance when an event arrives or a timer fires.
//
//   start(definition, id, data, now, ctx)          → the new instance, entered into `initial`
//   step(definition, instance, event, now, ctx)     → the next instance plus effects
//
// Both are pure: no I/O, no clock, no global state. Everything they need to know about the
// world comes in through StepContext (calendars, directory, workload, counters); everything they
// want done comes out as effects (history, timers to arm and cancel, notifications, child
// starts, webhooks, counter updates) for the runtime to persist in one transaction and perform
// afterwards. The same function runs in the server, in `ombud simulate` and in tests.
//
// Semantics (docs/workflow-format.md has the admin's version):
//   - A state's own transitions are tried before the global `on`; within an event, transitions
//     are tried in order and the first whose guard holds wins. A guard whose evaluation fails
//     counts as false and records an incident.
//   - A transition with a target runs: exit actions of the source, transition actions, then
//     (after the state changes) entry actions of the target; timers of the source are cancelled
//     and those of the target armed; SLA clocks react to the new state. Without a target it is
//     internal: only its actions run.
//   - Actions run in order and each sees what the earlier ones did. All values of one `set` are
//     computed from the data as it was before that `set`.
//   - `raise` queues an internal event handled right after the current one, in the same step;
//     more than kMaxRaisedEvents in one step is a loop: an incident, the rest are dropped.
//   - An event no transition takes is recorded in history as not handled; the instance only
//     gets a new revision.
//   - An event whose payload does not match its `events:` schema, or that is sent to an ended
//     instance, or by a caller without the transition's `roles`, is rejected: the instance is
//     unchanged and the outcome says why.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/assignment.h"
#include "engine/calendar.h"
#include "engine/definition.h"
#include "engine/details.h"
#include "engine/directory.h"
#include "engine/instance.h"

namespace ombud {

struct Config;

inline constexpr int kMaxRaisedEvents = 32;

// Named counters kept outside the instance: round-robin cursors (`rr:QUEUE`) and serial
// sequences (`seq:NAME`). step() reads them here and reports new values as CounterUpdates,
// which the runtime stores in the same transaction, so serials stay gapless.
class Counters {
 public:
  virtual ~Counters() = default;
  virtual std::int64_t get(std::string_view name) const = 0;
};

// Calendars by name ("none" and "" are the wall clock). Returns null for an unknown name.
class Calendars {
 public:
  virtual ~Calendars() = default;
  virtual const BusinessCalendar* find(std::string_view name) const = 0;
};

// Replay's memory of how a step's assignments came out when it ran: the directory, the workload
// and the round-robin cursors of that moment are gone, and choosing again with today's could
// pick someone else, or nobody.
class RecordedAssignments {
 public:
  virtual ~RecordedAssignments() = default;
  // The outcome of the step's next assignment made `how` ("queue complaints, least_loaded",
  // "role hr", "manager of li.na", "direct"), or nullopt when none was recorded.
  virtual std::optional<AssignmentChoice> take(std::string_view how) = 0;
};

struct StepContext {
  const Calendars* calendars = nullptr;  // null: every calendar is the wall clock
  const Directory* directory = nullptr;  // null: assignments other than `to:` become incidents
  const Workload* workload = nullptr;    // null: everyone has zero open cases
  const Counters* counters = nullptr;    // null: every counter starts at 0
  // Roles of whoever sent the event; checked against a transition's `roles` when
  // `enforce_roles` is true (events from the API), ignored for timers and internal events.
  std::vector<std::string> actor_roles;
  bool enforce_roles = false;
  // Whether `person` fields must name someone of the directory as it is now. Replay turns it
  // off: a person who has since left was in the directory when the case began.
  bool check_people = true;
  // Not step()'s: the Runtime fills each notification's texts from this config's templates
  // before the commit keeps them. Null: notifications carry no text.
  const Config* templates = nullptr;
  // Replay: assignments take their recorded outcome instead of choosing again. Null: they
  // choose.
  RecordedAssignments* recorded_assignments = nullptr;
};

struct Event {
  std::string name;  // empty for a timer
  boost::json::object data;
  std::optional<std::uint64_t> timer_id;  // a timer of the instance fired
  std::string actor;                      // who sent it, for history ("" = the system)
};

struct HistoryEntry {
  Timestamp at{};
  std::string kind;     // started, event, transition, not_handled, timer, sla, escalation,
                        // assigned, notify, priority, set, incident, ended, ...
  std::string message;  // one readable line: "visited: return_visit → closed"
  Details details;      // a JSON object as text: {"from":"return_visit","to":"closed"}
};

struct Notification {
  std::string template_name;
  std::vector<std::string> recipients;  // person ids, resolved when the step ran
  std::string to;                       // as written: assignee, role:supervisor, ...
  // The texts, filled from the template after the step (render_notification) and kept in the
  // outbox with it; empty where nothing renders them (the engine's own tests, replay).
  std::string subject;
  std::string body;
};

struct ChildStart {
  std::string workflow;
  boost::json::object data;
};

struct OutboundWebhook {
  std::string target;
  boost::json::value body;
};

struct CounterUpdate {
  std::string name;
  std::int64_t value = 0;
  std::int64_t read = 0;  // the value the step read: the store moves it only from there
};

struct Outcome {
  enum class Result { handled, not_handled, rejected };
  Result result = Result::handled;
  std::string error;  // rejected: why ("event 'visited': field 'score' is required")

  Instance instance;  // the next state (equal to the input, revision aside, unless handled)
  std::vector<HistoryEntry> history;
  std::vector<PendingTimer> armed;
  std::vector<std::uint64_t> cancelled;
  std::vector<Notification> notifications;
  std::vector<ChildStart> starts;
  std::vector<OutboundWebhook> webhooks;
  std::vector<CounterUpdate> counters;
};

// Validates `data` against the definition (required fields, types, defaults), computes the
// business key, and enters the initial state. Rejected (with the reason) when data is invalid.
Outcome start(const Definition& def, std::string id, const boost::json::object& data, Timestamp now,
              const StepContext& ctx);

// A person moves a case through the API: to someone (`to`), or to wait unassigned in `queue`.
// The runtime checks the request first (the case is open, the person and the queue exist, the
// case is not there already); reassign() records the move and, when it names a person, runs
// the workflow's `on_assign` actions after it, in the same step.
struct Reassignment {
  std::string to;
  std::string queue;  // where it waits when `to` is empty
  std::string reason;
  std::string actor;
};

Outcome reassign(const Definition& def, const Instance& instance, const Reassignment& r,
                 Timestamp now, const StepContext& ctx);

// A person marks incident `n` (from 1, an open one: the runtime checks) of a case resolved. It
// stays in the case, resolved; the history says who resolved it and why. Runtime and replay
// both make the change here.
Outcome resolve_incident(const Instance& instance, std::size_t n, const std::string& note,
                         const std::string& actor, Timestamp now);

Outcome step(const Definition& def, const Instance& instance, const Event& event, Timestamp now,
             const StepContext& ctx);

// The status of an SLA clock as people see it at `now`: breached once its goal is exceeded,
// whether or not the clock has stopped.
SlaClock::Status sla_status_at(const SlaClock& clock, Timestamp now, const BusinessCalendar& cal);

// The history line of a notification: "notify assignee (li.na): complaint_assigned"; a person
// an expression named is shown by id ("notify he.ping: leave_approved").
std::string notify_line(const Notification& n);

// The person a transition's `roles:` entry names, or "": `assignee` is `assignee`, `data.FIELD`
// the person whose id that field of `data` holds (the requester of a leave, say). Directory
// roles name nobody in particular.
std::string named_person(std::string_view entry, const Data& data, const std::string& assignee);

// Whether a transition's `roles` let `actor`, who holds `actor_roles`, send its event: one of
// those roles, or an entry naming `actor` (named_person).
bool roles_allow(const std::vector<std::string>& roles, const std::vector<std::string>& actor_roles,
                 const std::string& actor, const Data& data, const std::string& assignee);

// Checks a payload or start data against a schema: unknown fields, required fields, types and
// bounds, at start fields the workflow keeps itself (`internal`), and with a directory that a
// `person` field names someone in it. Returns "" when it conforms, else every problem,
// separated by "; " ("field 'score': 9 is above max 5").
std::string validate_payload(const Schema& schema, const boost::json::object& data,
                             bool at_start = false, const Directory* directory = nullptr);

}  // namespace ombud
