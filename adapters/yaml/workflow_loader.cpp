#include "adapters/yaml/workflow_loader.h"

#include <array>
#include <charconv>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>

#include "adapters/yaml/reader.h"

namespace ombud::yaml {

namespace {

using Keys = std::span<const std::string_view>;

constexpr std::array<std::string_view, 14> kTopKeys{
    "workflow", "title",   "description", "calendar", "key",       "key_policy", "data",
    "events",   "initial", "states",      "on",       "on_assign", "slas",       "schedule"};
constexpr std::array<std::string_view, 9> kFieldKeys{
    "type", "required", "default", "values", "min", "max", "description", "internal", "person"};
constexpr std::array<std::string_view, 7> kStateKeys{"type", "description", "entry", "exit",
                                                     "on",   "after",       "at"};
constexpr std::array<std::string_view, 5> kTransitionKeys{"target", "guard", "actions", "roles",
                                                          "description"};
constexpr std::array<std::string_view, 5> kAfterKeys{"delay", "calendar", "guard", "target",
                                                     "actions"};
constexpr std::array<std::string_view, 5> kAtKeys{"time", "calendar", "guard", "target", "actions"};
constexpr std::array<std::string_view, 8> kSlaKeys{"goal", "calendar", "start",    "pause",
                                                   "stop", "cancel",   "escalate", "description"};
constexpr std::array<std::string_view, 3> kLevelKeys{"at", "repeat", "actions"};
constexpr std::array<std::string_view, 3> kScheduleKeys{"cron", "timezone", "data"};
constexpr std::array<std::string_view, 8> kActionNames{"set",   "assign", "priority", "notify",
                                                       "raise", "start",  "serial",   "webhook"};

class WorkflowLoader {
 public:
  WorkflowLoader(const Document& doc, Diagnostics& diags) : doc_(doc), r_(doc, diags) {}

  Definition load(const Node& root) {
    Definition def;
    def.file = doc_.file;
    def.pos = root.pos;
    r_.check_keys(root, Keys(kTopKeys), "workflow");

    if (const Node* n = r_.require(root, "workflow", "the workflow")) {
      if (auto name = r_.name(*n, "workflow name")) def.name = *name;
      def.name_pos = n->pos;
    }
    if (const Node* n = root.find("title")) def.title = r_.string(*n, "title").value_or("");
    if (const Node* n = root.find("description")) {
      def.description = r_.string(*n, "description").value_or("");
    }
    if (const Node* n = root.find("calendar")) {
      def.calendar = r_.string(*n, "calendar");
      def.calendar_pos = n->pos;
    }
    if (const Node* n = root.find("key")) def.key = r_.expression(*n, true, "key");
    if (const Node* n = root.find("key_policy")) def.key_policy = key_policy(*n);
    if (const Node* n = root.find("data")) def.data = schema(*n, "data field");
    if (const Node* n = root.find("events")) events(*n, def);
    if (const Node* n = r_.require(root, "initial", "the workflow")) {
      def.initial = r_.string(*n, "initial").value_or("");
      def.initial_pos = n->pos;
    }
    if (const Node* n = r_.require(root, "states", "the workflow")) states(*n, def);
    if (const Node* n = root.find("on")) def.on = handlers(*n, "global on");
    if (const Node* n = root.find("on_assign")) def.on_assign = actions(*n, "on_assign");
    if (const Node* n = root.find("slas")) slas(*n, def);
    if (const Node* n = root.find("schedule")) def.schedule = schedule(*n);
    def.index_states();
    return def;
  }

 private:
  KeyPolicy key_policy(const Node& n) {
    const auto s = r_.string(n, "key_policy");
    if (!s) return KeyPolicy::none;
    if (*s == "none") return KeyPolicy::none;
    if (*s == "one_open") return KeyPolicy::one_open;
    if (*s == "unique") return KeyPolicy::unique;
    r_.error(n, "key_policy must be none, one_open or unique, got '" + *s + "'" +
                    did_you_mean(*s, {"none", "one_open", "unique"}));
    return KeyPolicy::none;
  }

  Schema schema(const Node& n, std::string_view what) {
    Schema out;
    out.pos = n.pos;
    if (n.is_null()) return out;
    if (!r_.expect_map(n, what == "data field" ? "data" : "an event's payload")) return out;
    for (const auto& [key, value] : n.entries) {
      if (auto f = field(key, value, what)) {
        out.fields.push_back(std::move(*f));
      } else {
        // Reported already (an unknown type, say): the lines that use it are not wrong too.
        out.unreadable.push_back(key.value);
      }
    }
    return out;
  }

  static bool is_identifier(std::string_view s) {
    if (s.empty()) return false;
    const auto alpha = [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    };
    if (!alpha(s.front())) return false;
    for (char c : s) {
      if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
    }
    return true;
  }

  std::optional<FieldSchema> field(const Node& key, const Node& n, std::string_view what) {
    FieldSchema f;
    f.name = key.value;
    f.pos = key.pos;
    if (!is_identifier(f.name)) {
      r_.error(key,
               std::string(what) + " '" + f.name +
                   "' is not a valid name (letters, digits and '_', not starting with a digit)");
    }
    const std::string context = std::string(what) + " '" + f.name + "'";
    if (!r_.expect_map(n, context)) return std::nullopt;
    r_.check_keys(n, Keys(kFieldKeys), context);
    const Node* type = r_.require(n, "type", context);
    if (type == nullptr) return std::nullopt;
    const auto type_name = r_.string(*type, "type");
    if (!type_name) return std::nullopt;
    const auto t = field_type_from_name(*type_name);
    if (!t) {
      // Names other schema languages use, which are too far from ours for a spelling hint.
      static const std::map<std::string, std::string, std::less<>> kElsewhere{
          {"integer", "int"}, {"float", "number"}, {"double", "number"},  {"boolean", "bool"},
          {"str", "string"},  {"text", "string"},  {"date", "timestamp"}, {"datetime", "timestamp"},
          {"array", "list"},  {"map", "object"},   {"dict", "object"}};
      const auto ours = kElsewhere.find(*type_name);
      r_.error(*type,
               "unknown type '" + *type_name + "'" +
                   (ours != kElsewhere.end() ? " (did you mean '" + ours->second + "'?)"
                                             : did_you_mean(*type_name, field_type_names())) +
                   " (types: string, int, number, bool, enum, timestamp, duration, list, object)");
      return std::nullopt;
    }
    f.type = *t;
    if (const Node* v = n.find("required")) f.required = r_.boolean(*v, "required").value_or(false);
    if (const Node* v = n.find("person")) {
      // true, false, or the role the person must hold.
      if (v->is_scalar() && v->value != "true" && v->value != "false" && !v->quoted) {
        f.person = true;
        f.person_role = r_.name(*v, "person role").value_or("");
      } else {
        f.person = r_.boolean(*v, "person").value_or(false);
      }
      if (f.person && f.type != FieldType::string) {
        r_.error(*v, "'person' is only allowed on string fields (a person id)");
      }
    }
    if (const Node* v = n.find("internal")) {
      f.internal = r_.boolean(*v, "internal").value_or(false);
      if (what != "data field") {
        r_.error(*v,
                 "'internal' is only allowed on data fields: an event's payload is its sender's");
      } else if (f.internal && f.required) {
        r_.error(*v, context +
                         " is internal, so no start gives it: it cannot be required (give it "
                         "a default)");
      }
    }
    if (const Node* v = n.find("values")) {
      if (f.type != FieldType::enum_) {
        r_.error(*v, "'values' is only allowed on enum fields");
      } else {
        f.values = r_.string_list(*v, "values");
        if (f.values.empty() && v->is_sequence()) r_.error(*v, "an enum needs at least one value");
      }
    } else if (f.type == FieldType::enum_) {
      r_.error(n, context + " is an enum and needs 'values'");
    }
    for (const char* bound : {"min", "max"}) {
      const Node* v = n.find(bound);
      if (v == nullptr) continue;
      if (f.type != FieldType::int_ && f.type != FieldType::number && f.type != FieldType::string &&
          f.type != FieldType::list) {
        r_.error(*v, std::string("'") + bound +
                         "' is only allowed on int, number, string and list fields");
        continue;
      }
      auto value = r_.number(*v, bound);
      (std::string_view(bound) == "min" ? f.min : f.max) = value;
    }
    if (f.min && f.max && *f.min > *f.max) {
      const auto text = [](double d) {
        std::ostringstream out;
        out << std::setprecision(15) << d;  // 5, 1.5, 1000000
        return out.str();
      };
      r_.error(n, context + ": min " + text(*f.min) + " is greater than max " + text(*f.max));
    }
    if (const Node* v = n.find("default")) {
      boost::json::value literal = literal_json(*v);
      const std::string problem = check_field_value(f, literal);
      if (!problem.empty()) {
        r_.error(*v, "default of " + context + ": " + problem);
      } else {
        f.default_value = std::move(literal);
      }
    }
    return f;
  }

  // A literal value (defaults, schedule data): nested maps and lists become JSON.
  boost::json::value literal_json(const Node& n) {
    if (n.is_map()) {
      boost::json::object o;
      for (const auto& [k, v] : n.entries) o[k.value] = literal_json(v);
      return o;
    }
    if (n.is_sequence()) {
      boost::json::array a;
      for (const auto& item : n.items) a.push_back(literal_json(item));
      return a;
    }
    return Reader::scalar_to_json(n);
  }

  void events(const Node& n, Definition& def) {
    if (!r_.expect_map(n, "events")) return;
    for (const auto& [key, value] : n.entries) {
      r_.name(key, "event name");
      def.events.emplace_back(key.value, schema(value, "event field"));
      def.events.back().second.pos = key.pos;
    }
  }

  void states(const Node& n, Definition& def) {
    if (!r_.expect_map(n, "states")) return;
    if (n.entries.empty()) r_.error(n, "a workflow needs at least one state");
    for (const auto& [key, value] : n.entries) {
      State s;
      s.name = key.value;
      s.pos = key.pos;
      r_.name(key, "state name");
      state(value, s);
      def.states.push_back(std::move(s));
    }
  }

  void state(const Node& n, State& s) {
    const std::string context = "state '" + s.name + "'";
    if (n.is_null()) return;  // `waiting: {}` or `waiting:` — a state with nothing to do
    if (!r_.expect_map(n, context)) return;
    r_.check_keys(n, Keys(kStateKeys), context);
    if (const Node* t = n.find("type")) {
      const auto type = r_.string(*t, "state type");
      if (type && *type == "final") {
        s.final = true;
      } else if (type && *type != "normal") {
        r_.error(*t, "state type must be 'final' or 'normal', got '" + *type + "'");
      }
    }
    if (const Node* d = n.find("description"))
      s.description = r_.string(*d, "description").value_or("");
    if (const Node* e = n.find("entry")) s.entry = actions(*e, "entry of " + context);
    if (const Node* e = n.find("exit")) s.exit = actions(*e, "exit of " + context);
    if (const Node* on = n.find("on")) {
      if (s.final) {
        r_.error(key_pos(n, "on"), "final " + context + " cannot have transitions ('on')");
      }
      s.on = handlers(*on, context);
    }
    if (const Node* after = n.find("after")) {
      if (s.final)
        r_.error(key_pos(n, "after"), "final " + context + " cannot have timers ('after')");
      timers(*after, StateTimer::Kind::after, context, s);
    }
    if (const Node* at = n.find("at")) {
      if (s.final) r_.error(key_pos(n, "at"), "final " + context + " cannot have timers ('at')");
      timers(*at, StateTimer::Kind::at, context, s);
    }
  }

  static SourcePos key_pos(const Node& map, std::string_view key) {
    for (const auto& [k, v] : map.entries) {
      if (k.value == key) return k.pos;
    }
    return map.pos;
  }

  std::vector<EventHandlers> handlers(const Node& n, const std::string& context) {
    std::vector<EventHandlers> out;
    if (!r_.expect_map(n, "'on' of " + context)) return out;
    for (const auto& [key, value] : n.entries) {
      EventHandlers h;
      h.event = key.value;
      h.pos = key.pos;
      r_.name(key, "event name");
      const std::string what = "transition on '" + h.event + "' in " + context;
      if (value.is_sequence()) {
        if (value.items.empty()) r_.error(value, what + " lists no transitions");
        for (const auto& item : value.items) {
          if (auto t = transition(item, h.event, what)) h.transitions.push_back(std::move(*t));
        }
      } else if (auto t = transition(value, h.event, what)) {
        h.transitions.push_back(std::move(*t));
      }
      out.push_back(std::move(h));
    }
    return out;
  }

  std::optional<Transition> transition(const Node& n, const std::string& event,
                                       const std::string& what) {
    Transition t;
    t.event = event;
    t.pos = n.pos;
    if (n.is_scalar()) {  // shorthand: event → target
      t.target = n.value;
      t.target_pos = n.pos;
      return t;
    }
    if (!r_.expect_map(n, what)) return std::nullopt;
    r_.check_keys(n, Keys(kTransitionKeys), "transition");
    if (const Node* v = n.find("target")) {
      t.target = r_.string(*v, "target");
      t.target_pos = v->pos;
    }
    if (const Node* v = n.find("guard")) t.guard = r_.expression(*v, true, "guard");
    if (const Node* v = n.find("actions")) t.actions = actions(*v, what);
    if (const Node* v = n.find("roles")) t.roles = r_.string_list(*v, "roles", &t.roles_pos);
    if (const Node* v = n.find("description")) r_.string(*v, "description");
    return t;
  }

  void timers(const Node& n, StateTimer::Kind kind, const std::string& context, State& s) {
    const char* label = kind == StateTimer::Kind::after ? "after" : "at";
    if (!r_.expect_sequence(n, std::string("'") + label + "' of " + context)) return;
    for (const auto& item : n.items) {
      const std::string what = std::string("timer in '") + label + "' of " + context;
      if (!r_.expect_map(item, what)) continue;
      StateTimer t;
      t.kind = kind;
      t.pos = item.pos;
      if (kind == StateTimer::Kind::after) {
        r_.check_keys(item, Keys(kAfterKeys), what);
        if (const Node* d = r_.require(item, "delay", what)) {
          if (auto delay = r_.duration(*d, "delay")) {
            if (delay->is_zero()) r_.error(*d, "delay must be longer than zero");
            t.delay = *delay;
          }
        }
      } else {
        r_.check_keys(item, Keys(kAtKeys), what);
        if (const Node* v = r_.require(item, "time", what))
          t.time = r_.expression(*v, true, "time");
      }
      if (const Node* v = item.find("calendar")) {
        t.calendar = r_.string(*v, "calendar");
        t.calendar_pos = v->pos;
      }
      if (const Node* v = item.find("guard")) t.guard = r_.expression(*v, true, "guard");
      if (const Node* v = item.find("target")) {
        t.target = r_.string(*v, "target");
        t.target_pos = v->pos;
      }
      if (const Node* v = item.find("actions")) t.actions = actions(*v, what);
      if (!t.target && item.find("actions") == nullptr) {
        r_.error(item, what + " has neither a target nor actions: it would do nothing");
      }
      s.timers.push_back(std::move(t));
    }
  }

  std::vector<Action> actions(const Node& n, const std::string& context) {
    std::vector<Action> out;
    if (!r_.expect_sequence(n, "actions of " + context)) return out;
    for (const auto& item : n.items) {
      if (auto a = action(item)) out.push_back(std::move(*a));
    }
    return out;
  }

  std::optional<Action> action(const Node& n) {
    if (!n.is_map()) {
      r_.error(n, "an action must be a map with one key (" + join(kActionNames) + "), got " +
                      std::string(n.describe()));
      return std::nullopt;
    }
    if (n.entries.size() != 1) {
      std::string keys;
      for (const auto& [k, v] : n.entries) keys += (keys.empty() ? "" : ", ") + k.value;
      r_.error(n,
               "an action has exactly one key; this one has " + std::to_string(n.entries.size()) +
                   (keys.empty() ? "" : " (" + keys + "): write each action as its own list item"));
      return std::nullopt;
    }
    const auto& [key, value] = n.entries.front();
    Action a;
    a.pos = key.pos;
    const std::string& k = key.value;
    if (k == "set") return set_action(value, a);
    if (k == "assign") return assign_action(value, a);
    if (k == "priority") {
      const auto p = r_.string(value, "priority");
      if (!p) return std::nullopt;
      const auto prio = priority_from_name(*p);
      if (!prio) {
        r_.error(value, "priority must be low, normal, high or urgent, got '" + *p + "'" +
                            did_you_mean(*p, {"low", "normal", "high", "urgent"}));
        return std::nullopt;
      }
      a.kind = PriorityAction{*prio};
      return a;
    }
    if (k == "notify") return notify_action(value, a);
    if (k == "raise") return raise_action(value, a);
    if (k == "start") return start_action(value, a);
    if (k == "serial") return serial_action(value, a);
    if (k == "webhook") return webhook_action(value, a);
    std::string hint = did_you_mean(k, {kActionNames.begin(), kActionNames.end()});
    if (hint.empty()) hint = " (actions: " + join(kActionNames) + ")";
    r_.error(key, "unknown action '" + k + "'" + hint);
    return std::nullopt;
  }

  template <std::size_t N>
  static std::string join(const std::array<std::string_view, N>& names) {
    std::string out;
    for (auto n : names) out += (out.empty() ? "" : ", ") + std::string(n);
    return out;
  }

  std::optional<Action> set_action(const Node& n, Action& a) {
    if (!r_.expect_map(n, "set")) return std::nullopt;
    SetAction set;
    if (n.entries.empty()) r_.error(n, "set needs at least one field");
    for (const auto& [key, value] : n.entries) {
      auto v = r_.value(value);
      if (!v) continue;
      set.fields.emplace_back(key.value, std::move(*v));
      set.field_pos.push_back(key.pos);
    }
    a.kind = std::move(set);
    return a;
  }

  std::optional<Action> assign_action(const Node& n, Action& a) {
    if (!r_.expect_map(n, "assign")) return std::nullopt;
    AssignAction assign;
    static constexpr std::array<std::string_view, 6> kAllowed{"queue", "strategy", "skills",
                                                              "to",    "role",     "manager_of"};
    r_.check_keys(n, Keys(kAllowed), "assign");
    int kinds = 0;
    for (const char* k : {"queue", "to", "role", "manager_of"})
      kinds += n.find(k) != nullptr ? 1 : 0;
    if (kinds != 1) {
      r_.error(n, "assign needs exactly one of queue, to, role or manager_of");
      return std::nullopt;
    }
    if (const Node* q = n.find("queue")) {
      assign.kind = AssignAction::Kind::queue;
      assign.queue = r_.name(*q, "queue").value_or("");
      assign.name_pos = q->pos;
      if (const Node* s = n.find("strategy")) {
        const auto strategy = r_.string(*s, "strategy");
        if (strategy == "round_robin") {
          assign.strategy = AssignStrategy::round_robin;
        } else if (strategy == "least_loaded") {
          assign.strategy = AssignStrategy::least_loaded;
        } else if (strategy) {
          r_.error(*s, "strategy must be round_robin or least_loaded, got '" + *strategy + "'" +
                           did_you_mean(*strategy, {"round_robin", "least_loaded"}));
        }
      }
      if (const Node* s = n.find("skills")) assign.skills = r_.string_list(*s, "skills");
    } else {
      for (const char* k : {"strategy", "skills"}) {
        if (n.find(k) != nullptr) {
          r_.error(key_pos(n, k), std::string("'") + k + "' only applies to assign with a queue");
        }
      }
      if (const Node* t = n.find("to")) {
        assign.kind = AssignAction::Kind::to;
        assign.to = r_.value(*t);
        if (!assign.to) return std::nullopt;
      } else if (const Node* role = n.find("role")) {
        assign.kind = AssignAction::Kind::role;
        assign.role = r_.name(*role, "role").value_or("");
        assign.name_pos = role->pos;
      } else if (const Node* m = n.find("manager_of")) {
        assign.kind = AssignAction::Kind::manager_of;
        assign.manager_of = r_.string(*m, "manager_of").value_or("");
        if (assign.manager_of != "assignee") {
          r_.error(*m, "manager_of must be 'assignee' (the manager of whoever holds the case)");
        }
      }
    }
    a.kind = std::move(assign);
    return a;
  }

  std::optional<Recipient> recipient(const Node& n) {
    if (Reader::is_expression(n)) {
      Recipient rc;
      rc.kind = Recipient::Kind::expression;
      rc.expression = r_.expression(n, false, "notify.to");
      if (!rc.expression) return std::nullopt;
      return rc;
    }
    const auto s = r_.string(n, "notify.to");
    if (!s) return std::nullopt;
    Recipient rc;
    rc.pos = n.pos;
    const auto colon = s->find(':');
    const std::string prefix = colon == std::string::npos ? *s : s->substr(0, colon);
    const std::string rest = colon == std::string::npos ? "" : s->substr(colon + 1);
    if (*s == "assignee") {
      rc.kind = Recipient::Kind::assignee;
    } else if (*s == "manager_of:assignee") {
      rc.kind = Recipient::Kind::manager_of_assignee;
    } else if (prefix == "role" && !rest.empty()) {
      rc.kind = Recipient::Kind::role;
      rc.name = rest;
    } else if (prefix == "queue" && !rest.empty()) {
      rc.kind = Recipient::Kind::queue;
      rc.name = rest;
    } else if (prefix == "person" && !rest.empty()) {
      rc.kind = Recipient::Kind::person;
      rc.name = rest;
    } else {
      r_.error(
          n, "unknown recipient '" + *s +
                 "' (use assignee, role:R, queue:Q, person:ID, manager_of:assignee or ${ expr })");
      return std::nullopt;
    }
    return rc;
  }

  std::optional<Action> notify_action(const Node& n, Action& a) {
    if (!r_.expect_map(n, "notify")) return std::nullopt;
    static constexpr std::array<std::string_view, 2> kAllowed{"to", "template"};
    r_.check_keys(n, Keys(kAllowed), "notify");
    NotifyAction notify;
    const Node* to = r_.require(n, "to", "notify");
    if (to == nullptr) return std::nullopt;
    auto rc = recipient(*to);
    if (!rc) return std::nullopt;
    notify.to = std::move(*rc);
    if (const Node* t = n.find("template")) {
      notify.template_name = r_.name(*t, "template").value_or("");
      notify.template_pos = t->pos;
    }
    a.kind = std::move(notify);
    return a;
  }

  std::vector<std::pair<std::string, ValueSpec>> data_map(const Node& n, std::string_view what) {
    std::vector<std::pair<std::string, ValueSpec>> out;
    if (n.is_null()) return out;
    if (!r_.expect_map(n, what)) return out;
    for (const auto& [k, v] : n.entries) {
      if (auto spec = r_.value(v)) out.emplace_back(k.value, std::move(*spec));
    }
    return out;
  }

  std::optional<Action> raise_action(const Node& n, Action& a) {
    RaiseAction raise;
    if (n.is_scalar()) {
      raise.event = r_.name(n, "raised event").value_or("");
    } else {
      if (!r_.expect_map(n, "raise")) return std::nullopt;
      static constexpr std::array<std::string_view, 2> kAllowed{"event", "data"};
      r_.check_keys(n, Keys(kAllowed), "raise");
      if (const Node* e = r_.require(n, "event", "raise")) {
        raise.event = r_.name(*e, "raised event").value_or("");
      }
      if (const Node* d = n.find("data")) raise.data = data_map(*d, "raise.data");
    }
    a.kind = std::move(raise);
    return a;
  }

  std::optional<Action> start_action(const Node& n, Action& a) {
    if (!r_.expect_map(n, "start")) return std::nullopt;
    static constexpr std::array<std::string_view, 2> kAllowed{"workflow", "data"};
    r_.check_keys(n, Keys(kAllowed), "start");
    StartAction start;
    if (const Node* w = r_.require(n, "workflow", "start")) {
      start.workflow = r_.name(*w, "workflow").value_or("");
    }
    if (const Node* d = n.find("data")) start.data = data_map(*d, "start.data");
    a.kind = std::move(start);
    return a;
  }

  std::optional<Action> serial_action(const Node& n, Action& a) {
    if (!r_.expect_map(n, "serial")) return std::nullopt;
    static constexpr std::array<std::string_view, 4> kAllowed{"field", "sequence", "format",
                                                              "restart"};
    r_.check_keys(n, Keys(kAllowed), "serial");
    SerialAction serial;
    if (const Node* f = r_.require(n, "field", "serial"))
      serial.field = r_.string(*f, "field").value_or("");
    if (const Node* s = r_.require(n, "sequence", "serial")) {
      serial.sequence = r_.name(*s, "sequence").value_or("");
    }
    if (const Node* f = r_.require(n, "format", "serial")) {
      serial.format = r_.string(*f, "format").value_or("");
      const std::string problem = check_serial_format(serial.format);
      if (!problem.empty()) r_.error(*f, "serial format: " + problem);
    }
    if (const Node* r = n.find("restart")) {
      const std::string restart = r_.string(*r, "restart").value_or("");
      if (restart == "yearly") {
        serial.yearly = true;
        if (serial.format.find("{yy") == std::string::npos) {
          r_.error(*r,
                   "restart: yearly needs the year in the format ({yyyy} or {yy}): the "
                   "numbers of two years would look the same");
        }
      } else if (restart != "never") {
        r_.error(*r, "restart must be never or yearly, not '" + restart + "'");
      }
    }
    a.kind = std::move(serial);
    return a;
  }

  // Placeholders: {yyyy} {yy} {mm} {dd} {seq} {seq:0N}; exactly one {seq...}.
  static std::string check_serial_format(const std::string& format) {
    int seqs = 0;
    std::size_t i = 0;
    while (i < format.size()) {
      if (format[i] == '}') return "unmatched '}'";
      if (format[i] != '{') {
        ++i;
        continue;
      }
      const std::size_t close = format.find('}', i);
      if (close == std::string::npos) return "unclosed '{'";
      const std::string p = format.substr(i + 1, close - i - 1);
      const bool padded_seq =
          p.rfind("seq:0", 0) == 0 && p.size() == 6 && p[5] >= '1' && p[5] <= '9';
      if (p == "seq" || padded_seq) {
        ++seqs;
      } else if (p != "yyyy" && p != "yy" && p != "mm" && p != "dd") {
        return "unknown placeholder '{" + p +
               "}' (use {yyyy}, {yy}, {mm}, {dd}, {seq} or {seq:05})";
      }
      i = close + 1;
    }
    if (seqs != 1) return "needs exactly one {seq} placeholder";
    return "";
  }

  std::optional<Action> webhook_action(const Node& n, Action& a) {
    if (!r_.expect_map(n, "webhook")) return std::nullopt;
    static constexpr std::array<std::string_view, 2> kAllowed{"target", "body"};
    r_.check_keys(n, Keys(kAllowed), "webhook");
    WebhookAction hook;
    if (const Node* t = r_.require(n, "target", "webhook"))
      hook.target = r_.name(*t, "target").value_or("");
    if (const Node* b = n.find("body")) hook.body = r_.value(*b);
    a.kind = std::move(hook);
    return a;
  }

  void slas(const Node& n, Definition& def) {
    if (!r_.expect_map(n, "slas")) return;
    for (const auto& [key, value] : n.entries) {
      Sla sla;
      sla.name = key.value;
      sla.pos = key.pos;
      r_.name(key, "SLA name");
      const std::string context = "SLA '" + sla.name + "'";
      if (!r_.expect_map(value, context)) continue;
      r_.check_keys(value, Keys(kSlaKeys), context);
      if (const Node* g = r_.require(value, "goal", context)) {
        if (Reader::is_expression(*g)) {
          sla.goal_expr = r_.expression(*g, false, "goal");
        } else if (auto d = r_.duration(*g, "goal")) {
          if (d->is_zero()) r_.error(*g, "goal must be longer than zero");
          sla.goal = d;
        }
      }
      if (const Node* c = value.find("calendar")) {
        sla.calendar = r_.string(*c, "calendar");
        sla.calendar_pos = c->pos;
      }
      if (const Node* s = r_.require(value, "start", context)) {
        sla.start = r_.string_list(*s, "start", &sla.start_pos);
        if (sla.start.empty() && s->is_sequence())
          r_.error(*s, context + " needs at least one start state");
      }
      if (const Node* s = value.find("pause"))
        sla.pause = r_.string_list(*s, "pause", &sla.pause_pos);
      if (const Node* s = r_.require(value, "stop", context)) {
        sla.stop = r_.string_list(*s, "stop", &sla.stop_pos);
        if (sla.stop.empty() && s->is_sequence())
          r_.error(*s, context + " needs at least one stop state");
      }
      if (const Node* s = value.find("cancel")) {
        sla.cancel = r_.string_list(*s, "cancel", &sla.cancel_pos);
        if (sla.cancel.empty() && s->is_sequence())
          r_.error(*s, context + ": 'cancel' lists no state; leave it out instead");
      }
      if (const Node* e = value.find("escalate")) {
        if (r_.expect_sequence(*e, "escalate of " + context)) {
          for (const auto& item : e->items) {
            if (auto level = escalation(item, context)) sla.escalate.push_back(std::move(*level));
          }
        }
      }
      def.slas.push_back(std::move(sla));
    }
  }

  std::optional<EscalationLevel> escalation(const Node& n, const std::string& context) {
    const std::string what = "escalation level of " + context;
    if (!r_.expect_map(n, what)) return std::nullopt;
    r_.check_keys(n, Keys(kLevelKeys), what);
    EscalationLevel level;
    level.pos = n.pos;
    if (const Node* at = r_.require(n, "at", what)) {
      const auto s = r_.string(*at, "at");
      if (!s) return std::nullopt;
      if (!s->empty() && s->back() == '%') {
        level.kind = EscalationLevel::Kind::percent;
        double pct = 0;
        const std::string digits = s->substr(0, s->size() - 1);
        auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pct);
        if (ec != std::errc() || ptr != digits.data() + digits.size() || digits.empty() ||
            !(pct > 0) || pct > 10000) {
          r_.error(*at,
                   "'" + *s + "' is not a percentage of the goal (write e.g. 50%, 100%, 150%)");
          return std::nullopt;
        }
        level.percent = pct;
      } else {
        level.kind = EscalationLevel::Kind::elapsed;
        auto d = parse_duration(*s);
        if (!d || d->is_zero()) {
          r_.error(
              *at,
              "'" + *s + "' is neither a percentage of the goal (75%) nor a working duration (4h)");
          return std::nullopt;
        }
        level.elapsed = *d;
      }
    }
    if (const Node* rep = n.find("repeat")) {
      level.repeat = r_.duration(*rep, "repeat");
      if (level.repeat && level.repeat->is_zero()) {
        r_.error(*rep, "repeat must be longer than zero");
        level.repeat.reset();
      }
    }
    if (const Node* acts = r_.require(n, "actions", what)) level.actions = actions(*acts, what);
    return level;
  }

  std::optional<Schedule> schedule(const Node& n) {
    if (!r_.expect_map(n, "schedule")) return std::nullopt;
    r_.check_keys(n, Keys(kScheduleKeys), "schedule");
    Schedule s;
    s.pos = n.pos;
    if (const Node* c = r_.require(n, "cron", "schedule")) {
      if (auto text = r_.string(*c, "cron")) {
        s.cron_text = *text;
        auto parsed = parse_cron(*text);
        if (auto* err = std::get_if<CronError>(&parsed)) {
          r_.error(position_in_scalar(doc_, *c, err->offset), "cron: " + err->message);
        } else {
          s.cron = std::get<CronSpec>(parsed);
        }
      }
    }
    if (const Node* tz = r_.require(n, "timezone", "schedule")) {
      s.timezone = r_.string(*tz, "timezone").value_or("");
      s.timezone_pos = tz->pos;
    }
    if (const Node* d = n.find("data")) s.data = data_map(*d, "schedule.data");
    return s;
  }

  const Document& doc_;
  Reader r_;
};

}  // namespace

std::optional<Definition> load_workflow(const std::string& file, const std::string& text,
                                        Diagnostics& diags) {
  Document doc = parse(file, text, diags);
  if (!doc.complete) return std::nullopt;  // the syntax error is reported; the tree is partial
  if (!doc.root.is_map()) {
    {
      diags.error(file, doc.root.pos.line > 0 ? doc.root.pos : SourcePos{1, 1},
                  "a workflow file must be a map with 'workflow', 'initial' and 'states', got " +
                      std::string(doc.root.describe()));
    }
    return std::nullopt;
  }
  WorkflowLoader loader(doc, diags);
  return loader.load(doc.root);
}

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return false;
  out = buffer.str();
  return true;
}

std::optional<Definition> load_workflow_file(const std::string& path, Diagnostics& diags) {
  std::string text;
  if (!read_file(path, text)) {
    diags.error(path, {}, "cannot read file");
    return std::nullopt;
  }
  return load_workflow(path, text, diags);
}

}  // namespace ombud::yaml
