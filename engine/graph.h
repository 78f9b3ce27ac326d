// The state graph of a workflow: structural checks (`validate` warns about their findings) and
// diagrams (`ombud graph --format mermaid|dot`).
//
// The graph has one node per state and these edges:
//   - each transition with a `target`, from its state (`on:`);
//   - each timer (`after:`/`at:`) with a `target`, from its state;
//   - each global transition (top-level `on:`) with a `target`, from every non-final state.
// Internal transitions and timers (no `target`) stay in their state and add no edge. Guards are
// ignored: an edge exists if some transition could take it. Names that do not denote a state
// (an unknown `initial` or `target`, which the checker reports) add no node and no edge.
//
// All functions are pure and deterministic: results and diagrams follow file order.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/definition.h"

namespace ombud {

// States that no sequence of edges leads to from `initial`, in file order. `initial` itself is
// reachable; when `initial` names no state, every state is unreachable.
std::vector<std::string> unreachable_states(const Definition& def);

// Non-final states from which no final state can be reached, in file order, whether or not they
// are reachable from `initial` (each finding stands alone). A workflow without any final state
// lists all of its states: none can ever end, and callers that prefer a single "no final state"
// message can test for that case first.
std::vector<std::string> states_without_path_to_final(const Definition& def);

// A Mermaid `stateDiagram-v2`, one statement per line, indented four spaces:
//   stateDiagram-v2
//       received                                   every state, file order
//       state "any non-final state" as __any       only when there are global transitions
//       [*] --> received                           the initial state
//       received --> assignment : triaged          transitions, then timers, per state
//       waiting --> closed : after 5d [guard]      timers: `after <duration>` / `at <expr>`
//       review --> review : remind (internal)      internal transitions and timers: self-loops
//       __any --> cancelled : cancel               global transitions, once, from the pseudo node
//       closed --> [*]                             final states
//       note right of received                     SLA markers per state (file order of SLAs):
//           SLA resolve ▶ start                      ▶ start, ‖ pause, ■ stop
//       end note
// Labels are `event [guard]`; guard and `at` texts have their whitespace collapsed and are cut to
// 40 characters with `…`. Characters Mermaid would read as syntax (`"#%&:;<>{}|` and backquote,
// plus `[]` in state names and the space in `direction TB`) become its entity codes (`#58;` for
// `:`), which Mermaid turns back into the characters when it draws. State ids come from
// mermaid_state_id().
std::string to_mermaid(const Definition& def);

// A Graphviz digraph with the same content: states are rounded boxes (final states
// doublecircle), a point node `__start` leads to the initial state, global transitions start at
// a dashed `__any` node, internal transitions are dashed self-loops, and SLA markers are the
// state's `xlabel` (one line per marker). Every id and label is a quoted DOT string (`"` and `\`
// escaped), so any state name is safe; the pseudo nodes cannot clash with a valid state name,
// which starts with a letter.
std::string to_dot(const Definition& def);

// The Mermaid id of a state. A valid name (`[a-z][a-z0-9_]*`) is its own id unless Mermaid 10/11
// cannot use it as one: `state`, `note`, `class`, `classdef`, `style`, `click`, `scale`,
// `default`, `acctitle`, `accdescr`, `statediagram` (its lexer's keywords), `root_start`,
// `root_end` (its ids for `[*]`) and `constructor`. Those and invalid names become `_` followed
// by the name with every byte outside [a-z0-9] written as `_xx` (two lowercase hex digits).
// Distinct names get distinct ids, and no id clashes with a valid name or with the `__any` pseudo
// state. Mapped states are declared as `state "name" as id` so the diagram still shows the name.
std::string mermaid_state_id(std::string_view name);

}  // namespace ombud
