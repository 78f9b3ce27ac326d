#include "engine/graph.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ombud {

namespace {

// ---- The graph --------------------------------------------------------------------------------

// State name → position in `def.states`. The first of two same-named states wins; the checker
// reports the duplicate.
class StateIndex {
 public:
  explicit StateIndex(const Definition& def) {
    for (std::size_t i = 0; i < def.states.size(); ++i) by_name_.emplace(def.states[i].name, i);
  }

  std::optional<std::size_t> find(std::string_view name) const {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::map<std::string, std::size_t, std::less<>> by_name_;
};

using Adjacency = std::vector<std::vector<std::size_t>>;

void add_edge(const StateIndex& index, std::size_t from, const std::optional<std::string>& target,
              Adjacency& out) {
  if (!target) return;
  if (auto to = index.find(*target)) out[from].push_back(*to);
}

// Successors of each state, as described in graph.h.
Adjacency successors(const Definition& def, const StateIndex& index) {
  Adjacency out(def.states.size());
  for (std::size_t i = 0; i < def.states.size(); ++i) {
    const State& state = def.states[i];
    for (const EventHandlers& handlers : state.on) {
      for (const Transition& t : handlers.transitions) add_edge(index, i, t.target, out);
    }
    for (const StateTimer& timer : state.timers) add_edge(index, i, timer.target, out);
    if (state.final) continue;
    for (const EventHandlers& handlers : def.on) {
      for (const Transition& t : handlers.transitions) add_edge(index, i, t.target, out);
    }
  }
  return out;
}

// Marks every node reachable from `seeds` (the seeds included).
std::vector<bool> reach(const Adjacency& edges, const std::vector<std::size_t>& seeds) {
  std::vector<bool> seen(edges.size(), false);
  std::deque<std::size_t> queue;
  for (std::size_t s : seeds) {
    if (!seen[s]) {
      seen[s] = true;
      queue.push_back(s);
    }
  }
  while (!queue.empty()) {
    const std::size_t at = queue.front();
    queue.pop_front();
    for (std::size_t next : edges[at]) {
      if (!seen[next]) {
        seen[next] = true;
        queue.push_back(next);
      }
    }
  }
  return seen;
}

// ---- Labels -----------------------------------------------------------------------------------

constexpr std::size_t kMaxExprChars = 40;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// Guards may span lines in YAML block scalars; a diagram label must not.
std::string collapse_whitespace(std::string_view text) {
  std::string out;
  bool pending_space = false;
  for (char c : text) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

// At most `max_chars` code points (UTF-8), the last one `…` when the text was cut. Cuts fall
// between code points so the label stays valid UTF-8.
std::string shorten(std::string_view text, std::size_t max_chars) {
  std::size_t chars = 0;
  std::size_t cut = std::string_view::npos;  // byte offset after max_chars - 1 code points
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if ((byte & 0xC0U) == 0x80U) continue;  // continuation byte
    if (chars == max_chars - 1) cut = i;
    ++chars;
    if (chars > max_chars) {
      std::string out(text.substr(0, cut));
      while (!out.empty() && out.back() == ' ') out.pop_back();
      return out + "…";
    }
  }
  return std::string(text);
}

std::string expr_label(const Expr& e) {
  return shorten(collapse_whitespace(e.text), kMaxExprChars);
}

std::string with_guard(std::string label, const std::optional<Expr>& guard) {
  if (guard) label += " [" + expr_label(*guard) + "]";
  return label;
}

// One arrow of a diagram. `from` empty: the global pseudo node. Internal ones loop on `from`.
struct Arrow {
  std::optional<std::string> from;
  std::optional<std::string> to;
  std::string label;
  bool internal = false;
};

Arrow make_arrow(const std::optional<std::string>& from, const std::optional<std::string>& target,
                 std::string_view label) {
  Arrow a;
  a.from = from;
  a.internal = !target.has_value();
  a.to = a.internal ? from : target;
  a.label = collapse_whitespace(label);
  if (a.internal) a.label += " (internal)";
  return a;
}

std::string timer_label(const StateTimer& timer) {
  std::string label;
  if (timer.kind == StateTimer::Kind::after) {
    label = "after " + format_duration(timer.delay);
  } else {
    label = timer.time ? "at " + expr_label(*timer.time) : std::string("at");
  }
  return with_guard(std::move(label), timer.guard);
}

// Every arrow in drawing order: per state (file order) its transitions, then its timers; then
// the global transitions. Arrows to names that are not states are left out (see graph.h).
std::vector<Arrow> arrows(const Definition& def, const StateIndex& index) {
  std::vector<Arrow> out;
  auto known = [&](const std::optional<std::string>& target) {
    return !target || index.find(*target).has_value();
  };
  for (const State& state : def.states) {
    for (const EventHandlers& handlers : state.on) {
      for (const Transition& t : handlers.transitions) {
        if (known(t.target)) {
          out.push_back(make_arrow(state.name, t.target, with_guard(t.event, t.guard)));
        }
      }
    }
    for (const StateTimer& timer : state.timers) {
      if (known(timer.target))
        out.push_back(make_arrow(state.name, timer.target, timer_label(timer)));
    }
  }
  for (const EventHandlers& handlers : def.on) {
    for (const Transition& t : handlers.transitions) {
      if (known(t.target)) {
        out.push_back(make_arrow(std::nullopt, t.target, with_guard(t.event, t.guard)));
      }
    }
  }
  return out;
}

// "SLA resolve ▶ start" lines for one state, in the order of `slas`, then start/pause/stop. The
// symbols are from blocks that common fonts cover (⏸ is often missing in Graphviz's default).
std::vector<std::string> sla_markers(const Definition& def, const std::string& state) {
  std::vector<std::string> out;
  const State* s = def.find_state(state);
  if (s == nullptr) return out;
  const auto index = static_cast<std::size_t>(s - def.states.data());
  for (std::size_t i = 0; i < def.slas.size(); ++i) {
    const std::uint8_t in = def.sla_membership_of(index, i);
    const std::string prefix = "SLA " + collapse_whitespace(def.slas[i].name);
    if ((in & Definition::kSlaStart) != 0) out.push_back(prefix + " ▶ start");
    if ((in & Definition::kSlaPause) != 0) out.push_back(prefix + " ‖ pause");
    if ((in & Definition::kSlaStop) != 0) out.push_back(prefix + " ■ stop");
    if ((in & Definition::kSlaCancel) != 0) out.push_back(prefix + " ✕ cancel");
  }
  return out;
}

// ---- Mermaid ----------------------------------------------------------------------------------

constexpr std::string_view kMermaidAny = "__any";
constexpr std::string_view kAnyLabel = "any non-final state";
constexpr std::string_view kIndent = "    ";

// Mermaid replaces `#code;` with the character before parsing (`#58;` → `:`), so this is the one
// escape that works everywhere in a diagram; `#` itself must be escaped for the same reason.
// `[` and `]` are escaped only in state names (`state "x [[fork]]" as y` declares a fork).
std::string mermaid_text(std::string_view text, bool escape_brackets = false) {
  static constexpr std::string_view kSpecial = "\"#%&:;<>`{|}";
  static constexpr std::string_view kDirection = "direction";
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool special =
        kSpecial.find(c) != std::string_view::npos || (escape_brackets && (c == '[' || c == ']'));
    // Mermaid reads any line containing `direction TB` (or BT, LR, RL; any case) as a layout
    // statement and drops the rest of it. An escaped space after the word cannot match.
    const bool after_direction =
        c == ' ' && i >= kDirection.size() &&
        std::equal(kDirection.begin(), kDirection.end(), text.begin() + i - kDirection.size(),
                   [](char want, char have) { return want == (have | 0x20); });
    if (special || after_direction) {
      out += '#' + std::to_string(static_cast<int>(c)) + ';';
    } else {
      out += c;
    }
  }
  return out;
}

bool is_plain_name(std::string_view name) {
  if (name.empty() || name.front() < 'a' || name.front() > 'z') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// Valid names that Mermaid (10 and 11) cannot use as state ids: keywords of its case-insensitive
// state-diagram lexer, the ids it gives the `[*]` pseudo states, and a JavaScript object key
// that breaks its state table.
bool is_mermaid_reserved(std::string_view name) {
  static constexpr std::array<std::string_view, 14> kReserved{
      "accdescr", "acctitle", "class",      "classdef", "click", "constructor",  "default",
      "note",     "root_end", "root_start", "scale",    "state", "statediagram", "style"};
  return std::find(kReserved.begin(), kReserved.end(), name) != kReserved.end();
}

std::string mermaid_endpoint(const std::optional<std::string>& state) {
  return state ? mermaid_state_id(*state) : std::string(kMermaidAny);
}

std::string arrow_line(const std::string& from, const std::string& to, std::string_view label) {
  std::string line = std::string(kIndent) + from + " --> " + to;
  if (!label.empty()) line += " : " + mermaid_text(label);
  return line + "\n";
}

// ---- DOT --------------------------------------------------------------------------------------

constexpr std::string_view kDotStart = "__start";
constexpr std::string_view kDotAny = "__any";

std::string dot_quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string dot_endpoint(const std::optional<std::string>& state) {
  return dot_quote(state ? std::string_view(*state) : kDotAny);
}

}  // namespace

std::vector<std::string> unreachable_states(const Definition& def) {
  const StateIndex index(def);
  std::vector<std::size_t> seeds;
  if (auto initial = index.find(def.initial)) seeds.push_back(*initial);
  const std::vector<bool> seen = reach(successors(def, index), seeds);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < def.states.size(); ++i) {
    if (!seen[i]) out.push_back(def.states[i].name);
  }
  return out;
}

std::vector<std::string> states_without_path_to_final(const Definition& def) {
  const StateIndex index(def);
  const Adjacency forward = successors(def, index);
  Adjacency backward(forward.size());
  for (std::size_t from = 0; from < forward.size(); ++from) {
    for (std::size_t to : forward[from]) backward[to].push_back(from);
  }
  std::vector<std::size_t> finals;
  for (std::size_t i = 0; i < def.states.size(); ++i) {
    if (def.states[i].final) finals.push_back(i);
  }
  const std::vector<bool> can_finish = reach(backward, finals);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < def.states.size(); ++i) {
    if (!can_finish[i]) out.push_back(def.states[i].name);
  }
  return out;
}

std::string mermaid_state_id(std::string_view name) {
  if (is_plain_name(name) && !is_mermaid_reserved(name)) return std::string(name);
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string id = "_";
  for (char c : name) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      id += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      id += '_';
      id += kHex[byte >> 4U];
      id += kHex[byte & 0xFU];
    }
  }
  return id;
}

std::string to_mermaid(const Definition& def) {
  const StateIndex index(def);
  std::string out;
  if (!def.title.empty()) {
    // Mermaid's front matter is YAML: the title goes in as a double-quoted scalar.
    std::string title;
    for (const char c : collapse_whitespace(def.title)) {
      if (c == '"' || c == '\\') title += '\\';
      title += c;
    }
    out += "---\ntitle: \"" + title + "\"\n---\n";
  }
  out += "stateDiagram-v2\n";
  for (const State& state : def.states) {
    const std::string id = mermaid_state_id(state.name);
    if (id == state.name) {
      out += std::string(kIndent) + id + "\n";
    } else {
      out += std::string(kIndent) + "state \"" +
             mermaid_text(collapse_whitespace(state.name), true) + "\" as " + id + "\n";
    }
  }
  if (!def.on.empty()) {
    out += std::string(kIndent) + "state \"" + std::string(kAnyLabel) + "\" as " +
           std::string(kMermaidAny) + "\n";
  }
  if (index.find(def.initial)) out += arrow_line("[*]", mermaid_state_id(def.initial), "");
  for (const Arrow& a : arrows(def, index)) {
    out += arrow_line(mermaid_endpoint(a.from), mermaid_endpoint(a.to), a.label);
  }
  for (const State& state : def.states) {
    if (state.final) out += arrow_line(mermaid_state_id(state.name), "[*]", "");
  }
  for (const State& state : def.states) {
    const std::vector<std::string> markers = sla_markers(def, state.name);
    if (markers.empty()) continue;
    out += std::string(kIndent) + "note right of " + mermaid_state_id(state.name) + "\n";
    for (const std::string& m : markers) {
      out += std::string(kIndent) + std::string(kIndent) + mermaid_text(m) + "\n";
    }
    out += std::string(kIndent) + "end note\n";
  }
  return out;
}

std::string to_dot(const Definition& def) {
  const StateIndex index(def);
  std::string out = "digraph " + dot_quote(def.name) + " {\n";
  if (!def.title.empty()) {
    out += std::string(kIndent) + "label=" + dot_quote(collapse_whitespace(def.title)) + ";\n" +
           std::string(kIndent) + "labelloc=t;\n";
  }
  out += std::string(kIndent) + "rankdir=LR;\n";
  out += std::string(kIndent) + "node [shape=box, style=rounded];\n";
  const bool has_initial = index.find(def.initial).has_value();
  if (has_initial) {
    out += std::string(kIndent) + dot_quote(kDotStart) + " [shape=point, label=\"\"];\n";
  }
  for (const State& state : def.states) {
    std::vector<std::string> attrs;
    if (state.final) attrs.emplace_back("shape=doublecircle");
    const std::vector<std::string> markers = sla_markers(def, state.name);
    if (!markers.empty()) {
      std::string xlabel;
      for (const std::string& m : markers) xlabel += (xlabel.empty() ? "" : "\n") + m;
      attrs.push_back("xlabel=" + dot_quote(xlabel));
    }
    out += std::string(kIndent) + dot_quote(state.name);
    for (std::size_t i = 0; i < attrs.size(); ++i) out += (i == 0 ? " [" : ", ") + attrs[i];
    out += attrs.empty() ? ";\n" : "];\n";
  }
  if (!def.on.empty()) {
    out += std::string(kIndent) + dot_quote(kDotAny) + " [label=" + dot_quote(kAnyLabel) +
           ", style=\"rounded,dashed\"];\n";
  }
  if (has_initial) {
    out += std::string(kIndent) + dot_quote(kDotStart) + " -> " + dot_quote(def.initial) + ";\n";
  }
  for (const Arrow& a : arrows(def, index)) {
    out += std::string(kIndent) + dot_endpoint(a.from) + " -> " + dot_endpoint(a.to) +
           " [label=" + dot_quote(a.label) + (a.internal ? ", style=dashed" : "") + "];\n";
  }
  out += "}\n";
  return out;
}

}  // namespace ombud
