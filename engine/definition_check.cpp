#include "engine/definition_check.h"

#include <date/tz.h>

#include <algorithm>
#include <set>

#include "engine/directory.h"
#include "engine/graph.h"
#include "engine/schema.h"

namespace ombud {

void check_hook_routes(const Config& config,
                       const std::function<const Definition*(const std::string&)>& find,
                       const std::vector<std::string>& workflow_names, Diagnostics& diags,
                       Severity severity) {
  const auto report = [&](SourcePos pos, std::string message) {
    diags.add({severity, config.file, pos, std::move(message)});
  };
  // The workflow, or null after saying it is unknown.
  const auto workflow = [&](const std::string& name, SourcePos pos) -> const Definition* {
    if (name.empty()) return nullptr;  // the loader reported it
    const Definition* def = find(name);
    if (def == nullptr) {
      report(pos, "no workflow '" + name + "'" + did_you_mean(name, workflow_names) +
                      ": every delivery this route takes would go to the inbox");
    }
    return def;
  };
  // `data`: what the route sends with the event; an event with no `events:` entry takes none.
  const auto event = [&](const Definition& def, const std::string& name, SourcePos pos,
                         const HookData& data) {
    if (name.empty()) return;
    const auto handled = def.handled_events();
    if (handled.count(name) == 0) {
      const std::vector<std::string> names(handled.begin(), handled.end());
      report(pos, "workflow '" + def.name + "' handles no event '" + name + "'" +
                      did_you_mean(name, names) +
                      ": every delivery this route takes would go to the inbox");
    } else if (!data.empty() && def.event_schema(name) == nullptr) {
      report(pos, "the route sends data with event '" + name + "', which workflow '" + def.name +
                      "' does not declare under 'events:' and so refuses: declare its fields, "
                      "or send no data");
    }
  };
  for (const HookSource& source : config.hooks) {
    for (const HookRoute& route : source.routes) {
      if (!route.start.empty()) {
        const Definition* def = workflow(route.start, route.start_pos);
        if (def != nullptr && route.if_open) {
          event(*def, route.if_open->event, route.if_open_event_pos, route.if_open->data);
        }
      } else if (const Definition* def = workflow(route.workflow, route.workflow_pos)) {
        event(*def, route.event, route.event_pos, route.data);
      }
    }
  }
}

const std::vector<std::string>& api_roles() {
  static const std::vector<std::string> roles{"admin", "supervisor", "agent", "hook"};
  return roles;
}

namespace {

bool compatible(const expr::Type& t, FieldType field) {
  using expr::TypeKind;
  switch (t.kind) {
    case TypeKind::dyn:
    case TypeKind::null:
      return true;
    case TypeKind::boolean:
      return field == FieldType::bool_;
    case TypeKind::integer:
      return field == FieldType::int_ || field == FieldType::number;
    case TypeKind::number:
      return field == FieldType::number;
    case TypeKind::string:
      return field == FieldType::string || field == FieldType::enum_;
    case TypeKind::timestamp:
      return field == FieldType::timestamp;
    case TypeKind::duration:
      return field == FieldType::duration;
    case TypeKind::list:
      return field == FieldType::list;
    case TypeKind::map:
      return field == FieldType::object;
  }
  return false;
}

template <typename T>
std::vector<std::string> names_of(const std::vector<T>& items) {
  std::vector<std::string> out;
  out.reserve(items.size());
  for (const auto& item : items) out.push_back(item.name);
  return out;
}

class DefinitionChecker {
 public:
  DefinitionChecker(const Definition& def, Diagnostics& diags, const CheckOptions& options)
      : def_(def),
        diags_(diags),
        options_(options),
        states_(def.state_names()),
        handled_events_(def.handled_events()) {
    if (options.config != nullptr) {
      roles_ = api_roles();
      for (const auto& r : options.config->roles) roles_.push_back(r.name);
      roles_.emplace_back(kAssigneeRole);
    }
  }

  void run() {
    if (!def_.states.empty() && (!def_.initial.empty() || def_.initial_pos.line > 0)) {
      state_ref(def_.initial, def_.initial_pos, "initial state");
    }
    if (def_.key) expression(*def_.key, data_scope(), "key", nullptr);
    calendar_ref(def_.calendar, def_.calendar_pos);
    for (const auto& [event, schema] : def_.events) {
      if (handled_events_.count(event) == 0) {
        warn(schema.pos, "event '" + event + "' is declared but no transition handles it");
      }
    }
    person_roles(def_.data);
    for (const auto& [event, schema] : def_.events) person_roles(schema);
    for (const auto& s : def_.states) state(s);
    for (const auto& h : def_.on) handlers(h);
    actions(def_.on_assign, data_scope());
    for (const auto& sla : def_.slas) this->sla(sla);
    if (def_.schedule) schedule(*def_.schedule);
    reachability();
  }

 private:
  void error(SourcePos pos, std::string message) {
    diags_.error(def_.file, pos, std::move(message));
  }
  void warn(SourcePos pos, std::string message) {
    if (options_.strict) {
      diags_.error(def_.file, pos, std::move(message));
    } else {
      diags_.warning(def_.file, pos, std::move(message));
    }
  }

  // "data has no field 'x' (did you mean …)", unless the field was declared with a type the
  // loader could not read: it said so where the field is declared.
  void missing_data_field(SourcePos at, const std::string& name, const std::string& prefix = "",
                          const std::string& hint = "; declare it under 'data:'") {
    if (def_.data.unreadable_field(name)) return;
    error(at, prefix + "data has no field '" + name + "'" + did_you_mean(name, def_.data.names()) +
                  hint);
  }

  // `person: ROLE` names a role of the directory.
  void person_roles(const Schema& schema) {
    if (options_.config == nullptr) return;
    for (const FieldSchema& f : schema.fields) {
      if (!f.person_role.empty() && options_.config->find_role(f.person_role) == nullptr) {
        error(f.pos, "field '" + f.name + "': unknown role '" + f.person_role + "' in person" +
                         did_you_mean(f.person_role, names_of(options_.config->roles)));
      }
    }
  }

  expr::CheckScope data_scope() const {
    expr::CheckScope scope{&def_.data, nullptr, ""};
    scope.states = &states_;
    return scope;
  }

  expr::CheckScope event_scope(const std::string& event) const {
    const Schema* schema = def_.event_schema(event);
    expr::CheckScope scope{&def_.data, schema != nullptr ? schema : &empty_schema_, event};
    scope.states = &states_;
    return scope;
  }

  void state_ref(const std::string& name, SourcePos pos, std::string_view what) {
    if (def_.find_state(name) != nullptr) return;
    unresolved_states_ = true;
    error(pos, "unknown " + std::string(what) + " '" + name + "'" + did_you_mean(name, states_));
  }

  // Type-checks an expression; `expected` (if any) is the type it must have.
  void expression(const Expr& e, const expr::CheckScope& scope, std::string_view what,
                  const expr::TypeKind* expected) {
    if (!e.ast) return;
    std::vector<expr::Error> errors;
    const expr::Type type = expr::check(*e.ast, scope, errors);
    for (const auto& err : errors) error(e.pos_at(err.offset), err.message);
    if (!errors.empty() || expected == nullptr) return;
    if (type.kind != *expected && type.kind != expr::TypeKind::dyn) {
      error(e.origin, std::string(what) + " must be of type " + expr::Type::of(*expected).name() +
                          ", but this expression is " + type.name());
    }
  }

  void value(const ValueSpec& v, const expr::CheckScope& scope) {
    switch (v.kind) {
      case ValueSpec::Kind::literal:
        return;
      case ValueSpec::Kind::expression:
        expression(*v.expression, scope, "value", nullptr);
        return;
      case ValueSpec::Kind::object:
        for (const auto& [k, inner] : v.object) value(inner, scope);
        return;
      case ValueSpec::Kind::array:
        for (const auto& inner : v.array) value(inner, scope);
        return;
    }
  }

  void set_field(const std::string& name, SourcePos name_pos, const ValueSpec& v,
                 const expr::CheckScope& scope) {
    const FieldSchema* field = def_.data.find(name);
    if (field == nullptr) {
      missing_data_field(name_pos, name);
      value(v, scope);
      return;
    }
    if (v.kind == ValueSpec::Kind::expression) {
      if (!v.expression->ast) return;
      std::vector<expr::Error> errors;
      const expr::Type type = expr::check(*v.expression->ast, scope, errors);
      for (const auto& err : errors) error(v.expression->pos_at(err.offset), err.message);
      if (errors.empty() && !compatible(type, field->type)) {
        error(v.expression->origin, "cannot set " + std::string(field_type_name(field->type)) +
                                        " field '" + name + "' to a value of type " + type.name());
      }
      return;
    }
    if (v.kind == ValueSpec::Kind::literal) {
      if (v.literal.is_null()) return;  // clears the field
      const std::string problem = check_field_value(*field, v.literal);
      if (!problem.empty()) error(v.pos, "cannot set field '" + name + "': " + problem);
      return;
    }
    value(v, scope);
  }

  // A value given for a field of an event's payload: of the field's type, within its bounds.
  void payload_value(const FieldSchema& field, const std::string& what, const ValueSpec& v,
                     const expr::CheckScope& scope) {
    if (v.kind == ValueSpec::Kind::expression) {
      if (!v.expression->ast) return;
      std::vector<expr::Error> errors;
      const expr::Type type = expr::check(*v.expression->ast, scope, errors);
      for (const auto& err : errors) error(v.expression->pos_at(err.offset), err.message);
      if (errors.empty() && !compatible(type, field.type)) {
        error(v.expression->origin, what + ": field '" + field.name + "' is " +
                                        std::string(field_type_name(field.type)) + ", not " +
                                        type.name());
      }
      return;
    }
    if (v.kind == ValueSpec::Kind::literal && !v.literal.is_null()) {
      const std::string problem = check_field_value(field, v.literal);
      if (!problem.empty()) error(v.pos, what + ": field '" + field.name + "': " + problem);
      return;
    }
    value(v, scope);
  }

  void actions(const std::vector<Action>& list, const expr::CheckScope& scope) {
    for (const auto& a : list) action(a, scope);
  }

  void action(const Action& a, const expr::CheckScope& scope) {
    const Config* config = options_.config;
    if (const auto* set = std::get_if<SetAction>(&a.kind)) {
      for (std::size_t i = 0; i < set->fields.size(); ++i) {
        set_field(set->fields[i].first, set->field_pos[i], set->fields[i].second, scope);
      }
    } else if (const auto* assign = std::get_if<AssignAction>(&a.kind)) {
      if (assign->kind == AssignAction::Kind::to && assign->to) {
        value(*assign->to, scope);
        if (config != nullptr && assign->to->kind == ValueSpec::Kind::literal &&
            assign->to->literal.is_string()) {
          person_ref(std::string(assign->to->literal.as_string()), assign->to->pos);
        }
      }
      if (config != nullptr && assign->kind == AssignAction::Kind::queue)
        queue_ref(assign->queue, known_or(assign->name_pos, a.pos));
      if (config != nullptr && assign->kind == AssignAction::Kind::role)
        role_ref(assign->role, known_or(assign->name_pos, a.pos));
    } else if (const auto* notify = std::get_if<NotifyAction>(&a.kind)) {
      if (notify->to.expression) {
        const auto string_kind = expr::TypeKind::string;
        expression(*notify->to.expression, scope, "recipient", &string_kind);
      }
      if (config != nullptr) {
        switch (notify->to.kind) {
          case Recipient::Kind::role:
            role_ref(notify->to.name, known_or(notify->to.pos, a.pos));
            break;
          case Recipient::Kind::queue:
            queue_ref(notify->to.name, known_or(notify->to.pos, a.pos));
            break;
          case Recipient::Kind::person:
            person_ref(notify->to.name, known_or(notify->to.pos, a.pos));
            break;
          default:
            break;
        }
        if (!notify->template_name.empty() &&
            config->find_template(notify->template_name) == nullptr) {
          error(known_or(notify->template_pos, a.pos),
                "unknown template '" + notify->template_name + "'" +
                    did_you_mean(notify->template_name, names_of(config->templates)));
        }
      }
    } else if (const auto* raise = std::get_if<RaiseAction>(&a.kind)) {
      if (!raise->event.empty() && handled_events_.count(raise->event) == 0) {
        warn(a.pos, "event '" + raise->event + "' is raised but no transition handles it");
      }
      // The payload is checked against the event's schema when the event is handled; a raise
      // that cannot pass would only show up then, as an incident, with the case stuck.
      const Schema* schema = def_.event_schema(raise->event);
      for (const auto& [k, v] : raise->data) {
        const FieldSchema* field = schema != nullptr ? schema->find(k) : nullptr;
        if (schema == nullptr) {
          // Not an error: declaring the event would also let callers send it (internal events
          // are the undeclared ones), and an internal event may carry data.
          warn(v.pos, "event '" + raise->event +
                          "' is not declared under 'events:', so its field '" + k +
                          "' is not checked");
        } else if (field == nullptr) {
          if (!schema->unreadable_field(k)) {
            error(v.pos, "event '" + raise->event + "' has no field '" + k + "'" +
                             did_you_mean(k, schema->names()));
          }
        } else {
          payload_value(*field, "raise of '" + raise->event + "'", v, scope);
          continue;
        }
        value(v, scope);
      }
      if (schema != nullptr) {
        for (const std::string& name : required_left_out(*schema, raise->data)) {
          error(a.pos,
                "raise of '" + raise->event + "' leaves out its required field '" + name + "'");
        }
      }
    } else if (const auto* start = std::get_if<StartAction>(&a.kind)) {
      if (options_.workflows != nullptr && !start->workflow.empty() &&
          std::find(options_.workflows->begin(), options_.workflows->end(), start->workflow) ==
              options_.workflows->end()) {
        error(a.pos, "unknown workflow '" + start->workflow + "'" +
                         did_you_mean(start->workflow, *options_.workflows));
      }
      for (const auto& [k, v] : start->data) value(v, scope);
      if (const Definition* child = started(start->workflow)) {
        const std::string what = "start of '" + child->name + "': data";
        for (const auto& [k, v] : start->data) {
          if (child->data.find(k) == nullptr && !child->data.unreadable_field(k)) {
            error(v.pos, what + " '" + k + "': workflow '" + child->name + "' has no such field" +
                             did_you_mean(k, child->data.names()));
          }
        }
        start_data(child->data, start->data, a.pos, what,
                   "every start would be refused (an incident)");
      }
    } else if (const auto* serial = std::get_if<SerialAction>(&a.kind)) {
      const FieldSchema* field = def_.data.find(serial->field);
      if (field == nullptr) {
        missing_data_field(a.pos, serial->field);
      } else if (field->type != FieldType::string) {
        error(a.pos, "serial numbers are strings, but field '" + serial->field + "' is " +
                         std::string(field_type_name(field->type)));
      }
    } else if (const auto* hook = std::get_if<WebhookAction>(&a.kind)) {
      if (hook->body) value(*hook->body, scope);
      const Config* config = options_.config;
      if (config != nullptr && !hook->target.empty() &&
          config->find_webhook_target(hook->target) == nullptr) {
        std::vector<std::string> names;
        for (const auto& t : config->webhook_targets) names.push_back(t.name);
        error(a.pos, "unknown webhook target '" + hook->target + "'" +
                         did_you_mean(hook->target, names) +
                         "; declare it under 'webhook_targets:' in the config");
      }
    }
  }

  const Definition* started(const std::string& workflow) const {
    if (workflow == def_.name) return &def_;
    return options_.find_workflow ? options_.find_workflow(workflow) : nullptr;
  }

  void calendar_ref(const std::optional<std::string>& name, SourcePos pos) {
    if (!name || *name == "none" || options_.config == nullptr) return;
    if (options_.config->find_calendar(*name) != nullptr) return;
    std::vector<std::string> names = names_of(options_.config->calendars);
    names.emplace_back("none");
    error(pos, "unknown calendar '" + *name + "'" + did_you_mean(*name, names));
  }
  // Definitions put together by hand (tests) leave value positions unset.
  static SourcePos known_or(SourcePos pos, SourcePos fallback) {
    return pos.line > 0 ? pos : fallback;
  }

  void queue_ref(const std::string& name, SourcePos pos) {
    if (options_.config->find_queue(name) != nullptr) return;
    error(pos,
          "unknown queue '" + name + "'" + did_you_mean(name, names_of(options_.config->queues)));
  }
  void role_ref(const std::string& name, SourcePos pos) {
    if (options_.config->find_role(name) != nullptr) return;
    error(pos,
          "unknown role '" + name + "'" + did_you_mean(name, names_of(options_.config->roles)));
  }
  void person_ref(const std::string& id, SourcePos pos) {
    if (options_.config->find_person(id) != nullptr) return;
    std::vector<std::string> ids;
    for (const auto& p : options_.config->people) ids.push_back(p.id);
    error(pos, "unknown person '" + id + "'" + did_you_mean(id, ids));
  }

  void handlers(const EventHandlers& h) {
    const expr::CheckScope scope = event_scope(h.event);
    for (const auto& t : h.transitions) {
      if (t.target) state_ref(*t.target, t.target_pos, "target state");
      if (t.guard) {
        const auto bool_kind = expr::TypeKind::boolean;
        expression(*t.guard, scope, "a guard", &bool_kind);
      }
      actions(t.actions, scope);
      for (std::size_t i = 0; i < t.roles.size(); ++i) {
        const std::string& role = t.roles[i];
        if (!role.starts_with("data.")) continue;
        // The person whose id a data field holds: a string field of the case's data.
        const std::string field = role.substr(5);
        const SourcePos at = i < t.roles_pos.size() ? t.roles_pos[i] : t.pos;
        const FieldSchema* f = def_.data.find(field);
        if (f == nullptr) {
          missing_data_field(at, field, "roles: ");
        } else if (f != nullptr && f->type != FieldType::string) {
          error(at, "roles: '" + role + "' must name a string field holding a person id, not " +
                        std::string(field_type_name(f->type)));
        }
      }
      if (options_.config != nullptr) {
        for (std::size_t i = 0; i < t.roles.size(); ++i) {
          const std::string& role = t.roles[i];
          if (role.starts_with("data.")) continue;
          if (std::find(roles_.begin(), roles_.end(), role) == roles_.end()) {
            error(i < t.roles_pos.size() ? t.roles_pos[i] : t.pos,
                  "unknown role '" + role + "' in roles" + did_you_mean(role, roles_));
          }
        }
      }
    }
    // A transition after an unguarded one can never be taken.
    for (std::size_t i = 0; i + 1 < h.transitions.size(); ++i) {
      if (!h.transitions[i].guard) {
        warn(h.transitions[i + 1].pos,
             "this transition on '" + h.event + "' is never taken: the one before it has no guard");
        break;
      }
    }
  }

  void state(const State& s) {
    const expr::CheckScope scope = data_scope();
    actions(s.entry, scope);
    actions(s.exit, scope);
    for (const auto& h : s.on) handlers(h);
    for (const auto& t : s.timers) {
      if (t.target) state_ref(*t.target, t.target_pos, "target state");
      if (t.time) {
        const auto ts = expr::TypeKind::timestamp;
        expression(*t.time, scope, "an 'at' time", &ts);
      }
      if (t.guard) {
        const auto b = expr::TypeKind::boolean;
        expression(*t.guard, scope, "a guard", &b);
      }
      calendar_ref(t.calendar, t.calendar_pos);
      actions(t.actions, scope);
    }
  }

  void sla(const Sla& sla) {
    for (std::size_t i = 0; i < sla.start.size(); ++i)
      state_ref(sla.start[i], sla.start_pos[i], "state");
    for (std::size_t i = 0; i < sla.pause.size(); ++i)
      state_ref(sla.pause[i], sla.pause_pos[i], "state");
    for (std::size_t i = 0; i < sla.stop.size(); ++i)
      state_ref(sla.stop[i], sla.stop_pos[i], "state");
    for (std::size_t i = 0; i < sla.cancel.size(); ++i)
      state_ref(sla.cancel[i], sla.cancel_pos[i], "state");
    const auto listed = [](const std::vector<std::string>& list, const std::string& state) {
      return std::find(list.begin(), list.end(), state) != list.end();
    };
    for (std::size_t i = 0; i < sla.start.size(); ++i) {
      if (listed(sla.stop, sla.start[i])) {
        error(sla.start_pos[i],
              "state '" + sla.start[i] + "' both starts and stops SLA '" + sla.name + "'");
      }
      if (listed(sla.cancel, sla.start[i])) {
        error(sla.start_pos[i],
              "state '" + sla.start[i] + "' both starts and cancels SLA '" + sla.name + "'");
      }
    }
    for (std::size_t i = 0; i < sla.cancel.size(); ++i) {
      if (listed(sla.stop, sla.cancel[i]) || listed(sla.pause, sla.cancel[i])) {
        error(sla.cancel_pos[i], "state '" + sla.cancel[i] + "' cancels SLA '" + sla.name +
                                     "' and is also under its " +
                                     (listed(sla.stop, sla.cancel[i]) ? "stop" : "pause"));
      }
    }
    if (sla.goal_expr) {
      const auto d = expr::TypeKind::duration;
      expression(*sla.goal_expr, data_scope(), "an SLA goal", &d);
    }
    calendar_ref(sla.calendar, sla.calendar_pos);
    for (const auto& level : sla.escalate) actions(level.actions, data_scope());
  }

  // The required fields of `schema`, without a default, that `values` does not give.
  static std::vector<std::string> required_left_out(
      const Schema& schema, const std::vector<std::pair<std::string, ValueSpec>>& values) {
    std::vector<std::string> out;
    for (const FieldSchema& f : schema.fields) {
      const bool given = std::any_of(values.begin(), values.end(),
                                     [&](const auto& kv) { return kv.first == f.name; });
      if (f.required && !f.default_value && !given) out.push_back(f.name);
    }
    return out;
  }

  // Start data written into a workflow (`schedule.data`, a child's `start:` data) against the
  // schema of the workflow it starts: what `start()` would refuse, every time, is refused here.
  // `what` names the data in messages ("schedule data", "start of 'x': data").
  void start_data(const Schema& schema, const std::vector<std::pair<std::string, ValueSpec>>& data,
                  SourcePos pos, const std::string& what, const std::string& refused) {
    for (const std::string& name : required_left_out(schema, data)) {
      error(pos, what + " leaves out the required field '" + name + "': " + refused);
    }
    for (const auto& [name, v] : data) {
      const FieldSchema* field = schema.find(name);
      if (field == nullptr) continue;  // reported by the caller, who knows whose schema it is
      if (field->internal) {
        error(v.pos, what + " '" + name + "': the field is kept by the workflow itself and " +
                         "is not given at start: " + refused);
        continue;
      }
      if (v.kind != ValueSpec::Kind::literal) continue;
      if (std::string problem = check_field_value(*field, v.literal); !problem.empty()) {
        error(v.pos, what + " '" + name + "': " + problem);
      } else if (field->person && options_.config != nullptr && v.literal.is_string()) {
        problem = person_problem(*field, v.literal.get_string(), ConfigDirectory(*options_.config));
        if (problem.empty()) continue;
        problem = what + " '" + name + "': " + problem;
        if (options_.absent_people == Severity::error) {
          error(v.pos, std::move(problem));
        } else {
          warn(v.pos, std::move(problem));
        }
      }
    }
  }

  void schedule(const Schedule& s) {
    start_data(def_.data, s.data, s.pos, "schedule data", "every scheduled start would be refused");
    if (!s.timezone.empty()) {
      try {
        (void)date::locate_zone(s.timezone);
      } catch (const std::exception&) {
        error(s.timezone_pos,
              "unknown time zone '" + s.timezone + "' (use an IANA name such as Asia/Shanghai)");
      }
    }
    for (const auto& [name, v] : s.data) {
      if (def_.data.find(name) == nullptr) missing_data_field(v.pos, name, "", "");
      value(v, data_scope());
    }
  }

  // Only meaningful once every state reference resolves; otherwise it would repeat the same
  // mistake as a cascade of warnings.
  void reachability() {
    if (unresolved_states_ || def_.find_state(def_.initial) == nullptr) return;
    for (const auto& name : unreachable_states(def_)) {
      warn(def_.find_state(name)->pos,
           "state '" + name + "' is unreachable from the initial state '" + def_.initial + "'");
    }
    for (const auto& name : states_without_path_to_final(def_)) {
      warn(def_.find_state(name)->pos, "no final state can be reached from state '" + name + "'");
    }
  }

  const Definition& def_;
  Diagnostics& diags_;
  const CheckOptions& options_;
  std::vector<std::string> states_;
  std::set<std::string, std::less<>> handled_events_;
  std::vector<std::string> roles_;
  Schema empty_schema_;
  bool unresolved_states_ = false;
};

}  // namespace

void check_definition(const Definition& def, Diagnostics& diags, const CheckOptions& options) {
  DefinitionChecker(def, diags, options).run();
}

}  // namespace ombud
