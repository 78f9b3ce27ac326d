#include "engine/cron.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

namespace ombud {

namespace {

// ---- Parsing ----------------------------------------------------------------------------------

struct Field {
  std::string_view name;  // as used in messages: "minute", "day-of-week", ...
  int min;
  int max;       // the largest value accepted as written (7 for day-of-week: Sunday again)
  int open_max;  // the upper end of `*` and `N/step`; 6 for day-of-week so Sunday counts once
  const std::string_view* names = nullptr;  // 3-letter names for min, min+1, ... (or none)
  std::string_view names_hint;              // "JAN-DEC" / "SUN-SAT"
};

constexpr std::array<std::string_view, 12> kMonthNames{"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kDayNames{"SUN", "MON", "TUE", "WED",
                                                    "THU", "FRI", "SAT"};

constexpr std::array<Field, 5> kFields{{
    {"minute", 0, 59, 59, nullptr, ""},
    {"hour", 0, 23, 23, nullptr, ""},
    {"day-of-month", 1, 31, 31, nullptr, ""},
    {"month", 1, 12, 12, kMonthNames.data(), "JAN-DEC"},
    {"day-of-week", 0, 7, 6, kDayNames.data(), "SUN-SAT"},
}};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char to_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_upper(a[i]) != to_upper(b[i])) return false;
  }
  return true;
}

std::string range_text(const Field& f) {
  return std::to_string(f.min) + "-" + std::to_string(f.max);
}

// Parses one field's text (no whitespace inside) into a bit mask of values. `base` is the byte
// offset of the field in the whole cron line, so every error points into the caller's text.
class FieldParser {
 public:
  FieldParser(const Field& field, std::string_view text, std::size_t base)
      : field_(field), text_(text), base_(base) {}

  std::optional<CronError> parse(std::uint64_t& mask) {
    mask = 0;
    std::size_t item_start = 0;
    while (true) {
      const std::size_t comma = text_.find(',', item_start);
      const std::size_t item_end = comma == std::string_view::npos ? text_.size() : comma;
      if (item_end == item_start) {
        return error(item_start, "empty list item in " + std::string(field_.name) + " field");
      }
      if (auto err = parse_item(item_start, item_end, mask)) return err;
      if (comma == std::string_view::npos) return std::nullopt;
      item_start = comma + 1;
    }
  }

 private:
  CronError error(std::size_t pos, std::string message) const {
    return CronError{base_ + pos, std::move(message)};
  }

  // The maximal run of letters and digits at `pos`.
  std::string_view token_at(std::size_t pos, std::size_t end) const {
    std::size_t stop = pos;
    while (stop < end && (is_digit(text_[stop]) || is_alpha(text_[stop]))) ++stop;
    return text_.substr(pos, stop - pos);
  }

  CronError unexpected(std::size_t pos) const {
    return error(pos, "unexpected '" + std::string(1, text_[pos]) + "' in " +
                          std::string(field_.name) + " field");
  }

  // A number or (month and day-of-week only) a 3-letter name, checked against the field's range.
  std::optional<CronError> parse_value(std::size_t pos, std::size_t end, int& value,
                                       std::size_t& next) const {
    const std::string_view token = token_at(pos, end);
    if (token.empty()) return unexpected(pos);
    next = pos + token.size();
    const std::string name(field_.name);
    bool all_digits = true;
    bool all_alpha = true;
    for (char c : token) {
      all_digits = all_digits && is_digit(c);
      all_alpha = all_alpha && is_alpha(c);
    }
    if (all_digits) {
      // Four digits already exceed every range; stopping there keeps the arithmetic small.
      value = 0;
      for (std::size_t i = 0; i < token.size() && i < 4; ++i) value = value * 10 + (token[i] - '0');
      if (token.size() > 4 || value < field_.min || value > field_.max) {
        return error(pos,
                     name + " " + std::string(token) + " is out of range " + range_text(field_));
      }
      return std::nullopt;
    }
    if (field_.names != nullptr && all_alpha) {
      const int count = field_.open_max - field_.min + 1;
      for (int i = 0; i < count; ++i) {
        if (equals_ignore_case(token, field_.names[i])) {
          value = field_.min + i;
          return std::nullopt;
        }
      }
      return error(pos, "unknown " + name + " name '" + std::string(token) + "' (expected " +
                            std::string(field_.names_hint) + ")");
    }
    std::string expected = "a number " + range_text(field_);
    if (field_.names != nullptr) expected += " or a name " + std::string(field_.names_hint);
    return error(pos,
                 "invalid " + name + " '" + std::string(token) + "' (expected " + expected + ")");
  }

  std::optional<CronError> parse_step(std::size_t pos, std::size_t end, int& step,
                                      std::size_t& next) const {
    const std::string name(field_.name);
    const std::string_view token = token_at(pos, end);
    if (token.empty()) {
      if (pos == end) return error(pos, "missing step after '/' in " + name + " field");
      return unexpected(pos);
    }
    next = pos + token.size();
    for (char c : token) {
      if (!is_digit(c)) {
        return error(pos, "invalid " + name + " step '" + std::string(token) + "'");
      }
    }
    step = 0;
    for (std::size_t i = 0; i < token.size() && i < 4; ++i) step = step * 10 + (token[i] - '0');
    // A step as large as the field's top value still selects the first value; anything larger is
    // almost certainly a typo.
    if (token.size() > 4 || step < 1 || step > field_.max) {
      return error(pos, name + " step " + std::string(token) + " is out of range 1-" +
                            std::to_string(field_.max));
    }
    return std::nullopt;
  }

  // item := ( '*' | value [ '-' value ] ) [ '/' step ]; `N/step` runs from N to the field's top.
  std::optional<CronError> parse_item(std::size_t pos, std::size_t end, std::uint64_t& mask) {
    int lo = 0;
    int hi = 0;
    bool open_ended = false;
    std::size_t next = pos;
    if (text_[pos] == '*') {
      lo = field_.min;
      hi = field_.open_max;
      next = pos + 1;
    } else {
      if (auto err = parse_value(pos, end, lo, next)) return err;
      hi = lo;
      if (next < end && text_[next] == '-') {
        const std::size_t hi_pos = next + 1;
        if (hi_pos == end) {
          return error(hi_pos, "missing end of range in " + std::string(field_.name) + " field");
        }
        if (auto err = parse_value(hi_pos, end, hi, next)) return err;
        if (hi < lo) {
          return error(pos, std::string(field_.name) + " range " +
                                std::string(text_.substr(pos, next - pos)) +
                                " runs backwards (start after end)");
        }
      } else {
        open_ended = true;
      }
    }
    int step = 1;
    if (next < end && text_[next] == '/') {
      if (auto err = parse_step(next + 1, end, step, next)) return err;
      // `7/2` in day-of-week starts beyond the open range: it can only mean Sunday.
      if (open_ended) hi = std::max(lo, field_.open_max);
    }
    if (next < end) return unexpected(next);
    for (int v = lo; v <= hi; v += step) mask |= std::uint64_t{1} << v;
    return std::nullopt;
  }

  const Field& field_;
  std::string_view text_;
  std::size_t base_;
};

template <std::size_t N>
void copy_bits(std::uint64_t mask, std::bitset<N>& out) {
  for (std::size_t i = 0; i < N; ++i) out[i] = ((mask >> i) & 1U) != 0;
}

// ---- Matching ---------------------------------------------------------------------------------

// One Gregorian cycle: after 400 years every date falls on the same weekday again, so a spec that
// has not matched within it never will. Specs that can match at all are found long before this
// (and impossible ones are rejected up front), so the bound is a safety net, not a cost.
constexpr date::days kSearchHorizon{146'097 + 1};

bool day_matches(const CronSpec& spec, const date::year_month_day& ymd, date::weekday wd) {
  const bool dom = spec.days_of_month[static_cast<unsigned>(ymd.day())];
  const bool dow = spec.days_of_week[wd.c_encoding()];
  // Vixie cron: two restricted day fields widen the match instead of narrowing it.
  if (spec.dom_restricted && spec.dow_restricted) return dom || dow;
  return dom && dow;
}

// Whether some (month, day-of-month) pair allowed by the spec exists in some year (29 February
// counts: it exists in leap years).
bool some_month_day_exists(const CronSpec& spec) {
  constexpr std::array<unsigned, 13> kMaxDays{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  for (unsigned m = 1; m <= 12; ++m) {
    if (!spec.months[m]) continue;
    for (unsigned d = 1; d <= kMaxDays[m]; ++d) {
      if (spec.days_of_month[d]) return true;
    }
  }
  return false;
}

// Exact: every allowed (month, day) pair and every weekday meet within one 400-year cycle.
bool can_ever_match(const CronSpec& spec) {
  if (spec.minutes.none() || spec.hours.none() || spec.months.none()) return false;
  if (spec.dom_restricted && spec.dow_restricted) {
    // Every month contains every weekday.
    return spec.days_of_week.any() || some_month_day_exists(spec);
  }
  return spec.days_of_week.any() && some_month_day_exists(spec);
}

// The first matching minute of the day at or after `from` (minutes since midnight), if any.
std::optional<int> first_time_from(const CronSpec& spec, int from) {
  for (int h = from / 60; h < 24; ++h) {
    if (!spec.hours[static_cast<std::size_t>(h)]) continue;
    for (int m = h == from / 60 ? from % 60 : 0; m < 60; ++m) {
      if (spec.minutes[static_cast<std::size_t>(m)]) return h * 60 + m;
    }
  }
  return std::nullopt;
}

}  // namespace

std::variant<CronSpec, CronError> parse_cron(std::string_view text) {
  std::array<std::size_t, 5> starts{};
  std::array<std::string_view, 5> fields;
  std::size_t count = 0;
  std::size_t pos = 0;
  while (true) {
    while (pos < text.size() && is_space(text[pos])) ++pos;
    if (pos == text.size()) break;
    const std::size_t start = pos;
    while (pos < text.size() && !is_space(text[pos])) ++pos;
    if (count == fields.size()) {
      // Count the rest so the message says how many there are.
      std::size_t total = count + 1;
      while (true) {
        while (pos < text.size() && is_space(text[pos])) ++pos;
        if (pos == text.size()) break;
        ++total;
        while (pos < text.size() && !is_space(text[pos])) ++pos;
      }
      return CronError{start, "expected 5 fields, found " + std::to_string(total)};
    }
    starts[count] = start;
    fields[count] = text.substr(start, pos - start);
    ++count;
  }
  if (count != fields.size()) {
    return CronError{text.size(), "expected 5 fields, found " + std::to_string(count)};
  }

  std::array<std::uint64_t, 5> masks{};
  for (std::size_t i = 0; i < fields.size(); ++i) {
    FieldParser parser(kFields[i], fields[i], starts[i]);
    if (auto err = parser.parse(masks[i])) return *err;
  }
  // Sunday may be written 0 or 7; the spec keeps it as bit 0.
  if ((masks[4] >> 7) & 1U) masks[4] = (masks[4] & ~(std::uint64_t{1} << 7)) | 1U;

  CronSpec spec;
  copy_bits(masks[0], spec.minutes);
  copy_bits(masks[1], spec.hours);
  copy_bits(masks[2], spec.days_of_month);
  copy_bits(masks[3], spec.months);
  copy_bits(masks[4], spec.days_of_week);
  // As in Vixie cron (and cronie), a day field counts as restricted unless it starts with `*`,
  // so `*/2` is unrestricted for the either-day rule. Existing crontabs behave the same here.
  spec.dom_restricted = fields[2].front() != '*';
  spec.dow_restricted = fields[4].front() != '*';
  return spec;
}

bool CronSpec::matches(date::local_seconds t) const {
  const auto day = date::floor<date::days>(t);
  const date::year_month_day ymd{day};
  const auto minute_of_day = date::floor<std::chrono::minutes>(t - day).count();
  return minutes[static_cast<std::size_t>(minute_of_day % 60)] &&
         hours[static_cast<std::size_t>(minute_of_day / 60)] &&
         months[static_cast<unsigned>(ymd.month())] && day_matches(*this, ymd, date::weekday{day});
}

std::optional<date::local_seconds> CronSpec::next_after(date::local_seconds t) const {
  if (!can_ever_match(*this)) return std::nullopt;
  const auto first = date::floor<std::chrono::minutes>(t) + std::chrono::minutes{1};
  auto day = date::floor<date::days>(first);
  int from = static_cast<int>((first - day).count());
  const auto last_day = day + kSearchHorizon;
  // Walk day by day, skipping whole months that are not allowed; within a matching day the time
  // search skips whole hours. Nothing here is per-minute except the final scan of one hour.
  while (day <= last_day) {
    const date::year_month_day ymd{day};
    if (!months[static_cast<unsigned>(ymd.month())]) {
      day = date::local_days{(ymd.year() / ymd.month() + date::months{1}) / 1};
      from = 0;
      continue;
    }
    if (day_matches(*this, ymd, date::weekday{day})) {
      if (auto minute = first_time_from(*this, from)) {
        return date::local_seconds{day} + std::chrono::minutes{*minute};
      }
    }
    day += date::days{1};
    from = 0;
  }
  return std::nullopt;
}

}  // namespace ombud
