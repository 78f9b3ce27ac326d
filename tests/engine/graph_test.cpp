#include "engine/graph.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace ombud {
namespace {

using testing::ElementsAre;
using testing::IsEmpty;

// ---- Building definitions by hand -------------------------------------------------------------
// Only what the graph reads is filled in; expressions carry their text and no syntax tree.

Expr guard_expr(std::string text) {
  Expr e;
  e.text = std::move(text);
  return e;
}

Transition go(std::string event, std::optional<std::string> target,
              std::optional<std::string> guard = std::nullopt) {
  Transition t;
  t.event = std::move(event);
  t.target = std::move(target);
  if (guard) t.guard = guard_expr(*guard);
  return t;
}

// Target-less: an internal transition.
Transition stay(std::string event) { return go(std::move(event), std::nullopt); }

StateTimer after(std::int64_t days, std::optional<std::string> target,
                 std::optional<std::string> guard = std::nullopt) {
  StateTimer timer;
  timer.kind = StateTimer::Kind::after;
  timer.delay.days = days;
  timer.target = std::move(target);
  if (guard) timer.guard = guard_expr(*guard);
  return timer;
}

StateTimer at_time(std::string time, std::optional<std::string> target) {
  StateTimer timer;
  timer.kind = StateTimer::Kind::at;
  timer.time = guard_expr(std::move(time));
  timer.target = std::move(target);
  return timer;
}

// Groups transitions by event, keeping the order in which events first appear (as the loader
// does for an `on:` map whose values may be lists).
std::vector<EventHandlers> handlers(std::vector<Transition> transitions) {
  std::vector<EventHandlers> out;
  for (Transition& t : transitions) {
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const EventHandlers& h) { return h.event == t.event; });
    if (it == out.end()) {
      out.push_back(EventHandlers{t.event, {}, {}});
      it = std::prev(out.end());
    }
    it->transitions.push_back(std::move(t));
  }
  return out;
}

State state(std::string name, std::vector<Transition> on = {},
            std::vector<StateTimer> timers = {}) {
  State s;
  s.name = std::move(name);
  s.on = handlers(std::move(on));
  s.timers = std::move(timers);
  return s;
}

State final_state(std::string name) {
  State s;
  s.name = std::move(name);
  s.final = true;
  return s;
}

Sla sla(std::string name, std::vector<std::string> start, std::vector<std::string> pause,
        std::vector<std::string> stop) {
  Sla s;
  s.name = std::move(name);
  s.start = std::move(start);
  s.pause = std::move(pause);
  s.stop = std::move(stop);
  return s;
}

Definition workflow(std::string initial, std::vector<State> states,
                    std::vector<Transition> global = {}, std::vector<Sla> slas = {}) {
  Definition def;
  def.name = "test";
  def.initial = std::move(initial);
  def.states = std::move(states);
  def.on = handlers(std::move(global));
  def.slas = std::move(slas);
  return def;
}

// received → in_progress ⇄ waiting → closed, with a guard, timers (one internal), global
// transitions (one internal) and an SLA that starts, pauses and stops.
Definition ticket() {
  Definition def =
      workflow("received",
               {
                   state("received", {go("triaged", "in_progress")}),
                   state("in_progress",
                         {go("need_info", "waiting"), go("resolved", "closed", "data.score >= 3")},
                         {after(2, std::nullopt)}),
                   state("waiting", {go("customer_replied", "in_progress")},
                         {after(5, "closed"), at_time("data.due", "closed")}),
                   final_state("closed"),
               },
               {go("cancel", "closed"), stay("add_note")},
               {sla("resolve", {"received"}, {"waiting"}, {"closed"})});
  def.name = "ticket";
  return def;
}

// ---- unreachable_states -----------------------------------------------------------------------

TEST(UnreachableStates, NoneInAConnectedWorkflow) {
  EXPECT_THAT(unreachable_states(ticket()), IsEmpty());
}

TEST(UnreachableStates, ListsOrphansInFileOrder) {
  const Definition def = workflow("a", {state("z_orphan", {go("x", "a")}),
                                        state("a", {go("e", "b")}), state("b"), state("c_orphan")});
  EXPECT_THAT(unreachable_states(def), ElementsAre("z_orphan", "c_orphan"));
}

TEST(UnreachableStates, TimerTargetsAreReachable) {
  const Definition def = workflow(
      "a", {state("a", {}, {after(1, "b"), at_time("data.due", "c")}), state("b"), state("c")});
  EXPECT_THAT(unreachable_states(def), IsEmpty());
}

TEST(UnreachableStates, GlobalTransitionsLeaveEveryNonFinalState) {
  const Definition def =
      workflow("a", {state("a"), final_state("cancelled")}, {go("cancel", "cancelled")});
  EXPECT_THAT(unreachable_states(def), IsEmpty());
}

TEST(UnreachableStates, GlobalTransitionsDoNotLeaveFinalStates) {
  const Definition def =
      workflow("done", {final_state("done"), state("reopened")}, {go("reopen", "reopened")});
  EXPECT_THAT(unreachable_states(def), ElementsAre("reopened"));
}

TEST(UnreachableStates, InternalTransitionsAndTimersDoNotMove) {
  const Definition def = workflow(
      "a", {state("a", {stay("note")}, {after(1, std::nullopt)}), state("b")}, {stay("comment")});
  EXPECT_THAT(unreachable_states(def), ElementsAre("b"));
}

TEST(UnreachableStates, FollowsPathsThroughCycles) {
  const Definition def = workflow(
      "a", {state("a", {go("x", "b")}), state("b", {go("y", "a"), go("z", "c")}), state("c")});
  EXPECT_THAT(unreachable_states(def), IsEmpty());
}

TEST(UnreachableStates, UnknownTargetsAreIgnored) {
  const Definition def = workflow("a", {state("a", {go("x", "nowhere")}), state("b")});
  EXPECT_THAT(unreachable_states(def), ElementsAre("b"));
}

TEST(UnreachableStates, UnknownInitialMakesEveryStateUnreachable) {
  const Definition def = workflow("nowhere", {state("a", {go("x", "b")}), state("b")});
  EXPECT_THAT(unreachable_states(def), ElementsAre("a", "b"));
}

// ---- states_without_path_to_final -------------------------------------------------------------

TEST(StatesWithoutPathToFinal, NoneWhenEveryStateCanFinish) {
  EXPECT_THAT(states_without_path_to_final(ticket()), IsEmpty());
}

TEST(StatesWithoutPathToFinal, ListsTrapsInFileOrder) {
  // b ⇄ c loop forever; d leads into the loop; a can still finish.
  const Definition def = workflow("a", {
                                           state("a", {go("x", "b"), go("y", "done")}),
                                           state("b", {go("x", "c")}),
                                           state("c", {go("x", "b")}),
                                           state("d", {go("x", "c")}),
                                           final_state("done"),
                                       });
  EXPECT_THAT(states_without_path_to_final(def), ElementsAre("b", "c", "d"));
}

TEST(StatesWithoutPathToFinal, IncludesUnreachableStates) {
  const Definition def =
      workflow("a", {state("a", {go("x", "done")}), state("orphan"), final_state("done")});
  EXPECT_THAT(states_without_path_to_final(def), ElementsAre("orphan"));
}

TEST(StatesWithoutPathToFinal, TimerTargetsCount) {
  const Definition def = workflow("a", {state("a", {}, {after(5, "done")}), final_state("done")});
  EXPECT_THAT(states_without_path_to_final(def), IsEmpty());
}

TEST(StatesWithoutPathToFinal, GlobalTransitionToAFinalStateRescuesEveryState) {
  const Definition def = workflow(
      "a", {state("a", {go("x", "b")}), state("b", {go("x", "a")}), final_state("cancelled")},
      {go("cancel", "cancelled")});
  EXPECT_THAT(states_without_path_to_final(def), IsEmpty());
}

TEST(StatesWithoutPathToFinal, GlobalTransitionIntoATrapRescuesNothing) {
  const Definition def = workflow(
      "a", {state("a", {go("x", "done")}), state("b"), state("limbo"), final_state("done")},
      {go("park", "limbo")});
  EXPECT_THAT(states_without_path_to_final(def), ElementsAre("b", "limbo"));
}

TEST(StatesWithoutPathToFinal, InternalTransitionsDoNotCount) {
  const Definition def =
      workflow("a", {state("a", {stay("note")}), final_state("done")}, {stay("comment")});
  EXPECT_THAT(states_without_path_to_final(def), ElementsAre("a"));
}

TEST(StatesWithoutPathToFinal, WithoutAnyFinalStateEveryStateIsListed) {
  const Definition def = workflow("a", {state("a", {go("x", "b")}), state("b", {go("y", "a")})});
  EXPECT_THAT(states_without_path_to_final(def), ElementsAre("a", "b"));
}

// ---- Mermaid ----------------------------------------------------------------------------------

// The workflow's title heads the diagram, in both formats.
TEST(ToMermaid, TheTitleHeadsTheDiagram) {
  Definition def = ticket();
  def.title = "Customer \"ticket\"\n  desk";
  EXPECT_THAT(
      to_mermaid(def),
      testing::StartsWith("---\ntitle: \"Customer \\\"ticket\\\" desk\"\n---\nstateDiagram-v2\n"));
  EXPECT_THAT(to_dot(def), testing::HasSubstr("    label=\"Customer \\\"ticket\\\" desk\";\n"
                                              "    labelloc=t;\n"));
}

TEST(ToMermaid, RendersTheWholeWorkflow) {
  EXPECT_EQ(to_mermaid(ticket()),
            "stateDiagram-v2\n"
            "    received\n"
            "    in_progress\n"
            "    waiting\n"
            "    closed\n"
            "    state \"any non-final state\" as __any\n"
            "    [*] --> received\n"
            "    received --> in_progress : triaged\n"
            "    in_progress --> waiting : need_info\n"
            "    in_progress --> closed : resolved [data.score #62;= 3]\n"
            "    in_progress --> in_progress : after 2d (internal)\n"
            "    waiting --> in_progress : customer_replied\n"
            "    waiting --> closed : after 5d\n"
            "    waiting --> closed : at data.due\n"
            "    __any --> closed : cancel\n"
            "    __any --> __any : add_note (internal)\n"
            "    closed --> [*]\n"
            "    note right of received\n"
            "        SLA resolve ▶ start\n"
            "    end note\n"
            "    note right of waiting\n"
            "        SLA resolve ‖ pause\n"
            "    end note\n"
            "    note right of closed\n"
            "        SLA resolve ■ stop\n"
            "    end note\n");
}

TEST(ToMermaid, EscapesCharactersMermaidReadsAsSyntax) {
  const Definition def =
      workflow("a", {state("a", {go("x", "a", R"(a:b;c"d<e>f{g}h|i#j%k&l`m)")})});
  EXPECT_EQ(to_mermaid(def),
            "stateDiagram-v2\n"
            "    a\n"
            "    [*] --> a\n"
            "    a --> a : x [a#58;b#59;c#34;d#60;e#62;f#123;g#125;h#124;i#35;j#37;k#38;l#96;m]\n");
}

TEST(ToMermaid, CollapsesWhitespaceAndShortensLongGuards) {
  const Definition def = workflow(
      "a", {state("a", {go("x", "a", "  data.channel == 'agency'\n  && size(data.summary) > 100  "),
                        go("y", "a", "  data.ok\n")})});
  const std::string out = to_mermaid(def);
  // 39 characters of the collapsed text, then the ellipsis: 40 in all (escaped afterwards).
  EXPECT_THAT(out,
              testing::HasSubstr("a --> a : x [data.channel == 'agency' #38;#38; size(data.s…]\n"));
  EXPECT_THAT(out, testing::HasSubstr("a --> a : y [data.ok]\n"));
}

TEST(ToMermaid, ShortensByCharactersNotBytes) {
  // 45 three-byte characters: the cut must fall between characters.
  std::string guard;
  for (int i = 0; i < 45; ++i) guard += "投";
  std::string expected_guard;
  for (int i = 0; i < 39; ++i) expected_guard += "投";
  const Definition def = workflow("a", {state("a", {go("x", "a", guard)})});
  EXPECT_THAT(to_mermaid(def), testing::HasSubstr("x [" + expected_guard + "…]\n"));
}

TEST(ToMermaid, GuardOfExactlyFortyCharactersIsKept) {
  const std::string guard(40, 'g');
  const Definition def = workflow("a", {state("a", {go("x", "a", guard)})});
  EXPECT_THAT(to_mermaid(def), testing::HasSubstr("x [" + guard + "]\n"));
}

TEST(ToMermaid, GuardedTimersShowTheirGuard) {
  const Definition def =
      workflow("a", {state("a", {}, {after(3, "b", "data.vip")}), final_state("b")});
  EXPECT_THAT(to_mermaid(def), testing::HasSubstr("a --> b : after 3d [data.vip]\n"));
}

TEST(ToMermaid, StatesThatMermaidCannotUseAsIdsGetSafeIds) {
  const Definition def = workflow("state",
                                  {state("state", {go("x", "default"), go("y", "root_start")}),
                                   state("default"), state("root_start"), final_state("note")},
                                  {}, {sla("resolve", {}, {}, {"note"})});
  EXPECT_EQ(to_mermaid(def),
            "stateDiagram-v2\n"
            "    state \"state\" as _state\n"
            "    state \"default\" as _default\n"
            "    state \"root_start\" as _root_5fstart\n"
            "    state \"note\" as _note\n"
            "    [*] --> _state\n"
            "    _state --> _default : x\n"
            "    _state --> _root_5fstart : y\n"
            "    _note --> [*]\n"
            "    note right of _note\n"
            "        SLA resolve ■ stop\n"
            "    end note\n");
}

TEST(ToMermaid, InvalidStateNamesAreShownEscaped) {
  const Definition def = workflow("a", {state("a"), state("x [[fork]]:\n{y}")});
  EXPECT_THAT(to_mermaid(def),
              testing::HasSubstr("    state \"x #91;#91;fork#93;#93;#58; #123;y#125;\" as "
                                 "_x_20_5b_5bfork_5d_5d_3a_0a_7by_7d\n"));
}

TEST(ToMermaid, EscapesTheSpaceAfterDirectionSoTheLineIsNotALayoutStatement) {
  const Definition def = workflow("a", {state("a", {go("x", "a", "data.Direction  lr == 1")})});
  EXPECT_THAT(to_mermaid(def), testing::HasSubstr("a --> a : x [data.Direction#32;lr == 1]\n"));
}

TEST(ToMermaid, OmitsArrowsToUnknownStates) {
  const Definition def = workflow("a", {state("a", {go("x", "nowhere"), go("y", "a")})});
  EXPECT_EQ(to_mermaid(def),
            "stateDiagram-v2\n"
            "    a\n"
            "    [*] --> a\n"
            "    a --> a : y\n");
}

TEST(ToMermaid, CombinesSeveralSlaMarkersInOneNote) {
  const Definition def =
      workflow("a", {state("a", {go("x", "b")}), final_state("b")}, {},
               {sla("respond", {"a"}, {}, {"b"}), sla("resolve", {"a"}, {}, {})});
  EXPECT_THAT(to_mermaid(def), testing::HasSubstr("    note right of a\n"
                                                  "        SLA respond ▶ start\n"
                                                  "        SLA resolve ▶ start\n"
                                                  "    end note\n"));
}

TEST(ToMermaid, IsDeterministic) {
  EXPECT_EQ(to_mermaid(ticket()), to_mermaid(ticket()));
  const Definition def = ticket();
  EXPECT_EQ(to_mermaid(def), to_mermaid(def));
}

TEST(ToMermaid, FollowsFileOrderNotNameOrder) {
  const Definition def = workflow("z", {state("z", {go("b", "a"), go("a", "a")}), state("a")});
  EXPECT_EQ(to_mermaid(def),
            "stateDiagram-v2\n"
            "    z\n"
            "    a\n"
            "    [*] --> z\n"
            "    z --> a : b\n"
            "    z --> a : a\n");
}

TEST(MermaidStateId, PlainNamesAreTheirOwnIds) {
  EXPECT_EQ(mermaid_state_id("in_progress"), "in_progress");
  EXPECT_EQ(mermaid_state_id("step2"), "step2");
  EXPECT_EQ(mermaid_state_id("stateful"), "stateful");  // keywords only as whole words
  EXPECT_EQ(mermaid_state_id("default_queue"), "default_queue");
  EXPECT_EQ(mermaid_state_id("end"), "end");
}

TEST(MermaidStateId, KeywordsAndInvalidNamesAreEncoded) {
  EXPECT_EQ(mermaid_state_id("note"), "_note");
  EXPECT_EQ(mermaid_state_id("class"), "_class");
  EXPECT_EQ(mermaid_state_id("constructor"), "_constructor");
  EXPECT_EQ(mermaid_state_id("In Progress"), "__49n_20_50rogress");
  EXPECT_EQ(mermaid_state_id("a-b"), "_a_2db");
  EXPECT_EQ(mermaid_state_id(""), "_");
}

TEST(MermaidStateId, DistinctNamesGetDistinctIds) {
  const std::vector<std::string> names{"a_b",    "_a_5fb", "a-b",  "A_b",        "state",
                                       "_state", "__any",  "any",  "",           "_",
                                       "note_",  "note",   "x_5f", "root_start", "_root_5fstart"};
  std::set<std::string> ids;
  for (const std::string& n : names) ids.insert(mermaid_state_id(n));
  EXPECT_EQ(ids.size(), names.size());
  EXPECT_FALSE(ids.contains("__any"));
}

// ---- DOT --------------------------------------------------------------------------------------

TEST(ToDot, RendersTheWholeWorkflow) {
  EXPECT_EQ(to_dot(ticket()),
            "digraph \"ticket\" {\n"
            "    rankdir=LR;\n"
            "    node [shape=box, style=rounded];\n"
            "    \"__start\" [shape=point, label=\"\"];\n"
            "    \"received\" [xlabel=\"SLA resolve ▶ start\"];\n"
            "    \"in_progress\";\n"
            "    \"waiting\" [xlabel=\"SLA resolve ‖ pause\"];\n"
            "    \"closed\" [shape=doublecircle, xlabel=\"SLA resolve ■ stop\"];\n"
            "    \"__any\" [label=\"any non-final state\", style=\"rounded,dashed\"];\n"
            "    \"__start\" -> \"received\";\n"
            "    \"received\" -> \"in_progress\" [label=\"triaged\"];\n"
            "    \"in_progress\" -> \"waiting\" [label=\"need_info\"];\n"
            "    \"in_progress\" -> \"closed\" [label=\"resolved [data.score >= 3]\"];\n"
            "    \"in_progress\" -> \"in_progress\" [label=\"after 2d (internal)\", "
            "style=dashed];\n"
            "    \"waiting\" -> \"in_progress\" [label=\"customer_replied\"];\n"
            "    \"waiting\" -> \"closed\" [label=\"after 5d\"];\n"
            "    \"waiting\" -> \"closed\" [label=\"at data.due\"];\n"
            "    \"__any\" -> \"closed\" [label=\"cancel\"];\n"
            "    \"__any\" -> \"__any\" [label=\"add_note (internal)\", style=dashed];\n"
            "}\n");
}

TEST(ToDot, EscapesQuotesAndBackslashes) {
  Definition def = workflow("a", {state("a", {go("x", "a", R"(data.s == "a\b")")})});
  def.name = "say \"hi\"";
  const std::string out = to_dot(def);
  EXPECT_THAT(out, testing::StartsWith("digraph \"say \\\"hi\\\"\" {\n"));
  EXPECT_THAT(out, testing::HasSubstr(R"(label="x [data.s == \"a\\b\"]")"));
}

TEST(ToDot, QuotesEveryStateSoKeywordsAreSafe) {
  const Definition def =
      workflow("node", {state("node", {go("x", "graph")}), final_state("graph")});
  const std::string out = to_dot(def);
  EXPECT_THAT(out, testing::HasSubstr("    \"__start\" -> \"node\";\n"));
  EXPECT_THAT(out, testing::HasSubstr("    \"node\" -> \"graph\" [label=\"x\"];\n"));
}

TEST(ToDot, SeveralSlaMarkersAreLinesOfOneXlabel) {
  const Definition def =
      workflow("a", {state("a", {go("x", "b")}), final_state("b")}, {},
               {sla("respond", {"a"}, {}, {"b"}), sla("resolve", {"a"}, {}, {})});
  EXPECT_THAT(
      to_dot(def),
      testing::HasSubstr("    \"a\" [xlabel=\"SLA respond ▶ start\\nSLA resolve ▶ start\"];\n"));
}

TEST(ToDot, WithoutKnownInitialThereIsNoStartNode) {
  const Definition def = workflow("nowhere", {state("a")});
  EXPECT_EQ(to_dot(def),
            "digraph \"test\" {\n"
            "    rankdir=LR;\n"
            "    node [shape=box, style=rounded];\n"
            "    \"a\";\n"
            "}\n");
}

TEST(ToDot, IsDeterministic) {
  const Definition def = ticket();
  EXPECT_EQ(to_dot(def), to_dot(def));
  EXPECT_EQ(to_dot(def), to_dot(ticket()));
}

}  // namespace
}  // namespace ombud
