#include "engine/step.h"

#include <algorithm>
#include <array>
#include <boost/container/small_vector.hpp>
#include <boost/json/serialize.hpp>

#include "engine/assignment.h"
#include "engine/expr/ast.h"
#include "engine/templates.h"

namespace ombud {

namespace {

// A directory and workload for contexts that have none.
class NoWorkload final : public Workload {
 public:
  int open_cases(std::string_view) const override { return 0; }
};

// Durations shown to people, to the nearest second: SLA levels fire one millisecond past their
// threshold, which nobody needs to read as "7h30m1ms".
std::string millis_text(Millis ms) {
  Duration d;
  d.clock = std::chrono::round<std::chrono::seconds>(ms);
  return format_duration(d);
}

// History details for the entries every step writes (event, transition).
Details transition_details(std::string_view from, std::string_view to) {
  return Details().add("from", from).add("to", to);
}

Details event_details(const Event& ev) {
  return Details().add("event", ev.name).add("data", ev.data).add("actor", ev.actor);
}

// Joins the parts with one allocation: history messages have five to ten parts, and the chain
// of operator+ that built them grew the string two or three times on the way.
std::string cat(std::initializer_list<std::string_view> parts) {
  std::size_t size = 0;
  for (std::string_view p : parts) size += p.size();
  std::string out;
  out.reserve(size);
  for (std::string_view p : parts) out.append(p);
  return out;
}

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

class Machine {
 public:
  // `data_source`: the data of the instance being stepped, when out.instance does not have it
  // yet (see step()): the machine reads it there and copies it on the first write.
  Machine(const Definition& def, const StepContext& ctx, Timestamp now, Outcome& out,
          const Data* data_source = nullptr)
      : def_(def), ctx_(ctx), now_(now), out_(out), inst_(out.instance), data_source_(data_source) {
    out_.history.reserve(8);  // a step writes 2 to 15 entries: grow once or twice, not 4 times
  }

  // ---- entry points -----------------------------------------------------------------------

  void begin(Data data) {
    inst_.workflow = def_.name;
    inst_.created_at = now_;
    inst_.data = std::move(data);
    inst_.slas.reserve(def_.slas.size());
    for (std::size_t i = 0; i < def_.slas.size(); ++i) {
      SlaClock clock;
      clock.name = def_.interned_sla_name(i);
      clock.fired.assign(def_.slas[i].escalate.size(), 0);
      inst_.slas.push_back(std::move(clock));
    }
    if (def_.key) {
      auto key = eval(*def_.key, nullptr, nullptr);
      if (key && key->kind() == expr::TypeKind::string) {
        inst_.key = std::get<std::string>(key->v);
      } else if (key && !key->is_null()) {
        inst_.key = key->to_string();
      }
    }
    history("started", "started in '" + def_.initial + "'" +
                           (inst_.key.empty() ? "" : " with key " + inst_.key));
    enter(def_.initial, nullptr);
    drain_raised();
  }

  void handle_external(const Event& event) {
    if (event.timer_id) {
      fire_timer(*event.timer_id);
    } else {
      sent_ = &event;
      handle_event(event, /*external=*/true);
      sent_ = nullptr;
    }
    drain_raised();
  }

  void reassign(const Reassignment& r) {
    const std::string from = inst_.assignee.empty() ? "the queue" : inst_.assignee;
    std::string message =
        "reassigned from " + from + " to " + (r.to.empty() ? "the queue " + r.queue : r.to);
    if (!r.actor.empty()) message += " by " + r.actor;
    if (!r.reason.empty()) message += ": " + r.reason;
    history("assigned", std::move(message),
            Details()
                .add("from", inst_.assignee)
                .add("to", r.to)
                .add("queue", r.to.empty() ? r.queue : std::string())
                .add("reason", r.reason));
    inst_.assignee = r.to;
    // A person works it now (it waits in no queue), or it waits in the queue for anyone.
    inst_.queue = r.to.empty() ? InternedName(r.queue) : InternedName();
    if (!r.to.empty()) run_actions(def_.on_assign, nullptr);
    drain_raised();
  }

  bool rejected() const { return rejected_; }
  bool handled() const { return handled_; }

  // Gives out.instance its data if no action changed it (a copy of the source's).
  void finish_data() {
    if (data_source_ != nullptr) writable_data(0);
  }

 private:
  // ---- small helpers ----------------------------------------------------------------------

  const Data& data() const { return data_source_ != nullptr ? *data_source_ : inst_.data; }

  // The instance's data, to change. The first call copies it from the source into an array with
  // room for exactly `added` more fields: idle instances are most of memory, so `data` holds no
  // slack, and copying once into the right size spares copying and then growing it.
  Data& writable_data(std::size_t added) {
    if (data_source_ != nullptr && added == 0) {
      inst_.data = *data_source_;  // the copy is exact
    } else if (data_source_ != nullptr) {
      inst_.data = Data(*data_source_, added);
    }
    data_source_ = nullptr;
    return inst_.data;
  }

  void history(std::string_view kind, std::string message, Details details = {}) {
    out_.history.push_back({now_, std::string(kind), std::move(message), std::move(details)});
  }

  void incident(std::string message) {
    inst_.incidents.push_back({now_, message, false});
    history("incident", std::move(message));
  }

  // `name` is one of the definition's calendar names (std::nullopt: the workflow's calendar).
  const BusinessCalendar& calendar(const std::optional<std::string>& name) const {
    static const BusinessCalendar kWallClock = BusinessCalendar::wall_clock();
    const std::string* n = name ? &*name : (def_.calendar ? &*def_.calendar : nullptr);
    if (n == nullptr) return kWallClock;
    // SLA clocks ask for their calendar many times in a step; the names live in the definition,
    // so the answer is remembered by the name's address, and looked up first.
    for (std::size_t i = 0; i < calendars_seen_; ++i) {
      if (calendar_cache_[i].first == n) return *calendar_cache_[i].second;
    }
    const BusinessCalendar* cal = nullptr;
    if (!n->empty() && *n != "none" && ctx_.calendars != nullptr) cal = ctx_.calendars->find(*n);
    if (cal == nullptr) cal = &kWallClock;
    if (calendars_seen_ < calendar_cache_.size()) calendar_cache_[calendars_seen_++] = {n, cal};
    return *cal;
  }

  // Rebuilt only when a field it shows has changed since the last expression read it.
  const boost::json::object& instance_json() {
    if (instance_json_valid_ && instance_json_state_ == inst_.state &&
        instance_json_assignee_ == inst_.assignee && instance_json_priority_ == inst_.priority) {
      return instance_json_;
    }
    instance_json_valid_ = true;
    instance_json_state_ = inst_.state;
    instance_json_assignee_ = inst_.assignee;
    instance_json_priority_ = inst_.priority;
    instance_json_ = instance_fields(inst_);
    return instance_json_;
  }

  // Evaluates an expression; a runtime error becomes an incident and nullopt.
  std::optional<expr::Value> eval(const Expr& e, const boost::json::object* event_data,
                                  const Schema* event_schema) {
    if (!e.ast) return std::nullopt;
    expr::EvalContext ec;
    ec.data = &data();
    ec.data_schema = &def_.data;
    ec.event = event_data;
    ec.event_schema = event_schema;
    // Only an expression that names `instance` can read it (the identifier is in its text), so
    // the others skip building the object.
    if (e.text.find("instance") != std::string::npos) ec.instance = &instance_json();
    ec.now = now_;
    expr::EvalResult r = expr::evaluate(*e.ast, ec);
    if (!r.ok()) {
      incident("expression '" + e.text + "' failed: " + r.error.message);
      return std::nullopt;
    }
    return std::move(r.value);
  }

  bool guard_holds(const std::optional<Expr>& guard, const Event* ev) {
    if (!guard) return true;
    auto v = eval(*guard, ev != nullptr ? &ev->data : nullptr, event_schema(ev));
    return v && v->kind() == expr::TypeKind::boolean && std::get<bool>(v->v);
  }

  // Every expression of an event asks for its schema: the last lookup is remembered by name.
  const Schema* event_schema(const Event* ev) {
    if (ev == nullptr) return nullptr;
    if (!schema_known_ || ev->name != schema_event_) {
      schema_known_ = true;
      schema_event_ = ev->name;
      schema_ = def_.event_schema(ev->name);
    }
    return schema_;
  }

  std::optional<boost::json::value> value(const ValueSpec& spec, const Event* ev) {
    return resolve_value(spec, [&](const Expr& e) -> std::optional<boost::json::value> {
      auto v = eval(e, ev != nullptr ? &ev->data : nullptr, event_schema(ev));
      if (!v) return std::nullopt;
      return expr::to_json(*v);
    });
  }

  std::optional<boost::json::object> data_map(
      const std::vector<std::pair<std::string, ValueSpec>>& map, const Event* ev) {
    boost::json::object o;
    for (const auto& [k, spec] : map) {
      auto v = value(spec, ev);
      if (!v) return std::nullopt;
      o[k] = std::move(*v);
    }
    return o;
  }

  std::int64_t counter(const std::string& name) const {
    auto it = counter_overlay_.find(name);
    if (it != counter_overlay_.end()) return it->second;
    return stored_counter(name);
  }

  // What the store held when the step first looked: read once, so the commit moves the counter
  // from exactly the value this step built on.
  std::int64_t stored_counter(const std::string& name) const {
    auto it = counter_read_.find(name);
    if (it != counter_read_.end()) return it->second;
    const std::int64_t v = ctx_.counters != nullptr ? ctx_.counters->get(name) : 0;
    counter_read_.emplace(name, v);
    return v;
  }

  void set_counter(const std::string& name, std::int64_t v) {
    counter_overlay_[name] = v;
    for (auto& u : out_.counters) {
      if (u.name == name) {
        u.value = v;
        return;
      }
    }
    out_.counters.push_back({name, v, stored_counter(name)});
  }

  const Workload& workload() const {
    static const NoWorkload kNone;
    return ctx_.workload != nullptr ? *ctx_.workload : kNone;
  }

  // ---- actions ----------------------------------------------------------------------------

  void run_actions(const std::vector<Action>& actions, const Event* ev) {
    for (const auto& a : actions) {
      std::visit([&](const auto& action) { run(action, ev); }, a.kind);
    }
  }

  void run(const SetAction& set, const Event* ev) {
    // All values are computed from the data as it was before this `set`.
    boost::container::small_vector<std::pair<const std::string*, boost::json::value>, 4> values;
    for (const auto& [field, spec] : set.fields) {
      auto v = value(spec, ev);
      if (!v) continue;
      values.emplace_back(&field, std::move(*v));
    }
    // Idle instances are most of memory, so `data` grows to exactly the fields it will hold.
    // Usually the first write of the step makes the array of the right size; otherwise it moves
    // to one of the exact size.
    std::size_t added = 0;
    for (const auto& [field, v] : values) added += !v.is_null() && !data().contains(*field);
    Data& stored = writable_data(added);
    if (stored.size() + added > stored.capacity()) stored.reserve(stored.size() + added);
    Details changed;
    for (auto& [field, v] : values) {
      const FieldSchema* schema = def_.data.find(*field);
      if (schema == nullptr) continue;  // rejected when the definition was checked
      if (!v.is_null()) {               // null removes the field, whatever its type
        const std::string problem = check_field_value(*schema, v);
        if (!problem.empty()) {
          incident("set " + *field + ": " + problem);
          continue;
        }
      }
      changed.add(*field, v);
      if (v.is_null()) {
        stored.erase(*field);
      } else {
        stored[*field] = std::move(v);
      }
    }
    if (!changed.empty()) {
      std::string message = cat({"set ", changed.text()});  // before `changed` moves
      history("set", std::move(message), std::move(changed));
    }
  }

  void assign_to(const AssignmentChoice& choice, const std::string& how, const std::string& queue) {
    if (!choice.person) {
      if (!queue.empty()) {
        inst_.queue = queue;
        inst_.assignee.clear();
      }
      incident("nobody assigned (" + how + "): " + choice.reason);
      return;
    }
    const std::string previous = inst_.assignee;
    inst_.assignee = *choice.person;
    inst_.queue.clear();
    history("assigned",
            "assigned to " + inst_.assignee + " (" + how + ")" +
                (previous.empty() || previous == inst_.assignee ? "" : ", was " + previous),
            Details().add("assignee", inst_.assignee).add("previous", previous));
  }

  // The assignment's outcome: recorded (replay), else chosen now. `.second`: it was recorded.
  template <class Choose>
  std::pair<AssignmentChoice, bool> choose(const std::string& how, Choose&& choose_now) {
    if (ctx_.recorded_assignments != nullptr) {
      if (auto recorded = ctx_.recorded_assignments->take(how)) return {std::move(*recorded), true};
    }
    return {choose_now(), false};
  }

  void run(const AssignAction& assign, const Event* ev) {
    switch (assign.kind) {
      case AssignAction::Kind::queue: {
        if (ctx_.directory == nullptr) {
          inst_.queue = assign.queue;
          inst_.assignee.clear();
          incident("nobody assigned from queue '" + assign.queue + "': no directory configured");
          return;
        }
        const bool round_robin = assign.strategy == AssignStrategy::round_robin;
        const std::string cursor_name = "rr:" + assign.queue;
        const std::string how = std::string("queue ") + assign.queue + ", " +
                                (round_robin ? "round_robin" : "least_loaded");
        const auto [choice, recorded] = choose(how, [&] {
          return choose_from_queue(*ctx_.directory, workload(), assign.queue, assign.strategy,
                                   assign.skills, counter(cursor_name));
        });
        if (choice.person && round_robin && !recorded) set_counter(cursor_name, choice.next_cursor);
        assign_to(choice, how, assign.queue);
        return;
      }
      case AssignAction::Kind::to: {
        auto v = value(*assign.to, ev);
        if (!v) return;
        // The caller's own payload named nobody, or someone who does not exist: refused, the
        // case as it was. A name from the case's data, a timer or a raised event is nothing the
        // caller can mend: an incident says it, and the step goes on.
        const bool from_caller = sent_ != nullptr && assign.to->expression &&
                                 assign.to->expression->ast &&
                                 reads_event(*assign.to->expression->ast);
        if (!v->is_string() || v->as_string().empty()) {
          if (from_caller) {
            reject("event '" + sent_->name + "': expected a person id to assign, got " +
                   boost::json::serialize(*v));
            return;
          }
          incident("assign to: expected a person id, got " + boost::json::serialize(*v));
          return;
        }
        const std::string id(v->as_string());
        // Replay does not hold the caller to today's directory: the person was in it then.
        if (from_caller && ctx_.check_people && ctx_.directory != nullptr &&
            ctx_.directory->person(id) == nullptr) {
          reject("event '" + sent_->name + "': nobody called '" + id + "' in the directory");
          return;
        }
        assign_to(choose("direct",
                         [&] {
                           return ctx_.directory != nullptr ? choose_person(*ctx_.directory, id)
                                                            : AssignmentChoice{id, "", 0};
                         })
                      .first,
                  "direct", "");
        return;
      }
      case AssignAction::Kind::role:
        if (ctx_.directory == nullptr) {
          incident("nobody assigned to role '" + assign.role + "': no directory configured");
          return;
        }
        assign_to(choose("role " + assign.role,
                         [&] { return choose_by_role(*ctx_.directory, workload(), assign.role); })
                      .first,
                  "role " + assign.role, "");
        return;
      case AssignAction::Kind::manager_of:
        if (ctx_.directory == nullptr) {
          incident("nobody assigned to the manager of " + inst_.assignee +
                   ": no directory configured");
          return;
        }
        if (inst_.assignee.empty()) {
          incident("nobody assigned to the manager of the assignee: the case has no assignee");
          return;
        }
        const std::string how = "manager of " + inst_.assignee;
        assign_to(
            choose(how, [&] { return choose_manager_of(*ctx_.directory, inst_.assignee); }).first,
            how, "");
        return;
    }
  }

  void run(const PriorityAction& p, const Event*) {
    if (inst_.priority == p.priority) return;
    // An escalation raises the priority; a case already above its level (an urgent one whose
    // resolve clock ran out) is not lowered by it.
    if (escalating_ && p.priority < inst_.priority) return;
    history("priority", std::string("priority ") + std::string(priority_name(inst_.priority)) +
                            " → " + std::string(priority_name(p.priority)));
    inst_.priority = p.priority;
  }

  static std::vector<std::string> ids(const std::vector<const Person*>& people) {
    std::vector<std::string> out;
    out.reserve(people.size());
    for (const Person* p : people) out.push_back(p->id);
    return out;
  }

  void run(const NotifyAction& n, const Event* ev) {
    Notification note;
    note.template_name = n.template_name;
    const Directory* dir = ctx_.directory;
    switch (n.to.kind) {
      case Recipient::Kind::assignee:
        note.to = "assignee";
        if (!inst_.assignee.empty()) note.recipients.push_back(inst_.assignee);
        break;
      case Recipient::Kind::role:
        note.to = "role:" + n.to.name;
        if (dir != nullptr) note.recipients = ids(dir->people_with_role(n.to.name));
        break;
      case Recipient::Kind::queue:
        note.to = "queue:" + n.to.name;
        if (dir != nullptr) note.recipients = ids(dir->queue_members(n.to.name));
        break;
      case Recipient::Kind::person:
        note.to = "person:" + n.to.name;
        note.recipients.push_back(n.to.name);
        break;
      case Recipient::Kind::manager_of_assignee: {
        note.to = "manager_of:assignee";
        if (dir != nullptr && !inst_.assignee.empty()) {
          const AssignmentChoice m = choose_manager_of(*dir, inst_.assignee);
          if (m.person) note.recipients.push_back(*m.person);
        }
        break;
      }
      case Recipient::Kind::expression: {
        note.to = "${ " + n.to.expression->text + " }";
        auto v = eval(*n.to.expression, ev != nullptr ? &ev->data : nullptr, event_schema(ev));
        if (v && v->kind() == expr::TypeKind::string) {
          note.recipients.push_back(std::get<std::string>(v->v));
        }
        break;
      }
    }
    if (note.recipients.empty()) {
      incident("notification '" + note.template_name + "' to " + note.to + " reached nobody");
    }
    history("notify", notify_line(note));
    out_.notifications.push_back(std::move(note));
  }

  void run(const RaiseAction& r, const Event* ev) {
    auto data = data_map(r.data, ev);
    if (!data) return;
    raised_.push_back(Event{r.event, std::move(*data), std::nullopt, ""});
  }

  void run(const StartAction& s, const Event* ev) {
    auto data = data_map(s.data, ev);
    if (!data) return;
    history("start", "start a '" + s.workflow + "' case");
    out_.starts.push_back({s.workflow, std::move(*data)});
  }

  void run(const SerialAction& s, const Event*) {
    // A yearly sequence is a counter per year: "seq:contract:2027" starts at 1.
    const std::string name =
        "seq:" + s.sequence +
        (s.yearly ? ":" + std::to_string(static_cast<int>(local_date().year())) : "");
    const std::int64_t next = counter(name) + 1;
    set_counter(name, next);
    const std::string serial = format_serial(s.format, next);
    writable_data(0)[s.field] = serial;
    Details details;
    details.add("field", s.field).add("value", serial).add("sequence", s.sequence).add("seq", next);
    if (s.yearly) details.add("counter", name);
    history("serial", "serial " + serial + " drawn from sequence '" + s.sequence + "'",
            std::move(details));
  }

  // Today in the workflow calendar's time zone (UTC without a calendar).
  date::year_month_day local_date() const {
    return date::year_month_day{date::floor<date::days>(calendar(std::nullopt).local_time(now_))};
  }

  std::string format_serial(const std::string& format, std::int64_t seq) const {
    const date::year_month_day ymd = local_date();
    std::string out;
    std::size_t i = 0;
    while (i < format.size()) {
      if (format[i] != '{') {
        out += format[i++];
        continue;
      }
      const std::size_t close = format.find('}', i);
      const std::string p = format.substr(i + 1, close - i - 1);
      auto pad = [](long long v, std::size_t width) {
        std::string s = std::to_string(v);
        return s.size() < width ? std::string(width - s.size(), '0') + s : s;
      };
      if (p == "yyyy") out += pad(static_cast<int>(ymd.year()), 4);
      if (p == "yy") out += pad(static_cast<int>(ymd.year()) % 100, 2);
      if (p == "mm") out += pad(static_cast<unsigned>(ymd.month()), 2);
      if (p == "dd") out += pad(static_cast<unsigned>(ymd.day()), 2);
      if (p == "seq") out += std::to_string(seq);
      if (p.rfind("seq:0", 0) == 0) out += pad(seq, static_cast<std::size_t>(p[5] - '0'));
      i = close + 1;
    }
    return out;
  }

  void run(const WebhookAction& w, const Event* ev) {
    boost::json::value body = boost::json::object{};
    if (w.body) {
      auto v = value(*w.body, ev);
      if (!v) return;
      body = std::move(*v);
    }
    history("webhook", "webhook to '" + w.target + "'");
    out_.webhooks.push_back({w.target, std::move(body)});
  }

  // ---- states, timers, transitions --------------------------------------------------------

  template <typename Pred>
  void cancel_timers_if(const Pred& pred) {
    auto it = std::remove_if(inst_.timers.begin(), inst_.timers.end(), [&](const PendingTimer& t) {
      if (!pred(t)) return false;
      if (out_.cancelled.empty()) out_.cancelled.reserve(8);
      out_.cancelled.push_back(t.id);
      return true;
    });
    inst_.timers.erase(it, inst_.timers.end());
  }

  void arm(PendingTimer t) {
    t.id = inst_.next_timer_id++;
    // A step that arms timers arms several (an SLA clock arms one per escalation level): make
    // room once instead of growing one by one. step() trims `timers` to size at the end.
    if (inst_.timers.size() == inst_.timers.capacity()) {
      inst_.timers.reserve(inst_.timers.size() + 8);
    }
    if (out_.armed.empty()) out_.armed.reserve(8);
    inst_.timers.push_back(t);
    out_.armed.push_back(std::move(t));
  }

  void arm_state_timers(const State& s) {
    if (s.timers.empty()) return;
    const InternedName state_name = def_.interned_name_of(s);
    for (std::size_t i = 0; i < s.timers.size(); ++i) {
      const StateTimer& st = s.timers[i];
      PendingTimer t;
      t.kind = PendingTimer::Kind::state;
      t.owner = state_name;
      t.index = static_cast<int>(i);
      if (st.kind == StateTimer::Kind::after) {
        auto due = calendar(st.calendar).add(now_, st.delay);
        if (!due) {
          incident("timer 'after " + format_duration(st.delay) + "' in '" + s.name +
                   "' has no due time: its calendar is not open within ten years");
          continue;
        }
        t.due = *due;
      } else {
        auto v = eval(*st.time, nullptr, nullptr);
        if (!v) continue;
        if (v->kind() != expr::TypeKind::timestamp) {
          incident("timer 'at " + st.time->text + "' in '" + s.name + "' is not a timestamp (" +
                   v->to_string() + ")");
          continue;
        }
        t.due = std::max(std::get<Timestamp>(v->v), now_);
      }
      arm(std::move(t));
    }
  }

  void enter(const std::string& name, const Event* ev) {
    const State* s = def_.find_state(name);
    if (s == nullptr) {
      incident("unknown state '" + name + "'");
      return;
    }
    inst_.state = def_.interned_name_of(*s);
    run_actions(s->entry, ev);
    if (s->final) {
      inst_.ended = true;
      cancel_timers_if([](const PendingTimer&) { return true; });
      const auto index = static_cast<std::size_t>(s - def_.states.data());
      for (std::size_t i = 0; i < def_.slas.size(); ++i) {
        const bool cancels = (def_.sla_membership_of(index, i) & Definition::kSlaCancel) != 0;
        stop_clock(i, cancels);
      }
      history("ended", "ended in '" + name + "'");
      raised_.clear();
      return;
    }
    arm_state_timers(*s);
    sla_react(static_cast<std::size_t>(s - def_.states.data()));
  }

  void leave(const State& s, const Event* ev) {
    run_actions(s.exit, ev);
    const InternedName name = def_.interned_name_of(s);
    cancel_timers_if([&](const PendingTimer& t) {
      return t.kind == PendingTimer::Kind::state && t.owner == name;
    });
  }

  void take(const Transition& t, const Event* ev, const std::string& trigger) {
    if (!t.target) {
      history("transition", trigger + ": internal in '" + inst_.state + "'");
      run_actions(t.actions, ev);
      return;
    }
    std::string message;
    message.reserve(trigger.size() + inst_.state.size() + t.target->size() + 8);
    message.append(trigger).append(": ").append(inst_.state).append(" → ").append(*t.target);
    history("transition", std::move(message), transition_details(inst_.state, *t.target));
    if (const State* source = def_.find_state(inst_.state)) leave(*source, ev);
    run_actions(t.actions, ev);
    enter(*t.target, ev);
  }

  void reject(std::string why) {
    rejected_ = true;
    out_.error = std::move(why);
  }

  // Finds the transition an event takes in the current state (own `on` first, then global).
  const Transition* choose(const Event& ev) {
    const State* s = def_.find_state(inst_.state);
    if (s == nullptr) return nullptr;
    const auto first_enabled = [&](const EventHandlers& h) -> const Transition* {
      for (const auto& t : h.transitions) {
        if (guard_holds(t.guard, &ev)) return &t;
      }
      return nullptr;
    };
    if (const EventHandlers* h = s->handlers_for(ev.name)) {
      if (const Transition* t = first_enabled(*h)) return t;
    }
    if (s->final) return nullptr;
    for (const auto& h : def_.on) {
      if (h.event != ev.name) continue;
      if (const Transition* t = first_enabled(h)) return t;
    }
    return nullptr;
  }

  void handle_event(const Event& ev, bool external) {
    if (inst_.ended) {
      if (external) {
        reject("the case has ended (state '" + inst_.state + "')");
      } else {
        history("not_handled", ev.name + ": the case has ended");
      }
      return;
    }
    const Schema* schema = event_schema(&ev);
    if (schema == nullptr && external && !ev.data.empty()) {
      // Nothing can read the payload of an event not declared under `events:` (the checks
      // refuse `event.*` of it), so whatever was sent would be dropped without a word.
      reject("event '" + ev.name + "' takes no data ('" + std::string(ev.data.begin()->key()) +
             "' was sent): declare its fields under 'events:'");
      return;
    }
    if (schema != nullptr) {
      const std::string problem =
          validate_payload(*schema, ev.data, false, ctx_.check_people ? ctx_.directory : nullptr);
      if (!problem.empty()) {
        if (external) {
          reject("event '" + ev.name + "': " + problem);
        } else {
          incident("raised event '" + ev.name + "': " + problem);
        }
        return;
      }
    }
    // Actions see the payload with the schema's defaults filled in. Most events need none, and
    // those are used as they came, without a copy.
    std::optional<Event> with_defaults;
    if (schema != nullptr) {
      for (const auto& f : schema->fields) {
        if (f.default_value && !ev.data.contains(f.name)) {
          if (!with_defaults) with_defaults = ev;
          with_defaults->data[f.name] = *f.default_value;
        }
      }
    }
    const Event& seen = with_defaults ? *with_defaults : ev;
    const Transition* t = choose(seen);
    if (t == nullptr) {
      history("not_handled", ev.name + ": no transition in '" + inst_.state + "' takes it",
              Details().add("event", ev.name).add("data", ev.data));
      return;
    }
    if (external && ctx_.enforce_roles && !t->roles.empty()) {
      if (!roles_allow(t->roles, ctx_.actor_roles, ev.actor, data(), inst_.assignee)) {
        std::string roles;
        for (const auto& r : t->roles) {
          roles += (roles.empty() ? "" : ", ") + r;
          if (const std::string who = named_person(r); !who.empty()) roles += " (" + who + ")";
        }
        reject("event '" + ev.name + "' in '" + inst_.state + "' needs one of the roles: " + roles);
        return;
      }
    }
    handled_ = true;
    history("event", ev.name + (ev.actor.empty() ? "" : " from " + ev.actor), event_details(ev));
    take(*t, &seen, ev.name);
  }

  std::string named_person(const std::string& entry) const {
    return ombud::named_person(entry, data(), inst_.assignee);
  }

  void drain_raised() {
    int handled = 0;
    while (!raised_.empty()) {
      if (++handled > kMaxRaisedEvents) {
        incident("more than " + std::to_string(kMaxRaisedEvents) +
                 " raised events in one step: a loop? the rest were dropped (next: '" +
                 raised_.front().name + "')");
        raised_.clear();
        return;
      }
      Event ev = std::move(raised_.front());
      raised_.erase(raised_.begin());
      history("raised", "raised " + ev.name);
      handle_event(ev, /*external=*/false);
    }
  }

  void fire_timer(std::uint64_t id) {
    auto it = std::find_if(inst_.timers.begin(), inst_.timers.end(),
                           [&](const PendingTimer& t) { return t.id == id; });
    if (it == inst_.timers.end()) {
      history("not_handled", "timer #" + std::to_string(id) + " is no longer pending");
      return;
    }
    const PendingTimer timer = *it;
    inst_.timers.erase(it);
    handled_ = true;
    const Millis late = now_ > timer.due ? now_ - timer.due : Millis(0);
    const std::string lateness = late.count() > 0 ? " (late by " + millis_text(late) + ")" : "";
    if (timer.kind == PendingTimer::Kind::escalation) {
      fire_escalation(timer, lateness);
      return;
    }
    const State* s = def_.find_state(timer.owner);
    if (s == nullptr || inst_.state != timer.owner ||
        timer.index >= static_cast<int>(s->timers.size())) {
      history("not_handled", "timer #" + std::to_string(id) + " belongs to a state the case left");
      return;
    }
    const StateTimer& st = s->timers[static_cast<std::size_t>(timer.index)];
    const std::string label = st.kind == StateTimer::Kind::after
                                  ? "after " + format_duration(st.delay)
                                  : "at " + st.time->text;
    history("timer", "timer '" + label + "' in '" + s->name + "' fired" + lateness,
            Details().add("late_ms", late.count()));
    if (!guard_holds(st.guard, nullptr)) {
      history("not_handled", "timer '" + label + "': guard does not hold");
      return;
    }
    Transition t;
    t.target = st.target;
    t.actions = st.actions;
    take(t, nullptr, "timer " + label);
  }

  // ---- SLA clocks -------------------------------------------------------------------------

  std::size_t sla_index(const InternedName& name) const {
    for (std::size_t i = 0; i < inst_.slas.size(); ++i) {
      if (inst_.slas[i].name == name) return i;
    }
    return inst_.slas.size();
  }

  SlaClock& clock_for(std::size_t i) {
    // Clocks are kept in the definition's order, so the i-th is usually the one.
    const InternedName name = def_.interned_sla_name(i);
    std::size_t k = i < inst_.slas.size() && inst_.slas[i].name == name ? i : sla_index(name);
    if (k == inst_.slas.size()) {
      // Instances created before an SLA was added get its clock on first use.
      SlaClock c;
      c.name = name;
      inst_.slas.push_back(c);
    }
    SlaClock& c = inst_.slas[k];
    const std::size_t levels = def_.slas[i].escalate.size();
    if (c.fired.size() != levels) c.fired.resize(levels, 0);
    return c;
  }

  // Working time of a duration in a calendar, measured from `from`.
  Millis working(const BusinessCalendar& cal, Timestamp from, const Duration& d) const {
    if (d.days == 0) return d.clock;
    auto end = cal.add(from, d);
    return end ? cal.working_time(from, *end) : d.clock;
  }

  // Entering states[state_index]: each SLA's clock starts, pauses, resumes or stops.
  void sla_react(std::size_t state_index) {
    for (std::size_t i = 0; i < def_.slas.size(); ++i) {
      const std::uint8_t in = def_.sla_membership_of(state_index, i);
      SlaClock& c = clock_for(i);
      const bool running = c.status == SlaClock::Status::running;
      const bool paused = c.status == SlaClock::Status::paused;
      if ((in & (Definition::kSlaStop | Definition::kSlaCancel)) != 0) {
        if (running || paused) stop_clock(i, (in & Definition::kSlaCancel) != 0);
      } else if ((in & Definition::kSlaStart) != 0 && !running && !paused) {
        start_clock(i);
      } else if ((in & Definition::kSlaPause) != 0) {
        if (running) pause_clock(i);
      } else if (paused) {
        resume_clock(i);
      }
    }
  }

  void start_clock(std::size_t i) {
    const Sla& sla = def_.slas[i];
    SlaClock& c = clock_for(i);
    const BusinessCalendar& cal = calendar(sla.calendar);
    Duration goal;
    if (sla.goal) {
      goal = *sla.goal;
    } else if (sla.goal_expr) {
      auto v = eval(*sla.goal_expr, nullptr, nullptr);
      if (!v || v->kind() != expr::TypeKind::duration) {
        incident("SLA '" + sla.name + "': goal is not a duration; the clock did not start");
        return;
      }
      goal = std::get<Duration>(v->v);
    }
    c.cycle += 1;
    c.status = SlaClock::Status::running;
    c.started_at = now_;
    c.since = now_;
    c.elapsed = Millis(0);
    c.paused_total = Millis(0);
    c.breached = false;
    c.fired.assign(c.fired.size(), 0);
    auto due = cal.add(now_, goal);
    c.budget = due ? cal.working_time(now_, *due) : goal.wall_clock();
    c.due_at = breach_instant(c, cal) - Millis(1);
    const std::string due_text = format_timestamp(c.due_at);
    Details details;
    details.add("sla", sla.name).add("cycle", c.cycle).add("due", due_text);
    history("sla",
            cat({"SLA ", sla.name, " started (cycle ", std::to_string(c.cycle), ", goal ",
                 format_duration(goal), ", due ", due_text, ")"}),
            std::move(details));
    arm_escalations(i);
  }

  void pause_clock(std::size_t i) {
    SlaClock& c = clock_for(i);
    const BusinessCalendar& cal = calendar(def_.slas[i].calendar);
    c.elapsed += cal.working_time(c.since, now_);
    c.status = SlaClock::Status::paused;
    c.since = now_;
    cancel_escalations(c.name);
    history("sla", cat({"SLA ", c.name.str(), " paused (", millis_text(c.elapsed), " of ",
                        millis_text(c.budget), " used)"}));
  }

  void resume_clock(std::size_t i) {
    SlaClock& c = clock_for(i);
    const BusinessCalendar& cal = calendar(def_.slas[i].calendar);
    c.paused_total += now_ - c.since;
    c.status = SlaClock::Status::running;
    c.since = now_;
    c.due_at = breach_instant(c, cal) - Millis(1);
    history("sla", cat({"SLA ", c.name.str(), " resumed (due ", format_timestamp(c.due_at), ")"}));
    arm_escalations(i);
  }

  // `cancel`: the state withdraws the clock (the SLA's `cancel:`): neither met nor breached,
  // unless the goal was already exceeded.
  void stop_clock(std::size_t i, bool cancel = false) {
    SlaClock& c = clock_for(i);
    if (c.status != SlaClock::Status::running && c.status != SlaClock::Status::paused) return;
    const BusinessCalendar& cal = calendar(def_.slas[i].calendar);
    if (c.status == SlaClock::Status::running) c.elapsed += cal.working_time(c.since, now_);
    if (c.status == SlaClock::Status::paused) c.paused_total += now_ - c.since;
    c.breached = c.breached || c.elapsed > c.budget;
    const bool cancelled = cancel && !c.breached;
    c.status = c.breached  ? SlaClock::Status::breached
               : cancelled ? SlaClock::Status::cancelled
                           : SlaClock::Status::met;
    c.since = now_;
    cancel_escalations(c.name);
    Details details;
    details.add("sla", c.name.str()).add("cycle", c.cycle).add("met", !c.breached && !cancelled);
    if (cancelled) details.add("cancelled", true);
    details.add("elapsed_ms", c.elapsed.count()).add("paused_ms", c.paused_total.count());
    history("sla",
            cat({"SLA ", c.name.str(),
                 c.breached  ? " breached"
                 : cancelled ? " cancelled"
                             : " met",
                 " (", millis_text(c.elapsed), " of ", millis_text(c.budget),
                 " working time, paused ", millis_text(c.paused_total), ")"}),
            std::move(details));
  }

  void cancel_escalations(const InternedName& sla) {
    cancel_timers_if([&](const PendingTimer& t) {
      return t.kind == PendingTimer::Kind::escalation && t.owner == sla;
    });
  }

  // The first instant at which a running clock's elapsed working time exceeds `threshold`: one
  // millisecond of open time past it, so a level never fires in closed time (a goal used up at
  // Friday 18:00 is exceeded at Monday 09:00:00.001) and "100%" is the moment of the breach.
  Timestamp passing(const SlaClock& c, const BusinessCalendar& cal, Millis threshold) const {
    const Millis used = c.elapsed + cal.working_time(c.since, now_);
    if (threshold < used) return now_;
    auto due = cal.add(now_, Duration{0, threshold - used + Millis(1)});
    return due ? *due : Timestamp::max();
  }

  Timestamp breach_instant(const SlaClock& c, const BusinessCalendar& cal) const {
    return passing(c, cal, c.budget);
  }

  // The working time after the cycle's start at which level `level` fires for the n-th time.
  Millis threshold(std::size_t sla_i, std::size_t level, int n) const {
    const Sla& sla = def_.slas[sla_i];
    const SlaClock& c = inst_.slas[sla_index(def_.interned_sla_name(sla_i))];
    const BusinessCalendar& cal = calendar(sla.calendar);
    const EscalationLevel& l = sla.escalate[level];
    Millis first = l.kind == EscalationLevel::Kind::percent
                       ? Millis(static_cast<std::int64_t>(static_cast<double>(c.budget.count()) *
                                                          l.percent / 100.0))
                       : working(cal, c.started_at, l.elapsed);
    if (n > 0 && l.repeat) first += working(cal, c.started_at, *l.repeat) * n;
    return first;
  }

  // Arms the next firing of every level still due in this cycle, plus the goal itself (index -1,
  // which marks the cycle breached). Called right after the clock (re)started running at now_
  // and got its due_at, which is one millisecond before the breach instant.
  void arm_escalations(std::size_t i) {
    const Sla& sla = def_.slas[i];
    SlaClock& c = clock_for(i);
    const BusinessCalendar& cal = calendar(sla.calendar);
    const InternedName sla_name = def_.interned_sla_name(i);
    if (!c.breached) {
      PendingTimer goal;
      goal.kind = PendingTimer::Kind::escalation;
      goal.owner = sla_name;
      goal.cycle = c.cycle;
      goal.index = -1;
      goal.due = c.due_at + Millis(1);  // = breach_instant(c, cal)
      arm(std::move(goal));
    }
    // Each level fires at passing(c, cal, its threshold). The instants come from one walk over
    // the calendar, in order of the open time still to go, instead of one walk from now_ per
    // level; the timers are armed in level order as before.
    const Millis used = c.elapsed + cal.working_time(c.since, now_);
    boost::container::small_vector<std::pair<Millis, std::size_t>, 8> to_go;  // (open time, level)
    boost::container::small_vector<Timestamp, 8> due(sla.escalate.size(), now_);
    boost::container::small_vector<bool, 8> armed(sla.escalate.size(), false);
    for (std::size_t level = 0; level < sla.escalate.size(); ++level) {
      const int n = c.fired[level];
      if (n > 0 && !sla.escalate[level].repeat) continue;
      armed[level] = true;
      const Millis t = threshold(i, level, n);
      if (!(t < used)) to_go.emplace_back(t - used + Millis(1), level);  // else due at now_
    }
    if (!to_go.empty()) {
      std::sort(to_go.begin(), to_go.end());  // by open time, then level
      boost::container::small_vector<Millis, 8> open_times;
      for (const auto& [open_time, level] : to_go) open_times.push_back(open_time);
      boost::container::small_vector<std::optional<Timestamp>, 8> instants(to_go.size());
      cal.add_each(now_, open_times, instants);
      for (std::size_t k = 0; k < to_go.size(); ++k) {
        due[to_go[k].second] = instants[k] ? *instants[k] : Timestamp::max();
      }
    }
    for (std::size_t level = 0; level < sla.escalate.size(); ++level) {
      if (!armed[level]) continue;
      PendingTimer t;
      t.kind = PendingTimer::Kind::escalation;
      t.owner = sla_name;
      t.cycle = c.cycle;
      t.index = static_cast<int>(level);
      t.due = due[level];
      arm(std::move(t));
    }
  }

  void fire_escalation(const PendingTimer& timer, const std::string& lateness) {
    std::size_t i = 0;
    while (i < def_.slas.size() && def_.interned_sla_name(i) != timer.owner) ++i;
    if (i == def_.slas.size()) return;
    const Sla& sla = def_.slas[i];
    SlaClock& c = clock_for(i);
    if (c.cycle != timer.cycle || c.status != SlaClock::Status::running) {
      history("not_handled", "escalation timer of SLA " + sla.name + " belongs to another cycle");
      return;
    }
    if (timer.index < 0) {
      c.breached = true;
      history("sla",
              "SLA " + sla.name + " breached: goal exceeded at " + format_timestamp(c.due_at) +
                  lateness,
              Details().add("sla", sla.name).add("cycle", c.cycle));
      return;
    }
    const auto level = static_cast<std::size_t>(timer.index);
    if (level >= sla.escalate.size()) return;
    const EscalationLevel& l = sla.escalate[level];
    const int count = c.fired.bump(level);
    const std::string at = l.kind == EscalationLevel::Kind::percent
                               ? std::to_string(static_cast<int>(l.percent)) + "%"
                               : format_duration(l.elapsed);
    history("escalation",
            "SLA " + sla.name + " escalation level " + std::to_string(level + 1) + " (" + at + ")" +
                (count > 1 ? " repeat " + std::to_string(count - 1) : "") + lateness,
            Details().add("sla", sla.name).add("level", level + 1).add("count", count));
    if (l.repeat) {
      PendingTimer next;
      next.kind = PendingTimer::Kind::escalation;
      next.owner = def_.interned_sla_name(i);
      next.cycle = c.cycle;
      next.index = timer.index;
      next.due = passing(c, calendar(sla.calendar), threshold(i, level, count));
      arm(std::move(next));
    }
    escalating_ = true;
    run_actions(l.actions, nullptr);
    escalating_ = false;
  }

  // Whether an expression reads the event's payload (`event.…`).
  static bool reads_event(const expr::Node& n) {
    if (n.kind == expr::NodeKind::ident && n.name == "event") return true;
    return std::any_of(n.children.begin(), n.children.end(),
                       [](const expr::Node& c) { return reads_event(c); });
  }

  const Definition& def_;
  const StepContext& ctx_;
  Timestamp now_;
  Outcome& out_;
  Instance& inst_;
  const Data* data_source_;    // not null: inst_.data is not filled in yet
  std::vector<Event> raised_;  // events raised and not yet handled, oldest first
  mutable std::array<std::pair<const std::string*, const BusinessCalendar*>, 4> calendar_cache_{};
  mutable std::size_t calendars_seen_ = 0;
  bool schema_known_ = false;       // event_schema(): the last event name asked about...
  std::string schema_event_;        // ...
  const Schema* schema_ = nullptr;  // ...and its schema
  std::map<std::string, std::int64_t> counter_overlay_;
  mutable std::map<std::string, std::int64_t> counter_read_;
  boost::json::object instance_json_;
  bool instance_json_valid_ = false;
  std::string instance_json_state_;
  std::string instance_json_assignee_;
  Priority instance_json_priority_ = Priority::normal;
  bool rejected_ = false;
  // The event a caller sent, while its own transition runs (not the events it raises).
  const Event* sent_ = nullptr;
  // While an SLA escalation level's actions run.
  bool escalating_ = false;
  bool handled_ = false;
};

// Copies every field of `from` but `data`, which the machine copies itself
// (Machine::writable_data). A field added to Instance must be added here too:
// Step.CopiesEveryFieldOfTheInstance fails otherwise.
void copy_all_but_data(const Instance& from, Instance& to) {
  to.id = from.id;
  to.workflow = from.workflow;
  to.version = from.version;
  to.state = from.state;
  to.key = from.key;
  to.assignee = from.assignee;
  to.queue = from.queue;
  to.priority = from.priority;
  to.created_at = from.created_at;
  to.updated_at = from.updated_at;
  to.ended = from.ended;
  to.slas = from.slas;
  to.timers = from.timers;
  to.incidents = from.incidents;
  to.next_timer_id = from.next_timer_id;
  to.revision = from.revision;
}

}  // namespace

std::string named_person(std::string_view entry, const Data& data, const std::string& assignee) {
  if (entry == kAssigneeRole) return assignee;
  if (entry.starts_with("data.")) {
    const boost::json::value* v = data.if_contains(entry.substr(5));
    if (v != nullptr && v->is_string()) return std::string(v->as_string());
  }
  return "";
}

bool roles_allow(const std::vector<std::string>& roles, const std::vector<std::string>& actor_roles,
                 const std::string& actor, const Data& data, const std::string& assignee) {
  for (const auto& r : actor_roles) {
    if (contains(roles, r)) return true;
  }
  return !actor.empty() && std::any_of(roles.begin(), roles.end(), [&](const std::string& r) {
    return named_person(r, data, assignee) == actor;
  });
}

std::string notify_line(const Notification& n) {
  std::string who;
  for (const auto& r : n.recipients) who += (who.empty() ? "" : ", ") + r;
  // A person an expression named is shown by id, not as the expression that named them.
  const bool by_expression = n.to.starts_with("${");
  const std::string whom = by_expression && !who.empty() ? who
                           : who.empty()                 ? n.to
                                                         : n.to + " (" + who + ")";
  return "notify " + whom + (n.template_name.empty() ? "" : ": " + n.template_name);
}

std::string validate_payload(const Schema& schema, const boost::json::object& data, bool at_start,
                             const Directory* directory) {
  // Every problem, not only the first: whoever sent it mends them all in one go.
  std::string problems;
  const auto add = [&](std::string problem) {
    problems += (problems.empty() ? "" : "; ") + std::move(problem);
  };
  for (const auto& [key, value] : data) {
    const FieldSchema* f = schema.find(key);
    if (f == nullptr) {
      add("unknown field '" + std::string(key) + "'" + did_you_mean(key, schema.names()));
      continue;
    }
    if (at_start && f->internal) {
      add("field '" + f->name + "' is kept by the workflow itself and is not given at start");
      continue;
    }
    if (value.is_null()) continue;
    const std::string problem = check_field_value(*f, value);
    if (!problem.empty()) {
      add("field '" + f->name + "': " + problem);
    } else if (f->person && directory != nullptr && value.is_string()) {
      std::string who = person_problem(*f, value.get_string(), *directory);
      if (!who.empty()) add("field '" + f->name + "': " + std::move(who));
    }
  }
  for (const auto& f : schema.fields) {
    if (!f.required || f.default_value) continue;
    const boost::json::value* v = data.if_contains(f.name);
    if (v == nullptr || v->is_null()) add("field '" + f.name + "' is required");
  }
  return problems;
}

Outcome start(const Definition& def, std::string id, const boost::json::object& data, Timestamp now,
              const StepContext& ctx) {
  Outcome out;
  out.instance.id = std::move(id);
  const std::string problem = validate_payload(def.data, data, /*at_start=*/true,
                                               ctx.check_people ? ctx.directory : nullptr);
  if (!problem.empty()) {
    out.result = Outcome::Result::rejected;
    out.error = "data: " + problem;
    return out;
  }
  // The start data with the schema's defaults, in an array of exactly its size (idle instances
  // are most of memory); the machine takes it over without another copy.
  std::size_t absent = 0;
  for (const auto& f : def.data.fields) absent += f.default_value && !data.contains(f.name);
  Data with_defaults;
  with_defaults.reserve(data.size() + absent);
  for (const auto& kv : data) with_defaults.emplace(std::string_view(kv.key()), kv.value());
  for (const auto& f : def.data.fields) {
    if (f.default_value &&
        (!with_defaults.contains(f.name) || with_defaults.at(f.name).is_null())) {
      with_defaults[f.name] = *f.default_value;
    }
  }
  Machine m(def, ctx, now, out);
  m.begin(std::move(with_defaults));
  out.instance.timers.shrink_to_fit();  // idle instances are most of memory: no slack
  out.instance.revision += 1;
  out.instance.updated_at = now;
  return out;
}

Outcome reassign(const Definition& def, const Instance& instance, const Reassignment& r,
                 Timestamp now, const StepContext& ctx) {
  Outcome out;
  copy_all_but_data(instance, out.instance);
  Machine m(def, ctx, now, out, &instance.data);
  m.reassign(r);
  m.finish_data();
  out.instance.timers.shrink_to_fit();
  out.instance.revision += 1;
  out.instance.updated_at = now;
  return out;
}

Outcome resolve_incident(const Instance& instance, std::size_t n, const std::string& note,
                         const std::string& actor, Timestamp now) {
  Outcome out;
  out.instance = instance;
  out.instance.incidents.at(n - 1).resolved = true;
  out.instance.updated_at = now;
  out.instance.revision += 1;
  std::string message = "incident " + std::to_string(n) + " resolved";
  if (!actor.empty()) message += " by " + actor;
  if (!note.empty()) message += ": " + note;
  out.history.push_back({now, "incident_resolved", std::move(message),
                         Details()
                             .add("incident", static_cast<std::int64_t>(n))
                             .add("message", instance.incidents[n - 1].message)
                             .add("note", note)});
  return out;
}

Outcome step(const Definition& def, const Instance& instance, const Event& event, Timestamp now,
             const StepContext& ctx) {
  Outcome out;
  copy_all_but_data(instance, out.instance);
  Machine m(def, ctx, now, out, &instance.data);
  m.handle_external(event);
  if (m.rejected()) {
    Outcome rejected;
    rejected.result = Outcome::Result::rejected;
    rejected.error = std::move(out.error);
    rejected.instance = instance;
    return rejected;
  }
  m.finish_data();
  out.result = m.handled() ? Outcome::Result::handled : Outcome::Result::not_handled;
  out.instance.timers.shrink_to_fit();
  out.instance.revision += 1;
  out.instance.updated_at = now;
  return out;
}

SlaClock::Status sla_status_at(const SlaClock& clock, Timestamp now, const BusinessCalendar& cal) {
  switch (clock.status) {
    case SlaClock::Status::running:
      if (clock.breached || clock.elapsed + cal.working_time(clock.since, now) > clock.budget) {
        return SlaClock::Status::breached;
      }
      return SlaClock::Status::running;
    case SlaClock::Status::paused:
      return clock.breached || clock.elapsed > clock.budget ? SlaClock::Status::breached
                                                            : SlaClock::Status::paused;
    default:
      return clock.status;
  }
}

}  // namespace ombud
