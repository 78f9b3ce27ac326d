// The workflow definition model: an immutable, fully resolved form of a workflow YAML file.
//
// The YAML adapter builds it (structure, literal values, expression syntax, positions); the
// checker in engine/definition_check.h verifies the cross references and expression types. Once
// a Definition passes both, step() can rely on every name in it being declared and every
// expression being well typed. Each element keeps the SourcePos it came from so that later
// diagnostics (and the graph) can point back into the file.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "engine/cron.h"
#include "engine/diagnostics.h"
#include "engine/expr/expression.h"
#include "engine/interned_name.h"
#include "engine/schema.h"
#include "engine/time.h"

namespace ombud {

// An expression as written in a file, parsed. `origin` is the position of the expression's
// first character (after `${`) so that an error at byte offset k maps to a precise column.
struct Expr {
  std::string text;
  SourcePos origin;
  bool exact_origin = true;  // false when the text spans lines: errors then point at `origin`
  std::shared_ptr<const expr::Node> ast;  // null only when the loader reported a syntax error

  SourcePos pos_at(std::size_t offset) const;
};

// A value in an action: a literal, an expression, or a map/list that may contain expressions
// (`data: {phone: "${ event.caller }", channel: phone}`).
struct ValueSpec {
  enum class Kind { literal, expression, object, array };

  // Declared so that clang accepts default construction of this self-referential aggregate.
  ValueSpec() = default;

  Kind kind = Kind::literal;
  boost::json::value literal;
  std::optional<Expr> expression;
  std::vector<std::pair<std::string, ValueSpec>> object;
  std::vector<ValueSpec> array;
  SourcePos pos;
};

// Turns a ValueSpec into JSON: literals as written, expressions through `eval` (which returns
// nullopt when evaluation failed, having reported why), maps and lists element by element.
// Nullopt as soon as one expression fails.
using ExprEvaluator = std::function<std::optional<boost::json::value>(const Expr&)>;
std::optional<boost::json::value> resolve_value(const ValueSpec& spec, const ExprEvaluator& eval);

enum class Priority : std::uint8_t { low, normal, high, urgent };
std::optional<Priority> priority_from_name(std::string_view name);
std::string_view priority_name(Priority p);

// ---- Actions ----------------------------------------------------------------------------------

struct SetAction {
  std::vector<std::pair<std::string, ValueSpec>> fields;
  std::vector<SourcePos> field_pos;  // position of each field name, parallel to `fields`
};

enum class AssignStrategy { round_robin, least_loaded };

struct AssignAction {
  enum class Kind { queue, to, role, manager_of };
  Kind kind = Kind::queue;
  std::string queue;                                      // Kind::queue
  AssignStrategy strategy = AssignStrategy::round_robin;  // Kind::queue
  std::vector<std::string> skills;                        // Kind::queue
  std::optional<ValueSpec> to;                            // Kind::to (literal person id or expr)
  std::string role;                                       // Kind::role
  std::string manager_of;                                 // Kind::manager_of: "assignee"
  SourcePos name_pos;                                     // of the queue or role name
};

struct PriorityAction {
  Priority priority = Priority::normal;
};

// A recipient as written in `notify.to`: assignee, role:R, queue:Q, person:ID,
// manager_of:assignee, or an expression giving a person id.
struct Recipient {
  enum class Kind { assignee, role, queue, person, manager_of_assignee, expression };
  Kind kind = Kind::assignee;
  std::string name;                // role, queue or person id
  std::optional<Expr> expression;  // Kind::expression
  SourcePos pos;
};

struct NotifyAction {
  Recipient to;
  std::string template_name;  // empty: the default template for the event
  SourcePos template_pos;
};

struct RaiseAction {
  std::string event;
  std::vector<std::pair<std::string, ValueSpec>> data;
};

struct StartAction {
  std::string workflow;
  std::vector<std::pair<std::string, ValueSpec>> data;
};

// `HT-{yyyy}-{seq:05}`: literal text with placeholders yyyy, yy, mm, dd (from the instant the
// serial is drawn, in the workflow's calendar zone) and seq[:0N] (zero-padded to N digits).
struct SerialAction {
  std::string field;
  std::string sequence;
  std::string format;
  // `restart: yearly`: numbering starts again at 1 each year (the year {yyyy} shows), so that a
  // register kept per year has no numbers missing at its start.
  bool yearly = false;
};

struct WebhookAction {
  std::string target;
  std::optional<ValueSpec> body;
};

struct Action {
  std::variant<SetAction, AssignAction, PriorityAction, NotifyAction, RaiseAction, StartAction,
               SerialAction, WebhookAction>
      kind;
  SourcePos pos;
};

// ---- Transitions, timers, states --------------------------------------------------------------

// A `roles:` entry that names the case's assignee rather than a role of the directory; an entry
// `data.FIELD` names the person whose id that data field holds.
inline constexpr std::string_view kAssigneeRole = "assignee";

struct Transition {
  std::string event;                  // the event that triggers it
  std::optional<std::string> target;  // none: internal transition (no exit/entry)
  std::optional<Expr> guard;
  std::vector<Action> actions;
  // Who may send the event through the API (empty: anyone): directory or API roles, `assignee`,
  // `data.FIELD`.
  std::vector<std::string> roles;
  std::vector<SourcePos> roles_pos;  // parallel to `roles`
  SourcePos pos;
  SourcePos target_pos;
};

// The transitions of one event, tried in order; the first whose guard holds wins.
struct EventHandlers {
  std::string event;
  std::vector<Transition> transitions;
  SourcePos pos;  // the event's key
};

// `after:` — a delay counted from entering the state; `at:` — an absolute instant from data.
struct StateTimer {
  enum class Kind { after, at };
  Kind kind = Kind::after;
  Duration delay;                       // Kind::after
  std::optional<Expr> time;             // Kind::at
  std::optional<std::string> calendar;  // overrides the workflow's calendar; "none" = wall clock
  std::optional<Expr> guard;
  std::optional<std::string> target;
  std::vector<Action> actions;
  SourcePos pos;
  SourcePos target_pos;
  SourcePos calendar_pos;
};

struct State {
  std::string name;
  bool final = false;
  std::vector<Action> entry;
  std::vector<Action> exit;
  std::vector<EventHandlers> on;
  std::vector<StateTimer> timers;  // `after` entries first, then `at`, each in file order
  std::string description;
  SourcePos pos;

  const EventHandlers* handlers_for(std::string_view event) const;
};

// ---- SLAs -------------------------------------------------------------------------------------

struct EscalationLevel {
  enum class Kind { percent, elapsed };
  Kind kind = Kind::percent;
  double percent = 0;  // Kind::percent: 75 for `75%`
  Duration elapsed;    // Kind::elapsed: working time since the clock started
  std::optional<Duration> repeat;
  std::vector<Action> actions;
  SourcePos pos;
};

struct Sla {
  std::string name;
  std::optional<Duration> goal;   // a literal goal...
  std::optional<Expr> goal_expr;  // ...or an expression of type duration
  std::optional<std::string> calendar;
  // `cancel`: states where the clock is withdrawn, neither met nor breached (a duplicate or a
  // complaint registered in error); one already breached stays breached.
  std::vector<std::string> start, pause, stop, cancel;
  std::vector<SourcePos> start_pos, pause_pos, stop_pos, cancel_pos;  // parallel to the lists
  std::vector<EscalationLevel> escalate;
  SourcePos pos;
  SourcePos calendar_pos;
};

// ---- The workflow -----------------------------------------------------------------------------

enum class KeyPolicy { none, one_open, unique };

struct Schedule {
  CronSpec cron;
  std::string cron_text;
  std::string timezone;
  std::vector<std::pair<std::string, ValueSpec>> data;
  SourcePos pos;
  SourcePos timezone_pos;
};

struct Definition {
  std::string file;  // where it was loaded from (for diagnostics)
  std::string name;
  std::string title;
  std::string description;
  std::optional<std::string> calendar;  // "none" = wall clock; absent = wall clock
  std::optional<Expr> key;
  KeyPolicy key_policy = KeyPolicy::none;
  Schema data;
  std::vector<std::pair<std::string, Schema>> events;
  std::string initial;
  std::vector<State> states;      // in file order
  std::vector<EventHandlers> on;  // global transitions, valid in every non-final state
  // Run after a person assigns a case to someone through the API (POST …/assign with `to`):
  // typically a notification to the new assignee. Not run when a workflow's own `assign`
  // action moves the case, nor when a case is put back to wait in a queue.
  std::vector<Action> on_assign;
  std::vector<Sla> slas;
  std::optional<Schedule> schedule;

  SourcePos pos;       // the top-level map
  SourcePos name_pos;  // the value of `workflow:`
  SourcePos calendar_pos;
  SourcePos initial_pos;

  // Position in `states` by name, so that step() finds a state without scanning them all. The
  // loader builds it with index_states() once the states are read; a definition put together
  // by hand may leave it empty. find_state() checks every hit against the state's name and
  // scans otherwise, so a missing or stale index costs time, never a wrong answer.
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>> state_index;
  // The states' names as instances keep them, in the order of `states` (index_states() fills
  // it), so that entering a state does not look its name up in the process-wide table.
  std::vector<InternedName> interned_states;
  // What entering each state means to each SLA's clock, as bits of SlaMembership: row i is
  // states[i], column j is slas[j] (index_states() fills it), so that entering a state does not
  // search the SLAs' lists of state names. Only its size is checked: a definition whose SLA
  // lists change after loading must call index_states() again.
  enum SlaMembership : std::uint8_t { kSlaStart = 1, kSlaPause = 2, kSlaStop = 4, kSlaCancel = 8 };
  std::vector<std::uint8_t> sla_membership;
  // The SLAs' names, in the order of `slas`. Like sla_membership, only its size is checked.
  std::vector<InternedName> interned_slas;

  void index_states();
  // The SlaMembership bits of states[state] in slas[sla].
  std::uint8_t sla_membership_of(std::size_t state, std::size_t sla) const;
  // The name of slas[sla] as instances keep it.
  InternedName interned_sla_name(std::size_t sla) const;
  const State* find_state(std::string_view name) const;
  const State* find_state(const std::string& name) const {
    return find_state(std::string_view(name));
  }
  const State* find_state(const char* name) const { return find_state(std::string_view(name)); }
  // The same, for a name as instances keep it: compares addresses, no hashing.
  const State* find_state(const InternedName& name) const;
  // The name of `state` (one of `states`) as an instance keeps it.
  InternedName interned_name_of(const State& state) const;
  const Schema* event_schema(std::string_view event) const;
  std::vector<std::string> state_names() const;
  // The events some transition takes (a state's or a global one).
  std::set<std::string, std::less<>> handled_events() const;
  // The events some action raises (entry, exit, transition, timer or escalation actions).
  std::set<std::string, std::less<>> raised_events() const;
};

}  // namespace ombud
