// Cron lines for `schedule:`: five fields (minute hour day-of-month month day-of-week) with
// `*`, lists `1,15`, ranges `1-5`, steps `*/15` and `8-18/2`, month names JAN..DEC and day
// names SUN..SAT (0 and 7 are both Sunday). As in Vixie cron, when both day fields are
// restricted a day matches if either does.
#pragma once

#include <bitset>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <date/date.h>

namespace ombud {

struct CronSpec {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;  // bit 1..31
  std::bitset<13> months;         // bit 1..12
  std::bitset<7> days_of_week;    // bit 0 = Sunday
  bool dom_restricted = false;
  bool dow_restricted = false;

  // True when the local calendar day and time (minute resolution) match.
  bool matches(date::local_seconds t) const;

  // The first local minute strictly after `t` that matches; nullopt if and only if the spec
  // never matches (such as `0 0 30 2 *`). The search is bounded (one 400-year calendar cycle).
  std::optional<date::local_seconds> next_after(date::local_seconds t) const;
};

struct CronError {
  std::size_t offset = 0;  // byte offset into the cron text
  std::string message;
};

std::variant<CronSpec, CronError> parse_cron(std::string_view text);

}  // namespace ombud
