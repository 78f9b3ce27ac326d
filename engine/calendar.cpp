#include "engine/calendar.h"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <exception>
#include <limits>
#include <span>
#include <utility>
#include <vector>

namespace ombud {

// Everything below works on plain int64 milliseconds (UTC instants, local times) and int64 day
// numbers (local dates as days since 1970-01-01): the arithmetic stays exact and overflow-free
// within the supported range, and no date/tz call happens after make().
namespace {

constexpr std::int64_t kMsPerMinute = 60'000;
constexpr std::int64_t kMsPerDay = 86'400'000;
constexpr std::int64_t kMinutesPerDay = 1440;
// A day number or instant later than anything the calendar can reach.
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max() / 4;
// UTC offsets stay well within one day, so the instants of a local day lie within this margin of
// the UTC day with the same number.
constexpr std::int64_t kMarginMs = 2 * kMsPerDay;

constexpr std::int64_t ms(Timestamp t) { return t.time_since_epoch().count(); }
constexpr Timestamp instant(std::int64_t ms) { return Timestamp(Millis(ms)); }

constexpr std::int64_t kEarliestMs = ms(BusinessCalendar::kEarliest);
constexpr std::int64_t kLatestMs = ms(BusinessCalendar::kLatest);
constexpr std::int64_t kHorizonMs =
    std::chrono::duration_cast<Millis>(BusinessCalendar::kHorizon).count();

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if (a % b != 0 && (a < 0) != (b < 0)) --q;
  return q;
}

// 0 = Monday, as in CalendarSpec::hours; day 0 (1970-01-01) was a Thursday.
int weekday_index(std::int64_t day) {
  const std::int64_t since_monday = day + 3;
  return static_cast<int>(since_monday - floor_div(since_monday, 7) * 7);
}

std::int64_t day_number(date::sys_days d) { return d.time_since_epoch().count(); }

std::string day_text(date::sys_days d) { return date::format("%F", d); }

std::string minute_text(int minute) {
  const auto two = [](int v) { return std::string(v < 10 ? "0" : "") + std::to_string(v); };
  return two(minute / 60) + ":" + two(minute % 60);
}

constexpr std::array<const char*, 7> kDayNames{"Monday", "Tuesday",  "Wednesday", "Thursday",
                                               "Friday", "Saturday", "Sunday"};

}  // namespace

class BusinessCalendar::Impl {
 public:
  // Open from begin_ms to end_ms after local midnight.
  struct Shift {
    std::int64_t begin_ms;
    std::int64_t end_ms;
  };
  // A day's shifts: [begin, end) into `shifts`.
  struct ShiftSet {
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
  };
  // The UTC offset in force from begin_ms until the next span's begin_ms.
  struct OffsetSpan {
    std::int64_t begin_ms;
    std::int64_t offset_ms;
  };
  struct Holiday {
    std::int64_t first_day;
    std::int64_t last_day;  // inclusive
  };
  struct Workday {
    std::int64_t day;
    ShiftSet shifts;
  };
  // Consecutive days [first_day, end_day) classified alike, so that walking over days needs a
  // lookup in the holiday and workday tables only where the classification can change.
  struct DayRun {
    enum class Kind : std::uint8_t { kWeekly, kClosed, kWorkday };
    std::int64_t first_day = 0;
    std::int64_t end_day = 0;  // empty until the first lookup
    Kind kind = Kind::kClosed;
    ShiftSet shifts;  // for kWorkday
  };

  class DayCursor;
  class Walker;

  // Validates, sorts and merges one day's ranges and appends them to `shifts` as `set`; returns
  // the error message, or an empty string.
  std::string append_shifts(const CalendarSpec& spec, const std::vector<TimeRange>& ranges,
                            const std::string& where, ShiftSet& set);

  // The zone's UTC offsets over the supported range (with a margin), one span per change.
  static std::vector<OffsetSpan> offset_spans(const date::time_zone& zone);

  std::string name;
  bool always_open = false;
  std::vector<Shift> shifts;          // every day's shifts, set after set, each sorted and merged
  std::array<ShiftSet, 7> weekly{};   // 0 = Monday
  std::array<std::int64_t, 7> gap{};  // days from weekday i to the next weekday with hours; 0: none
  std::vector<Holiday> holidays;      // sorted and merged
  std::vector<Workday> workdays;      // sorted by day, one per day
  std::vector<OffsetSpan> offsets;    // sorted; the first begins at INT64_MIN

  std::span<const Shift> shifts_of(ShiftSet s) const {
    return {shifts.data() + s.begin, shifts.data() + s.end};
  }

  DayRun run_at(std::int64_t day) const {
    const auto w = std::lower_bound(workdays.begin(), workdays.end(), day,
                                    [](const Workday& x, std::int64_t d) { return x.day < d; });
    const std::int64_t next_workday = w == workdays.end() ? kNever : w->day;
    if (next_workday == day) return {day, day + 1, DayRun::Kind::kWorkday, w->shifts};
    // Merged ranges are sorted by their last day too.
    const auto h =
        std::lower_bound(holidays.begin(), holidays.end(), day,
                         [](const Holiday& x, std::int64_t d) { return x.last_day < d; });
    if (h != holidays.end() && h->first_day <= day) {
      return {day, std::min(h->last_day + 1, next_workday), DayRun::Kind::kClosed, {}};
    }
    const std::int64_t next_holiday = h == holidays.end() ? kNever : h->first_day;
    return {day, std::min(next_holiday, next_workday), DayRun::Kind::kWeekly, {}};
  }

  std::span<const Shift> shifts_in(const DayRun& run, std::int64_t day) const {
    switch (run.kind) {
      case DayRun::Kind::kWorkday:
        return shifts_of(run.shifts);
      case DayRun::Kind::kClosed:
        return {};
      case DayRun::Kind::kWeekly:
        break;
    }
    return shifts_of(weekly[weekday_index(day)]);
  }

  std::size_t span_at(std::int64_t t) const {
    const auto it =
        std::upper_bound(offsets.begin(), offsets.end(), t,
                         [](std::int64_t v, const OffsetSpan& s) { return v < s.begin_ms; });
    return static_cast<std::size_t>(it - offsets.begin()) - 1;
  }

  std::int64_t span_end(std::size_t i) const {
    return i + 1 < offsets.size() ? offsets[i + 1].begin_ms
                                  : std::numeric_limits<std::int64_t>::max();
  }

  // From the open instant `open_at`: the instant at the same local time on the n-th open day
  // after its local date, not yet moved to the next open instant; nullopt when that day would
  // come after `until`.
  std::optional<std::int64_t> add_days(std::int64_t open_at, std::int64_t n,
                                       std::int64_t until) const;

  // The instant at local time `local`: its first occurrence when the local time is repeated, and
  // the instant the clocks jump when it does not exist.
  std::int64_t to_utc(std::int64_t local) const {
    std::int64_t jump = kNever;
    for (std::size_t i = span_at(local - kMarginMs);
         i < offsets.size() && offsets[i].begin_ms <= local + kMarginMs; ++i) {
      const std::int64_t t = local - offsets[i].offset_ms;
      if (t >= offsets[i].begin_ms && t < span_end(i)) return t;
      if (i + 1 < offsets.size() && jump == kNever) {
        const std::int64_t at = offsets[i + 1].begin_ms;
        if (at + offsets[i].offset_ms <= local && local < at + offsets[i + 1].offset_ms) jump = at;
      }
    }
    return jump != kNever ? jump : local - offsets[span_at(local)].offset_ms;
  }

  // True when some shift of `day` contains an existing local time (false only for a day whose
  // hours all fall into a DST gap).
  bool has_open_time(std::int64_t day, std::span<const Shift> day_shifts) const {
    if (day_shifts.empty()) return false;
    const std::int64_t midnight = day * kMsPerDay;
    const std::size_t first = span_at(midnight - kMarginMs);
    if (span_end(first) > midnight + kMsPerDay + kMarginMs) return true;  // no change nearby
    for (const Shift& s : day_shifts) {
      for (std::size_t i = first;
           i < offsets.size() && offsets[i].begin_ms <= midnight + kMsPerDay + kMarginMs; ++i) {
        const std::int64_t b =
            std::max(midnight + s.begin_ms - offsets[i].offset_ms, offsets[i].begin_ms);
        const std::int64_t e = std::min(midnight + s.end_ms - offsets[i].offset_ms, span_end(i));
        if (e > b) return true;
      }
    }
    return false;
  }
};

// Walks local days forward, skipping closed ones without touching each of them: holiday runs in
// one step, closed weekdays by the precomputed gap to the next weekday with hours.
class BusinessCalendar::Impl::DayCursor {
 public:
  explicit DayCursor(const Impl& cal) : cal_(cal) {}

  std::span<const Shift> at(std::int64_t day) {
    locate(day);
    return cal_.shifts_in(run_, day);
  }

  // The first day in (day, last_day] that has shifts, and its shifts in `out`; nullopt (and `out`
  // untouched) when there is none.
  std::optional<std::int64_t> next_with_shifts(std::int64_t day, std::int64_t last_day,
                                               std::span<const Shift>& out) {
    std::int64_t d = day + 1;
    while (d <= last_day) {
      locate(d);
      switch (run_.kind) {
        case DayRun::Kind::kWorkday: {
          const std::span<const Shift> found = cal_.shifts_of(run_.shifts);
          if (!found.empty()) {
            out = found;
            return d;
          }
          d = run_.end_day;
          break;
        }
        case DayRun::Kind::kClosed:
          d = run_.end_day;
          break;
        case DayRun::Kind::kWeekly: {
          const int wd = weekday_index(d);
          const std::span<const Shift> found = cal_.shifts_of(cal_.weekly[wd]);
          if (!found.empty()) {
            out = found;
            return d;
          }
          const std::int64_t step = cal_.gap[wd];
          d = step == 0 ? run_.end_day : std::min(d + step, run_.end_day);
          break;
        }
      }
    }
    return std::nullopt;
  }

 private:
  void locate(std::int64_t day) {
    if (day < run_.first_day || day >= run_.end_day) run_ = cal_.run_at(day);
  }

  const Impl& cal_;
  DayRun run_;
};

// The open time within [from, until) as pieces [begin, end) of UTC instants, in time order.
//
// It walks spans of constant UTC offset, and within each span the local days that fall into it:
// inside one span local time runs in step with UTC, so the pieces come out sorted even where a
// fall-back repeats local times (the repeated hour belongs to two spans).
class BusinessCalendar::Impl::Walker {
 public:
  Walker(const Impl& cal, std::int64_t from, std::int64_t until)
      : cal_(cal), days_(cal), lower_(from), until_(until), span_(cal.span_at(from)) {
    enter_span();
  }

  bool next(std::int64_t& begin, std::int64_t& end) {
    for (;;) {
      if (next_shift_ == day_shifts_.size()) {
        // The last local day that starts, in this span's offset, before the span or the walk ends.
        const std::int64_t last_day =
            floor_div(std::min(until_, span_end_) - 1 + offset_, kMsPerDay);
        const auto day = days_.next_with_shifts(day_, last_day, day_shifts_);
        if (!day) {
          if (!next_span()) return false;
          continue;
        }
        set_day(*day);
        continue;
      }
      const Shift& s = day_shifts_[next_shift_++];
      const std::int64_t b = midnight_ + s.begin_ms;
      if (b >= span_end_) {
        if (!next_span()) return false;
        continue;
      }
      if (b >= until_) return false;
      begin = std::max(b, lower_);
      end = std::min({midnight_ + s.end_ms, span_end_, until_});
      if (end > begin) return true;
    }
  }

 private:
  void enter_span() {
    offset_ = cal_.offsets[span_].offset_ms;
    span_end_ = cal_.span_end(span_);
    const std::int64_t day = floor_div(lower_ + offset_, kMsPerDay);
    day_ = day;
    midnight_ = day * kMsPerDay - offset_;
    day_shifts_ = days_.at(day);
    next_shift_ = 0;
  }

  bool next_span() {
    if (span_end_ >= until_) return false;
    lower_ = span_end_;
    ++span_;
    enter_span();
    return true;
  }

  void set_day(std::int64_t day) {
    day_ = day;
    midnight_ = day * kMsPerDay - offset_;
    next_shift_ = 0;
  }

  const Impl& cal_;
  DayCursor days_;
  std::int64_t lower_;
  std::int64_t until_;
  std::size_t span_;
  std::int64_t offset_ = 0;
  std::int64_t span_end_ = 0;
  std::int64_t day_ = 0;
  std::int64_t midnight_ = 0;  // the day's local midnight in this span's offset
  std::span<const Shift> day_shifts_;
  std::size_t next_shift_ = 0;
};

std::string BusinessCalendar::Impl::append_shifts(const CalendarSpec& spec,
                                                  const std::vector<TimeRange>& ranges,
                                                  const std::string& where, ShiftSet& set) {
  for (const TimeRange& r : ranges) {
    if (r.start_minute < 0 || r.start_minute >= r.end_minute || r.end_minute > kMinutesPerDay) {
      return "calendar '" + spec.name + "': open hours " + minute_text(r.start_minute) + "-" +
             minute_text(r.end_minute) + " on " + where + " are not a range within one day";
    }
  }
  std::vector<TimeRange> sorted = ranges;
  std::sort(sorted.begin(), sorted.end(),
            [](const TimeRange& a, const TimeRange& b) { return a.start_minute < b.start_minute; });
  set.begin = static_cast<std::uint32_t>(shifts.size());
  for (const TimeRange& r : sorted) {
    const Shift s{r.start_minute * kMsPerMinute, r.end_minute * kMsPerMinute};
    if (shifts.size() > set.begin && shifts.back().end_ms >= s.begin_ms) {
      shifts.back().end_ms = std::max(shifts.back().end_ms, s.end_ms);  // overlapping or adjacent
    } else {
      shifts.push_back(s);
    }
  }
  set.end = static_cast<std::uint32_t>(shifts.size());
  return {};
}

std::vector<BusinessCalendar::Impl::OffsetSpan> BusinessCalendar::Impl::offset_spans(
    const date::time_zone& zone) {
  using std::chrono::seconds;
  std::vector<Impl::OffsetSpan> out;
  const auto last = date::sys_seconds(seconds((kLatestMs + kMarginMs) / 1000));
  auto t = date::sys_seconds(seconds((kEarliestMs - kMarginMs) / 1000));
  while (true) {
    const date::sys_info info = zone.get_info(t);
    const std::int64_t offset = std::chrono::duration_cast<Millis>(info.offset).count();
    if (out.empty()) {
      out.push_back({std::numeric_limits<std::int64_t>::min(), offset});
    } else if (out.back().offset_ms != offset) {
      out.push_back(
          {std::chrono::duration_cast<Millis>(info.begin.time_since_epoch()).count(), offset});
    }
    if (info.end >= last) break;
    t = info.end;
  }
  return out;
}

BusinessCalendar::BusinessCalendar(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

std::variant<BusinessCalendar, std::string> BusinessCalendar::make(const CalendarSpec& spec) {
  auto cal = std::make_shared<Impl>();
  cal->name = spec.name;

  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(spec.timezone);
  } catch (const std::exception&) {
    return "calendar '" + spec.name + "': unknown time zone '" + spec.timezone + "'";
  }

  bool ever_open = false;
  for (std::size_t wd = 0; wd < 7; ++wd) {
    std::string err = cal->append_shifts(spec, spec.hours[wd], kDayNames[wd], cal->weekly[wd]);
    if (!err.empty()) return err;
    ever_open = ever_open || cal->weekly[wd].end > cal->weekly[wd].begin;
  }
  for (std::size_t wd = 0; wd < 7; ++wd) {
    cal->gap[wd] = 0;
    for (std::size_t step = 1; step <= 7 && cal->gap[wd] == 0; ++step) {
      const Impl::ShiftSet& next = cal->weekly[(wd + step) % 7];
      if (next.end > next.begin) cal->gap[wd] = static_cast<std::int64_t>(step);
    }
  }

  for (const CalendarSpec::Workday& w : spec.workdays) {
    Impl::Workday day{day_number(w.day), {}};
    // A workday without hours of its own works Monday's (config.h).
    const std::vector<TimeRange>& ranges = w.hours.empty() ? spec.hours[0] : w.hours;
    std::string err = cal->append_shifts(spec, ranges, day_text(w.day), day.shifts);
    if (!err.empty()) return err;
    ever_open = ever_open || day.shifts.end > day.shifts.begin;
    cal->workdays.push_back(day);
  }
  std::sort(cal->workdays.begin(), cal->workdays.end(),
            [](const Impl::Workday& a, const Impl::Workday& b) { return a.day < b.day; });
  for (std::size_t i = 1; i < cal->workdays.size(); ++i) {
    if (cal->workdays[i].day == cal->workdays[i - 1].day) {
      return "calendar '" + spec.name + "': workday " +
             day_text(date::sys_days(date::days(cal->workdays[i].day))) + " is listed twice";
    }
  }
  if (!ever_open) return "calendar '" + spec.name + "' is never open";

  for (const CalendarSpec::DayRange& h : spec.holidays) {
    if (h.last < h.first) {
      return "calendar '" + spec.name + "': holiday range " + day_text(h.first) + ".." +
             day_text(h.last) + " ends before it begins";
    }
    cal->holidays.push_back({day_number(h.first), day_number(h.last)});
  }
  std::sort(
      cal->holidays.begin(), cal->holidays.end(),
      [](const Impl::Holiday& a, const Impl::Holiday& b) { return a.first_day < b.first_day; });
  std::vector<Impl::Holiday> merged;
  for (const Impl::Holiday& h : cal->holidays) {
    if (!merged.empty() && h.first_day <= merged.back().last_day + 1) {
      merged.back().last_day = std::max(merged.back().last_day, h.last_day);
    } else {
      merged.push_back(h);
    }
  }
  cal->holidays = std::move(merged);

  cal->offsets = Impl::offset_spans(*zone);
  return BusinessCalendar(std::move(cal));
}

std::optional<std::int64_t> BusinessCalendar::Impl::add_days(std::int64_t open_at, std::int64_t n,
                                                             std::int64_t until) const {
  const std::int64_t local = open_at + offsets[span_at(open_at)].offset_ms;
  std::int64_t day = floor_div(local, kMsPerDay);
  const std::int64_t time_of_day = local - day * kMsPerDay;
  const std::int64_t last_day = floor_div(until + kMarginMs, kMsPerDay);
  DayCursor days(*this);
  std::span<const Shift> day_shifts;
  for (std::int64_t counted = 0; counted < n;) {
    const auto next = days.next_with_shifts(day, last_day, day_shifts);
    if (!next) return std::nullopt;
    day = *next;
    if (has_open_time(day, day_shifts)) ++counted;
  }
  return to_utc(day * kMsPerDay + time_of_day);
}

BusinessCalendar BusinessCalendar::wall_clock() {
  auto cal = std::make_shared<Impl>();
  cal->name = "none";
  cal->always_open = true;
  return BusinessCalendar(std::move(cal));
}

const std::string& BusinessCalendar::name() const { return impl_->name; }

bool BusinessCalendar::is_open(Timestamp t) const {
  const std::int64_t at = ms(t);
  if (at < kEarliestMs || at >= kLatestMs) return false;
  if (impl_->always_open) return true;
  const std::int64_t local = at + impl_->offsets[impl_->span_at(at)].offset_ms;
  const std::int64_t day = floor_div(local, kMsPerDay);
  const std::int64_t since_midnight = local - day * kMsPerDay;
  for (const Impl::Shift& s : impl_->shifts_in(impl_->run_at(day), day)) {
    if (since_midnight < s.begin_ms) return false;  // shifts are sorted
    if (since_midnight < s.end_ms) return true;
  }
  return false;
}

date::local_time<Millis> BusinessCalendar::local_time(Timestamp t) const {
  const std::int64_t at = ms(t);
  const std::int64_t offset = impl_->always_open ? 0 : impl_->offsets[impl_->span_at(at)].offset_ms;
  std::int64_t local = 0;
  if (__builtin_add_overflow(at, offset, &local)) {
    local = offset > 0 ? std::numeric_limits<std::int64_t>::max()
                       : std::numeric_limits<std::int64_t>::min();
  }
  return date::local_time<Millis>(Millis(local));
}

std::optional<Timestamp> BusinessCalendar::next_open(Timestamp t) const {
  const std::int64_t at = ms(t);
  if (at < kEarliestMs || at >= kLatestMs) return std::nullopt;
  if (impl_->always_open) return t;
  Impl::Walker walk(*impl_, at, std::min(at + kHorizonMs, kLatestMs));
  std::int64_t begin = 0;
  std::int64_t end = 0;
  if (!walk.next(begin, end)) return std::nullopt;
  return instant(begin);
}

std::optional<Timestamp> BusinessCalendar::add(Timestamp start, Duration d) const {
  const std::int64_t from = ms(start);
  if (from < kEarliestMs || from >= kLatestMs || d.days < 0 || d.clock.count() < 0) {
    return std::nullopt;
  }
  if (d.is_zero()) return start;
  // Neither part fits into the horizon beyond these bounds; rejecting them first keeps the
  // arithmetic below free of overflow whatever the Duration holds.
  if (d.days > kHorizon.count() || d.clock.count() > kHorizonMs) return std::nullopt;
  const std::int64_t until = std::min(from + kHorizonMs, kLatestMs);
  if (impl_->always_open) {
    const std::int64_t end = from + d.days * kMsPerDay + d.clock.count();
    if (end > until) return std::nullopt;
    return instant(end);
  }

  std::int64_t begin = 0;
  std::int64_t end = 0;
  std::int64_t clock_from = from;
  if (d.days > 0) {
    Impl::Walker to_open(*impl_, from, until);
    if (!to_open.next(begin, end)) return std::nullopt;
    const auto landed = impl_->add_days(begin, d.days, until);
    if (!landed) return std::nullopt;
    clock_from = *landed;
  }
  // The first piece starts at the next open instant, which is where a closed landing moves to.
  Impl::Walker walk(*impl_, clock_from, until);
  if (!walk.next(begin, end)) return std::nullopt;
  std::int64_t remaining = d.clock.count();
  if (remaining == 0) return instant(begin);
  for (;;) {
    if (remaining <= end - begin) return instant(begin + remaining);
    remaining -= end - begin;
    if (!walk.next(begin, end)) return std::nullopt;
  }
}

void BusinessCalendar::add_each(Timestamp start, std::span<const Millis> open_times,
                                std::span<std::optional<Timestamp>> out) const {
  std::fill(out.begin(), out.end(), std::nullopt);
  const std::int64_t from = ms(start);
  if (from < kEarliestMs || from >= kLatestMs) return;
  const std::int64_t until = std::min(from + kHorizonMs, kLatestMs);
  // The same walk as add() with no days, continued from one duration to the next: `passed` is
  // the open time before the current piece.
  std::size_t k = 0;
  for (; k < open_times.size() && open_times[k].count() <= 0; ++k) {
    if (open_times[k].count() == 0) out[k] = start;  // negative ones stay nullopt
  }
  if (k == open_times.size()) return;
  if (impl_->always_open) {
    for (; k < open_times.size(); ++k) {
      if (open_times[k].count() > kHorizonMs) return;
      const std::int64_t end = from + open_times[k].count();
      if (end > until) return;
      out[k] = instant(end);
    }
    return;
  }
  Impl::Walker walk(*impl_, from, until);
  std::int64_t begin = 0;
  std::int64_t end = 0;
  std::int64_t passed = 0;
  if (!walk.next(begin, end)) return;
  for (;;) {
    while (k < open_times.size() && open_times[k].count() - passed <= end - begin) {
      out[k] = instant(begin + (open_times[k].count() - passed));
      ++k;
    }
    if (k == open_times.size()) return;
    passed += end - begin;
    if (!walk.next(begin, end)) return;
  }
}

Millis BusinessCalendar::working_time(Timestamp a, Timestamp b) const {
  const std::int64_t from = std::clamp(ms(a), kEarliestMs, kLatestMs);
  const std::int64_t until = std::clamp(ms(b), kEarliestMs, kLatestMs);
  if (until <= from) return Millis(0);
  if (impl_->always_open) return Millis(until - from);
  Impl::Walker walk(*impl_, from, until);
  std::int64_t total = 0;
  std::int64_t begin = 0;
  std::int64_t end = 0;
  while (walk.next(begin, end)) total += end - begin;
  return Millis(total);
}

}  // namespace ombud
