#include <date/date.h>

#include <array>
#include <charconv>
#include <limits>

#include "engine/time.h"

namespace ombud {

namespace {

struct Unit {
  char symbol;
  std::int64_t days;  // per unit, for d and w
  std::int64_t ms;    // per unit, for h, m, s
};

constexpr std::array<Unit, 5> kUnits{{
    {'w', 5, 0},
    {'d', 1, 0},
    {'h', 0, 3'600'000},
    {'m', 0, 60'000},
    {'s', 0, 1'000},
}};

constexpr std::int64_t kMaxAmount = 1'000'000;  // far beyond any SLA; keeps arithmetic safe

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  Duration out;
  std::size_t next_unit = 0;  // units must appear in descending order, each once
  std::size_t i = 0;
  while (i < text.size()) {
    std::int64_t amount = 0;
    const char* begin = text.data() + i;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(begin, end, amount);
    if (ec != std::errc() || ptr == begin || amount < 0 || amount > kMaxAmount) return std::nullopt;
    i += static_cast<std::size_t>(ptr - begin);
    if (i >= text.size()) return std::nullopt;  // a number without a unit
    const char symbol = text[i++];
    std::size_t u = next_unit;
    while (u < kUnits.size() && kUnits[u].symbol != symbol) ++u;
    if (u == kUnits.size()) return std::nullopt;
    out.days += amount * kUnits[u].days;
    out.clock += Millis(amount * kUnits[u].ms);
    next_unit = u + 1;
  }
  return out;
}

std::string format_duration(const Duration& d) {
  if (d.is_zero()) return "0s";
  // Into a buffer, then one string: history messages format several durations per step.
  char buf[128];
  char* p = buf;
  const auto put = [&p, &buf](std::int64_t amount, std::string_view symbol) {
    p = std::to_chars(p, buf + sizeof buf, amount).ptr;
    for (char c : symbol) *p++ = c;
  };
  if (d.days != 0) put(d.days, "d");
  std::int64_t ms = d.clock.count();
  for (std::size_t u = 2; u < kUnits.size(); ++u) {
    const std::int64_t amount = ms / kUnits[u].ms;
    if (amount != 0) put(amount, std::string_view(&kUnits[u].symbol, 1));
    ms -= amount * kUnits[u].ms;
  }
  if (ms != 0) put(ms, "ms");
  return std::string(buf, p);
}

namespace {

// Reads exactly `width` digits at `pos`.
bool read_digits(std::string_view s, std::size_t& pos, int width, int& out) {
  if (pos + static_cast<std::size_t>(width) > s.size()) return false;
  out = 0;
  for (int k = 0; k < width; ++k) {
    const char c = s[pos++];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

std::optional<Timestamp> parse_timestamp(std::string_view s) {
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  if (!read_digits(s, pos, 4, year) || !expect(s, pos, '-') || !read_digits(s, pos, 2, month) ||
      !expect(s, pos, '-') || !read_digits(s, pos, 2, day)) {
    return std::nullopt;
  }
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')) return std::nullopt;
  ++pos;
  if (!read_digits(s, pos, 2, hour) || !expect(s, pos, ':') || !read_digits(s, pos, 2, minute)) {
    return std::nullopt;
  }
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    if (!read_digits(s, pos, 2, second)) return std::nullopt;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      int digits = 0;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (digits < 3) millis = millis * 10 + (s[pos] - '0');
        ++digits;
        ++pos;
      }
      if (digits == 0) return std::nullopt;
      for (int k = digits; k < 3; ++k) millis *= 10;
    }
  }
  int offset_minutes = 0;
  if (pos >= s.size()) return std::nullopt;  // a zone designator is required
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    const int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0, om = 0;
    if (!read_digits(s, pos, 2, oh) || !expect(s, pos, ':') || !read_digits(s, pos, 2, om)) {
      return std::nullopt;
    }
    if (oh > 23 || om > 59) return std::nullopt;
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
  const date::year_month_day ymd{date::year{year}, date::month{static_cast<unsigned>(month)},
                                 date::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  const auto local = date::sys_days(ymd) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
                     std::chrono::seconds(second) + Millis(millis);
  return Timestamp(local - std::chrono::minutes(offset_minutes));
}

std::string format_timestamp(Timestamp t) {
  // Hand-rolled: date::format goes through iostreams and locales, and timestamps are formatted
  // on hot paths (expression results, history).
  const auto day = std::chrono::floor<date::days>(t);
  const date::year_month_day ymd{day};
  const std::int64_t ms_of_day = (t - day).count();
  const auto two = [](char* p, long v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  };
  char buf[32];
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) return date::format("%FT%TZ", t);
  buf[0] = static_cast<char>('0' + year / 1000);
  buf[1] = static_cast<char>('0' + year / 100 % 10);
  buf[2] = static_cast<char>('0' + year / 10 % 10);
  buf[3] = static_cast<char>('0' + year % 10);
  buf[4] = '-';
  two(buf + 5, static_cast<long>(static_cast<unsigned>(ymd.month())));
  buf[7] = '-';
  two(buf + 8, static_cast<long>(static_cast<unsigned>(ymd.day())));
  buf[10] = 'T';
  two(buf + 11, static_cast<long>(ms_of_day / 3'600'000));
  buf[13] = ':';
  two(buf + 14, static_cast<long>(ms_of_day / 60'000 % 60));
  buf[16] = ':';
  two(buf + 17, static_cast<long>(ms_of_day / 1000 % 60));
  std::size_t n = 19;
  if (const long ms = static_cast<long>(ms_of_day % 1000); ms != 0) {
    buf[n++] = '.';
    buf[n++] = static_cast<char>('0' + ms / 100);
    two(buf + n, ms % 100);
    n += 2;
  }
  buf[n++] = 'Z';
  return {buf, n};
}

}  // namespace ombud
