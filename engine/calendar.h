// Business calendars: when an office is open, and durations measured in its open time.
//
// A calendar is built once from a CalendarSpec (config.h) and is immutable afterwards: every
// member function is const and keeps no cache, so one calendar may be shared by any number of
// threads without locking; copies are cheap and share the precomputed tables.
//
// Which local days are open, and when:
//   - A make-up workday uses its own hours (Monday's when none are given) and overrides both
//     the weekly hours and the holidays: a workday listed inside a holiday range is worked,
//     because naming one specific date is the more deliberate statement.
//   - Otherwise a holiday is closed all day.
//   - Otherwise the weekly hours of that weekday apply.
// Open hours are wall-clock intervals [start, end) of the local day: 09:00 is open, 18:00 is
// not for "09:00-18:00". An instant is open when its local date and local time fall inside one.
// Around DST changes this means, exactly:
//   - a shift across a nonexistent local hour (spring forward) counts only the time that exists:
//     01:00-04:00 on 2026-03-08 in America/New_York is 2 h of open time;
//   - a shift across a repeated local hour (fall back) counts both occurrences: 01:00-04:00 on
//     2026-11-01 in America/New_York is 4 h; "01:30-02:00" that day is two half hours.
// Offsets come from date/tz and the system tzdata. Note: date 3.0.1 reads only the explicit
// transitions of the TZif files (up to 2037) and then keeps the last offset, so DST after 2037
// is not modelled.
//
// Instants are modelled within [kEarliest, kLatest); outside that range every calendar is
// closed (is_open is false, nothing is counted, next_open and add return nullopt).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include <date/date.h>

#include "engine/config.h"
#include "engine/time.h"

namespace ombud {

class BusinessCalendar {
 public:
  static constexpr Timestamp kEarliest =
      std::chrono::sys_days{std::chrono::year{1900} / std::chrono::January / 1};
  static constexpr Timestamp kLatest =
      std::chrono::sys_days{std::chrono::year{2400} / std::chrono::January / 1};

  // How far next_open and add look ahead: a result later than start + kHorizon (ten years) is
  // reported as nullopt, which bounds the work of every call even for a calendar that is never
  // open again or a duration of a million days.
  static constexpr std::chrono::days kHorizon{3653};

  // Resolves the time zone and precomputes the calendar. Returns an error message naming the
  // calendar when the zone is unknown, when a range of open hours is not within one day
  // (0 <= start < end <= 1440), when a holiday range ends before it begins, when a workday is
  // listed twice, or when the calendar has no open hours at all ("calendar 'x' is never open").
  // Overlapping or unsorted ranges of open hours are merged.
  static std::variant<BusinessCalendar, std::string> make(const CalendarSpec& spec);

  // The `calendar: none` case: always open, so durations are elapsed time and a day is 24 h.
  static BusinessCalendar wall_clock();

  // The spec's name, or "none" for the wall clock.
  const std::string& name() const;

  bool is_open(Timestamp t) const;

  // The wall-clock time at t in the calendar's zone (UTC for the wall clock), e.g. to tell which
  // local date an instant falls on. Outside the supported range the nearest known offset is used.
  date::local_time<Millis> local_time(Timestamp t) const;

  // The first open instant at or after t (t itself when open); nullopt when there is none
  // before t + kHorizon.
  std::optional<Timestamp> next_open(Timestamp t) const;

  // The deadline `d` after `start`, measured in this calendar:
  //   1. d.days (working days; `1w` is already 5 of them) first: from next_open(start), the same
  //      local wall-clock time on the d.days-th open day after that instant's local date (an
  //      open day is a local date with any open time); if that local time does not exist (DST
  //      gap) the instant the clocks jump is used, if it is repeated the first occurrence; if
  //      the instant is closed, the next open instant.
  //   2. then d.clock of open time: the earliest instant by which that much open time has passed
  //      since the instant from step 1. Open time counts from the next opening when that instant
  //      is closed, and a deadline that uses up a shift exactly lands on the shift's end (09:00 +
  //      3h with "09:00-12:00, 13:30-18:00" is 12:00, not 13:30).
  // A zero duration returns start itself, open or not. Returns nullopt when start is outside
  // [kEarliest, kLatest), when a part of d is negative, or when the result would be later than
  // start + kHorizon (or kLatest). The wall clock returns start + d.wall_clock() under the same
  // limits.
  std::optional<Timestamp> add(Timestamp start, Duration d) const;

  // add(start, Duration{0, open_times[k]}) for every k, into out[k], in one walk over the open
  // hours instead of one walk per duration (an SLA clock arms a timer per escalation level, all
  // from the same instant). `open_times` must be in ascending order; `out` has the same size.
  void add_each(Timestamp start, std::span<const Millis> open_times,
                std::span<std::optional<Timestamp>> out) const;

  // The open time within [a, b); zero when b <= a. Exact to the millisecond, for any span
  // (the cost grows with the number of holidays, make-up days and offset changes in it, not with
  // its length: whole days and weeks of weekly hours are summed, not walked).
  Millis working_time(Timestamp a, Timestamp b) const;

 private:
  class Impl;
  explicit BusinessCalendar(std::shared_ptr<const Impl> impl);

  std::shared_ptr<const Impl> impl_;
};

}  // namespace ombud
