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

// Every instant and day number the calendar computes with lies within a few days of
// [kEarliest, kLatest), so adding kBiasDays (a multiple of 7, about 1900 years) makes them
// non-negative: flooring is then a plain unsigned division by a constant, which the compiler
// turns into a multiplication, instead of a signed division with a correction for negatives.
constexpr std::int64_t kBiasDays = 7 * 100'000;
static_assert(kEarliestMs - kMarginMs + kBiasDays * kMsPerDay > 0);

// The local date (days since 1970-01-01) of the local time `local_ms`.
std::int64_t day_of(std::int64_t local_ms) {
  const auto biased = static_cast<std::uint64_t>(local_ms + kBiasDays * kMsPerDay);
  return static_cast<std::int64_t>(biased / kMsPerDay) - kBiasDays;
}

// 0 = Monday, as in CalendarSpec::hours; day 0 (1970-01-01) was a Thursday.
int weekday_index(std::int64_t day) {
  return static_cast<int>(static_cast<std::uint64_t>(day + kBiasDays + 3) % 7);
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
  // A day's shifts: [begin, end) into `shifts`, open for open_ms in all (on a day without an
  // offset change).
  struct ShiftSet {
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
    std::int64_t open_ms = 0;
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
  // lookup in the table of special days only where the classification can change.
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

  // Builds `special` and its index from the merged holidays and the sorted workdays.
  void index_days(const std::vector<Holiday>& holidays, const std::vector<Workday>& workdays);

  // The zone's UTC offsets over the supported range (with a margin), one span per change.
  static std::vector<OffsetSpan> offset_spans(const date::time_zone& zone);

  std::string name;
  bool always_open = false;
  std::vector<Shift> shifts;          // every day's shifts, set after set, each sorted and merged
  std::array<ShiftSet, 7> weekly{};   // 0 = Monday
  std::array<std::int64_t, 7> gap{};  // days from weekday i to the next weekday with hours; 0: none
  std::int64_t week_ms = 0;           // the weekly hours' open time in one week
  std::int64_t week_open_days = 0;    // the weekdays with hours
  // nth_open[i][k]: days from weekday i to the k-th following day whose weekday has hours
  // (1 <= k <= week_open_days).
  std::array<std::array<std::int64_t, 8>, 7> nth_open{};
  // The days that do not follow the weekly hours, sorted and disjoint: the workdays, and the
  // holidays as closed runs split around the workdays inside them.
  std::vector<DayRun> special;
  // run_at without a binary search: special_index[k] is the first entry of `special` that ends
  // after day special_first + (k << kDayIndexShift), so only the few entries after it are
  // stepped over.
  std::vector<std::uint32_t> special_index;
  std::int64_t special_first = 0;
  static constexpr int kDayIndexShift = 5;  // a step of 32 days
  std::vector<OffsetSpan> offsets;          // sorted; the first begins at INT64_MIN
  // span_at without a binary search: span_index[k] is the span in force at
  // offsets[1].begin_ms + (k << kIndexShift), so only the few changes after that are stepped over.
  std::vector<std::uint32_t> span_index;
  static constexpr int kIndexShift = 32;  // a step of 2^32 ms, about 50 days

  std::span<const Shift> shifts_of(ShiftSet s) const {
    return {shifts.data() + s.begin, shifts.data() + s.end};
  }

  DayRun run_at(std::int64_t day) const {
    std::size_t i = 0;
    if (day >= special_first && !special_index.empty()) {
      const auto k = static_cast<std::uint64_t>(day - special_first) >> kDayIndexShift;
      i = special_index[std::min<std::uint64_t>(k, special_index.size() - 1)];
    }
    while (i < special.size() && special[i].end_day <= day) ++i;
    if (i == special.size()) return {day, kNever, DayRun::Kind::kWeekly, {}};
    if (special[i].first_day <= day) return special[i];
    return {day, special[i].first_day, DayRun::Kind::kWeekly, {}};
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

  // The span in force at t: offsets[i].begin_ms <= t < span_end(i).
  std::size_t span_at(std::int64_t t) const {
    const std::size_t last = offsets.size() - 1;
    if (t >= offsets[last].begin_ms) return last;
    if (t < offsets[1].begin_ms) return 0;  // offsets has two spans at least when here
    std::size_t i = span_index[static_cast<std::uint64_t>(t - offsets[1].begin_ms) >> kIndexShift];
    while (offsets[i + 1].begin_ms <= t) ++i;
    return i;
  }

  // Builds span_index from offsets.
  void index_spans();

  // Every day in [day, steady_until(day)) lies, with kMarginMs on either side, within one span:
  // has_open_time is true for each of them that has shifts. The result is not after `day` when
  // `day` itself is near an offset change.
  std::int64_t steady_until(std::int64_t day) const {
    const std::int64_t end = span_end(span_at(day * kMsPerDay - kMarginMs));
    return end == std::numeric_limits<std::int64_t>::max() ? kNever : day_of(end - kMarginMs - 1);
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

  const DayRun& run(std::int64_t day) {
    locate(day);
    return run_;
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
      while (shift_ != shifts_end_) {
        const Shift& s = *shift_++;
        const std::int64_t b = midnight_ + s.begin_ms;
        if (b >= limit_) {
          if (!next_span()) return false;
          continue;
        }
        begin = std::max(b, lower_);
        end = std::min(midnight_ + s.end_ms, limit_);
        if (end > begin) return true;
      }
      if (!next_day()) return false;
    }
  }

  // Once the current day's pieces are all out: passes over the following whole local days whose
  // open time adds up to less than `budget` (> 0), and returns that open time. next() goes on
  // with the day after them, so a caller that would have used up every one of their pieces
  // without reaching its budget gets the same answer with far fewer steps. Only days that lie
  // entirely within this span and before `until` are passed over: their pieces are exactly their
  // shifts, so their open time is the sum the calendar precomputed. Whole weeks of weekly hours
  // cost one step.
  std::int64_t skip(std::int64_t budget) {
    if (shift_ != shifts_end_) return 0;
    std::int64_t skipped = 0;
    std::int64_t d = day_ + 1;
    while (d <= full_last_day_) {
      const DayRun& run = days_.run(d);
      const std::int64_t run_end = std::min(run.end_day, full_last_day_ + 1);
      if (run.kind == DayRun::Kind::kClosed ||
          (run.kind == DayRun::Kind::kWeekly && cal_.week_ms == 0)) {
        d = run_end;
        continue;
      }
      if (run.kind == DayRun::Kind::kWorkday) {
        if (skipped + run.shifts.open_ms >= budget) break;
        skipped += run.shifts.open_ms;
        d = run_end;
        continue;
      }
      const std::int64_t weeks = std::min((run_end - d) / 7, (budget - skipped - 1) / cal_.week_ms);
      skipped += weeks * cal_.week_ms;
      d += weeks * 7;
      for (int wd = weekday_index(d); d < run_end; ++d, wd = wd == 6 ? 0 : wd + 1) {
        const std::int64_t open = cal_.weekly[static_cast<std::size_t>(wd)].open_ms;
        if (skipped + open >= budget) break;
        skipped += open;
      }
      if (d < run_end) break;
    }
    day_ = d - 1;
    return skipped;
  }

 private:
  void enter_span() {
    offset_ = cal_.offsets[span_].offset_ms;
    limit_ = std::min(cal_.span_end(span_), until_);
    last_day_ = day_of(limit_ - 1 + offset_);
    // The last day ends by limit_ only when limit_ is its local midnight.
    full_last_day_ = limit_ + offset_ == (last_day_ + 1) * kMsPerDay ? last_day_ : last_day_ - 1;
    const std::int64_t day = day_of(lower_ + offset_);
    set_day(day, days_.at(day));
  }

  // Moves to the next day with shifts, in this span or a later one; false at the end of the walk.
  // Kept out of line so that next(), which mostly just hands out the day's next shift, stays
  // small.
  [[gnu::noinline]] bool next_day() {
    std::span<const Shift> found;
    const auto day = days_.next_with_shifts(day_, last_day_, found);
    if (!day) return next_span();
    set_day(*day, found);
    return true;
  }

  [[gnu::noinline]] bool next_span() {
    if (limit_ == until_) return false;
    lower_ = limit_;
    ++span_;
    enter_span();
    return true;
  }

  void set_day(std::int64_t day, std::span<const Shift> shifts) {
    day_ = day;
    midnight_ = day * kMsPerDay - offset_;
    shift_ = shifts.data();
    shifts_end_ = shifts.data() + shifts.size();
  }

  const Impl& cal_;
  DayCursor days_;
  std::int64_t lower_;
  std::int64_t until_;
  std::size_t span_;
  std::int64_t offset_ = 0;
  std::int64_t limit_ = 0;          // the end of this span or of the walk, whichever is first
  std::int64_t last_day_ = 0;       // the last local day that starts before limit_
  std::int64_t full_last_day_ = 0;  // the last local day that ends by limit_
  std::int64_t day_ = 0;
  std::int64_t midnight_ = 0;          // the day's local midnight in this span's offset
  const Shift* shift_ = nullptr;       // the day's next shift
  const Shift* shifts_end_ = nullptr;  // the end of the day's shifts
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
  for (const Shift& s : shifts_of(set)) set.open_ms += s.end_ms - s.begin_ms;
  return {};
}

void BusinessCalendar::Impl::index_days(const std::vector<Holiday>& holidays,
                                        const std::vector<Workday>& workdays) {
  std::size_t w = 0;
  const auto add_workday = [&] {
    special.push_back(
        {workdays[w].day, workdays[w].day + 1, DayRun::Kind::kWorkday, workdays[w].shifts});
  };
  for (const Holiday& h : holidays) {
    for (; w < workdays.size() && workdays[w].day < h.first_day; ++w) add_workday();
    // A workday listed inside a holiday range is worked (calendar.h).
    std::int64_t from = h.first_day;
    for (; w < workdays.size() && workdays[w].day <= h.last_day; ++w) {
      if (from < workdays[w].day) {
        special.push_back({from, workdays[w].day, DayRun::Kind::kClosed, {}});
      }
      add_workday();
      from = workdays[w].day + 1;
    }
    if (from <= h.last_day) special.push_back({from, h.last_day + 1, DayRun::Kind::kClosed, {}});
  }
  for (; w < workdays.size(); ++w) add_workday();
  if (special.empty()) return;

  // Only days within the supported range (and a margin) are looked up, so the index covers just
  // those and stays small whatever years the spec names; any other day would still be found, by
  // stepping from the nearest indexed entry.
  special_first = std::max(special.front().first_day, day_of(kEarliestMs) - 3);
  const std::int64_t last = std::min(special.back().end_day, day_of(kLatestMs) + 3);
  std::size_t i = 0;
  for (std::int64_t day = special_first; day <= last; day += std::int64_t{1} << kDayIndexShift) {
    while (i < special.size() && special[i].end_day <= day) ++i;
    special_index.push_back(static_cast<std::uint32_t>(i));
  }
}

void BusinessCalendar::Impl::index_spans() {
  if (offsets.size() < 2) return;
  const std::int64_t first = offsets[1].begin_ms;
  const auto steps = static_cast<std::uint64_t>(offsets.back().begin_ms - first) >> kIndexShift;
  std::size_t i = 1;
  for (std::uint64_t k = 0; k <= steps; ++k) {
    const std::int64_t t = first + static_cast<std::int64_t>(k << kIndexShift);
    while (i + 1 < offsets.size() && offsets[i + 1].begin_ms <= t) ++i;
    span_index.push_back(static_cast<std::uint32_t>(i));
  }
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
    cal->week_ms += cal->weekly[wd].open_ms;
    if (cal->weekly[wd].end > cal->weekly[wd].begin) ++cal->week_open_days;
    std::size_t k = 0;
    for (std::size_t step = 1; step <= 7; ++step) {
      const Impl::ShiftSet& next = cal->weekly[(wd + step) % 7];
      if (next.end > next.begin) cal->nth_open[wd][++k] = static_cast<std::int64_t>(step);
    }
    cal->gap[wd] = 0;
    for (std::size_t step = 1; step <= 7 && cal->gap[wd] == 0; ++step) {
      const Impl::ShiftSet& next = cal->weekly[(wd + step) % 7];
      if (next.end > next.begin) cal->gap[wd] = static_cast<std::int64_t>(step);
    }
  }

  std::vector<Impl::Workday> workdays;  // sorted by day, one per day
  for (const CalendarSpec::Workday& w : spec.workdays) {
    Impl::Workday day{day_number(w.day), {}};
    // A workday without hours of its own works Monday's (config.h).
    const std::vector<TimeRange>& ranges = w.hours.empty() ? spec.hours[0] : w.hours;
    std::string err = cal->append_shifts(spec, ranges, day_text(w.day), day.shifts);
    if (!err.empty()) return err;
    ever_open = ever_open || day.shifts.end > day.shifts.begin;
    workdays.push_back(day);
  }
  std::sort(workdays.begin(), workdays.end(),
            [](const Impl::Workday& a, const Impl::Workday& b) { return a.day < b.day; });
  for (std::size_t i = 1; i < workdays.size(); ++i) {
    if (workdays[i].day == workdays[i - 1].day) {
      return "calendar '" + spec.name + "': workday " +
             day_text(date::sys_days(date::days(workdays[i].day))) + " is listed twice";
    }
  }
  if (!ever_open) return "calendar '" + spec.name + "' is never open";

  std::vector<Impl::Holiday> holidays;
  for (const CalendarSpec::DayRange& h : spec.holidays) {
    if (h.last < h.first) {
      return "calendar '" + spec.name + "': holiday range " + day_text(h.first) + ".." +
             day_text(h.last) + " ends before it begins";
    }
    holidays.push_back({day_number(h.first), day_number(h.last)});
  }
  std::sort(holidays.begin(), holidays.end(), [](const Impl::Holiday& a, const Impl::Holiday& b) {
    return a.first_day < b.first_day;
  });
  std::vector<Impl::Holiday> merged;
  for (const Impl::Holiday& h : holidays) {
    if (!merged.empty() && h.first_day <= merged.back().last_day + 1) {
      merged.back().last_day = std::max(merged.back().last_day, h.last_day);
    } else {
      merged.push_back(h);
    }
  }
  cal->index_days(merged, workdays);

  cal->offsets = Impl::offset_spans(*zone);
  cal->index_spans();
  return BusinessCalendar(std::move(cal));
}

std::optional<std::int64_t> BusinessCalendar::Impl::add_days(std::int64_t open_at, std::int64_t n,
                                                             std::int64_t until) const {
  const std::int64_t local = open_at + offsets[span_at(open_at)].offset_ms;
  std::int64_t day = day_of(local);
  const std::int64_t time_of_day = local - day * kMsPerDay;
  const std::int64_t last_day = day_of(until + kMarginMs);
  DayCursor days(*this);
  std::span<const Shift> day_shifts;
  // Days before `steady_end` have no offset change near them, so each of them with shifts is an
  // open day without asking has_open_time; it is found once per span rather than once per day.
  std::int64_t steady_end = day;
  for (std::int64_t counted = 0; counted < n;) {
    // Ahead lie weekly hours away from offset changes: there every weekday with hours is an open
    // day, a week holds week_open_days of them, and nth_open gives the day that completes the
    // count directly. When that day lies beyond them, count the whole weeks that fit instead.
    const DayRun& run = days.run(day + 1);
    if (run.kind == DayRun::Kind::kWeekly && week_open_days > 0) {
      if (steady_end <= day + 1) steady_end = steady_until(day + 1);
      const std::int64_t end = std::min({run.end_day, steady_end, last_day + 1});
      const std::int64_t left = n - counted;
      std::int64_t weeks = (left - 1) / week_open_days;
      const std::int64_t target = day + weeks * 7 +
                                  nth_open[static_cast<std::size_t>(weekday_index(day))]
                                          [static_cast<std::size_t>(left - weeks * week_open_days)];
      if (target < end) return to_utc(target * kMsPerDay + time_of_day);
      weeks = std::min(weeks, (end - day - 1) / 7);
      if (weeks > 0) {
        day += weeks * 7;
        counted += weeks * week_open_days;
        continue;
      }
    }
    const auto next = days.next_with_shifts(day, last_day, day_shifts);
    if (!next) return std::nullopt;
    day = *next;
    if (day >= steady_end) steady_end = steady_until(day);
    if (day < steady_end || has_open_time(day, day_shifts)) ++counted;
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
  const std::int64_t day = day_of(local);
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
    remaining -= walk.skip(remaining);
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
    passed += walk.skip(open_times[k].count() - passed);
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
  while (walk.next(begin, end)) total += end - begin + walk.skip(kNever);
  return Millis(total);
}

}  // namespace ombud
