// `ombud simulate SCENARIO.yaml [--format text|json]`
//
// Runs a scenario (adapters/yaml/scenario_loader.h) against the real engine — the same step(),
// Runtime and assignment code as the server — on a MemoryStore and a ManualClock, and prints a
// timeline: every history entry of every instance, each step of the scenario, the notifications
// as delivered (with their rendered subjects), and a summary. Exit status: 0 when every
// expectation held and no call was refused unexpectedly, 1 otherwise (or when the scenario,
// a workflow or the config has errors), 2 on a usage error.
#include <date/tz.h>

#include <algorithm>
#include <array>
#include <boost/json/serialize.hpp>
#include <iostream>
#include <map>
#include <memory>
#include <utility>

#include "adapters/cli/commands.h"
#include "adapters/cli/diagnostics_output.h"
#include "adapters/yaml/config_loader.h"
#include "adapters/yaml/scenario_loader.h"
#include "adapters/yaml/workflow_files.h"
#include "engine/calendar.h"
#include "engine/clock.h"
#include "engine/config_calendars.h"
#include "engine/directory.h"
#include "engine/expr/expression.h"
#include "engine/memory_store.h"
#include "engine/runtime.h"
#include "engine/templates.h"

namespace ombud::cli {

namespace {

using yaml::Expectation;
using yaml::ScenarioStep;

// Timer firings (and scheduled starts) allowed within one step: a `repeat` ladder that fires
// every minute for years would otherwise flood the timeline.
constexpr int kMaxFiringsPerStep = 10000;

struct SimulateOptions {
  std::string file;
  std::string format = "text";
};

struct Delivery {
  std::string instance;
  Timestamp at{};
  Notification notification;
  std::string subject;  // rendered from the config's template; "" without one
};

// Records what the runtime hands out after each commit, with the subject a recipient would see.
class RecordingNotifier final : public Notifier {
 public:
  RecordingNotifier(const Clock& clock, const Config* config) : clock_(clock), config_(config) {}
  void set_runtime(const Runtime* runtime) { runtime_ = runtime; }

  void notify(const Instance& instance, const Notification& n) override {
    pending_.push_back({instance.id, clock_.now(), n, subject(instance, n)});
  }
  void webhook(const Instance&, const OutboundWebhook&) override {}

  // The deliveries since the last call.
  std::vector<Delivery> take() { return std::exchange(pending_, {}); }

 private:
  std::string subject(const Instance& instance, Notification n) const {
    if (config_ == nullptr || n.template_name.empty() ||
        config_->find_template(n.template_name) == nullptr) {
      return "";
    }
    const Definition* def = runtime_ != nullptr ? runtime_->definition(instance.workflow) : nullptr;
    render_notification(*config_, n, instance, def != nullptr ? &def->data : nullptr, clock_.now());
    return n.subject;
  }

  const Clock& clock_;
  const Config* config_;
  const Runtime* runtime_ = nullptr;
  std::vector<Delivery> pending_;
};

std::string two(unsigned v) { return (v < 10 ? "0" : "") + std::to_string(v); }

bool is_number(const boost::json::value& v) {
  return v.is_int64() || v.is_uint64() || v.is_double();
}

double as_double(const boost::json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  return v.as_double();
}

// Equality as the field's type sees it: numbers by value, timestamps as instants, durations by
// their parts; anything else as JSON.
bool same_value(const boost::json::value& expected, const boost::json::value& found,
                const FieldSchema* field) {
  if (is_number(expected) && is_number(found)) {
    if (expected.is_double() || found.is_double()) return as_double(expected) == as_double(found);
    return expected == found;
  }
  if (field != nullptr && expected.is_string() && found.is_string()) {
    if (field->type == FieldType::timestamp) {
      const auto a = parse_timestamp(expected.as_string());
      const auto b = parse_timestamp(found.as_string());
      if (a && b) return *a == *b;
    }
    if (field->type == FieldType::duration) {
      const auto a = parse_duration(expected.as_string());
      const auto b = parse_duration(found.as_string());
      if (a && b) return *a == *b;
    }
  }
  return expected == found;
}

const boost::json::value* walk(const Data& data, const std::string& path) {
  const auto first_dot = path.find('.');
  const boost::json::value* at = data.if_contains(std::string_view(path).substr(0, first_dot));
  std::size_t from = first_dot;
  while (at != nullptr && from != std::string::npos) {
    if (!at->is_object()) return nullptr;
    ++from;
    const auto dot = path.find('.', from);
    at = at->as_object().if_contains(
        std::string_view(path).substr(from, dot == std::string::npos ? dot : dot - from));
    from = dot;
  }
  return at;
}

std::string count(int n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

std::string quoted(const std::string& s) { return s.empty() ? "nobody" : "'" + s + "'"; }

class Simulation {
 public:
  Simulation(const yaml::Scenario& scenario, const std::vector<Definition>& defs,
             const Config* config, const ConfigCalendars& calendars, const date::time_zone* zone,
             bool json)
      : s_(scenario),
        defs_(defs),
        config_(config),
        calendars_(calendars),
        zone_(zone),
        json_(json),
        clock_(scenario.start_at),
        notifier_(clock_, config),
        directory_(config != nullptr ? std::make_unique<ConfigDirectory>(*config) : nullptr),
        runtime_(store_, clock_, context(), &notifier_),
        sched_done_(scenario.start_at) {
    notifier_.set_runtime(&runtime_);
    for (const auto& d : defs_) {
      runtime_.add_definition(d);
      width_ = std::max(width_, d.name.size() + 6);  // "-NNN" and two blanks
    }
  }

  int run() {
    header();
    for (const auto& st : s_.steps) {
      begin_step(st);
      switch (st.kind) {
        case ScenarioStep::Kind::start:
          start(st);
          break;
        case ScenarioStep::Kind::event:
          event(st);
          break;
        case ScenarioStep::Kind::advance:
        case ScenarioStep::Kind::advance_to:
          advance(st.until);
          break;
        case ScenarioStep::Kind::expect:
          expect(st);
          break;
        case ScenarioStep::Kind::note:
          break;
      }
      end_step();
    }
    summary();
    return failures_ == 0 ? 0 : 1;
  }

 private:
  StepContext context() const {
    StepContext ctx;
    ctx.calendars = &calendars_;
    ctx.directory = directory_.get();
    return ctx;
  }

  // ---- showing times ------------------------------------------------------------------------

  // `Mon 2026-11-23 09:00` in the display zone, with seconds when they are not zero.
  // Milliseconds are left out: the engine fires SLA levels one millisecond past their
  // threshold, which is noise on a timeline for people (the JSON output keeps them).
  std::string show(Timestamp t) const {
    const auto local =
        zone_ != nullptr ? zone_->to_local(t) : date::local_time<Millis>(t.time_since_epoch());
    const auto day = date::floor<date::days>(local);
    const date::year_month_day ymd{day};
    const date::hh_mm_ss<Millis> hms{local - day};
    static constexpr std::array<const char*, 7> kDays{"Sun", "Mon", "Tue", "Wed",
                                                      "Thu", "Fri", "Sat"};
    std::string out = kDays.at(date::weekday{day}.c_encoding());
    out += " " + std::to_string(static_cast<int>(ymd.year()));
    out += "-" + two(static_cast<unsigned>(ymd.month()));
    out += "-" + two(static_cast<unsigned>(ymd.day()));
    out += " " + two(static_cast<unsigned>(hms.hours().count()));
    out += ":" + two(static_cast<unsigned>(hms.minutes().count()));
    if (hms.seconds().count() != 0) out += ":" + two(static_cast<unsigned>(hms.seconds().count()));
    return out;
  }

  // Rewrites the RFC 3339 instants the engine writes into messages (always UTC) into `show`'s
  // form, so that a timeline reads in one zone.
  std::string localize(const std::string& message) const {
    std::string out;
    std::size_t i = 0;
    auto digit = [&](std::size_t k) {
      return k < message.size() && message[k] >= '0' && message[k] <= '9';
    };
    while (i < message.size()) {
      const bool looks = digit(i) && digit(i + 3) && i + 10 < message.size() &&
                         message[i + 4] == '-' && message[i + 7] == '-' && message[i + 10] == 'T';
      if (looks) {
        std::size_t j = i;
        while (j < message.size() && (digit(j) || std::string_view(":.-+TZ").find(message[j]) !=
                                                      std::string_view::npos)) {
          ++j;
        }
        if (auto t = parse_timestamp(std::string_view(message).substr(i, j - i))) {
          out += show(*t);
          i = j;
          continue;
        }
      }
      out += message[i++];
    }
    return out;
  }

  // ---- output -------------------------------------------------------------------------------

  void text(const std::string& line) {
    if (!json_) std::cout << line << '\n';
  }

  void header() {
    if (json_) return;
    if (!s_.title.empty()) std::cout << "== " << s_.title << '\n';
    std::string names;
    for (const auto& d : defs_) names += (names.empty() ? "" : ", ") + d.name;
    std::cout << "== scenario " << s_.file << " ("
              << (defs_.size() == 1 ? "workflow " : "workflows ") << names << ")\n";
    std::cout << "== times in " << (zone_ != nullptr ? std::string(zone_->name()) : "UTC")
              << "; the clock starts " << show(s_.start_at) << "\n";
  }

  std::string target_label(const ScenarioStep& st) const {
    if (st.by_key) {
      return "by key " + st.key + " (" + (st.workflow.empty() ? defs_.front().name : st.workflow) +
             ")";
    }
    auto it = ids_.find(st.instance);
    if (it != ids_.end() && it->second != st.instance) return st.instance + " (" + it->second + ")";
    return st.instance;
  }

  void begin_step(const ScenarioStep& st) {
    step_json_ = {{"step", st.number}, {"line", st.pos.line}};
    step_history_ = {};
    step_notes_ = {};
    std::string what;
    switch (st.kind) {
      case ScenarioStep::Kind::start:
        step_json_["kind"] = "start";
        what = "start " + (st.workflow.empty() ? defs_.front().name : st.workflow) +
               (st.instance.empty() ? "" : " as " + st.instance);
        if (!st.data.empty()) what += " " + boost::json::serialize(st.data);
        break;
      case ScenarioStep::Kind::event:
        step_json_["kind"] = "event";
        step_json_["event"] = st.event;
        what = "event " + st.event + (st.actor.empty() ? "" : " from " + st.actor) + " to " +
               target_label(st);
        if (!st.data.empty()) what += " " + boost::json::serialize(st.data);
        break;
      case ScenarioStep::Kind::advance:
        step_json_["kind"] = "advance";
        what = "advance " + format_duration(st.advance) + " to " + show(st.until);
        break;
      case ScenarioStep::Kind::advance_to:
        step_json_["kind"] = "advance_to";
        what = "advance to " + show(st.until);
        break;
      case ScenarioStep::Kind::expect:
        step_json_["kind"] = "expect";
        what = "expect " + target_label(st);
        break;
      case ScenarioStep::Kind::note:
        step_json_["kind"] = "note";
        step_json_["note"] = st.note;
        what = "note: " + st.note;
        break;
    }
    if (st.kind != ScenarioStep::Kind::expect) {
      text("-- step " + std::to_string(st.number) + " (line " + std::to_string(st.pos.line) +
           "): " + what);
    } else {
      pending_marker_ = "-- step " + std::to_string(st.number) + " (line " +
                        std::to_string(st.pos.line) + "): " + what;
    }
    if (!st.instance.empty()) step_json_["name"] = st.instance;
    if (st.expect_error) step_json_["expect_error"] = *st.expect_error;
  }

  void end_step() {
    step_json_["at"] = format_timestamp(clock_.now());
    step_json_["history"] = std::move(step_history_);
    step_json_["notifications"] = std::move(step_notes_);
    steps_json_.push_back(std::move(step_json_));
  }

  void failure(SourcePos at, const std::string& message) {
    ++failures_;
    text(s_.file + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": " +
         message);
    failures_json_.push_back(boost::json::object{{"line", at.line},
                                                 {"column", at.column},
                                                 {"message", message},
                                                 {"step", step_json_.at("step")}});
  }

  // Prints and records the history every instance gained since the last call, in the order the
  // instances were created, matching each `notify` entry with its delivery.
  void collect() {
    for (const auto& id : store_.instance_ids()) {
      if (std::find(order_.begin(), order_.end(), id) == order_.end()) order_.push_back(id);
    }
    std::vector<Delivery> deliveries = notifier_.take();
    std::vector<bool> used(deliveries.size(), false);
    for (const auto& id : order_) {
      const std::vector<StoredHistory> history = store_.history(id);
      std::size_t& seen = seen_[id];
      for (; seen < history.size(); ++seen) {
        const HistoryEntry& h = history[seen].entry;
        std::string message;
        if (h.kind == "incident") message = "incident: ";
        if (h.kind == "not_handled") message = "not handled: ";
        if (h.kind == "event") message = "event ";
        message += h.message;
        boost::json::object entry{{"instance", id},
                                  {"at", format_timestamp(h.at)},
                                  {"kind", h.kind},
                                  {"message", h.message},
                                  {"details", h.details.object()}};
        if (h.kind == "notify") {
          bool delivered = false;
          for (std::size_t k = 0; k < deliveries.size() && !delivered; ++k) {
            const Delivery& d = deliveries[k];
            if (used[k] || d.instance != id || h.message != notify_line(d.notification)) continue;
            used[k] = true;
            delivered = true;
            if (!d.subject.empty()) message += " — \"" + d.subject + "\"";
            step_notes_.push_back(delivery_json(d));
          }
          if (!delivered) message += " (not delivered)";
        }
        text(show(h.at) + "  " + pad(id) + localize(message));
        step_history_.push_back(std::move(entry));
      }
    }
    for (std::size_t k = 0; k < deliveries.size(); ++k) {
      if (used[k]) continue;
      const Delivery& d = deliveries[k];
      std::string who;
      for (const auto& r : d.notification.recipients) who += (who.empty() ? "" : ", ") + r;
      text(show(d.at) + "  " + pad(d.instance) + "delivered " + d.notification.template_name +
           " to " + who + (d.subject.empty() ? "" : " — \"" + d.subject + "\""));
      step_notes_.push_back(delivery_json(d));
    }
  }

  static boost::json::object delivery_json(const Delivery& d) {
    boost::json::array recipients;
    for (const auto& r : d.notification.recipients) recipients.push_back(boost::json::value(r));
    return {{"instance", d.instance},
            {"at", format_timestamp(d.at)},
            {"template", d.notification.template_name},
            {"to", d.notification.to},
            {"recipients", std::move(recipients)},
            {"subject", d.subject}};
  }

  std::string pad(const std::string& id) const {
    return id + std::string(id.size() < width_ ? width_ - id.size() : 1, ' ');
  }

  // ---- steps --------------------------------------------------------------------------------

  // Checks the outcome of a start or event against `expect_error`; prints refusals.
  bool outcome(const ScenarioStep& st, const RuntimeResult& r) {
    const bool refused = r.status == RuntimeResult::Status::rejected ||
                         r.status == RuntimeResult::Status::not_found ||
                         r.status == RuntimeResult::Status::conflict;
    step_json_["status"] = r.to_json().at("status");
    if (!r.error.empty()) step_json_["error"] = r.error;
    if (r.replayed)
      text("   replayed: answered from the earlier call with idempotency key " +
           st.idempotency_key);
    if (st.expect_error) {
      if (!refused) {
        failure(st.pos,
                "expected a refusal containing '" + *st.expect_error + "', but the call succeeded");
      } else if (r.error.find(*st.expect_error) == std::string::npos) {
        text("   refused: " + r.error);
        failure(st.pos,
                "expected a refusal containing '" + *st.expect_error + "', got: " + r.error);
      } else {
        text("   refused as expected: " + r.error);
      }
      return !refused;
    }
    if (refused) {
      text("   refused: " + r.error);
      failure(st.pos, "unexpected refusal: " + r.error);
    }
    return !refused;
  }

  void start(const ScenarioStep& st) {
    StartRequest req;
    req.workflow = st.workflow.empty() ? defs_.front().name : st.workflow;
    req.data = st.data;
    req.idempotency_key = st.idempotency_key;
    const RuntimeResult r = runtime_.start(req);
    collect();
    const bool ok = outcome(st, r);
    if (ok && r.instance) {
      if (!st.instance.empty()) ids_[st.instance] = r.instance->id;
      names_[r.instance->id] = st.instance;
      step_json_["instance"] = r.instance->id;
    }
    settle();
  }

  void event(const ScenarioStep& st) {
    EventRequest req;
    req.event = st.event;
    req.data = st.data;
    req.idempotency_key = st.idempotency_key;
    req.actor = st.actor;
    if (st.by_key) {
      req.workflow = st.workflow.empty() ? defs_.front().name : st.workflow;
      req.key = st.key;
    } else {
      auto it = ids_.find(st.instance);
      if (it == ids_.end() && st.instance.find('-') == std::string::npos) {
        failure(st.instance_pos, "no instance '" + st.instance + "': its start was refused");
        return;
      }
      req.instance_id = it == ids_.end() ? st.instance : it->second;
    }
    if (!st.actor.empty() && config_ != nullptr) {
      if (const Person* p = config_->find_person(st.actor)) req.actor_roles = p->roles;
      req.enforce_roles = true;
    }
    const RuntimeResult r = runtime_.send(req);
    collect();
    outcome(st, r);
    if (r.instance) step_json_["instance"] = r.instance->id;
    settle();
  }

  // Fires whatever became due at the current instant (an `at` time in the past, a level whose
  // point has already passed), as the server's timer loop would right after the step.
  void settle() { advance(clock_.now()); }

  std::optional<Timestamp> next_schedule_after(Timestamp after) const {
    std::optional<Timestamp> best;
    for (const auto& d : defs_) {
      if (!d.schedule) continue;
      const date::time_zone* zone = nullptr;
      try {
        zone = date::locate_zone(d.schedule->timezone);
      } catch (const std::exception&) {
        continue;
      }
      const auto local = zone->to_local(std::chrono::floor<std::chrono::seconds>(after));
      const auto next = d.schedule->cron.next_after(local);
      if (!next) continue;
      const Timestamp t = zone->to_sys(*next, date::choose::earliest);
      if (!best || t < *best) best = t;
    }
    return best;
  }

  // Moves the clock to `target`, firing every timer and scheduled start due on the way, each
  // at its own instant, earliest first.
  void advance(Timestamp target) {
    for (int firings = 0;; ++firings) {
      const auto timer = runtime_.next_timer_due();
      const auto schedule = next_schedule_after(sched_done_);
      const bool timer_due = timer && *timer <= target;
      const bool schedule_due = schedule && *schedule <= target;
      if (!timer_due && !schedule_due) break;
      if (firings == kMaxFiringsPerStep) {
        failure(step_pos(), "stopped after " + std::to_string(kMaxFiringsPerStep) +
                                " timer firings in one step (a repeating escalation?)");
        break;
      }
      if (schedule_due && (!timer_due || *schedule <= *timer)) {
        clock_.set(*schedule);
        for (const auto& r : runtime_.run_schedules(sched_done_, *schedule)) {
          if (r.status != RuntimeResult::Status::ok) text("   scheduled start refused: " + r.error);
        }
        sched_done_ = *schedule;
        collect();
        continue;
      }
      clock_.set(*timer);
      const auto r = runtime_.fire_next_timer(*timer);
      if (!r) {
        failure(step_pos(),
                "the timer due at " + show(*timer) + " could not be fired (engine problem)");
        break;
      }
      if (r->status == RuntimeResult::Status::rejected ||
          r->status == RuntimeResult::Status::not_found ||
          r->status == RuntimeResult::Status::conflict) {
        text("   timer refused: " + r->error);
      }
      collect();
    }
    clock_.set(target);
    if (sched_done_ < target) sched_done_ = target;
  }

  SourcePos step_pos() const {
    const auto n = static_cast<std::size_t>(step_json_.at("step").as_int64());
    return n >= 1 && n <= s_.steps.size() ? s_.steps[n - 1].pos : SourcePos{};
  }

  const BusinessCalendar& sla_calendar(const Definition& def, const std::string& sla) const {
    static const BusinessCalendar kWall = BusinessCalendar::wall_clock();
    std::optional<std::string> name = def.calendar;
    for (const auto& s : def.slas) {
      if (s.name == sla && s.calendar) name = s.calendar;
    }
    const BusinessCalendar* cal = name ? calendars_.find(*name) : nullptr;
    return cal != nullptr ? *cal : kWall;
  }

  std::string sla_status(const Instance& in, const std::string& name) const {
    const SlaClock* c = in.sla(name);
    const Definition* def = runtime_.definition(in.workflow);
    if (c == nullptr || def == nullptr) return "";
    return std::string(sla_status_name(sla_status_at(*c, clock_.now(), sla_calendar(*def, name))));
  }

  struct Check {
    boost::json::value found;
    std::string found_text;     // for messages: 'li.na', nobody, 3, "text"
    std::string expected_text;  // likewise
    std::string listed;         // for the step line: li.na, nobody, 3, "text"
    bool ok = false;
  };

  Check check(const Instance& in, const Expectation& e) const {
    Check c;
    auto strings = [&](const std::string& found) {
      const std::string expected(e.expected.as_string());
      c.found = boost::json::value(found);
      c.found_text = quoted(found);
      c.expected_text = quoted(expected);
      c.listed = expected.empty() ? "nobody" : expected;
      c.ok = expected == found;
    };
    switch (e.kind) {
      case Expectation::Kind::state:
        strings(in.state);
        break;
      case Expectation::Kind::assignee:
        strings(in.assignee);
        break;
      case Expectation::Kind::priority:
        strings(std::string(priority_name(in.priority)));
        break;
      case Expectation::Kind::queue:
        strings(in.queue);
        break;
      case Expectation::Kind::sla: {
        const std::string status = sla_status(in, e.field);
        strings(status);
        if (status.empty()) c.found_text = "no such clock";
        break;
      }
      case Expectation::Kind::ended:
        c.found = in.ended;
        c.found_text = in.ended ? "true" : "false";
        c.expected_text = e.expected.as_bool() ? "true" : "false";
        c.listed = c.expected_text;
        c.ok = e.expected.as_bool() == in.ended;
        break;
      case Expectation::Kind::incidents: {
        const auto n = static_cast<std::int64_t>(in.incidents.size());
        c.found = n;
        c.found_text = std::to_string(n);
        c.expected_text = std::to_string(e.expected.as_int64());
        c.listed = c.expected_text;
        c.ok = n == e.expected.as_int64();
        if (!c.ok && n > 0) c.found_text += " (last: " + in.incidents.back().message + ")";
        break;
      }
      case Expectation::Kind::data: {
        const Definition* def = runtime_.definition(in.workflow);
        const FieldSchema* field = def != nullptr && e.field.find('.') == std::string::npos
                                       ? def->data.find(e.field)
                                       : nullptr;
        const boost::json::value expected = yaml::expected_data_value(e, field);
        const boost::json::value* found = walk(in.data, e.field);
        c.found = found != nullptr ? *found : boost::json::value(nullptr);
        c.found_text = found == nullptr ? "null (absent)" : boost::json::serialize(*found);
        c.expected_text = expected.is_null() ? "null (absent)" : boost::json::serialize(expected);
        c.listed = expected.is_null() ? "null" : boost::json::serialize(expected);
        c.ok = found == nullptr || found->is_null() ? expected.is_null()
                                                    : same_value(expected, *found, field);
        break;
      }
    }
    return c;
  }

  void expect(const ScenarioStep& st) {
    auto it = ids_.find(st.instance);
    const std::string id = it != ids_.end() ? it->second : st.instance;
    const auto in = store_.load(id);
    boost::json::array checks;
    std::string listed;
    std::vector<std::pair<const Expectation*, Check>> failed;
    if (!in) {
      text(pending_marker_ + ": FAILED");
      failure(st.instance_pos, "no instance '" + st.instance + "'" +
                                   (it == ids_.end() && st.instance.find('-') == std::string::npos
                                        ? ": its start was refused"
                                        : ""));
      return;
    }
    step_json_["instance"] = id;
    for (const auto& e : st.expectations) {
      Check c = check(*in, e);
      listed += (listed.empty() ? "" : ", ") + e.key + " " + c.listed;
      checks.push_back(boost::json::object{
          {"key", e.key}, {"expected", e.expected}, {"found", c.found}, {"ok", c.ok}});
      if (!c.ok) failed.emplace_back(&e, std::move(c));
    }
    step_json_["checks"] = std::move(checks);
    text(pending_marker_ + ": " + listed + (failed.empty() ? " — ok" : " — FAILED"));
    for (const auto& [e, c] : failed) {
      failure(e->pos, "expected " + e->key + " " + c.expected_text + ", found " + c.found_text);
    }
    expectations_ += static_cast<int>(st.expectations.size());
    failed_expectations_ += static_cast<int>(failed.size());
  }

  // ---- the end ------------------------------------------------------------------------------

  void summary() {
    boost::json::array instances;
    text("== the clock stops at " + show(clock_.now()));
    for (const auto& id : order_) {
      const auto in = store_.load(id);
      if (!in) continue;
      const std::string name = names_.count(id) != 0 ? names_.at(id) : "";
      instances.push_back(boost::json::object{{"name", name}, {"instance", to_json(*in)}});
      std::string line = name.empty() ? id : name;
      if (!name.empty()) line.append(" (").append(id).append(")");
      line += ": " + in->state;
      if (in->ended) line += " (ended)";
      line += ", assignee " + (in->assignee.empty() ? std::string("nobody") : in->assignee);
      line += ", priority " + std::string(priority_name(in->priority));
      line += ", incidents " + std::to_string(in->incidents.size());
      text(line);
      for (const auto& c : in->slas) text("   SLA " + c.name.str() + ": " + sla_line(*in, c));
    }
    std::string verdict = failures_ == 0 ? "passed" : "FAILED";
    verdict += ": " + count(static_cast<int>(s_.steps.size()), "step") + ", " +
               count(expectations_, "expectation") + ", " + std::to_string(failed_expectations_) +
               " failed";
    const int other = failures_ - failed_expectations_;
    if (other > 0) verdict += ", " + count(other, "other problem");
    text("== " + verdict);
    if (json_) {
      boost::json::object doc{{"scenario", s_.file},
                              {"title", s_.title},
                              {"start_at", format_timestamp(s_.start_at)},
                              {"end_at", format_timestamp(clock_.now())},
                              {"steps", std::move(steps_json_)},
                              {"instances", std::move(instances)},
                              {"expectations", expectations_},
                              {"failures", std::move(failures_json_)},
                              {"passed", failures_ == 0}};
      std::cout << boost::json::serialize(doc) << '\n';
    }
  }

  std::string sla_line(const Instance& in, const SlaClock& c) const {
    const Definition* def = runtime_.definition(in.workflow);
    if (def == nullptr) return std::string(sla_status_name(c.status));
    const BusinessCalendar& cal = sla_calendar(*def, c.name);
    std::string status(sla_status_name(sla_status_at(c, clock_.now(), cal)));
    if (c.status == SlaClock::Status::idle) return status;
    Millis used = c.elapsed;
    if (c.status == SlaClock::Status::running) used += cal.working_time(c.since, clock_.now());
    // To the second, like the times: levels firing 1 ms past a threshold would show as 29m59s999ms.
    auto hours = [](Millis m) {
      return format_duration(Duration{0, std::chrono::round<std::chrono::seconds>(m)});
    };
    std::string out = status + ", cycle " + std::to_string(c.cycle) + ", " + hours(used) + " of " +
                      hours(c.budget) + " used";
    if (c.status == SlaClock::Status::running) out += ", due " + show(c.due_at);
    if (c.status == SlaClock::Status::paused) out += ", paused since " + show(c.since);
    if (c.stopped()) {
      out += ", stopped " + show(c.since);
    }
    return out;
  }

  const yaml::Scenario& s_;
  const std::vector<Definition>& defs_;
  const Config* config_;
  const ConfigCalendars& calendars_;
  const date::time_zone* zone_;
  bool json_;
  ManualClock clock_;
  MemoryStore store_;
  RecordingNotifier notifier_;
  std::unique_ptr<ConfigDirectory> directory_;
  Runtime runtime_;
  Timestamp sched_done_;  // scheduled starts have been made up to here
  std::size_t width_ = 12;

  std::map<std::string, std::string> ids_;    // instance name → id
  std::map<std::string, std::string> names_;  // id → instance name
  std::vector<std::string> order_;            // ids in order of creation
  std::map<std::string, std::size_t> seen_;   // id → history entries already shown

  std::string pending_marker_;
  boost::json::object step_json_;
  boost::json::array step_history_;
  boost::json::array step_notes_;
  boost::json::array steps_json_;
  boost::json::array failures_json_;
  int failures_ = 0;
  int expectations_ = 0;
  int failed_expectations_ = 0;
};

int run_simulate(const SimulateOptions& o) {
  Diagnostics diags;
  auto report = [&]() {
    diags.sort();
    print_text(std::cerr, diags);
  };
  const auto scenario = yaml::load_scenario_file(o.file, diags);
  if (!scenario || diags.has_errors()) {
    report();
    return 1;
  }
  std::optional<Config> config;
  if (!scenario->config_file.empty()) {
    config = yaml::load_config_file(scenario->config_file, diags);
    if (!config || diags.has_errors()) {
      report();
      return 1;
    }
  }
  const Config* cfg = config ? &*config : nullptr;
  const auto set = yaml::load_workflow_set(scenario->workflow_files, cfg, false, diags);
  if (diags.has_errors() || set.definitions.size() != scenario->workflow_files.size()) {
    report();
    return 1;
  }
  std::vector<std::pair<const CalendarSpec*, std::string>> calendar_problems;
  const ConfigCalendars calendars =
      cfg != nullptr ? ConfigCalendars(*cfg, calendar_problems) : ConfigCalendars();
  for (const auto& [spec, problem] : calendar_problems) diags.error(cfg->file, spec->pos, problem);
  yaml::check_scenario(*scenario, set.definitions, cfg, diags);
  if (diags.has_errors()) {
    report();
    return 1;
  }
  if (!diags.items().empty()) report();  // warnings only

  // Times are shown in the scenario's `timezone`, else the first workflow calendar's zone.
  const date::time_zone* zone = nullptr;
  std::string zone_name = scenario->timezone;
  const Definition& main = set.definitions.front();
  if (zone_name.empty() && cfg != nullptr && main.calendar) {
    if (const CalendarSpec* spec = cfg->find_calendar(*main.calendar)) zone_name = spec->timezone;
  }
  if (!zone_name.empty()) {
    try {
      zone = date::locate_zone(zone_name);
    } catch (const std::exception&) {
      zone = nullptr;
    }
  }
  Simulation sim(*scenario, set.definitions, cfg, calendars, zone, o.format == "json");
  return sim.run();
}

}  // namespace

void add_simulate_command(CLI::App& app, Runner& run) {
  auto options = std::make_shared<SimulateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "simulate",
      "Run a scenario on a virtual clock and print the timeline; exit 0 when every expectation "
      "holds, 1 when not");
  cmd->add_option("scenario", options->file, "Scenario file (see tests/simulate/README.md)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--format", options->format, "Output format")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->callback([&run, options] { run = [options] { return run_simulate(*options); }; });
}

}  // namespace ombud::cli
