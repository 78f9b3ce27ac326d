#include "engine/replay.h"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <map>
#include <span>
#include <string>

namespace ombud {

namespace {

// The history entries of the step whose entries begin at history[first]: up to the next row
// that records an input (the next step's).
std::span<const StoredHistory> step_entries(const std::vector<StoredHistory>& history,
                                            std::size_t first) {
  std::size_t end = first + 1;
  while (end < history.size() && history[end].input.empty()) ++end;
  return std::span<const StoredHistory>(history).subspan(first,
                                                         std::min(end, history.size()) - first);
}

// What the counters held when a step ran, as far as its history tells: each serial entry
// records the number drawn (`seq`), so the sequence stood one below it. Other counters (round-
// robin cursors) read 0; they choose an assignee, which the replay does not compare.
class RecordedCounters final : public Counters {
 public:
  // The step whose history entries begin at history[first].
  void step_at(const std::vector<StoredHistory>& history, std::size_t first) {
    values_.clear();
    for (const StoredHistory& row : step_entries(history, first)) {
      const HistoryEntry& e = row.entry;
      if (e.kind != "serial") continue;
      const boost::json::object d = e.details.object();
      const auto* sequence = d.if_contains("sequence");
      const auto* seq = d.if_contains("seq");
      if (sequence == nullptr || !sequence->is_string() || seq == nullptr || !seq->is_int64()) {
        continue;
      }
      // The first draw of a step from a sequence is the one the sequence's value precedes. A
      // yearly sequence names the counter of its year.
      const auto* counter = d.if_contains("counter");
      values_.emplace(counter != nullptr && counter->is_string()
                          ? std::string(counter->as_string())
                          : "seq:" + std::string(sequence->as_string()),
                      seq->as_int64() - 1);
    }
  }

  std::int64_t get(std::string_view name) const override {
    const auto it = values_.find(std::string(name));
    return it == values_.end() ? 0 : it->second;
  }

 private:
  std::map<std::string, std::int64_t> values_;
};

// How each assignment of a step came out, from its history: "assigned to li.na (how)" or the
// incident "nobody assigned (how): why". The step takes them by `how`, in order.
class HistoryAssignments final : public RecordedAssignments {
 public:
  void step_at(const std::vector<StoredHistory>& history, std::size_t first) {
    outcomes_.clear();
    for (const StoredHistory& row : step_entries(history, first)) {
      const HistoryEntry& e = row.entry;
      if (e.kind == "assigned" && e.message.starts_with("assigned to ")) {
        const boost::json::object d = e.details.object();
        const auto* assignee = d.if_contains("assignee");
        if (assignee == nullptr || !assignee->is_string()) continue;
        const std::string person(assignee->as_string());
        const std::size_t open = 12 + person.size() + 2;  // "assigned to " + person + " ("
        const std::size_t close = e.message.find(')', open);
        if (e.message.compare(12, person.size() + 2, person + " (") != 0 ||
            close == std::string::npos) {
          continue;
        }
        outcomes_.push_back({e.message.substr(open, close - open), {person, "", 0}, false});
      } else if (e.kind == "incident" && e.message.starts_with("nobody assigned (")) {
        const std::size_t open = 17;  // "nobody assigned ("
        const std::size_t close = e.message.find("): ", open);
        if (close == std::string::npos) continue;
        outcomes_.push_back({e.message.substr(open, close - open),
                             {std::nullopt, e.message.substr(close + 3), 0},
                             false});
      }
    }
  }

  std::optional<AssignmentChoice> take(std::string_view how) override {
    for (auto& o : outcomes_) {
      if (o.taken || o.how != how) continue;
      o.taken = true;
      return o.choice;
    }
    return std::nullopt;
  }

 private:
  struct Outcome {
    std::string how;
    AssignmentChoice choice;
    bool taken = false;
  };
  std::vector<Outcome> outcomes_;
};

void compare(const Instance& stored, const Instance& replayed, std::vector<std::string>& out) {
  auto text = [](const auto& v) { return boost::json::serialize(v); };
  if (stored.state != replayed.state) {
    out.push_back("state: stored '" + stored.state + "', replayed '" + replayed.state + "'");
  }
  if (stored.ended != replayed.ended) out.push_back("ended differs");
  if (stored.data != replayed.data) {
    out.push_back("data: stored " + text(stored.data.to_object()) + ", replayed " +
                  text(replayed.data.to_object()));
  }
  if (stored.timers != replayed.timers) {
    out.push_back("pending timers differ (stored " + std::to_string(stored.timers.size()) +
                  ", replayed " + std::to_string(replayed.timers.size()) + ")");
  }
  if (stored.slas != replayed.slas) out.push_back("SLA clocks differ");
  if (stored.incidents.size() != replayed.incidents.size()) {
    out.push_back("incidents: stored " + std::to_string(stored.incidents.size()) + ", replayed " +
                  std::to_string(replayed.incidents.size()));
  } else {
    for (std::size_t k = 0; k < stored.incidents.size(); ++k) {
      if (stored.incidents[k].resolved != replayed.incidents[k].resolved) {
        out.push_back("incident " + std::to_string(k + 1) + ": stored " +
                      (stored.incidents[k].resolved ? "resolved" : "open") + ", replayed " +
                      (replayed.incidents[k].resolved ? "resolved" : "open"));
      }
    }
  }
  if (stored.priority != replayed.priority) out.push_back("priority differs");
}

}  // namespace

ReplayResult replay(const Definition& def, const Instance& stored,
                    const std::vector<StoredHistory>& history, const StepContext& context) {
  ReplayResult result;
  StepContext ctx = context;
  RecordedCounters counters;
  ctx.counters = &counters;
  HistoryAssignments assignments;
  ctx.recorded_assignments = &assignments;
  ctx.enforce_roles = false;  // the roles were checked when the event came in
  ctx.check_people = false;   // and the people then in the directory
  bool started = false;
  Instance current;
  for (std::size_t index = 0; index < history.size(); ++index) {
    const StoredHistory& row = history[index];
    if (row.input.empty()) continue;
    const Timestamp at = row.entry.at;
    ++result.steps;
    counters.step_at(history, index);
    assignments.step_at(history, index);
    if (auto it = row.input.find("start"); it != row.input.end()) {
      Outcome out = start(def, stored.id, it->value().as_object(), at, ctx);
      current = std::move(out.instance);
      started = true;
    } else if (!started) {
      result.differences.push_back("history does not begin with a start");
      return result;
    } else if (auto ev = row.input.find("event"); ev != row.input.end()) {
      Event event;
      event.name = std::string(ev->value().as_string());
      if (auto d = row.input.find("data"); d != row.input.end() && d->value().is_object()) {
        event.data = d->value().as_object();
      }
      event.actor = row.actor;
      Outcome out = step(def, current, event, at, ctx);
      if (out.result != Outcome::Result::rejected) current = std::move(out.instance);
    } else if (auto t = row.input.find("timer"); t != row.input.end()) {
      Event event;
      event.timer_id = t->value().to_number<std::uint64_t>();
      Outcome out = step(def, current, event, at, ctx);
      current = std::move(out.instance);
    } else if (auto a = row.input.find("assign"); a != row.input.end()) {
      Reassignment r;
      r.to = std::string(a->value().as_string());
      if (const auto* q = row.input.if_contains("queue"); q != nullptr && q->is_string()) {
        r.queue = std::string(q->as_string());
      } else if (r.to.empty()) {
        r.queue = std::string(current.queue);  // recorded before the queue was
      }
      if (const auto* why = row.input.if_contains("reason"); why != nullptr && why->is_string()) {
        r.reason = std::string(why->as_string());
      }
      r.actor = row.actor;
      current = std::move(reassign(def, current, r, at, ctx).instance);
    } else if (auto i = row.input.find("incident"); i != row.input.end()) {
      current.incidents.push_back({at, std::string(i->value().as_string()), false});
    } else if (auto r = row.input.find("resolve_incident"); r != row.input.end()) {
      const auto n = r->value().to_number<std::size_t>();
      if (n >= 1 && n <= current.incidents.size()) {
        const auto* note = row.input.if_contains("note");
        current = std::move(resolve_incident(current, n,
                                             note != nullptr && note->is_string()
                                                 ? std::string(note->as_string())
                                                 : std::string(),
                                             row.actor, at)
                                .instance);
      }
    }
  }
  if (!started) {
    result.differences.push_back("no start in history");
    return result;
  }
  compare(stored, current, result.differences);
  result.ok = result.differences.empty();
  result.replayed = std::move(current);
  return result;
}

}  // namespace ombud
