// Business calendars: open hours, holidays and make-up days, DST, the horizon, and the round trip
// between add and working_time.
#include "engine/calendar.h"

#include <date/tz.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ombud {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;

// ---- Building calendars
// --------------------------------------------------------------------------

TimeRange range(int start_hour, int start_minute, int end_hour, int end_minute) {
  return TimeRange{start_hour * 60 + start_minute, end_hour * 60 + end_minute};
}

date::sys_days day(int y, unsigned m, unsigned d) {
  return date::sys_days{date::year{y} / date::month{m} / date::day{d}};
}

CalendarSpec spec(std::string name, std::string zone) {
  CalendarSpec s;
  s.name = std::move(name);
  s.timezone = std::move(zone);
  return s;
}

void open_weekdays(CalendarSpec& s, const std::vector<TimeRange>& hours) {
  for (std::size_t wd = 0; wd < 5; ++wd) s.hours[wd] = hours;
}

void open_every_day(CalendarSpec& s, const std::vector<TimeRange>& hours) {
  for (auto& h : s.hours) h = hours;
}

// The head office: a split shift with a lunch break, Monday to Friday, in Shanghai.
CalendarSpec office_spec() {
  CalendarSpec s = spec("office", "Asia/Shanghai");
  open_weekdays(s, {range(9, 0, 12, 0), range(13, 30, 18, 0)});
  return s;
}

// The office around National Day 2026: closed 2026-10-01..2026-10-08 (Thursday to Thursday),
// worked on Saturday 2026-10-10 with Monday's hours (no hours given).
CalendarSpec national_day_spec() {
  CalendarSpec s = office_spec();
  s.holidays.push_back({day(2026, 10, 1), day(2026, 10, 8)});
  s.workdays.push_back({day(2026, 10, 10), {}});
  return s;
}

BusinessCalendar make_ok(const CalendarSpec& s) {
  auto result = BusinessCalendar::make(s);
  if (const auto* err = std::get_if<std::string>(&result)) {
    ADD_FAILURE() << "calendar '" << s.name << "' rejected: " << *err;
    return BusinessCalendar::wall_clock();
  }
  return std::get<BusinessCalendar>(result);
}

std::string make_error(const CalendarSpec& s) {
  auto result = BusinessCalendar::make(s);
  if (const auto* err = std::get_if<std::string>(&result)) return *err;
  ADD_FAILURE() << "calendar '" << s.name << "' was accepted";
  return {};
}

// ---- Instants and durations ---------------------------------------------------------------------

Timestamp at(std::string_view rfc3339) {
  const auto t = parse_timestamp(rfc3339);
  if (!t) ADD_FAILURE() << "bad timestamp in test: " << rfc3339;
  return t.value_or(Timestamp{});
}

Duration dur(std::string_view text) {
  const auto d = parse_duration(text);
  if (!d) ADD_FAILURE() << "bad duration in test: " << text;
  return d.value_or(Duration{});
}

// An instant as a person in `zone` reads it, so that expectations read like the calendar.
std::string local(const char* zone, std::optional<Timestamp> t) {
  if (!t) return "never";
  const date::time_zone* z = date::locate_zone(zone);
  if (t->time_since_epoch().count() % 1000 == 0) {
    return date::format("%F %T %Z",
                        date::make_zoned(z, std::chrono::floor<std::chrono::seconds>(*t)));
  }
  return date::format("%F %T %Z", date::make_zoned(z, *t));
}

std::string shanghai(std::optional<Timestamp> t) { return local("Asia/Shanghai", t); }
std::string new_york(std::optional<Timestamp> t) { return local("America/New_York", t); }
std::string berlin(std::optional<Timestamp> t) { return local("Europe/Berlin", t); }

// ---- Open hours and boundaries ------------------------------------------------------------------

TEST(BusinessCalendar, ShiftStartIsOpenAndShiftEndIsNot) {
  const BusinessCalendar cal = make_ok(office_spec());
  EXPECT_FALSE(cal.is_open(at("2026-09-14T08:59:59.999+08:00")));
  EXPECT_TRUE(cal.is_open(at("2026-09-14T09:00:00+08:00")));
  EXPECT_TRUE(cal.is_open(at("2026-09-14T11:59:59.999+08:00")));
  EXPECT_FALSE(cal.is_open(at("2026-09-14T12:00:00+08:00")));
  EXPECT_FALSE(cal.is_open(at("2026-09-14T13:29:59.999+08:00")));
  EXPECT_TRUE(cal.is_open(at("2026-09-14T13:30:00+08:00")));
  EXPECT_TRUE(cal.is_open(at("2026-09-14T17:59:59.999+08:00")));
  EXPECT_FALSE(cal.is_open(at("2026-09-14T18:00:00+08:00")));
  EXPECT_FALSE(cal.is_open(at("2026-09-19T10:00:00+08:00")));  // Saturday
}

TEST(BusinessCalendar, NextOpenIsTheInstantItselfWhenOpen) {
  const BusinessCalendar cal = make_ok(office_spec());
  EXPECT_EQ(cal.next_open(at("2026-09-14T09:00:00+08:00")), at("2026-09-14T09:00:00+08:00"));
  EXPECT_EQ(cal.next_open(at("2026-09-14T10:00:00.123+08:00")),
            at("2026-09-14T10:00:00.123+08:00"));
}

TEST(BusinessCalendar, NextOpenSkipsLunchNightAndWeekend) {
  const BusinessCalendar cal = make_ok(office_spec());
  EXPECT_EQ(shanghai(cal.next_open(at("2026-09-14T12:00:00+08:00"))), "2026-09-14 13:30:00 CST");
  EXPECT_EQ(shanghai(cal.next_open(at("2026-09-14T18:00:00+08:00"))), "2026-09-15 09:00:00 CST");
  EXPECT_EQ(shanghai(cal.next_open(at("2026-09-18T18:00:00+08:00"))), "2026-09-21 09:00:00 CST");
  EXPECT_EQ(shanghai(cal.next_open(at("2026-09-19T11:00:00+08:00"))), "2026-09-21 09:00:00 CST");
}

// ---- add: the clock part ------------------------------------------------------------------------

TEST(BusinessCalendar, AddWithinAShift) {
  const BusinessCalendar cal = make_ok(office_spec());
  EXPECT_EQ(shanghai(cal.add(at("2026-09-14T09:00:00+08:00"), dur("2h"))),
            "2026-09-14 11:00:00 CST");
  EXPECT_EQ(shanghai(cal.add(at("2026-09-14T10:00:00.250+08:00"), dur("30m"))),
            "2026-09-14 10:30:00.250 CST");
}

TEST(BusinessCalendar, AddSkipsLunchBreak) {
  const BusinessCalendar cal = make_ok(office_spec());
  EXPECT_EQ(shanghai(cal.add(at("2026-09-14T11:00:00+08:00"), dur("2h"))),
            "2026-09-14 14:30:00 CST");
  EXPECT_EQ(shanghai(cal.add(at("2026-09-14T11:59:59+08:00"), dur("2s"))),
            "2026-09-14 13:30:01 CST");
}

TEST(BusinessCalendar, AddSkipsNightsAndWeekends) {
  const BusinessCalendar cal = make_ok(office_spec());
  EXPECT_EQ(shanghai(cal.add(at("2026-09-14T17:00:00+08:00"), dur("2h"))),
            "2026-09-15 10:00:00 CST");
  EXPECT_EQ(shanghai(cal.add(at("2026-09-18T17:00:00+08:00"), dur("2h"))),
            "2026-09-21 10:00:00 CST");
  // Friday 1 h, Monday 7.5 h, Tuesday 7.5 h: the budget runs out exactly at Tuesday's close.
  EXPECT_EQ(shanghai(cal.add(at("2026-09-18T17:00:00+08:00"), dur("16h"))),
            "2026-09-22 18:00:00 CST");
}

// add_each is add() for several open times in one walk: every answer must be add()'s, including
// shift ends, equal and zero durations, closed starts, the national-day holidays and the horizon.
TEST(BusinessCalendar, AddEachAnswersLikeAddForEveryDuration) {
  using std::chrono::hours;
  using std::chrono::milliseconds;
  using std::chrono::minutes;
  const std::vector<Millis> open_times = {Millis(-1),      Millis(0),
                                          Millis(1),       minutes(30),
                                          hours(1),        hours(1),
                                          hours(3),        hours(7) + minutes(30),
                                          hours(16),       hours(16) + Millis(1),
                                          hours(75),       hours(24 * 3650),
                                          hours(24 * 3654)};
  for (const CalendarSpec& spec : {office_spec(), national_day_spec()}) {
    for (const BusinessCalendar& cal : {make_ok(spec), BusinessCalendar::wall_clock()}) {
      for (const char* start : {"2026-09-14T09:00:00+08:00", "2026-09-18T17:00:00+08:00",
                                "2026-09-19T03:00:00+08:00", "2026-09-30T12:15:00.5+08:00"}) {
        std::vector<std::optional<Timestamp>> each(open_times.size());
        cal.add_each(at(start), open_times, each);
        for (std::size_t k = 0; k < open_times.size(); ++k) {
          EXPECT_EQ(each[k], cal.add(at(start), Duration{0, open_times[k]}))
              << cal.name() << " from " << start << " + " << open_times[k].count() << " ms";
        }
      }
    }
  }
}

TEST(BusinessCalendar, AddThatUsesUpAShiftLandsOnItsEnd) {
  const BusinessCalendar cal = make_ok(office_spec());
  EXPECT_EQ(shanghai(cal.add(at("2026-09-14T09:00:00+08:00"), dur("3h"))),
            "2026-09-14 12:00:00 CST");
  EXPECT_EQ(shanghai(cal.add(at("2026-09-14T11:59:59+08:00"), dur("1s"))),
            "2026-09-14 12:00:00 CST");
  EXPECT_EQ(shanghai(cal.add(at("2026-09-14T09:00:00+08:00"), dur("7h30m"))),
            "2026-09-14 18:00:00 CST");
}

TEST(BusinessCalendar, AddFromClosedTimeCountsFromTheNextOpening) {
  const BusinessCalendar cal = make_ok(office_spec());
  EXPECT_EQ(shanghai(cal.add(at("2026-09-19T10:00:00+08:00"), dur("1h"))),
            "2026-09-21 10:00:00 CST");
  EXPECT_EQ(shanghai(cal.add(at("2026-09-14T12:30:00+08:00"), dur("30m"))),
            "2026-09-14 14:00:00 CST");
  EXPECT_EQ(shanghai(cal.add(at("2026-09-14T18:00:00+08:00"), dur("1h"))),
            "2026-09-15 10:00:00 CST");
  EXPECT_EQ(shanghai(cal.add(at("2026-09-14T07:00:00+08:00"), dur("1h"))),
            "2026-09-14 10:00:00 CST");
}

TEST(BusinessCalendar, AddOfZeroReturnsStartEvenWhenClosed) {
  const BusinessCalendar cal = make_ok(office_spec());
  EXPECT_EQ(cal.add(at("2026-09-19T10:00:00+08:00"), Duration{}), at("2026-09-19T10:00:00+08:00"));
  EXPECT_EQ(cal.add(at("2026-09-14T10:00:00+08:00"), Duration{}), at("2026-09-14T10:00:00+08:00"));
}

// ---- add: working days --------------------------------------------------------------------------

TEST(BusinessCalendar, AddDaysKeepsTheWallClockTime) {
  const BusinessCalendar cal = make_ok(office_spec());
  EXPECT_EQ(shanghai(cal.add(at("2026-09-14T10:15:00+08:00"), dur("2d"))),
            "2026-09-16 10:15:00 CST");
  EXPECT_EQ(shanghai(cal.add(at("2026-09-18T16:00:00+08:00"), dur("1d"))),
            "2026-09-21 16:00:00 CST");
  EXPECT_EQ(shanghai(cal.add(at("2026-09-15T10:00:00+08:00"), dur("1w"))),
            "2026-09-22 10:00:00 CST");
}

TEST(BusinessCalendar, AddDaysFromClosedTimeStartsAtTheNextOpening) {
  const BusinessCalendar cal = make_ok(office_spec());
  // Saturday counts as Monday 09:00, so one working day later is Tuesday 09:00.
  EXPECT_EQ(shanghai(cal.add(at("2026-09-19T10:00:00+08:00"), dur("1d"))),
            "2026-09-22 09:00:00 CST");
  EXPECT_EQ(shanghai(cal.add(at("2026-09-14T12:30:00+08:00"), dur("1d"))),
            "2026-09-15 13:30:00 CST");
  EXPECT_EQ(shanghai(cal.add(at("2026-09-14T18:00:00+08:00"), dur("1d"))),
            "2026-09-16 09:00:00 CST");
}

// A make-up Saturday with shorter hours, so that "the same wall-clock time" can be closed.
CalendarSpec short_saturday_spec() {
  CalendarSpec s = office_spec();
  s.workdays.push_back({day(2026, 9, 19), {range(10, 0, 16, 0)}});
  return s;
}

TEST(BusinessCalendar, AddDaysLandingOnAClosedInstantMovesToTheNextOpening) {
  const BusinessCalendar cal = make_ok(short_saturday_spec());
  EXPECT_EQ(shanghai(cal.add(at("2026-09-18T09:30:00+08:00"), dur("1d"))),
            "2026-09-19 10:00:00 CST");
  EXPECT_EQ(shanghai(cal.add(at("2026-09-18T17:00:00+08:00"), dur("1d"))),
            "2026-09-21 09:00:00 CST");
}

TEST(BusinessCalendar, AddAppliesDaysBeforeTheClockPart) {
  const BusinessCalendar cal = make_ok(short_saturday_spec());
  // Saturday 15:30, then 30 min until 16:00 and 30 min on Monday. (Clock first would give
  // Friday 16:30, then Saturday 16:30, closed: Monday 09:00.)
  EXPECT_EQ(shanghai(cal.add(at("2026-09-18T15:30:00+08:00"), dur("1d1h"))),
            "2026-09-21 09:30:00 CST");
}

// ---- Holidays and make-up workdays --------------------------------------------------------------

TEST(BusinessCalendar, AddAcrossTheNationalDayHolidays) {
  const BusinessCalendar cal = make_ok(national_day_spec());
  // Wednesday 16:00-18:00 is 2 h; Thursday to Thursday are holidays; Friday 09:00 + 2 h.
  EXPECT_EQ(shanghai(cal.add(at("2026-09-30T16:00:00+08:00"), dur("4h"))),
            "2026-10-09 11:00:00 CST");
}

TEST(BusinessCalendar, AddReachesTheMakeUpSaturday) {
  const BusinessCalendar cal = make_ok(national_day_spec());
  EXPECT_EQ(shanghai(cal.add(at("2026-10-09T16:00:00+08:00"), dur("4h"))),
            "2026-10-10 11:00:00 CST");
}

TEST(BusinessCalendar, AddDaysSkipsHolidaysAndCountsTheMakeUpSaturday) {
  const BusinessCalendar cal = make_ok(national_day_spec());
  EXPECT_EQ(shanghai(cal.add(at("2026-09-30T10:00:00+08:00"), dur("1d"))),
            "2026-10-09 10:00:00 CST");
  EXPECT_EQ(shanghai(cal.add(at("2026-09-30T10:00:00+08:00"), dur("2d"))),
            "2026-10-10 10:00:00 CST");
  EXPECT_EQ(shanghai(cal.add(at("2026-09-30T10:00:00+08:00"), dur("3d"))),
            "2026-10-12 10:00:00 CST");
}

TEST(BusinessCalendar, WorkingTimeOverTheNationalDayWeeks) {
  const BusinessCalendar cal = make_ok(national_day_spec());
  // Monday to Wednesday, Friday 9 October and the make-up Saturday: five days of 7.5 h.
  EXPECT_EQ(cal.working_time(at("2026-09-28T00:00:00+08:00"), at("2026-10-12T00:00:00+08:00")),
            minutes(5 * 450));
  EXPECT_EQ(cal.working_time(at("2026-10-01T00:00:00+08:00"), at("2026-10-09T00:00:00+08:00")),
            minutes(0));
}

TEST(BusinessCalendar, IsOpenFollowsHolidaysAndMakeUpDays) {
  const BusinessCalendar cal = make_ok(national_day_spec());
  EXPECT_FALSE(cal.is_open(at("2026-10-05T10:00:00+08:00")));  // a Monday in the holidays
  EXPECT_TRUE(cal.is_open(at("2026-10-10T10:00:00+08:00")));   // the make-up Saturday
  EXPECT_FALSE(cal.is_open(at("2026-10-10T12:30:00+08:00")));  // Monday's lunch break applies
  EXPECT_FALSE(cal.is_open(at("2026-10-11T10:00:00+08:00")));  // an ordinary Sunday
}

TEST(BusinessCalendar, WorkdayInsideAHolidayRangeIsOpen) {
  CalendarSpec s = national_day_spec();
  s.workdays.push_back({day(2026, 10, 5), {range(10, 0, 12, 0)}});
  const BusinessCalendar cal = make_ok(s);
  EXPECT_TRUE(cal.is_open(at("2026-10-05T10:00:00+08:00")));
  EXPECT_FALSE(cal.is_open(at("2026-10-06T10:00:00+08:00")));
  EXPECT_EQ(cal.working_time(at("2026-10-01T00:00:00+08:00"), at("2026-10-09T00:00:00+08:00")),
            hours(2));
}

// ---- Daylight saving time -----------------------------------------------------------------------

CalendarSpec every_day(const char* name, const char* zone, const std::vector<TimeRange>& hours) {
  CalendarSpec s = spec(name, zone);
  open_every_day(s, hours);
  return s;
}

TEST(BusinessCalendar, NineToFiveOnTheSpringForwardDayIsEightHours) {
  const BusinessCalendar cal = make_ok(every_day("ny", "America/New_York", {range(9, 0, 17, 0)}));
  EXPECT_EQ(cal.working_time(at("2026-03-08T00:00:00-05:00"), at("2026-03-09T00:00:00-04:00")),
            hours(8));
  EXPECT_FALSE(cal.is_open(at("2026-03-08T08:59:59.999-04:00")));
  EXPECT_TRUE(cal.is_open(at("2026-03-08T09:00:00-04:00")));
  EXPECT_EQ(new_york(cal.add(at("2026-03-07T16:00:00-05:00"), dur("2h"))),
            "2026-03-08 10:00:00 EDT");
  // One working day is the same wall-clock time, here 23 hours later.
  EXPECT_EQ(new_york(cal.add(at("2026-03-07T10:00:00-05:00"), dur("1d"))),
            "2026-03-08 10:00:00 EDT");
}

TEST(BusinessCalendar, NineToFiveOnTheFallBackDayIsEightHours) {
  const BusinessCalendar cal = make_ok(every_day("ny", "America/New_York", {range(9, 0, 17, 0)}));
  EXPECT_EQ(cal.working_time(at("2026-11-01T00:00:00-04:00"), at("2026-11-02T00:00:00-05:00")),
            hours(8));
  EXPECT_EQ(new_york(cal.add(at("2026-10-31T16:00:00-04:00"), dur("2h"))),
            "2026-11-01 10:00:00 EST");
  EXPECT_EQ(new_york(cal.add(at("2026-10-31T10:00:00-04:00"), dur("1d"))),
            "2026-11-01 10:00:00 EST");
}

TEST(BusinessCalendar, ShiftAcrossTheSpringForwardGapCountsOnlyExistingTime) {
  const BusinessCalendar cal = make_ok(every_day("night", "America/New_York", {range(1, 0, 4, 0)}));
  EXPECT_EQ(cal.working_time(at("2026-03-08T00:00:00-05:00"), at("2026-03-09T00:00:00-04:00")),
            hours(2));
  EXPECT_TRUE(cal.is_open(at("2026-03-08T01:59:59.999-05:00")));
  EXPECT_TRUE(cal.is_open(at("2026-03-08T03:00:00-04:00")));
  EXPECT_FALSE(cal.is_open(at("2026-03-08T04:00:00-04:00")));
  EXPECT_EQ(new_york(cal.add(at("2026-03-08T01:00:00-05:00"), dur("1h30m"))),
            "2026-03-08 03:30:00 EDT");
}

TEST(BusinessCalendar, ShiftAcrossTheFallBackOverlapCountsBothOccurrences) {
  const BusinessCalendar cal = make_ok(every_day("night", "America/New_York", {range(1, 0, 4, 0)}));
  EXPECT_EQ(cal.working_time(at("2026-11-01T00:00:00-04:00"), at("2026-11-02T00:00:00-05:00")),
            hours(4));
  EXPECT_EQ(new_york(cal.add(at("2026-11-01T01:00:00-04:00"), dur("1h30m"))),
            "2026-11-01 01:30:00 EST");
}

TEST(BusinessCalendar, HalfHourInsideTheRepeatedHourIsOpenTwice) {
  const BusinessCalendar cal = make_ok(every_day("odd", "America/New_York", {range(1, 30, 2, 0)}));
  EXPECT_EQ(cal.working_time(at("2026-11-01T00:00:00-04:00"), at("2026-11-02T00:00:00-05:00")),
            hours(1));
  EXPECT_TRUE(cal.is_open(at("2026-11-01T01:45:00-04:00")));
  EXPECT_FALSE(cal.is_open(at("2026-11-01T01:15:00-05:00")));
  EXPECT_TRUE(cal.is_open(at("2026-11-01T01:45:00-05:00")));
  EXPECT_EQ(new_york(cal.add(at("2026-11-01T01:30:00-04:00"), dur("45m"))),
            "2026-11-01 01:45:00 EST");
}

TEST(BusinessCalendar, AlwaysOpenCalendarCountsElapsedTimeAcrossDstChanges) {
  const BusinessCalendar cal = make_ok(every_day("24h", "America/New_York", {range(0, 0, 24, 0)}));
  EXPECT_EQ(cal.working_time(at("2026-03-08T00:00:00-05:00"), at("2026-03-09T00:00:00-04:00")),
            hours(23));
  EXPECT_EQ(cal.working_time(at("2026-11-01T00:00:00-04:00"), at("2026-11-02T00:00:00-05:00")),
            hours(25));
  EXPECT_EQ(new_york(cal.add(at("2026-03-07T12:00:00-05:00"), dur("24h"))),
            "2026-03-08 13:00:00 EDT");
  EXPECT_EQ(new_york(cal.add(at("2026-03-07T12:00:00-05:00"), dur("1d"))),
            "2026-03-08 12:00:00 EDT");
  EXPECT_EQ(new_york(cal.add(at("2026-10-31T12:00:00-04:00"), dur("24h"))),
            "2026-11-01 11:00:00 EST");
  EXPECT_EQ(new_york(cal.add(at("2026-10-31T12:00:00-04:00"), dur("1d"))),
            "2026-11-01 12:00:00 EST");
}

TEST(BusinessCalendar, DaysLandingInTheSpringForwardGapUseTheJump) {
  const BusinessCalendar cal = make_ok(every_day("24h", "America/New_York", {range(0, 0, 24, 0)}));
  EXPECT_EQ(new_york(cal.add(at("2026-03-07T02:30:00-05:00"), dur("1d"))),
            "2026-03-08 03:00:00 EDT");
}

TEST(BusinessCalendar, DaysLandingInTheRepeatedHourUseTheFirstOccurrence) {
  const BusinessCalendar cal = make_ok(every_day("24h", "America/New_York", {range(0, 0, 24, 0)}));
  EXPECT_EQ(new_york(cal.add(at("2026-10-31T01:30:00-04:00"), dur("1d"))),
            "2026-11-01 01:30:00 EDT");
}

TEST(BusinessCalendar, DayWhoseHoursAllFallIntoTheGapIsNotAnOpenDay) {
  const BusinessCalendar cal = make_ok(every_day("gap", "America/New_York", {range(2, 0, 3, 0)}));
  EXPECT_EQ(cal.working_time(at("2026-03-08T00:00:00-05:00"), at("2026-03-09T00:00:00-04:00")),
            hours(0));
  EXPECT_EQ(new_york(cal.add(at("2026-03-07T02:30:00-05:00"), dur("1d"))),
            "2026-03-09 02:30:00 EDT");
  EXPECT_EQ(new_york(cal.add(at("2026-03-07T02:30:00-05:00"), dur("45m"))),
            "2026-03-09 02:15:00 EDT");
}

TEST(BusinessCalendar, BerlinNineToFiveOnBothChangeDays) {
  const BusinessCalendar cal = make_ok(every_day("berlin", "Europe/Berlin", {range(9, 0, 17, 0)}));
  EXPECT_EQ(cal.working_time(at("2026-03-29T00:00:00+01:00"), at("2026-03-30T00:00:00+02:00")),
            hours(8));
  EXPECT_EQ(cal.next_open(at("2026-03-29T00:00:00+01:00")), at("2026-03-29T07:00:00Z"));
  EXPECT_EQ(cal.working_time(at("2026-10-25T00:00:00+02:00"), at("2026-10-26T00:00:00+01:00")),
            hours(8));
  EXPECT_EQ(cal.next_open(at("2026-10-25T00:00:00+02:00")), at("2026-10-25T08:00:00Z"));
  EXPECT_EQ(berlin(cal.add(at("2026-10-24T16:00:00+02:00"), dur("2h"))), "2026-10-25 10:00:00 CET");
}

TEST(BusinessCalendar, BerlinAlwaysOpenCalendarCrossingTheChanges) {
  const BusinessCalendar cal = make_ok(every_day("berlin", "Europe/Berlin", {range(0, 0, 24, 0)}));
  EXPECT_EQ(cal.working_time(at("2026-03-29T00:00:00+01:00"), at("2026-03-30T00:00:00+02:00")),
            hours(23));
  EXPECT_EQ(cal.working_time(at("2026-10-25T00:00:00+02:00"), at("2026-10-26T00:00:00+01:00")),
            hours(25));
  EXPECT_EQ(berlin(cal.add(at("2026-03-28T23:00:00+01:00"), dur("4h"))),
            "2026-03-29 04:00:00 CEST");
  EXPECT_EQ(berlin(cal.add(at("2026-10-24T23:00:00+02:00"), dur("4h"))), "2026-10-25 02:00:00 CET");
}

TEST(BusinessCalendar, LocalTimeIsTheWallClockOfTheZone) {
  const BusinessCalendar cal = make_ok(every_day("ny", "America/New_York", {range(9, 0, 17, 0)}));
  const date::local_days sunday{date::year{2026} / 3 / 8};
  EXPECT_EQ(cal.local_time(at("2026-03-08T06:59:59.999Z")),
            sunday + hours(1) + minutes(59) + milliseconds(59'999));
  EXPECT_EQ(cal.local_time(at("2026-03-08T07:00:00Z")), sunday + hours(3));
  EXPECT_EQ(BusinessCalendar::wall_clock().local_time(at("2026-03-08T07:00:00Z")),
            sunday + hours(7));
}

// ---- make() errors ------------------------------------------------------------------------------

TEST(BusinessCalendar, MakeRejectsAnUnknownTimeZone) {
  CalendarSpec s = office_spec();
  s.name = "mars";
  s.timezone = "Mars/Olympus_Mons";
  EXPECT_EQ(make_error(s), "calendar 'mars': unknown time zone 'Mars/Olympus_Mons'");
}

TEST(BusinessCalendar, MakeRejectsACalendarThatIsNeverOpen) {
  CalendarSpec s = spec("closed", "Asia/Shanghai");
  s.holidays.push_back({day(2026, 1, 1), day(2026, 1, 3)});
  EXPECT_EQ(make_error(s), "calendar 'closed' is never open");
  // A workday without hours works Monday's, which are none here.
  s.workdays.push_back({day(2026, 1, 4), {}});
  EXPECT_EQ(make_error(s), "calendar 'closed' is never open");
}

TEST(BusinessCalendar, MakeRejectsHoursThatAreNotARangeWithinTheDay) {
  CalendarSpec s = spec("x", "Asia/Shanghai");
  s.hours[0] = {range(18, 0, 9, 0)};
  EXPECT_EQ(make_error(s),
            "calendar 'x': open hours 18:00-09:00 on Monday are not a range within "
            "one day");
  s.hours[0] = {range(9, 0, 25, 0)};
  EXPECT_EQ(make_error(s),
            "calendar 'x': open hours 09:00-25:00 on Monday are not a range within "
            "one day");
  s.hours[0] = {range(9, 0, 12, 0)};
  s.workdays.push_back({day(2026, 10, 10), {range(12, 0, 12, 0)}});
  EXPECT_EQ(make_error(s),
            "calendar 'x': open hours 12:00-12:00 on 2026-10-10 are not a range "
            "within one day");
}

TEST(BusinessCalendar, MakeRejectsAHolidayRangeEndingBeforeItBegins) {
  CalendarSpec s = office_spec();
  s.holidays.push_back({day(2026, 10, 8), day(2026, 10, 1)});
  EXPECT_EQ(make_error(s),
            "calendar 'office': holiday range 2026-10-08..2026-10-01 ends before it "
            "begins");
}

TEST(BusinessCalendar, MakeRejectsAWorkdayListedTwice) {
  CalendarSpec s = office_spec();
  s.workdays.push_back({day(2026, 10, 10), {}});
  s.workdays.push_back({day(2026, 10, 10), {range(9, 0, 12, 0)}});
  EXPECT_EQ(make_error(s), "calendar 'office': workday 2026-10-10 is listed twice");
}

TEST(BusinessCalendar, MakeMergesOverlappingHours) {
  CalendarSpec s = spec("x", "Asia/Shanghai");
  s.hours[0] = {range(13, 0, 18, 0), range(9, 0, 12, 0), range(11, 40, 13, 20)};
  const BusinessCalendar cal = make_ok(s);
  EXPECT_EQ(cal.working_time(at("2026-09-14T00:00:00+08:00"), at("2026-09-15T00:00:00+08:00")),
            hours(9));
}

// ---- The horizon --------------------------------------------------------------------------------

TEST(BusinessCalendar, AddFindsTheOnlyOpenDateYearsAhead) {
  CalendarSpec s = spec("once", "Asia/Shanghai");
  s.workdays.push_back({day(2030, 6, 3), {range(9, 0, 17, 0)}});
  const BusinessCalendar cal = make_ok(s);
  const Timestamp from = at("2026-01-01T00:00:00+08:00");
  EXPECT_EQ(shanghai(cal.next_open(from)), "2030-06-03 09:00:00 CST");
  EXPECT_EQ(shanghai(cal.add(from, dur("1h"))), "2030-06-03 10:00:00 CST");
  EXPECT_EQ(shanghai(cal.add(from, dur("1d"))), "never");  // there is no second open day
  EXPECT_EQ(cal.working_time(from, at("2031-01-01T00:00:00+08:00")), hours(8));
}

TEST(BusinessCalendar, NothingOpenWithinTheHorizonIsNullopt) {
  CalendarSpec s = office_spec();
  s.holidays.push_back({day(2026, 1, 1), day(2099, 12, 31)});
  const BusinessCalendar cal = make_ok(s);
  const Timestamp from = at("2026-06-01T10:00:00+08:00");
  EXPECT_EQ(cal.next_open(from), std::nullopt);
  EXPECT_EQ(cal.add(from, dur("1h")), std::nullopt);
  EXPECT_EQ(cal.add(from, dur("1d")), std::nullopt);
  EXPECT_EQ(cal.working_time(from, at("2090-01-01T00:00:00Z")), minutes(0));
  EXPECT_EQ(shanghai(cal.next_open(at("2100-01-01T00:00:00+08:00"))), "2100-01-01 09:00:00 CST");
}

TEST(BusinessCalendar, OpenDateBeyondTheHorizonIsNullopt) {
  CalendarSpec s = spec("late", "Asia/Shanghai");
  s.workdays.push_back({day(2040, 1, 2), {range(9, 0, 17, 0)}});
  const BusinessCalendar cal = make_ok(s);
  EXPECT_EQ(cal.next_open(at("2026-01-01T00:00:00Z")), std::nullopt);
  EXPECT_EQ(cal.add(at("2026-01-01T00:00:00Z"), dur("1h")), std::nullopt);
  EXPECT_EQ(shanghai(cal.add(at("2031-01-01T00:00:00Z"), dur("1h"))), "2040-01-02 10:00:00 CST");
}

TEST(BusinessCalendar, AddBeyondTheHorizonIsNullopt) {
  const BusinessCalendar cal = make_ok(office_spec());
  const Timestamp from = at("2026-09-14T10:00:00+08:00");
  EXPECT_EQ(cal.add(from, dur("100000h")), std::nullopt);  // about 51 years of 37.5-hour weeks
  EXPECT_EQ(cal.add(from, Duration{1'000'000'000'000, Millis(0)}), std::nullopt);
  EXPECT_EQ(cal.add(from, Duration{0, Millis::max()}), std::nullopt);
  EXPECT_EQ(cal.add(from, Duration{std::numeric_limits<std::int64_t>::max(), Millis::max()}),
            std::nullopt);
  EXPECT_NE(cal.add(from, dur("10000h")), std::nullopt);  // about 5 years

  const BusinessCalendar wall = BusinessCalendar::wall_clock();
  EXPECT_EQ(wall.add(from, Duration{3653, Millis(0)}), from + std::chrono::days(3653));
  EXPECT_EQ(wall.add(from, Duration{3653, Millis(1)}), std::nullopt);
}

TEST(BusinessCalendar, AddRejectsNegativeDurations) {
  const BusinessCalendar cal = make_ok(office_spec());
  const Timestamp from = at("2026-09-14T10:00:00+08:00");
  EXPECT_EQ(cal.add(from, Duration{-1, Millis(0)}), std::nullopt);
  EXPECT_EQ(cal.add(from, Duration{0, Millis(-1)}), std::nullopt);
  EXPECT_EQ(BusinessCalendar::wall_clock().add(from, Duration{0, Millis(-1)}), std::nullopt);
}

TEST(BusinessCalendar, InstantsOutsideTheSupportedRangeAreClosed) {
  const BusinessCalendar cal = make_ok(every_day("24h", "Asia/Shanghai", {range(0, 0, 24, 0)}));
  const Timestamp before = BusinessCalendar::kEarliest - milliseconds(1);
  EXPECT_FALSE(cal.is_open(before));
  EXPECT_TRUE(cal.is_open(BusinessCalendar::kEarliest));
  EXPECT_FALSE(cal.is_open(BusinessCalendar::kLatest));
  EXPECT_EQ(cal.next_open(before), std::nullopt);
  EXPECT_EQ(cal.add(before, dur("1h")), std::nullopt);
  EXPECT_EQ(cal.working_time(Timestamp::min(), BusinessCalendar::kEarliest), minutes(0));
  EXPECT_EQ(BusinessCalendar::wall_clock().working_time(Timestamp::min(), Timestamp::max()),
            BusinessCalendar::kLatest - BusinessCalendar::kEarliest);
}

// ---- The wall clock -----------------------------------------------------------------------------

TEST(BusinessCalendar, WallClockIsAlwaysOpenAndCountsElapsedTime) {
  const BusinessCalendar wall = BusinessCalendar::wall_clock();
  const Timestamp sat = at("2026-09-19T03:00:00.5Z");
  EXPECT_EQ(wall.name(), "none");
  EXPECT_TRUE(wall.is_open(sat));
  EXPECT_EQ(wall.next_open(sat), sat);
  EXPECT_EQ(wall.add(sat, dur("1d4h")), sat + hours(28));
  EXPECT_EQ(wall.add(sat, dur("1w")), sat + hours(5 * 24));
  EXPECT_EQ(wall.working_time(sat, sat + hours(50)), hours(50));
  EXPECT_EQ(wall.working_time(sat + hours(50), sat), hours(0));
}

// ---- working_time and properties ----------------------------------------------------------------

TEST(BusinessCalendar, WorkingTimeIsZeroWhenTheEndIsNotAfterTheStart) {
  const BusinessCalendar cal = make_ok(office_spec());
  const Timestamp t = at("2026-09-14T10:00:00+08:00");
  EXPECT_EQ(cal.working_time(t, t), minutes(0));
  EXPECT_EQ(cal.working_time(t + hours(1), t), minutes(0));
}

TEST(BusinessCalendar, WorkingTimeAcrossLunchNightAndWeekend) {
  const BusinessCalendar cal = make_ok(office_spec());
  EXPECT_EQ(cal.working_time(at("2026-09-18T11:00:00+08:00"), at("2026-09-21T10:00:00+08:00")),
            minutes(60 + 270 + 60));
  EXPECT_EQ(
      cal.working_time(at("2026-09-14T11:59:59.999+08:00"), at("2026-09-14T13:30:00.001+08:00")),
      milliseconds(2));
}

struct NamedCalendar {
  std::string name;
  BusinessCalendar cal;
};

std::vector<NamedCalendar> property_calendars() {
  std::vector<NamedCalendar> out;
  out.push_back({"national day office", make_ok(national_day_spec())});
  CalendarSpec ny = spec("ny", "America/New_York");
  open_weekdays(ny, {range(9, 0, 17, 0)});
  out.push_back({"new york weekdays", make_ok(ny)});
  out.push_back({"new york 01:30-02:00",
                 make_ok(every_day("odd", "America/New_York", {range(1, 30, 2, 0)}))});
  out.push_back({"berlin 24h", make_ok(every_day("24h", "Europe/Berlin", {range(0, 0, 24, 0)}))});
  return out;
}

// Instants over 2026 (so both DST changes are crossed), half of them on whole minutes so that
// shift boundaries are hit exactly.
class Instants {
 public:
  Timestamp next() {
    const std::int64_t span = std::chrono::duration_cast<Millis>(std::chrono::days(340)).count();
    std::int64_t offset = std::uniform_int_distribution<std::int64_t>(0, span)(rng_);
    if (rng_() % 2 == 0) offset -= offset % 60'000;
    return at("2026-01-05T00:00:00Z") + Millis(offset);
  }
  Millis span() {
    const std::int64_t max = std::chrono::duration_cast<Millis>(std::chrono::days(21)).count();
    std::int64_t length = std::uniform_int_distribution<std::int64_t>(1, max)(rng_);
    if (rng_() % 2 == 0) length -= length % 60'000;
    return Millis(length);
  }

 private:
  std::mt19937_64 rng_{20261001};
};

TEST(BusinessCalendar, AddOfWorkingTimeReturnsToTheEnd) {
  for (const NamedCalendar& c : property_calendars()) {
    Instants random;
    for (int i = 0; i < 300; ++i) {
      const Timestamp a = random.next();
      const Timestamp b = a + random.span();
      const Millis w = c.cal.working_time(a, b);
      const std::optional<Timestamp> x = c.cal.add(a, Duration{0, w});
      ASSERT_TRUE(x.has_value()) << c.name << " from " << format_timestamp(a);
      SCOPED_TRACE(c.name + ": a=" + format_timestamp(a) + " b=" + format_timestamp(b) +
                   " add=" + format_timestamp(*x));
      EXPECT_LE(*x, b);
      EXPECT_EQ(c.cal.working_time(a, *x), w);
      EXPECT_EQ(c.cal.working_time(*x, b), Millis(0));
      // add is the earliest such instant: open time runs right up to it.
      if (*x > a) {
        EXPECT_TRUE(c.cal.is_open(*x - Millis(1)));
      }
      // When b is open it is the answer, unless b is the very first instant of an opening: then
      // the answer is the end of the previous open interval, earlier than b.
      if (c.cal.is_open(b) && c.cal.is_open(b - Millis(1))) {
        EXPECT_EQ(*x, b);
      }
    }
  }
}

TEST(BusinessCalendar, IsOpenAndNextOpenAgreeWithWorkingTime) {
  for (const NamedCalendar& c : property_calendars()) {
    Instants random;
    for (int i = 0; i < 300; ++i) {
      const Timestamp t = random.next();
      SCOPED_TRACE(c.name + ": t=" + format_timestamp(t));
      EXPECT_EQ(c.cal.is_open(t), c.cal.working_time(t, t + Millis(1)) == Millis(1));
      const std::optional<Timestamp> open = c.cal.next_open(t);
      ASSERT_TRUE(open.has_value());
      EXPECT_GE(*open, t);
      EXPECT_TRUE(c.cal.is_open(*open));
      EXPECT_EQ(c.cal.working_time(t, *open), Millis(0));
    }
  }
}

// ---- Against a reference: the fast paths over whole days and weeks
// --------------------------------

// A straightforward model of a calendar over a window of time, minute by minute, written only from
// the spec and date/tz: every offset change and every shift boundary falls on a whole minute, so
// a UTC minute is open or closed as a whole. From it, open time is a prefix sum and every answer
// is a search, with none of the calendar's shortcuts (skipping whole days and weeks, counting
// open days by the week, the tables of special days and offsets).
class MinuteModel {
 public:
  MinuteModel(const CalendarSpec& spec, Timestamp first, Timestamp last)
      : first_ms_(first.time_since_epoch().count()) {
    const date::time_zone* zone = date::locate_zone(spec.timezone);
    const auto minutes_total = static_cast<std::size_t>((last - first).count() / kMinute);
    open_before_.assign(minutes_total + 1, 0);
    offset_.resize(minutes_total);
    date::sys_info info = zone->get_info(first);
    for (std::size_t m = 0; m < minutes_total; ++m) {
      const Timestamp t = first + Millis(static_cast<std::int64_t>(m) * kMinute);
      if (t >= info.end) info = zone->get_info(t);
      offset_[m] = std::chrono::duration_cast<Millis>(info.offset).count();
      const std::int64_t local = t.time_since_epoch().count() + offset_[m];
      const std::int64_t local_day = floor_div(local, kDay);
      const bool open = open_at(spec, local_day, (local - local_day * kDay) / kMinute);
      open_before_[m + 1] = open_before_[m] + (open ? 1 : 0);
      if (open) open_days_.push_back(local_day);  // ascending, with repeats
    }
  }

  Millis working_time(Timestamp a, Timestamp b) const {
    if (b <= a) return Millis(0);
    return Millis(open_before(ms(b)) - open_before(ms(a)));
  }

  // The earliest instant by which `open` of open time has passed since t (open > 0).
  Timestamp add_open(Timestamp t, std::int64_t open) const {
    const std::int64_t target = open_before(ms(t)) + open;
    // The minute in which the count reaches the target: the first m with open_before_[m + 1] *
    // kMinute >= target.
    const std::int64_t whole = (target + kMinute - 1) / kMinute;
    const auto it = std::lower_bound(open_before_.begin(), open_before_.end(), whole);
    EXPECT_NE(it, open_before_.end()) << "the model's window is too short";
    const auto m = static_cast<std::int64_t>(it - open_before_.begin()) - 1;
    return at_ms(first_ms_ + m * kMinute + (target - (whole - 1) * kMinute));
  }

  Timestamp next_open(Timestamp t) const {
    const std::size_t m = minute(ms(t));
    if (open_before_[m + 1] > open_before_[m]) return t;
    const auto it = std::upper_bound(open_before_.begin(), open_before_.end(), open_before_[m]);
    return at_ms(first_ms_ + static_cast<std::int64_t>(it - open_before_.begin() - 1) * kMinute);
  }

  // add(start, d) as calendar.h words it.
  Timestamp add(Timestamp start, Duration d) const {
    if (d.is_zero()) return start;
    Timestamp from = start;
    if (d.days > 0) {
      const Timestamp open = next_open(start);
      const std::int64_t local = ms(open) + offset_[minute(ms(open))];
      std::int64_t day = floor_div(local, kDay);
      const std::int64_t time_of_day = local - day * kDay;
      for (std::int64_t counted = 0; counted < d.days; ++counted) {
        day = *std::upper_bound(open_days_.begin(), open_days_.end(), day);
      }
      from = first_instant_at_or_after(day * kDay + time_of_day);
    }
    return d.clock.count() == 0 ? next_open(from) : add_open(from, d.clock.count());
  }

 private:
  static constexpr std::int64_t kMinute = 60'000;
  static constexpr std::int64_t kDay = 86'400'000;

  static std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    return a / b - (a % b < 0 ? 1 : 0);
  }
  static std::int64_t ms(Timestamp t) { return t.time_since_epoch().count(); }
  static Timestamp at_ms(std::int64_t v) { return Timestamp(Millis(v)); }

  static bool open_at(const CalendarSpec& spec, std::int64_t local_day, std::int64_t minute) {
    const date::sys_days day{date::days(local_day)};
    const std::vector<TimeRange>* hours = nullptr;
    for (const CalendarSpec::Workday& w : spec.workdays) {
      if (w.day == day) hours = w.hours.empty() ? &spec.hours[0] : &w.hours;
    }
    if (hours == nullptr) {
      for (const CalendarSpec::DayRange& h : spec.holidays) {
        if (h.first <= day && day <= h.last) return false;
      }
      hours = &spec.hours[date::weekday(day).iso_encoding() - 1];
    }
    for (const TimeRange& r : *hours) {
      if (r.start_minute <= minute && minute < r.end_minute) return true;
    }
    return false;
  }

  std::size_t minute(std::int64_t t) const {
    const std::int64_t m = floor_div(t - first_ms_, kMinute);
    EXPECT_TRUE(m >= 0 && static_cast<std::size_t>(m) < offset_.size())
        << "the model's window is too short";
    return static_cast<std::size_t>(m);
  }

  // Open time in [window start, t).
  std::int64_t open_before(std::int64_t t) const {
    const std::size_t m = minute(t);
    const std::int64_t start = first_ms_ + static_cast<std::int64_t>(m) * kMinute;
    return open_before_[m] * kMinute + (open_before_[m + 1] - open_before_[m]) * (t - start);
  }

  // The first instant whose wall-clock time is `local` or later: the local time itself, its first
  // occurrence when repeated, and the instant the clocks jump over it when it does not exist.
  Timestamp first_instant_at_or_after(std::int64_t local) const {
    for (std::int64_t m = minute(local - 2 * kDay);; ++m) {
      const std::int64_t start = first_ms_ + m * kMinute;
      const std::int64_t t = std::max(start, local - offset_[static_cast<std::size_t>(m)]);
      if (t < start + kMinute) return at_ms(t);
    }
  }

  std::int64_t first_ms_;
  std::vector<std::int64_t> open_before_;  // open minutes before minute m of the window
  std::vector<std::int64_t> offset_;       // UTC offset in ms during minute m
  std::vector<std::int64_t> open_days_;    // the local day of each open minute
};

struct ModelCase {
  std::string name;
  CalendarSpec spec;
};

std::vector<ModelCase> model_cases() {
  std::vector<ModelCase> out;
  // Split shifts, a holiday week and a make-up Saturday, across both DST changes.
  CalendarSpec ny = spec("ny", "America/New_York");
  open_weekdays(ny, {range(8, 30, 12, 0), range(13, 0, 17, 30)});
  ny.holidays.push_back({day(2026, 3, 2), day(2026, 3, 6)});
  ny.holidays.push_back({day(2026, 10, 26), day(2026, 11, 3)});
  ny.workdays.push_back({day(2026, 3, 7), {range(10, 0, 14, 0)}});
  ny.workdays.push_back({day(2026, 11, 1), {}});
  out.push_back({"new york split shifts", ny});
  // Hours inside the hours that DST skips or repeats, on every day.
  out.push_back({"new york nights", every_day("nights", "America/New_York",
                                              {range(0, 30, 2, 30), range(22, 0, 24, 0)})});
  out.push_back(
      {"new york 02:00-03:00", every_day("gap", "America/New_York", {range(2, 0, 3, 0)})});
  out.push_back({"new york 24h", every_day("24h", "America/New_York", {range(0, 0, 24, 0)})});
  // Split shifts on weekdays, a short Saturday, the night hours of the change days on Sundays.
  CalendarSpec berlin = spec("berlin", "Europe/Berlin");
  open_weekdays(berlin, {range(7, 0, 11, 0), range(12, 0, 16, 0), range(17, 0, 19, 0)});
  berlin.hours[5] = {range(9, 0, 13, 0)};
  berlin.hours[6] = {range(1, 0, 4, 0)};
  berlin.holidays.push_back({day(2026, 3, 30), day(2026, 4, 6)});
  berlin.workdays.push_back({day(2026, 4, 4), {range(2, 0, 3, 0)}});
  out.push_back({"berlin", berlin});
  // The 2026 holidays of the head office with their make-up days, and a long holiday in summer.
  CalendarSpec office = national_day_spec();
  office.holidays.push_back({day(2026, 2, 15), day(2026, 2, 23)});
  office.holidays.push_back({day(2026, 7, 1), day(2026, 8, 31)});
  office.workdays.push_back({day(2026, 2, 14), {range(9, 0, 12, 0), range(13, 30, 17, 0)}});
  office.workdays.push_back({day(2026, 2, 28), {}});
  office.workdays.push_back({day(2026, 8, 5), {range(9, 0, 9, 30)}});
  out.push_back({"shanghai office", office});
  return out;
}

TEST(BusinessCalendar, AgreesWithAMinuteByMinuteModel) {
  const Timestamp window_start = at("2025-12-01T00:00:00Z");
  const Timestamp window_end = at("2027-12-01T00:00:00Z");
  for (const ModelCase& c : model_cases()) {
    const BusinessCalendar cal = make_ok(c.spec);
    const MinuteModel model(c.spec, window_start, window_end);
    Instants random;
    std::mt19937_64 rng(7);
    const auto pick = [&](std::int64_t max) {
      return std::uniform_int_distribution<std::int64_t>(0, max)(rng);
    };
    for (int i = 0; i < 400; ++i) {
      Timestamp a = random.next();
      // Every fourth start on a whole hour, so that starts on shift boundaries are common.
      if (i % 4 == 0) a -= Millis(a.time_since_epoch().count() % 3'600'000);
      const Timestamp b = a + random.span();
      SCOPED_TRACE(c.name + ": a=" + format_timestamp(a) + " b=" + format_timestamp(b));
      EXPECT_EQ(cal.working_time(a, b), model.working_time(a, b));

      // Up to about three weeks of open time, on whole minutes or not.
      std::int64_t open = pick(120LL * 3'600'000);
      if (i % 2 == 0) open -= open % 60'000;
      const Duration clock{0, Millis(open)};
      EXPECT_EQ(cal.add(a, clock), model.add(a, clock)) << "+ " << open << " ms";
      const Duration days{pick(12), Millis(i % 3 == 0 ? 0 : pick(20LL * 3'600'000))};
      EXPECT_EQ(cal.add(a, days), model.add(a, days))
          << "+ " << days.days << " days " << days.clock.count() << " ms";

      std::vector<Millis> open_times;
      for (std::int64_t k = pick(5); k >= 0; --k) open_times.emplace_back(pick(80LL * 3'600'000));
      if (i % 3 == 0) open_times.push_back(open_times.front());  // equal ones
      std::sort(open_times.begin(), open_times.end());
      std::vector<std::optional<Timestamp>> each(open_times.size());
      cal.add_each(a, open_times, each);
      for (std::size_t k = 0; k < open_times.size(); ++k) {
        EXPECT_EQ(each[k], model.add(a, Duration{0, open_times[k]}))
            << "add_each + " << open_times[k].count() << " ms";
      }
    }
  }
}

}  // namespace
}  // namespace ombud
