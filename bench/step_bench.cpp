// The engine core in memory: how many transitions per second the pure step() makes on one core,
// and how many bytes an idle instance costs. bench/run_engine_bench.sh runs it back to back with
// the same machine in XState 5 (bench/xstate/complaint.mjs) and prints the ratios against the
// goals (>= 10x XState's transitions/s, <= 1 KB per idle instance).
//
// Figures:
//   - complaint: the shipped workflows/complaint.yaml with config/ombud.yaml's calendars and
//     directory, one lifecycle per instance: start (received → triage → assigned) → acknowledge
//     → need_info → customer_replied → resolved → visited {score: 5} → closed, six transitions,
//     one start()/step() call each. Instances are driven round-robin, one phase of the
//     lifecycle across all of them before the next, with 1 and with 10,000 instances.
//   - chain: a 50-state ring loaded from YAML text, one event per state and no actions (the
//     shape of the Boost.SML "complex" benchmark): the interpreter's raw ceiling.
//   - idle: 100,000 complaints parked in waiting_customer (two state timers armed, the resolve
//     clock paused). Bytes per instance = growth of the heap in use (bench/heap_meter.h:
//     jemalloc's stats.allocated, or glibc's mallinfo2() in a build without jemalloc) across
//     creating them, the vector that holds them included, divided by the count. The growth of
//     resident memory and the size of serialize(to_json(instance)) are printed for reference.
//
// Every transition is counted (history entries of kind "transition"), and a call that is not
// handled, or a lifecycle that does not end in `closed`, aborts the run: the figures are for
// the path that was meant. Time is this process's CPU time (the machine is shared; time spent
// descheduled is not the engine's cost), best of --repeat runs.
//
// Run from a Release build (prints one line per figure, then one JSON line with all of them):
//   cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release
//   cmake --build build-bench -j2 --target step_bench
//   build-bench/bench/step_bench [--config config/ombud.yaml] [--workflow workflows/complaint.yaml]
//                                [--repeat 3] [--idle 100000] [--scale 1.0]
//                                [--only complaint|chain|idle]
// --scale multiplies the number of lifecycles and steps; --only runs one part and prints no JSON
// (for profiling under perf or callgrind).
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "adapters/yaml/config_loader.h"
#include "adapters/yaml/workflow_files.h"
#include "adapters/yaml/workflow_loader.h"
#include "bench/heap_meter.h"
#include "engine/calendar.h"
#include "engine/directory.h"
#include "engine/instance.h"
#include "engine/step.h"

#ifndef OMBUD_SOURCE_DIR
#define OMBUD_SOURCE_DIR "."
#endif

namespace ombud {
namespace {

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "step_bench: %s\n", message.c_str());
  std::exit(1);
}

// CPU time of the whole process (it has one thread).
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::size_t heap_bytes() { return bench::heap().in_use(); }

void print_diagnostics(const Diagnostics& diags) {
  for (const auto& d : diags.items()) std::fprintf(stderr, "%s\n", d.to_string().c_str());
}

// The Calendars port over the config's calendars, built once.
class NamedCalendars final : public Calendars {
 public:
  explicit NamedCalendars(const Config& config) {
    for (const CalendarSpec& spec : config.calendars) {
      auto made = BusinessCalendar::make(spec);
      if (auto* error = std::get_if<std::string>(&made)) die(*error);
      by_name_.emplace(spec.name, std::get<BusinessCalendar>(std::move(made)));
    }
  }
  const BusinessCalendar* find(std::string_view name) const override {
    if (name.empty() || name == "none") return &wall_clock_;
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &it->second;
  }

 private:
  BusinessCalendar wall_clock_ = BusinessCalendar::wall_clock();
  std::map<std::string, BusinessCalendar, std::less<>> by_name_;
};

// Open cases per handler as the runtime would count them: wang.fang has the fewest, so
// least_loaded picks her (the same numbers are in complaint.mjs).
class FixedWorkload final : public Workload {
 public:
  int open_cases(std::string_view person) const override {
    if (person == "li.na") return 3;
    if (person == "wang.fang") return 1;
    if (person == "liu.yang") return 2;
    return 0;
  }
};

std::size_t transitions_in(const Outcome& out) {
  return static_cast<std::size_t>(
      std::count_if(out.history.begin(), out.history.end(),
                    [](const HistoryEntry& h) { return h.kind == "transition"; }));
}

void expect_handled(const Outcome& out, const char* what) {
  if (out.result != Outcome::Result::handled) {
    die(std::string(what) + ": not handled" + (out.error.empty() ? "" : ": " + out.error));
  }
}

struct Throughput {
  std::uint64_t transitions = 0;
  std::uint64_t calls = 0;  // start() and step() calls
  double seconds = 0;
  // The complaint with many instances: CPU time of each phase (start, then each event), taken
  // per phase across all instances so that reading the clock costs nothing measurable.
  std::vector<double> phase_seconds;

  double per_second() const { return static_cast<double>(transitions) / seconds; }
  double ns_per_step() const { return seconds * 1e9 / static_cast<double>(calls); }
};

// Best (shortest) of `repeat` runs of the same work.
template <typename Run>
Throughput best_of(int repeat, const Run& run) {
  Throughput best;
  for (int i = 0; i < repeat; ++i) {
    const Throughput t = run();
    if (i == 0 || t.seconds < best.seconds) best = t;
  }
  return best;
}

// ---- the complaint lifecycle ------------------------------------------------------------------

class ComplaintLifecycle {
 public:
  static constexpr std::size_t kPhases = 6;  // start + five events, one transition each

  ComplaintLifecycle(const Definition& def, const StepContext& ctx) : def_(def), ctx_(ctx) {
    // Monday 2026-11-30, 10:00 in Asia/Shanghai: inside the office's open hours.
    const Timestamp t0 = date::sys_days{date::year{2026} / 11 / 30} + std::chrono::hours(2);
    const Timestamp callback = t0 + std::chrono::hours(49);
    at_ = {t0,
           t0 + std::chrono::minutes(20),
           t0 + std::chrono::hours(2),
           t0 + std::chrono::hours(24),
           t0 + std::chrono::hours(28),
           callback};
    events_ = {
        Event{"acknowledge",
              {{"note", "called back, complaint confirmed"}},
              std::nullopt,
              "wang.fang"},
        Event{"need_info",
              {{"question", "Which invoice number was charged twice?"}},
              std::nullopt,
              "wang.fang"},
        Event{"customer_replied", {{"note", "invoice 2026-11-0042"}}, std::nullopt, "wang.fang"},
        Event{"resolved",
              {{"resolution", "duplicate charge refunded"},
               {"callback_at", format_timestamp(callback)}},
              std::nullopt,
              "wang.fang"},
        Event{"visited", {{"score", 5}, {"comment", "refund received"}}, std::nullopt, "wang.fang"},
    };
  }

  // Start data and id for instance i (distinct phone numbers: the business key).
  void prepare(std::size_t instances) {
    ids_.clear();
    data_.clear();
    for (std::size_t i = 0; i < instances; ++i) {
      ids_.push_back("C-" + std::to_string(100000 + i));
      data_.push_back({{"phone", "139" + std::to_string(10000000 + i)},
                       {"customer_name", "Customer " + std::to_string(i)},
                       {"channel", "phone"},
                       {"category", "billing"},
                       {"summary", "charged twice for the November invoice"}});
    }
  }

  Outcome call(std::size_t phase, std::size_t i, const Instance& current) const {
    if (phase == 0) return start(def_, ids_[i], data_[i], at_[0], ctx_);
    return step(def_, current, events_[phase - 1], at_[phase], ctx_);
  }

  // `rounds` lifecycles per instance over `instances` instances, driven round-robin.
  Throughput run(std::size_t instances, std::size_t rounds) {
    prepare(instances);
    std::vector<Instance> live(instances);
    Throughput t;
    const bool by_phase = instances >= 1000;
    if (by_phase) t.phase_seconds.assign(kPhases, 0.0);
    const double begin = cpu_seconds();
    for (std::size_t r = 0; r < rounds; ++r) {
      for (std::size_t phase = 0; phase < kPhases; ++phase) {
        const double phase_begin = by_phase ? cpu_seconds() : 0.0;
        for (std::size_t i = 0; i < instances; ++i) {
          Outcome out = call(phase, i, live[i]);
          expect_handled(out, phase == 0 ? "start" : events_[phase - 1].name.c_str());
          t.transitions += transitions_in(out);
          live[i] = std::move(out.instance);
        }
        if (by_phase) t.phase_seconds[phase] += cpu_seconds() - phase_begin;
        t.calls += instances;
      }
      for (const Instance& in : live) {
        if (in.state != "closed" || !in.ended)
          die("a complaint ended in '" + in.state + "', not 'closed'");
      }
    }
    t.seconds = cpu_seconds() - begin;
    if (t.transitions != t.calls) die("expected one transition per call");
    return t;
  }

  // "start 40.1 us, acknowledge 9.3 us, ...": CPU time per call in each phase.
  std::string phase_breakdown(const Throughput& t, std::size_t instances,
                              std::size_t rounds) const {
    std::string out;
    for (std::size_t phase = 0; phase < t.phase_seconds.size(); ++phase) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "%s%s %.1f us", out.empty() ? "" : ", ",
                    phase == 0 ? "start" : events_[phase - 1].name.c_str(),
                    t.phase_seconds[phase] * 1e6 / static_cast<double>(instances * rounds));
      out += buf;
    }
    return out;
  }

  // Drives an instance through the first `phases` phases (start, acknowledge, need_info, ...).
  Instance park(std::size_t i, std::size_t phases) const {
    Instance in;
    for (std::size_t phase = 0; phase < phases; ++phase) {
      Outcome out = call(phase, i, in);
      expect_handled(out, "park");
      in = std::move(out.instance);
    }
    return in;
  }

 private:
  const Definition& def_;
  const StepContext& ctx_;
  std::vector<Timestamp> at_;
  std::vector<Event> events_;
  std::vector<std::string> ids_;
  std::vector<boost::json::object> data_;
};

// ---- the 50-state chain -----------------------------------------------------------------------

constexpr int kChainStates = 50;

std::string chain_yaml() {
  std::string y = "workflow: chain\ninitial: s0\nstates:\n";
  for (int i = 0; i < kChainStates; ++i) {
    y += "  s" + std::to_string(i) + ":\n    on: {e" + std::to_string(i) + ": s" +
         std::to_string((i + 1) % kChainStates) + "}\n";
  }
  return y;
}

Throughput run_chain(const Definition& def, std::size_t instances, std::size_t steps_each) {
  const StepContext ctx;
  const Timestamp now = date::sys_days{date::year{2026} / 11 / 30};
  std::vector<Event> events;
  events.reserve(kChainStates);
  for (int i = 0; i < kChainStates; ++i)
    events.push_back(Event{"e" + std::to_string(i), {}, std::nullopt, ""});
  std::vector<Instance> live;
  live.reserve(instances);
  for (std::size_t i = 0; i < instances; ++i) {
    Outcome out = start(def, "chain-" + std::to_string(i), {}, now, ctx);
    expect_handled(out, "chain start");
    live.push_back(std::move(out.instance));
  }
  Throughput t;
  const double begin = cpu_seconds();
  for (std::size_t s = 0; s < steps_each; ++s) {
    const Event& ev = events[s % kChainStates];
    for (std::size_t i = 0; i < instances; ++i) {
      Outcome out = step(def, live[i], ev, now, ctx);
      expect_handled(out, "chain step");
      t.transitions += transitions_in(out);
      live[i] = std::move(out.instance);
    }
    t.calls += instances;
  }
  t.seconds = cpu_seconds() - begin;
  if (t.transitions != t.calls) die("chain: expected one transition per step");
  return t;
}

// ---- idle instances ---------------------------------------------------------------------------

struct IdleFigures {
  std::size_t count = 0;
  double bytes_per_instance = 0;
  double resident_per_instance = 0;  // growth of VmRSS, for reference
  double json_bytes = 0;
  // Where the bytes go, per instance: the same parts copied on their own.
  double data_bytes = 0;
  double slas_bytes = 0;
  double timers_bytes = 0;
  // The shape of one parked instance.
  std::size_t data_fields = 0, data_capacity = 0, slas = 0, slas_capacity = 0, timers = 0,
              timers_capacity = 0, incidents = 0;
};

template <typename Part>
double heap_per_copy(const std::vector<Instance>& parked, const Part& part) {
  using T = std::decay_t<decltype(part(parked.front()))>;
  const std::size_t before = heap_bytes();
  std::vector<T> copies;
  copies.reserve(parked.size());
  for (const Instance& in : parked) copies.push_back(part(in));
  return static_cast<double>(heap_bytes() - before) / static_cast<double>(parked.size());
}

IdleFigures measure_idle(ComplaintLifecycle& lifecycle, std::size_t count) {
  lifecycle.prepare(count);
  IdleFigures f;
  f.count = count;
  const std::size_t before = heap_bytes();
  const std::size_t resident_before = bench::HeapMeter::resident();
  {
    std::vector<Instance> parked;
    parked.reserve(count);
    for (std::size_t i = 0; i < count; ++i) parked.push_back(lifecycle.park(i, 3));
    f.bytes_per_instance = static_cast<double>(heap_bytes() - before) / static_cast<double>(count);
    f.resident_per_instance =
        (static_cast<double>(bench::HeapMeter::resident()) - static_cast<double>(resident_before)) /
        static_cast<double>(count);
    const Instance& first = parked.front();
    if (first.state != "waiting_customer") die("idle: not parked in waiting_customer");
    f.data_fields = first.data.size();
    f.data_capacity = first.data.capacity();
    f.slas = first.slas.size();
    f.slas_capacity = first.slas.capacity();
    f.timers = first.timers.size();
    f.timers_capacity = first.timers.capacity();
    f.incidents = first.incidents.size();

    std::size_t json = 0;
    for (const Instance& in : parked) json += boost::json::serialize(to_json(in)).size();
    f.json_bytes = static_cast<double>(json) / static_cast<double>(count);

    f.data_bytes = heap_per_copy(parked, [](const Instance& in) { return in.data; });
    f.slas_bytes = heap_per_copy(parked, [](const Instance& in) { return in.slas; });
    f.timers_bytes = heap_per_copy(parked, [](const Instance& in) { return in.timers; });
  }
  return f;
}

// ---- main -------------------------------------------------------------------------------------

struct Options {
  std::string config = OMBUD_SOURCE_DIR "/config/ombud.yaml";
  std::string workflow = OMBUD_SOURCE_DIR "/workflows/complaint.yaml";
  int repeat = 3;
  std::size_t idle = 100000;
  double scale = 1.0;
  std::string only;  // "complaint", "chain" or "idle": run just that part (for profiling)
};

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) die("missing value after " + std::string(arg));
    const char* v = argv[++i];
    if (arg == "--config") {
      o.config = v;
    } else if (arg == "--workflow") {
      o.workflow = v;
    } else if (arg == "--repeat") {
      o.repeat = std::max(1, std::atoi(v));
    } else if (arg == "--idle") {
      o.idle = static_cast<std::size_t>(std::max(1L, std::atol(v)));
    } else if (arg == "--scale") {
      o.scale = std::max(0.01, std::atof(v));
    } else if (arg == "--only" &&
               (std::string_view(v) == "complaint" || std::string_view(v) == "chain" ||
                std::string_view(v) == "idle")) {
      o.only = v;
    } else {
      die("unknown option " + std::string(arg) +
          " (usage: step_bench [--config F] [--workflow F] [--repeat N] [--idle N] [--scale X]"
          " [--only complaint|chain|idle])");
    }
  }
  return o;
}

std::size_t scaled(std::size_t n, double scale) {
  return std::max<std::size_t>(1, static_cast<std::size_t>(static_cast<double>(n) * scale));
}

void print_throughput(const char* what, const Throughput& t) {
  std::printf("%-38s %12.0f transitions/s %9.1f ns/step  (%llu transitions, %.3f s CPU)\n", what,
              t.per_second(), t.ns_per_step(), static_cast<unsigned long long>(t.transitions),
              t.seconds);
}

std::string json_throughput(const char* key, const Throughput& t) {
  char buf[256];
  std::snprintf(buf, sizeof buf, R"("%s_transitions_per_s":%.0f,"%s_ns_per_step":%.1f)", key,
                t.per_second(), key, t.ns_per_step());
  return buf;
}

int run(int argc, char** argv) {
  const Options o = parse_options(argc, argv);

  Diagnostics diags;
  const std::optional<Config> config = yaml::load_config_file(o.config, diags);
  if (!config || diags.has_errors()) {
    print_diagnostics(diags);
    die("cannot load " + o.config);
  }
  const yaml::WorkflowSet set = yaml::load_workflow_set({o.workflow}, &*config, false, diags);
  if (diags.has_errors() || set.definitions.size() != 1) {
    print_diagnostics(diags);
    die("cannot load " + o.workflow);
  }
  const Definition& complaint = set.definitions.front();

  Diagnostics chain_diags;
  const std::optional<Definition> chain =
      yaml::load_workflow("chain.yaml", chain_yaml(), chain_diags);
  if (!chain || chain_diags.has_errors()) {
    print_diagnostics(chain_diags);
    die("cannot load the chain machine");
  }

  const NamedCalendars calendars(*config);
  const ConfigDirectory directory(*config);
  const FixedWorkload workload;
  StepContext ctx;
  ctx.calendars = &calendars;
  ctx.directory = &directory;
  ctx.workload = &workload;
  ctx.actor_roles = {"agent"};  // events arrive from the API, sent by the handler
  ctx.enforce_roles = true;

  ComplaintLifecycle lifecycle(complaint, ctx);
  std::printf("ombud step_bench: %s, one core, CPU time, best of %d\n", complaint.name.c_str(),
              o.repeat);

  const auto wanted = [&](std::string_view part) { return o.only.empty() || o.only == part; };
  Throughput c1, c10k, ch1, ch10k;
  if (wanted("complaint")) {
    lifecycle.run(1000, 1);  // warm-up: caches, allocator arenas, lazily built tz data
    c1 = best_of(o.repeat, [&] { return lifecycle.run(1, scaled(20000, o.scale)); });
    print_throughput("complaint lifecycle, 1 instance", c1);
    const std::size_t rounds_10k = scaled(2, o.scale);
    c10k = best_of(o.repeat, [&] { return lifecycle.run(10000, rounds_10k); });
    print_throughput("complaint lifecycle, 10k instances", c10k);
    std::printf("  CPU time per call by phase: %s\n",
                lifecycle.phase_breakdown(c10k, 10000, rounds_10k).c_str());
  }
  if (wanted("chain")) {
    ch1 = best_of(o.repeat, [&] { return run_chain(*chain, 1, scaled(500000, o.scale)); });
    print_throughput("50-state chain, 1 instance", ch1);
    ch10k = best_of(o.repeat, [&] { return run_chain(*chain, 10000, scaled(50, o.scale)); });
    print_throughput("50-state chain, 10k instances", ch10k);
  }
  if (!wanted("idle")) return 0;

  const IdleFigures idle = measure_idle(lifecycle, o.idle);
  std::printf(
      "idle complaint (waiting_customer), %zu instances: %.0f bytes/instance "
      "(%s growth; sizeof(Instance) = %zu)\n",
      idle.count, idle.bytes_per_instance, bench::heap().measure(), sizeof(Instance));
  std::printf(
      "  shape: data %zu fields (capacity %zu), %zu SLA clocks (capacity %zu, sizeof %zu), "
      "%zu timers (capacity %zu, sizeof %zu), %zu incidents\n",
      idle.data_fields, idle.data_capacity, idle.slas, idle.slas_capacity, sizeof(SlaClock),
      idle.timers, idle.timers_capacity, sizeof(PendingTimer), idle.incidents);
  std::printf(
      "  copied on their own (exact capacity, inline size included): data %.0f B, slas %.0f B, "
      "timers %.0f B\n",
      idle.data_bytes, idle.slas_bytes, idle.timers_bytes);
  std::printf("  resident memory (VmRSS) grew by %.0f bytes/instance\n",
              idle.resident_per_instance);
  std::printf("idle complaint, serialize(to_json(instance)): %.0f bytes/instance\n",
              idle.json_bytes);
  if (!o.only.empty()) return 0;

  std::printf(
      "{\"bench\":\"ombud_step\",\"workflow\":\"%s\",\"clock\":\"process_cpu\",\"repeat\":%d,%s,%s,"
      "%s,%s,"
      "\"idle_instances\":%zu,\"idle_bytes_per_instance\":%.0f,\"idle_json_bytes\":%.0f,"
      "\"idle_data_bytes\":%.0f,\"idle_slas_bytes\":%.0f,\"idle_timers_bytes\":%.0f,"
      "\"sizeof_instance\":%zu}\n",
      complaint.name.c_str(), o.repeat, json_throughput("complaint_1", c1).c_str(),
      json_throughput("complaint_10k", c10k).c_str(), json_throughput("chain_1", ch1).c_str(),
      json_throughput("chain_10k", ch10k).c_str(), idle.count, idle.bytes_per_instance,
      idle.json_bytes, idle.data_bytes, idle.slas_bytes, idle.timers_bytes, sizeof(Instance));
  return 0;
}

}  // namespace
}  // namespace ombud

int main(int argc, char** argv) { return ombud::run(argc, argv); }
