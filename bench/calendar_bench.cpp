// How long BusinessCalendar::add and ::working_time take on typical inputs, against the goal of
// at most 1 µs per call. Prints nanoseconds per call and the ratio to the goal (below 1 is
// better than the goal). Run it from a Release build:
//
//   cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release
//   cmake --build build-release --target calendar_bench
//   build-release/bench/calendar_bench
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "engine/calendar.h"

namespace {

using ombud::BusinessCalendar;
using ombud::CalendarSpec;
using ombud::Duration;
using ombud::Millis;
using ombud::TimeRange;
using ombud::Timestamp;

constexpr int kCalls = 1 << 20;
constexpr double kGoalNs = 1000.0;

date::sys_days day(int y, unsigned m, unsigned d) {
  return date::sys_days{date::year{y} / date::month{m} / date::day{d}};
}

// The head office from config/ombud.yaml: split shift, the 2026 holidays and make-up days.
CalendarSpec office() {
  CalendarSpec s;
  s.name = "office";
  s.timezone = "Asia/Shanghai";
  for (std::size_t wd = 0; wd < 5; ++wd) s.hours[wd] = {{540, 720}, {810, 1080}};
  s.holidays = {{day(2026, 1, 1), day(2026, 1, 3)},   {day(2026, 2, 15), day(2026, 2, 23)},
                {day(2026, 4, 4), day(2026, 4, 6)},   {day(2026, 5, 1), day(2026, 5, 5)},
                {day(2026, 6, 19), day(2026, 6, 21)}, {day(2026, 9, 25), day(2026, 9, 27)},
                {day(2026, 10, 1), day(2026, 10, 7)}};
  s.workdays = {{day(2026, 1, 4), {}},  {day(2026, 2, 14), {{540, 720}, {810, 1020}}},
                {day(2026, 2, 28), {}}, {day(2026, 5, 9), {}},
                {day(2026, 9, 20), {}}, {day(2026, 10, 10), {}}};
  return s;
}

// A 9-to-5 weekday calendar in a zone with DST.
CalendarSpec new_york() {
  CalendarSpec s;
  s.name = "new-york";
  s.timezone = "America/New_York";
  for (std::size_t wd = 0; wd < 5; ++wd) s.hours[wd] = {TimeRange{540, 1020}};
  return s;
}

BusinessCalendar make(const CalendarSpec& spec) {
  auto result = BusinessCalendar::make(spec);
  if (auto* err = std::get_if<std::string>(&result)) {
    std::fprintf(stderr, "%s\n", err->c_str());
    std::exit(1);
  }
  return std::get<BusinessCalendar>(result);
}

// Start instants spread over 2026, at millisecond resolution.
std::vector<Timestamp> starts(std::mt19937_64& rng, std::size_t n) {
  const Timestamp first = date::sys_days{date::year{2026} / 1 / 1};
  std::uniform_int_distribution<std::int64_t> offset(0, 364LL * 86'400'000);
  std::vector<Timestamp> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(first + Millis(offset(rng)));
  return out;
}

volatile std::int64_t g_sink = 0;  // keeps the optimiser from dropping the calls

struct Timing {
  double cpu_ns;   // processor time per call: what the goal is about
  double wall_ns;  // elapsed time per call: higher when other processes share the cores
};

template <typename Call>
Timing ns_per_call(const Call& call) {
  std::int64_t sink = 0;
  for (std::size_t i = 0; i < 10'000; ++i) sink += call(i);  // warm-up
  const std::clock_t c0 = std::clock();
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < static_cast<std::size_t>(kCalls); ++i) sink += call(i);
  const auto t1 = std::chrono::steady_clock::now();
  const std::clock_t c1 = std::clock();
  g_sink = g_sink + sink;
  return {1e9 * static_cast<double>(c1 - c0) / CLOCKS_PER_SEC / kCalls,
          std::chrono::duration<double, std::nano>(t1 - t0).count() / kCalls};
}

void report(const char* what, const char* calendar, Timing t) {
  std::printf("%-40s %-9s %7.1f ns  %5.3f x goal   (wall %7.1f ns)\n", what, calendar, t.cpu_ns,
              t.cpu_ns / kGoalNs, t.wall_ns);
}

}  // namespace

int main() {
  std::mt19937_64 rng(20261001);
  constexpr std::size_t kInputs = 4096;  // a power of two: index with a mask
  const std::vector<Timestamp> from = starts(rng, kInputs);
  std::vector<Millis> short_spans;  // 1 to 8 hours
  std::vector<Millis> long_spans;   // 1 hour to 14 days
  std::uniform_int_distribution<std::int64_t> hours_ms(3'600'000, 8LL * 3'600'000);
  std::uniform_int_distribution<std::int64_t> weeks_ms(3'600'000, 14LL * 86'400'000);
  for (std::size_t i = 0; i < kInputs; ++i) {
    short_spans.emplace_back(hours_ms(rng));
    long_spans.emplace_back(weeks_ms(rng));
  }
  const auto h = [](int n) { return Duration{0, std::chrono::hours(n)}; };
  const auto mask = [](std::size_t i) { return i & (kInputs - 1); };
  const auto value = [](std::optional<Timestamp> t) {
    return t ? t->time_since_epoch().count() : std::int64_t{0};
  };

  std::printf("BusinessCalendar: CPU time per call over %d calls, goal 1 us per call\n", kCalls);
  for (const CalendarSpec& spec : {office(), new_york()}) {
    const BusinessCalendar cal = make(spec);
    const char* name = spec.name.c_str();
    report("add 4h", name,
           ns_per_call([&](std::size_t i) { return value(cal.add(from[mask(i)], h(4))); }));
    report("add 2d", name, ns_per_call([&](std::size_t i) {
             return value(cal.add(from[mask(i)], Duration{2, Millis(0)}));
           }));
    report("add 1d4h", name, ns_per_call([&](std::size_t i) {
             return value(cal.add(from[mask(i)], Duration{1, std::chrono::hours(4)}));
           }));
    report("add 40h (about a week of open time)", name,
           ns_per_call([&](std::size_t i) { return value(cal.add(from[mask(i)], h(40))); }));
    report("add 75h (about two weeks of open time)", name,
           ns_per_call([&](std::size_t i) { return value(cal.add(from[mask(i)], h(75))); }));
    report("working_time over 1-8 h", name, ns_per_call([&](std::size_t i) {
             return cal.working_time(from[mask(i)], from[mask(i)] + short_spans[mask(i)]).count();
           }));
    report("working_time over 1 h - 14 days", name, ns_per_call([&](std::size_t i) {
             return cal.working_time(from[mask(i)], from[mask(i)] + long_spans[mask(i)]).count();
           }));
  }
  return 0;
}
