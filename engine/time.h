// Instants and durations as the engine sees them.
//
// Every instant is UTC with millisecond resolution; time zones exist only inside business
// calendars and in what is shown to people. A Duration keeps working days apart from clock time
// because, in a business calendar, "2d" means "the same wall-clock time two open days later",
// which no fixed number of milliseconds can express.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ombud {

using Millis = std::chrono::milliseconds;
using Timestamp = std::chrono::sys_time<Millis>;

struct Duration {
  std::int64_t days = 0;  // working days in a calendar, 24h days on the wall clock; `1w` = 5
  Millis clock{0};        // the h/m/s part: open time in a calendar, elapsed time on the wall

  // The duration measured on the wall clock (a day is 24h, so `1w` is 5 × 24h).
  Millis wall_clock() const { return clock + std::chrono::hours(24) * days; }
  bool is_zero() const { return days == 0 && clock.count() == 0; }

  friend bool operator==(const Duration&, const Duration&) = default;
};

// Parses `30s`, `15m`, `4h`, `2d`, `1w` and combinations such as `1d4h` or `1h30m` (units in
// descending order, each at most once, whole numbers only). Returns nullopt on anything else,
// including the empty string and values that would overflow.
std::optional<Duration> parse_duration(std::string_view text);

// The canonical spelling of a duration (`1d4h`, `90s` → `1m30s`; zero is `0s`).
std::string format_duration(const Duration& d);

// Parses an RFC 3339 instant: `2026-11-23T09:00:00+08:00`, `2026-11-23T01:00:00.250Z`,
// `2026-11-23 09:00:00Z`. A zone designator is required. Returns nullopt when malformed or
// when a field is out of range (month 13, 25:00, Feb 30).
std::optional<Timestamp> parse_timestamp(std::string_view text);

// `2026-11-23T01:00:00Z` (milliseconds shown only when non-zero).
std::string format_timestamp(Timestamp t);

}  // namespace ombud
