#include "adapters/yaml/scenario_loader.h"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <map>
#include <set>

#include "adapters/yaml/reader.h"
#include "adapters/yaml/workflow_loader.h"
#include "engine/step.h"

namespace ombud::yaml {

namespace {

namespace fs = std::filesystem;
using Keys = std::span<const std::string_view>;

constexpr std::array<std::string_view, 7> kTopKeys{"title",    "description", "workflow", "config",
                                                   "start_at", "timezone",    "steps"};
constexpr std::array<std::string_view, 6> kStepKinds{"start",      "event",  "advance",
                                                     "advance_to", "expect", "note"};
constexpr std::array<std::string_view, 7> kEventOptions{
    "data", "to", "key", "workflow", "idempotency_key", "actor", "expect_error"};
constexpr std::array<std::string_view, 5> kStartKeys{"data", "as", "workflow", "idempotency_key",
                                                     "expect_error"};
constexpr std::array<std::string_view, 7> kExpectKeys{"state", "assignee",  "priority", "queue",
                                                      "ended", "incidents", "instance"};
constexpr std::array<std::string_view, 4> kPriorities{"low", "normal", "high", "urgent"};

bool contains(Keys list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

std::vector<std::string> strings(Keys list) { return {list.begin(), list.end()}; }

std::string joined(Keys list) {
  std::string out;
  for (auto s : list) out += (out.empty() ? "" : ", ") + std::string(s);
  return out;
}

bool is_name(std::string_view s) {
  if (s.empty() || s.front() < 'a' || s.front() > 'z') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Instance ids are `workflow-N`; names follow the name rule, so the two never collide.
bool is_instance_id(std::string_view s) { return s.find('-') != std::string_view::npos; }

std::string id_prefix(std::string_view id) {
  const auto dash = id.rfind('-');
  return std::string(dash == std::string_view::npos ? id : id.substr(0, dash));
}

std::string where(const ScenarioStep& step) {
  return "step " + std::to_string(step.number) + " (line " + std::to_string(step.pos.line) + ")";
}

class ScenarioLoader {
 public:
  ScenarioLoader(const Document& doc, Diagnostics& diags) : doc_(doc), r_(doc, diags) {}

  Scenario load(const Node& root) {
    Scenario s;
    s.file = doc_.file;
    r_.check_keys(root, Keys(kTopKeys), "scenario");
    if (const Node* n = root.find("title")) s.title = r_.string(*n, "title").value_or("");
    if (const Node* n = root.find("description")) {
      s.description = r_.string(*n, "description").value_or("");
    }
    if (const Node* n = r_.require(root, "workflow", "the scenario")) workflows(*n, s);
    if (const Node* n = root.find("config")) {
      if (auto path = r_.string(*n, "config")) s.config_file = resolve(*n, *path, "config file");
      s.config_pos = n->pos;
    }
    if (const Node* n = r_.require(root, "start_at", "the scenario")) {
      if (auto t = timestamp(*n, "start_at")) {
        s.start_at = *t;
        clock_ = *t;
      }
    }
    if (const Node* n = root.find("timezone")) {
      s.timezone = r_.string(*n, "timezone").value_or("");
      s.timezone_pos = n->pos;
      try {
        (void)date::locate_zone(s.timezone);
      } catch (const std::exception&) {
        r_.error(*n,
                 "unknown time zone '" + s.timezone + "' (use an IANA name such as Asia/Shanghai)");
      }
    }
    if (const Node* n = r_.require(root, "steps", "the scenario")) {
      if (r_.expect_sequence(*n, "steps")) {
        if (n->items.empty()) r_.error(*n, "steps is empty: a scenario needs at least one step");
        for (const auto& item : n->items) {
          ScenarioStep st;
          st.number = static_cast<int>(s.steps.size()) + 1;
          st.pos = item.pos;
          if (step(item, st)) s.steps.push_back(std::move(st));
        }
      }
    }
    return s;
  }

 private:
  // A path relative to the scenario's directory; reports a file that does not exist.
  std::string resolve(const Node& at, const std::string& path, std::string_view what) {
    fs::path p(path);
    if (p.is_relative()) p = fs::path(doc_.file).parent_path() / p;
    std::string out = p.lexically_normal().string();
    std::error_code ec;
    if (!fs::is_regular_file(out, ec)) {
      r_.error(at, std::string(what) + " '" + path + "' not found (looked for " + out +
                       "; paths are relative to the scenario file)");
    }
    return out;
  }

  void workflows(const Node& n, Scenario& s) {
    if (n.is_sequence()) {
      if (n.items.empty()) r_.error(n, "workflow needs at least one file");
      for (const auto& item : n.items) {
        if (auto path = r_.string(item, "workflow")) {
          s.workflow_files.push_back(resolve(item, *path, "workflow file"));
          s.workflow_pos.push_back(item.pos);
        }
      }
      return;
    }
    if (auto path = r_.string(n, "workflow")) {
      s.workflow_files.push_back(resolve(n, *path, "workflow file"));
      s.workflow_pos.push_back(n.pos);
    }
  }

  std::optional<Timestamp> timestamp(const Node& n, std::string_view what) {
    const auto text = r_.string(n, what);
    if (!text) return std::nullopt;
    if (auto t = parse_timestamp(*text)) return t;
    r_.error(n, std::string(what) + ": '" + *text +
                    "' is not a timestamp (write RFC 3339 with a zone, e.g. "
                    "2026-11-23T09:00:00+08:00)");
    return std::nullopt;
  }

  // YAML → JSON: plain scalars by their spelling (null, true, 12, 1.5, else a string), quoted
  // ones as strings, maps and lists recursively.
  std::optional<boost::json::value> json(const Node& n) {
    switch (n.kind) {
      case Node::Kind::null:
        return boost::json::value(nullptr);
      case Node::Kind::scalar:
        if (Reader::is_expression(n)) {
          r_.error(n, "scenarios hold plain values; '" + n.value +
                          "' would not be evaluated (write the value itself)");
          return std::nullopt;
        }
        return Reader::scalar_to_json(n);
      case Node::Kind::sequence: {
        boost::json::array a;
        bool ok = true;
        for (const auto& item : n.items) {
          auto v = json(item);
          ok = ok && v.has_value();
          if (v) a.push_back(std::move(*v));
        }
        if (!ok) return std::nullopt;
        return boost::json::value(std::move(a));
      }
      case Node::Kind::map: {
        boost::json::object o;
        bool ok = true;
        for (const auto& [k, v] : n.entries) {
          auto inner = json(v);
          ok = ok && inner.has_value();
          if (inner) o[k.value] = std::move(*inner);
        }
        if (!ok) return std::nullopt;
        return boost::json::value(std::move(o));
      }
    }
    return std::nullopt;
  }

  void data(const Node& n, ScenarioStep& st) {
    st.data_pos = n.pos;
    if (n.is_null()) return;
    if (!r_.expect_map(n, "data")) return;
    if (auto v = json(n)) st.data = std::move(v->as_object());
  }

  // Reports keys that are neither a step kind nor an option; returns how many.
  int unknown_step_keys(const Node& item) {
    std::vector<std::string_view> allowed(kStepKinds.begin(), kStepKinds.end());
    allowed.insert(allowed.end(), kEventOptions.begin(), kEventOptions.end());
    const std::vector<std::string> candidates(allowed.begin(), allowed.end());
    int unknown = 0;
    for (const auto& [key, value] : item.entries) {
      if (contains(Keys(allowed), key.value)) continue;
      ++unknown;
      std::string hint = did_you_mean(key.value, candidates);
      if (key.value == "as")
        hint = " (a start's name goes inside it: start: {as: NAME, data: {...}})";
      if (key.value == "instance") hint = " (an event names its instance with to: NAME)";
      if (hint.empty()) hint = " (a step is one of: " + joined(Keys(kStepKinds)) + ")";
      r_.error(key, "unknown key '" + key.value + "' in step" + hint);
    }
    return unknown;
  }

  bool step(const Node& item, ScenarioStep& st) {
    if (!r_.expect_map(item, "a step")) return false;
    const int unknown = unknown_step_keys(item);
    const Node* kind_key = nullptr;
    const Node* kind_value = nullptr;
    for (const auto& [key, value] : item.entries) {
      if (!contains(Keys(kStepKinds), key.value)) continue;
      if (kind_key != nullptr) {
        r_.error(key, "a step does exactly one thing, but this one has both '" + kind_key->value +
                          "' and '" + key.value + "' (make them two steps)");
        continue;
      }
      kind_key = &key;
      kind_value = &value;
    }
    if (kind_key == nullptr) {
      if (unknown == 0) r_.error(item, "a step needs one of: " + joined(Keys(kStepKinds)));
      return false;
    }
    const std::string kind = kind_key->value;
    // Options sit next to `event:`; every other kind takes none.
    for (const auto& [key, value] : item.entries) {
      if (&key == kind_key || !contains(Keys(kEventOptions), key.value)) continue;
      if (kind == "event") continue;
      if (kind == "start" && contains(Keys(kStartKeys), key.value)) {
        r_.error(key, "'" + key.value + "' belongs inside the start map: start: {" + key.value +
                          ": ...}");
      } else {
        r_.error(key, "'" + key.value + "' does not belong in " +
                          (kind == "advance" || kind == "advance_to" || kind == "expect" ? "an "
                                                                                         : "a ") +
                          kind + " step");
      }
    }
    if (kind == "start") return start(*kind_value, st);
    if (kind == "event") return event(item, *kind_value, st);
    if (kind == "advance") return advance(*kind_value, st);
    if (kind == "advance_to") return advance_to(*kind_value, st);
    if (kind == "expect") return expect(*kind_value, st);
    st.kind = ScenarioStep::Kind::note;
    st.note = r_.string(*kind_value, "note").value_or("");
    return true;
  }

  bool start(const Node& n, ScenarioStep& st) {
    st.kind = ScenarioStep::Kind::start;
    if (!n.is_null()) {
      if (!r_.expect_map(n, "start")) return false;
      r_.check_keys(n, Keys(kStartKeys), "start");
      if (const Node* d = n.find("data")) data(*d, st);
      if (const Node* w = n.find("workflow")) {
        st.workflow = r_.name(*w, "workflow name").value_or("");
        st.workflow_pos = w->pos;
      }
      if (const Node* k = n.find("idempotency_key")) {
        st.idempotency_key = r_.string(*k, "idempotency_key").value_or("");
      }
      if (const Node* e = n.find("expect_error")) st.expect_error = expect_error(*e);
    }
    const Node* as = n.is_map() ? n.find("as") : nullptr;
    if (as != nullptr) {
      st.instance_pos = as->pos;
      const auto name = r_.string(*as, "as");
      if (!name) return true;
      if (!is_name(*name)) {
        r_.error(*as, "instance name '" + *name +
                          "' is not a valid name (lower-case letters, digits and '_', starting "
                          "with a letter)");
        return true;
      }
      if (auto it = bound_.find(*name); it != bound_.end()) {
        r_.error(*as, "instance name '" + *name + "' is already taken by " + it->second);
        return true;
      }
      st.instance = *name;
    } else if (bound_.count("main") == 0 && !st.expect_error) {
      st.instance = "main";
      st.instance_pos = st.pos;
    } else if (!st.expect_error) {
      r_.error(n.is_map() ? n.pos : st.pos,
               "a second start needs a name: add `as: NAME` (the first unnamed start is 'main')");
      return true;
    }
    if (!st.instance.empty()) bound_[st.instance] = where(st);
    return true;
  }

  std::optional<std::string> expect_error(const Node& n) {
    auto text = r_.string(n, "expect_error");
    if (text && text->empty()) {
      r_.error(n, "expect_error needs the text the error must contain");
      return std::nullopt;
    }
    return text;
  }

  // A name bound by an earlier start, or an instance id.
  void target(const Node& n, ScenarioStep& st, std::string_view what) {
    st.instance_pos = n.pos;
    const auto name = r_.string(n, what);
    if (!name) return;
    st.instance = *name;
    if (is_instance_id(*name)) return;
    if (bound_.count(*name) == 0) {
      std::vector<std::string> names;
      for (const auto& [b, _] : bound_) names.push_back(b);
      r_.error(n, "no instance named '" + *name + "' has been started before this step" +
                      did_you_mean(*name, names));
    }
  }

  void default_target(const Node& at, ScenarioStep& st, std::string_view verb) {
    st.instance = "main";
    st.instance_pos = at.pos;
    if (bound_.count("main") == 0) {
      r_.error(at, "no instance to " + std::string(verb) +
                       ": start one first (the first unnamed start is 'main') or name it with " +
                       (verb == "check" ? "instance: NAME" : "to: NAME"));
    }
  }

  bool event(const Node& item, const Node& n, ScenarioStep& st) {
    st.kind = ScenarioStep::Kind::event;
    st.event = r_.name(n, "event name").value_or("");
    if (const Node* d = item.find("data")) data(*d, st);
    const Node* to = item.find("to");
    const Node* key = item.find("key");
    if (to != nullptr && key != nullptr) {
      r_.error(*key,
               "an event goes either to an instance (to:) or by business key (key:), not both");
    }
    if (key != nullptr) {
      st.by_key = true;
      st.key = r_.string(*key, "key").value_or("");
      st.instance_pos = key->pos;
    } else if (to != nullptr) {
      target(*to, st, "to");
    } else {
      default_target(item, st, "send to");
    }
    if (const Node* w = item.find("workflow")) {
      st.workflow_pos = w->pos;
      if (key == nullptr) {
        r_.error(*w, "workflow: goes with key: (an instance already knows its workflow)");
      } else {
        st.workflow = r_.name(*w, "workflow name").value_or("");
      }
    }
    if (const Node* k = item.find("idempotency_key")) {
      st.idempotency_key = r_.string(*k, "idempotency_key").value_or("");
    }
    if (const Node* a = item.find("actor")) {
      st.actor = r_.string(*a, "actor").value_or("");
      st.actor_pos = a->pos;
    }
    if (const Node* e = item.find("expect_error")) st.expect_error = expect_error(*e);
    return true;
  }

  bool advance(const Node& n, ScenarioStep& st) {
    st.kind = ScenarioStep::Kind::advance;
    const auto text = r_.string(n, "advance");
    if (!text) return false;
    const auto d = parse_duration(*text);
    if (!d) {
      r_.error(n, "advance: '" + *text +
                      "' is not a duration (use 30s, 15m, 4h, 2d or combinations such as 1d4h)");
      return false;
    }
    if (text->find('w') != std::string::npos) {
      r_.error(n, "advance: 'w' would be 5 days on the wall clock; write 7d for a calendar week");
      return false;
    }
    if (d->is_zero()) {
      r_.error(n, "advance must be longer than zero");
      return false;
    }
    st.advance = *d;
    if (clock_) {
      clock_ = *clock_ + d->wall_clock();
      st.until = *clock_;
    }
    return true;
  }

  bool advance_to(const Node& n, ScenarioStep& st) {
    st.kind = ScenarioStep::Kind::advance_to;
    const auto t = timestamp(n, "advance_to");
    if (!t) return false;
    st.until = *t;
    if (clock_ && *t < *clock_) {
      r_.error(n, "advance_to " + n.value + " is before the clock at this step (" +
                      format_timestamp(*clock_) + "); the clock never goes back");
    } else {
      clock_ = *t;
    }
    return true;
  }

  std::string unknown_expect_hint(const std::string& key) {
    const auto dot = key.find('.');
    if (dot != std::string::npos) {
      const std::string prefix = key.substr(0, dot);
      const std::string best = closest_match(prefix, {"data", "sla"});
      if (!best.empty()) return " (did you mean '" + best + key.substr(dot) + "'?)";
    }
    std::vector<std::string> candidates = strings(Keys(kExpectKeys));
    std::string hint = did_you_mean(key, candidates);
    if (hint.empty()) {
      hint = " (expected one of: " + joined(Keys(kExpectKeys)) + ", data.FIELD, sla.NAME)";
    }
    return hint;
  }

  std::optional<std::string> one_of(const Node& n, Keys allowed, std::string_view what) {
    auto s = r_.string(n, what);
    if (!s) return std::nullopt;
    if (contains(allowed, *s)) return s;
    r_.error(n, std::string(what) + " must be one of " + joined(allowed) + ", got '" + *s + "'" +
                    did_you_mean(*s, strings(allowed)));
    return std::nullopt;
  }

  // A string, or null / "" for "nobody" (assignee, queue).
  std::optional<std::string> person_or_nobody(const Node& n, std::string_view what) {
    if (n.is_null() || (n.is_scalar() && !n.quoted && n.value == "null")) return std::string();
    return r_.string(n, what);
  }

  bool expect(const Node& n, ScenarioStep& st) {
    st.kind = ScenarioStep::Kind::expect;
    if (!r_.expect_map(n, "expect")) return false;
    const Node* instance = n.find("instance");
    if (instance != nullptr) {
      target(*instance, st, "instance");
    } else {
      default_target(n, st, "check");
    }
    for (const auto& [key, value] : n.entries) {
      if (key.value == "instance") continue;
      Expectation e;
      e.key = key.value;
      e.pos = key.pos;
      e.value_pos = value.pos;
      const auto dot = key.value.find('.');
      const std::string prefix = key.value.substr(0, dot);
      const std::string rest = dot == std::string::npos ? "" : key.value.substr(dot + 1);
      bool ok = false;
      if (dot == std::string::npos && contains(Keys(kExpectKeys), key.value)) {
        ok = simple_expectation(key.value, value, e);
      } else if (prefix == "data") {
        e.kind = Expectation::Kind::data;
        e.field = rest;
        bool well_formed = !rest.empty() && rest.front() != '.' && rest.back() != '.' &&
                           rest.find("..") == std::string::npos;
        if (!well_formed) {
          r_.error(key, "'" + key.value + "' must name a field: data.FIELD (or data.FIELD.SUB)");
        } else if (auto v = json(value)) {
          e.expected = std::move(*v);
          if (value.is_scalar() && !value.quoted) e.plain_text = value.value;
          ok = true;
        }
      } else if (prefix == "sla") {
        e.kind = Expectation::Kind::sla;
        e.field = rest;
        if (!is_name(rest)) {
          r_.error(key, "'" + key.value + "' must name an SLA clock: sla.NAME");
        } else if (auto s = one_of(value, sla_status_names(), "SLA status")) {
          e.expected = *s;
          ok = true;
        }
      } else {
        r_.error(key, "unknown key '" + key.value + "' in expect" + unknown_expect_hint(key.value));
      }
      if (ok) st.expectations.push_back(std::move(e));
    }
    const bool anything = std::any_of(n.entries.begin(), n.entries.end(),
                                      [](const auto& kv) { return kv.first.value != "instance"; });
    if (!anything) {
      r_.error(n,
               "expect has nothing to check (state, assignee, priority, queue, ended, "
               "incidents, data.FIELD, sla.NAME)");
    }
    return true;
  }

  bool simple_expectation(const std::string& key, const Node& value, Expectation& e) {
    if (key == "state") {
      e.kind = Expectation::Kind::state;
      auto s = r_.name(value, "state");
      if (s) e.expected = *s;
      return s.has_value();
    }
    if (key == "assignee" || key == "queue") {
      e.kind = key == "assignee" ? Expectation::Kind::assignee : Expectation::Kind::queue;
      auto s = person_or_nobody(value, key);
      if (s) e.expected = *s;
      return s.has_value();
    }
    if (key == "priority") {
      e.kind = Expectation::Kind::priority;
      auto s = one_of(value, Keys(kPriorities), "priority");
      if (s) e.expected = *s;
      return s.has_value();
    }
    if (key == "ended") {
      e.kind = Expectation::Kind::ended;
      auto b = r_.boolean(value, "ended");
      if (b) e.expected = *b;
      return b.has_value();
    }
    e.kind = Expectation::Kind::incidents;
    auto i = r_.integer(value, "incidents");
    if (i && *i < 0) {
      r_.error(value, "incidents is a count: 0 or more");
      return false;
    }
    if (i) e.expected = *i;
    return i.has_value();
  }

  const Document& doc_;
  Reader r_;
  std::optional<Timestamp> clock_;            // where the clock is at the current step
  std::map<std::string, std::string> bound_;  // instance name → the step that started it
};

// ---- checks against the workflows and the config ------------------------------------------

const FieldSchema* data_field(const Definition& def, const std::string& path) {
  return def.data.find(path.substr(0, path.find('.')));
}

class ScenarioChecker {
 public:
  ScenarioChecker(const Scenario& s, const std::vector<Definition>& defs, const Config* config,
                  Diagnostics& diags)
      : s_(s), defs_(defs), config_(config), diags_(diags) {}

  void run() {
    calendars_need_config();
    for (const auto& st : s_.steps) {
      switch (st.kind) {
        case ScenarioStep::Kind::start:
          start(st);
          break;
        case ScenarioStep::Kind::event:
          event(st);
          break;
        case ScenarioStep::Kind::expect:
          expect(st);
          break;
        default:
          break;
      }
    }
  }

 private:
  void error(SourcePos at, std::string message) { diags_.error(s_.file, at, std::move(message)); }

  const Definition* find(const std::string& name) const {
    for (const auto& d : defs_) {
      if (d.name == name) return &d;
    }
    return nullptr;
  }

  std::vector<std::string> workflow_names() const {
    std::vector<std::string> out;
    for (const auto& d : defs_) out.push_back(d.name);
    return out;
  }

  const Definition* first() const { return defs_.empty() ? nullptr : &defs_.front(); }

  void calendars_need_config() {
    if (config_ != nullptr) return;
    for (std::size_t i = 0; i < defs_.size(); ++i) {
      const Definition& d = defs_[i];
      std::set<std::string> used;
      auto note = [&](const std::optional<std::string>& c) {
        if (c && *c != "none" && !c->empty()) used.insert(*c);
      };
      note(d.calendar);
      for (const auto& st : d.states) {
        for (const auto& t : st.timers) note(t.calendar);
      }
      for (const auto& sla : d.slas) note(sla.calendar);
      if (used.empty()) continue;
      const SourcePos at = i < s_.workflow_pos.size() ? s_.workflow_pos[i] : SourcePos{};
      error(at, "workflow '" + d.name + "' measures time in calendar '" + *used.begin() +
                    "': give the scenario a config: that defines it");
    }
  }

  // Where the instance a step talks about was started, replaying the starts before it.
  const Definition* definition_of(const ScenarioStep& st) {
    if (st.by_key) return st.workflow.empty() ? first() : find(st.workflow);
    if (is_instance_id(st.instance)) return find(id_prefix(st.instance));
    auto it = started_.find(st.instance);
    return it == started_.end() ? nullptr : it->second;
  }

  void start(const ScenarioStep& st) {
    const Definition* def = first();
    if (!st.workflow.empty()) {
      def = find(st.workflow);
      if (def == nullptr) {
        error(st.workflow_pos, "unknown workflow '" + st.workflow + "'" +
                                   did_you_mean(st.workflow, workflow_names()) +
                                   " (the scenario loads: " + joined_names() + ")");
        return;
      }
    }
    if (def == nullptr) return;
    if (!st.instance.empty()) started_[st.instance] = def;
    if (st.expect_error) return;
    const std::string problem = validate_payload(def->data, st.data, /*at_start=*/true);
    if (!problem.empty()) error(data_pos(st), "start data: " + problem);
  }

  std::string joined_names() const {
    std::string out;
    for (const auto& d : defs_) out += (out.empty() ? "" : ", ") + d.name;
    return out;
  }

  SourcePos data_pos(const ScenarioStep& st) const {
    return st.data_pos.line > 0 ? st.data_pos : st.pos;
  }

  void event(const ScenarioStep& st) {
    if (st.by_key && !st.workflow.empty() && find(st.workflow) == nullptr) {
      error(st.workflow_pos,
            "unknown workflow '" + st.workflow + "'" + did_you_mean(st.workflow, workflow_names()));
      return;
    }
    if (!st.actor.empty()) person(st.actor_pos, st.actor, "actor");
    const Definition* def = definition_of(st);
    if (def == nullptr || st.event.empty()) return;
    std::vector<std::string> events;
    auto add = [&](const std::string& e) {
      if (std::find(events.begin(), events.end(), e) == events.end()) events.push_back(e);
    };
    for (const auto& state : def->states) {
      for (const auto& h : state.on) add(h.event);
    }
    for (const auto& h : def->on) add(h.event);
    for (const auto& [name, schema] : def->events) add(name);
    if (std::find(events.begin(), events.end(), st.event) == events.end()) {
      error(st.pos, "workflow '" + def->name + "' has no event '" + st.event + "'" +
                        did_you_mean(st.event, events));
      return;
    }
    if (st.expect_error) return;
    if (const Schema* schema = def->event_schema(st.event)) {
      const std::string problem = validate_payload(*schema, st.data);
      if (!problem.empty()) error(data_pos(st), "event '" + st.event + "': " + problem);
    }
  }

  void person(SourcePos at, const std::string& id, std::string_view what) {
    if (config_ == nullptr) {
      error(at, std::string(what) + " '" + id + "' needs a config: with a directory of people");
      return;
    }
    if (config_->find_person(id) != nullptr) return;
    std::vector<std::string> ids;
    for (const auto& p : config_->people) ids.push_back(p.id);
    error(at, "unknown person '" + id + "'" + did_you_mean(id, ids));
  }

  void expect(const ScenarioStep& st) {
    const Definition* def = definition_of(st);
    for (const auto& e : st.expectations) {
      switch (e.kind) {
        case Expectation::Kind::state: {
          if (def == nullptr) break;
          const std::string s(e.expected.as_string());
          if (def->find_state(s) == nullptr) {
            error(e.value_pos, "workflow '" + def->name + "' has no state '" + s + "'" +
                                   did_you_mean(s, def->state_names()));
          }
          break;
        }
        case Expectation::Kind::assignee: {
          const std::string p(e.expected.as_string());
          if (!p.empty() && config_ != nullptr) person(e.value_pos, p, "assignee");
          break;
        }
        case Expectation::Kind::queue: {
          const std::string q(e.expected.as_string());
          if (q.empty() || config_ == nullptr || config_->find_queue(q) != nullptr) break;
          std::vector<std::string> names;
          for (const auto& x : config_->queues) names.push_back(x.name);
          error(e.value_pos, "unknown queue '" + q + "'" + did_you_mean(q, names));
          break;
        }
        case Expectation::Kind::sla: {
          if (def == nullptr) break;
          std::vector<std::string> names;
          for (const auto& sla : def->slas) names.push_back(sla.name);
          if (std::find(names.begin(), names.end(), e.field) == names.end()) {
            error(e.pos, "workflow '" + def->name + "' has no SLA '" + e.field + "'" +
                             did_you_mean(e.field, names));
          }
          break;
        }
        case Expectation::Kind::data: {
          if (def == nullptr) break;
          const std::string top = e.field.substr(0, e.field.find('.'));
          const FieldSchema* f = data_field(*def, e.field);
          if (f == nullptr) {
            error(e.pos, "workflow '" + def->name + "' has no data field '" + top + "'" +
                             did_you_mean(top, def->data.names()));
            break;
          }
          if (e.field.find('.') != std::string::npos) break;  // inside an object: any JSON
          const boost::json::value v = expected_data_value(e, f);
          if (v.is_null()) break;  // "absent"
          const std::string problem = check_field_value(*f, v);
          if (!problem.empty()) error(e.value_pos, e.key + ": " + problem);
          break;
        }
        default:
          break;
      }
    }
  }

  const Scenario& s_;
  const std::vector<Definition>& defs_;
  const Config* config_;
  Diagnostics& diags_;
  std::map<std::string, const Definition*> started_;
};

}  // namespace

boost::json::value expected_data_value(const Expectation& e, const FieldSchema* field) {
  if (field == nullptr || !e.plain_text || e.expected.is_null()) return e.expected;
  switch (field->type) {
    case FieldType::string:
    case FieldType::enum_:
    case FieldType::timestamp:
    case FieldType::duration:
      return boost::json::string(*e.plain_text);  // not {…}: that would build an array
    default:
      return e.expected;
  }
}

std::optional<Scenario> load_scenario(const std::string& file, const std::string& text,
                                      Diagnostics& diags) {
  const Document doc = parse(file, text, diags);
  if (!doc.complete) return std::nullopt;
  if (!doc.root.is_map()) {
    diags.error(file, doc.root.pos,
                "a scenario must be a map (workflow, start_at, steps), got " +
                    std::string(doc.root.describe()));
    return std::nullopt;
  }
  ScenarioLoader loader(doc, diags);
  return loader.load(doc.root);
}

std::optional<Scenario> load_scenario_file(const std::string& path, Diagnostics& diags) {
  std::string text;
  if (!read_file(path, text)) {
    diags.error(path, {}, "cannot read the file");
    return std::nullopt;
  }
  return load_scenario(path, text, diags);
}

void check_scenario(const Scenario& scenario, const std::vector<Definition>& definitions,
                    const Config* config, Diagnostics& diags) {
  ScenarioChecker(scenario, definitions, config, diags).run();
}

}  // namespace ombud::yaml
