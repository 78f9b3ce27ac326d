#include "engine/definition.h"

#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace ombud {

SourcePos Expr::pos_at(std::size_t offset) const {
  if (!exact_origin || origin.line <= 0) return origin;
  return {origin.line, origin.column + static_cast<int>(offset)};
}

std::optional<boost::json::value> resolve_value(const ValueSpec& spec, const ExprEvaluator& eval) {
  switch (spec.kind) {
    case ValueSpec::Kind::literal:
      return spec.literal;
    case ValueSpec::Kind::expression:
      if (!spec.expression || !spec.expression->ast) return std::nullopt;
      return eval(*spec.expression);
    case ValueSpec::Kind::object: {
      boost::json::object o;
      for (const auto& [k, inner] : spec.object) {
        auto v = resolve_value(inner, eval);
        if (!v) return std::nullopt;
        o[k] = std::move(*v);
      }
      return o;
    }
    case ValueSpec::Kind::array: {
      boost::json::array a;
      for (const auto& inner : spec.array) {
        auto v = resolve_value(inner, eval);
        if (!v) return std::nullopt;
        a.push_back(std::move(*v));
      }
      return a;
    }
  }
  return std::nullopt;
}

namespace {
constexpr std::array<std::string_view, 4> kPriorityNames{"low", "normal", "high", "urgent"};
}  // namespace

std::optional<Priority> priority_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kPriorityNames.size(); ++i) {
    if (kPriorityNames[i] == name) return static_cast<Priority>(i);
  }
  return std::nullopt;
}

std::string_view priority_name(Priority p) {
  return kPriorityNames.at(static_cast<std::size_t>(p));
}

const EventHandlers* State::handlers_for(std::string_view event) const {
  for (const auto& h : on) {
    if (h.event == event) return &h;
  }
  return nullptr;
}

namespace {

std::uint8_t membership(const Sla& sla, std::string_view state) {
  const auto in = [&](const std::vector<std::string>& list) {
    return std::find(list.begin(), list.end(), state) != list.end();
  };
  return static_cast<std::uint8_t>(
      (in(sla.start) ? Definition::kSlaStart : 0) | (in(sla.pause) ? Definition::kSlaPause : 0) |
      (in(sla.stop) ? Definition::kSlaStop : 0) | (in(sla.cancel) ? Definition::kSlaCancel : 0));
}

}  // namespace

void Definition::index_states() {
  state_index.clear();
  state_index.reserve(states.size());
  // The first of two states with the same name wins, as in the scan (the checker rejects those).
  for (std::size_t i = 0; i < states.size(); ++i) state_index.try_emplace(states[i].name, i);
  interned_states.clear();
  interned_states.reserve(states.size());
  for (const State& s : states) interned_states.emplace_back(s.name);
  interned_slas.clear();
  interned_slas.reserve(slas.size());
  for (const Sla& sla : slas) interned_slas.emplace_back(sla.name);
  sla_membership.assign(states.size() * slas.size(), 0);
  for (std::size_t i = 0; i < states.size(); ++i) {
    for (std::size_t j = 0; j < slas.size(); ++j)
      sla_membership[i * slas.size() + j] = membership(slas[j], states[i].name);
  }
}

InternedName Definition::interned_sla_name(std::size_t sla) const {
  if (interned_slas.size() == slas.size()) return interned_slas.at(sla);
  return InternedName(slas.at(sla).name);  // a definition put together by hand
}

std::uint8_t Definition::sla_membership_of(std::size_t state, std::size_t sla) const {
  if (sla_membership.size() == states.size() * slas.size() && state < states.size() &&
      sla < slas.size()) {
    return sla_membership[state * slas.size() + sla];
  }
  return membership(slas.at(sla), states.at(state).name);  // a definition put together by hand
}

const State* Definition::find_state(const InternedName& state) const {
  if (interned_states.size() == states.size()) {
    for (std::size_t i = 0; i < interned_states.size(); ++i) {
      if (interned_states[i] == state && states[i].name == state.str()) return &states[i];
    }
  }
  return find_state(std::string_view(state.str()));
}

InternedName Definition::interned_name_of(const State& state) const {
  const auto i = static_cast<std::size_t>(&state - states.data());
  if (i < interned_states.size() && interned_states[i] == state.name) return interned_states[i];
  return InternedName(state.name);  // a definition put together by hand, or a stale index
}

const State* Definition::find_state(std::string_view state) const {
  if (auto it = state_index.find(state);
      it != state_index.end() && it->second < states.size() && states[it->second].name == state) {
    return &states[it->second];
  }
  for (const auto& s : states) {
    if (s.name == state) return &s;
  }
  return nullptr;
}

const Schema* Definition::event_schema(std::string_view event) const {
  for (const auto& [name, schema] : events) {
    if (name == event) return &schema;
  }
  return nullptr;
}

std::vector<std::string> Definition::state_names() const {
  std::vector<std::string> names;
  names.reserve(states.size());
  for (const auto& s : states) names.push_back(s.name);
  return names;
}

std::set<std::string, std::less<>> Definition::handled_events() const {
  std::set<std::string, std::less<>> out;
  for (const auto& h : on) out.insert(h.event);
  for (const auto& s : states) {
    for (const auto& h : s.on) out.insert(h.event);
  }
  return out;
}

std::set<std::string, std::less<>> Definition::raised_events() const {
  std::set<std::string, std::less<>> out;
  const auto scan = [&](const std::vector<Action>& actions) {
    for (const Action& a : actions) {
      if (const auto* raise = std::get_if<RaiseAction>(&a.kind)) out.insert(raise->event);
    }
  };
  const auto scan_handlers = [&](const std::vector<EventHandlers>& handlers) {
    for (const EventHandlers& h : handlers) {
      for (const Transition& t : h.transitions) scan(t.actions);
    }
  };
  scan_handlers(on);
  scan(on_assign);
  for (const State& s : states) {
    scan(s.entry);
    scan(s.exit);
    scan_handlers(s.on);
    for (const StateTimer& t : s.timers) scan(t.actions);
  }
  for (const Sla& sla : slas) {
    for (const EscalationLevel& level : sla.escalate) scan(level.actions);
  }
  return out;
}

}  // namespace ombud
