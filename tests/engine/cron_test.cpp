#include "engine/cron.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ombud {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

CronSpec parse_ok(std::string_view text) {
  auto result = parse_cron(text);
  if (const auto* err = std::get_if<CronError>(&result)) {
    ADD_FAILURE() << "'" << text << "' failed at " << err->offset << ": " << err->message;
    return {};
  }
  return std::get<CronSpec>(result);
}

CronError parse_error(std::string_view text) {
  auto result = parse_cron(text);
  if (!std::holds_alternative<CronError>(result)) {
    ADD_FAILURE() << "'" << text << "' parsed but should not have";
    return {};
  }
  return std::get<CronError>(result);
}

// The set bits of a bitset, for readable comparisons.
template <std::size_t N>
std::vector<int> bits(const std::bitset<N>& set) {
  std::vector<int> out;
  for (std::size_t i = 0; i < N; ++i) {
    if (set[i]) out.push_back(static_cast<int>(i));
  }
  return out;
}

std::vector<int> iota(int from, int to, int step = 1) {
  std::vector<int> out;
  for (int v = from; v <= to; v += step) out.push_back(v);
  return out;
}

date::local_seconds at(int y, unsigned m, unsigned d, int h = 0, int min = 0, int s = 0) {
  return date::local_days{date::year{y} / date::month{m} / date::day{d}} + hours{h} + minutes{min} +
         seconds{s};
}

std::string text(std::optional<date::local_seconds> t) {
  return t ? date::format("%F %R %a", *t) : std::string("never");
}

// The next `count` matches after `from`, each found from the previous one.
std::vector<std::string> next_matches(const CronSpec& spec, date::local_seconds from, int count) {
  std::vector<std::string> out;
  std::optional<date::local_seconds> t = from;
  for (int i = 0; i < count && t; ++i) {
    t = spec.next_after(*t);
    out.push_back(text(t));
  }
  return out;
}

// ---- Parsing ----------------------------------------------------------------------------------

TEST(CronParse, StarsSelectEveryValueAndRestrictNothing) {
  const CronSpec spec = parse_ok("* * * * *");
  EXPECT_EQ(bits(spec.minutes), iota(0, 59));
  EXPECT_EQ(bits(spec.hours), iota(0, 23));
  EXPECT_EQ(bits(spec.days_of_month), iota(1, 31));
  EXPECT_EQ(bits(spec.months), iota(1, 12));
  EXPECT_EQ(bits(spec.days_of_week), iota(0, 6));
  EXPECT_FALSE(spec.dom_restricted);
  EXPECT_FALSE(spec.dow_restricted);
}

TEST(CronParse, SingleValuesAndLists) {
  const CronSpec spec = parse_ok("1,15,30 9 1,15 6 3");
  EXPECT_EQ(bits(spec.minutes), (std::vector<int>{1, 15, 30}));
  EXPECT_EQ(bits(spec.hours), (std::vector<int>{9}));
  EXPECT_EQ(bits(spec.days_of_month), (std::vector<int>{1, 15}));
  EXPECT_EQ(bits(spec.months), (std::vector<int>{6}));
  EXPECT_EQ(bits(spec.days_of_week), (std::vector<int>{3}));
  EXPECT_TRUE(spec.dom_restricted);
  EXPECT_TRUE(spec.dow_restricted);
}

TEST(CronParse, Ranges) {
  const CronSpec spec = parse_ok("0 9-17 10-20 * *");
  EXPECT_EQ(bits(spec.hours), iota(9, 17));
  EXPECT_EQ(bits(spec.days_of_month), iota(10, 20));
}

TEST(CronParse, StepOverStar) {
  EXPECT_EQ(bits(parse_ok("*/15 * * * *").minutes), (std::vector<int>{0, 15, 30, 45}));
  EXPECT_EQ(bits(parse_ok("0 0 */10 * *").days_of_month), (std::vector<int>{1, 11, 21, 31}));
  EXPECT_EQ(bits(parse_ok("0 0 * */4 *").months), (std::vector<int>{1, 5, 9}));
}

TEST(CronParse, StepOverRange) {
  EXPECT_EQ(bits(parse_ok("0 8-18/2 * * *").hours), (std::vector<int>{8, 10, 12, 14, 16, 18}));
}

TEST(CronParse, StepFromValueRunsToTheFieldsTop) {
  EXPECT_EQ(bits(parse_ok("5/10 * * * *").minutes), (std::vector<int>{5, 15, 25, 35, 45, 55}));
  EXPECT_EQ(bits(parse_ok("0 20/2 * * *").hours), (std::vector<int>{20, 22}));
}

TEST(CronParse, DayOfWeekOpenStepsStopAtSaturdaySoSundayIsNotAddedTwice) {
  EXPECT_EQ(bits(parse_ok("0 0 * * */2").days_of_week), (std::vector<int>{0, 2, 4, 6}));
  EXPECT_EQ(bits(parse_ok("0 0 * * 1/2").days_of_week), (std::vector<int>{1, 3, 5}));
}

TEST(CronParse, MixedListOfRangesStepsAndValues) {
  EXPECT_EQ(bits(parse_ok("1-3,10,*/20,50-58/4 * * * *").minutes),
            (std::vector<int>{0, 1, 2, 3, 10, 20, 40, 50, 54, 58}));
}

TEST(CronParse, MonthNamesAreCaseInsensitive) {
  EXPECT_EQ(bits(parse_ok("0 0 1 jan,Mar-MAY,dec *").months), (std::vector<int>{1, 3, 4, 5, 12}));
  EXPECT_EQ(bits(parse_ok("0 0 1 JAN-DEC/3 *").months), (std::vector<int>{1, 4, 7, 10}));
}

TEST(CronParse, DayNamesAreCaseInsensitive) {
  EXPECT_EQ(bits(parse_ok("0 9 * * mon-FRI").days_of_week), iota(1, 5));
  EXPECT_EQ(bits(parse_ok("0 9 * * Sat,sun").days_of_week), (std::vector<int>{0, 6}));
}

TEST(CronParse, SevenIsSundayLikeZero) {
  EXPECT_EQ(bits(parse_ok("0 0 * * 7").days_of_week), (std::vector<int>{0}));
  EXPECT_EQ(bits(parse_ok("0 0 * * 0").days_of_week), (std::vector<int>{0}));
  EXPECT_EQ(bits(parse_ok("0 0 * * 5-7").days_of_week), (std::vector<int>{0, 5, 6}));
  EXPECT_EQ(bits(parse_ok("0 0 * * 0,7").days_of_week), (std::vector<int>{0}));
}

TEST(CronParse, DayFieldIsRestrictedUnlessItStartsWithStarAsInVixieCron) {
  const CronSpec dom_only = parse_ok("0 0 1 * *");
  EXPECT_TRUE(dom_only.dom_restricted);
  EXPECT_FALSE(dom_only.dow_restricted);
  const CronSpec stepped = parse_ok("0 0 */2 * 1-5/2");
  EXPECT_FALSE(stepped.dom_restricted);
  EXPECT_TRUE(stepped.dow_restricted);
}

TEST(CronParse, FieldsMayBeSeparatedByAnyRunOfSpacesAndTabs) {
  const CronSpec spec = parse_ok("  30\t 9  *  * \tMON  ");
  EXPECT_EQ(bits(spec.minutes), (std::vector<int>{30}));
  EXPECT_EQ(bits(spec.hours), (std::vector<int>{9}));
  EXPECT_EQ(bits(spec.days_of_week), (std::vector<int>{1}));
}

// ---- Parse errors: message and byte offset ----------------------------------------------------

struct ErrorCase {
  std::string text;
  std::size_t offset;
  std::string message;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << "'" << c.text << "'"; }

class CronParseError : public testing::TestWithParam<ErrorCase> {};

TEST_P(CronParseError, ReportsMessageAtOffset) {
  const ErrorCase& c = GetParam();
  const CronError err = parse_error(c.text);
  EXPECT_EQ(err.message, c.message);
  EXPECT_EQ(err.offset, c.offset);
}

INSTANTIATE_TEST_SUITE_P(
    FieldCount, CronParseError,
    testing::Values(ErrorCase{"0 9 * *", 7, "expected 5 fields, found 4"},
                    ErrorCase{"", 0, "expected 5 fields, found 0"},
                    ErrorCase{"   ", 3, "expected 5 fields, found 0"},
                    ErrorCase{"0 9 * * * 2026", 10, "expected 5 fields, found 6"},
                    ErrorCase{"0 9 * * * a b", 10, "expected 5 fields, found 7"}));

INSTANTIATE_TEST_SUITE_P(
    OutOfRange, CronParseError,
    testing::Values(ErrorCase{"61 * * * *", 0, "minute 61 is out of range 0-59"},
                    ErrorCase{"0 24 * * *", 2, "hour 24 is out of range 0-23"},
                    ErrorCase{"0 0 0 * *", 4, "day-of-month 0 is out of range 1-31"},
                    ErrorCase{"0 0 32 * *", 4, "day-of-month 32 is out of range 1-31"},
                    ErrorCase{"0 0 * 13 *", 6, "month 13 is out of range 1-12"},
                    ErrorCase{"0 0 * 0 *", 6, "month 0 is out of range 1-12"},
                    ErrorCase{"0 0 * * 8", 8, "day-of-week 8 is out of range 0-7"},
                    ErrorCase{"0 9-25 * * *", 4, "hour 25 is out of range 0-23"},
                    ErrorCase{"1,2,60 * * * *", 4, "minute 60 is out of range 0-59"},
                    ErrorCase{"99999999999 * * * *", 0, "minute 99999999999 is out of range 0-59"},
                    ErrorCase{"0  0 \t 32 * *", 7, "day-of-month 32 is out of range 1-31"}));

INSTANTIATE_TEST_SUITE_P(
    Names, CronParseError,
    testing::Values(
        ErrorCase{"0 0 * JANUARY *", 6, "unknown month name 'JANUARY' (expected JAN-DEC)"},
        ErrorCase{"0 0 * * FUN", 8, "unknown day-of-week name 'FUN' (expected SUN-SAT)"},
        ErrorCase{"0 0 * * MON-FUN", 12, "unknown day-of-week name 'FUN' (expected SUN-SAT)"},
        ErrorCase{"MON * * * *", 0, "invalid minute 'MON' (expected a number 0-59)"},
        ErrorCase{"0 0 JAN * *", 4, "invalid day-of-month 'JAN' (expected a number 1-31)"},
        ErrorCase{"0 0 * 1x *", 6,
                  "invalid month '1x' (expected a number 1-12 or a name JAN-DEC)"}));

INSTANTIATE_TEST_SUITE_P(
    RangesAndSteps, CronParseError,
    testing::Values(
        ErrorCase{"0 18-8 * * *", 2, "hour range 18-8 runs backwards (start after end)"},
        ErrorCase{"0 0 * DEC-JAN *", 6, "month range DEC-JAN runs backwards (start after end)"},
        ErrorCase{"5- * * * *", 2, "missing end of range in minute field"},
        ErrorCase{"*/0 * * * *", 2, "minute step 0 is out of range 1-59"},
        ErrorCase{"*/60 * * * *", 2, "minute step 60 is out of range 1-59"},
        ErrorCase{"0 8-18/24 * * *", 7, "hour step 24 is out of range 1-23"},
        ErrorCase{"*/ * * * *", 2, "missing step after '/' in minute field"},
        ErrorCase{"*/x * * * *", 2, "invalid minute step 'x'"},
        ErrorCase{"*/-1 * * * *", 2, "unexpected '-' in minute field"}));

INSTANTIATE_TEST_SUITE_P(
    Syntax, CronParseError,
    testing::Values(ErrorCase{"1,,2 * * * *", 2, "empty list item in minute field"},
                    ErrorCase{"1, * * * *", 2, "empty list item in minute field"},
                    ErrorCase{"0 ,5 * * *", 2, "empty list item in hour field"},
                    ErrorCase{"*-5 * * * *", 1, "unexpected '-' in minute field"},
                    ErrorCase{"1-2-3 * * * *", 3, "unexpected '-' in minute field"},
                    ErrorCase{"5/10/2 * * * *", 4, "unexpected '/' in minute field"},
                    ErrorCase{"0 0 ? * *", 4, "unexpected '?' in day-of-month field"},
                    ErrorCase{"0 0 * * MON;", 11, "unexpected ';' in day-of-week field"}));

// ---- matches ----------------------------------------------------------------------------------

TEST(CronMatches, WeekdayMorningSpec) {
  const CronSpec spec = parse_ok("0 9 * * MON-FRI");
  EXPECT_TRUE(spec.matches(at(2026, 11, 23, 9, 0)));      // Monday
  EXPECT_TRUE(spec.matches(at(2026, 11, 23, 9, 0, 59)));  // same minute
  EXPECT_FALSE(spec.matches(at(2026, 11, 23, 9, 1)));     // wrong minute
  EXPECT_FALSE(spec.matches(at(2026, 11, 23, 10, 0)));    // wrong hour
  EXPECT_FALSE(spec.matches(at(2026, 11, 28, 9, 0)));     // Saturday
  EXPECT_FALSE(spec.matches(at(2026, 11, 29, 9, 0)));     // Sunday
}

TEST(CronMatches, MonthMustMatch) {
  const CronSpec spec = parse_ok("0 0 1 JUN *");
  EXPECT_TRUE(spec.matches(at(2026, 6, 1)));
  EXPECT_FALSE(spec.matches(at(2026, 7, 1)));
}

TEST(CronMatches, EitherDayFieldSufficesWhenBothAreRestricted) {
  const CronSpec spec = parse_ok("0 12 13 * FRI");
  EXPECT_TRUE(spec.matches(at(2026, 11, 6, 12, 0)));    // a Friday, not the 13th
  EXPECT_TRUE(spec.matches(at(2026, 12, 13, 12, 0)));   // the 13th, a Sunday
  EXPECT_FALSE(spec.matches(at(2026, 12, 14, 12, 0)));  // neither
}

// ---- next_after -------------------------------------------------------------------------------

TEST(CronNextAfter, IsStrictlyAfterTheGivenInstant) {
  const CronSpec spec = parse_ok("0 9 * * MON-FRI");
  EXPECT_EQ(text(spec.next_after(at(2026, 11, 23, 8, 59, 59))), "2026-11-23 09:00 Mon");
  EXPECT_EQ(text(spec.next_after(at(2026, 11, 23, 9, 0))), "2026-11-24 09:00 Tue");
  EXPECT_EQ(text(spec.next_after(at(2026, 11, 23, 9, 0, 30))), "2026-11-24 09:00 Tue");
}

TEST(CronNextAfter, WeekdaysSkipTheWeekend) {
  const CronSpec spec = parse_ok("0 9 * * MON-FRI");
  EXPECT_EQ(text(spec.next_after(at(2026, 11, 27, 9, 0))), "2026-11-30 09:00 Mon");
}

TEST(CronNextAfter, StepsCrossTheHour) {
  const CronSpec spec = parse_ok("*/15 * * * *");
  EXPECT_EQ(next_matches(spec, at(2026, 5, 4, 10, 50), 3),
            (std::vector<std::string>{"2026-05-04 11:00 Mon", "2026-05-04 11:15 Mon",
                                      "2026-05-04 11:30 Mon"}));
}

TEST(CronNextAfter, SkipsHoursThatDoNotMatch) {
  const CronSpec spec = parse_ok("0,30 8-18/2 * * *");
  EXPECT_EQ(next_matches(spec, at(2026, 5, 4, 8, 45), 3),
            (std::vector<std::string>{"2026-05-04 10:00 Mon", "2026-05-04 10:30 Mon",
                                      "2026-05-04 12:00 Mon"}));
  EXPECT_EQ(text(spec.next_after(at(2026, 5, 4, 18, 30))), "2026-05-05 08:00 Tue");
}

TEST(CronNextAfter, CrossesMonthEnd) {
  EXPECT_EQ(text(parse_ok("0 0 1 * *").next_after(at(2026, 1, 31, 12, 0))), "2026-02-01 00:00 Sun");
  // The 31st skips the months that lack it.
  EXPECT_EQ(next_matches(parse_ok("0 8 31 * *"), at(2026, 1, 31, 8, 0), 3),
            (std::vector<std::string>{"2026-03-31 08:00 Tue", "2026-05-31 08:00 Sun",
                                      "2026-07-31 08:00 Fri"}));
}

TEST(CronNextAfter, CrossesYearEnd) {
  EXPECT_EQ(text(parse_ok("0 0 1 1 *").next_after(at(2026, 12, 31, 23, 59))),
            "2027-01-01 00:00 Fri");
  EXPECT_EQ(text(parse_ok("30 23 31 DEC *").next_after(at(2026, 12, 31, 23, 30))),
            "2027-12-31 23:30 Fri");
}

TEST(CronNextAfter, SkipsMonthsThatAreNotListed) {
  EXPECT_EQ(text(parse_ok("0 6 * MAR,SEP MON").next_after(at(2026, 3, 31, 7, 0))),
            "2026-09-07 06:00 Mon");
}

TEST(CronNextAfter, LeapDayOnlyInLeapYears) {
  const CronSpec spec = parse_ok("0 9 29 2 *");
  EXPECT_EQ(text(spec.next_after(at(2025, 3, 1))), "2028-02-29 09:00 Tue");
  EXPECT_EQ(text(spec.next_after(at(2028, 2, 29, 9, 0))), "2032-02-29 09:00 Sun");
  // 2100 is not a leap year: the gap is eight years.
  EXPECT_EQ(text(spec.next_after(at(2096, 3, 1))), "2104-02-29 09:00 Fri");
}

TEST(CronNextAfter, EitherDayFieldSufficesWhenBothAreRestricted) {
  const CronSpec spec = parse_ok("0 12 13 * FRI");
  EXPECT_EQ(next_matches(spec, at(2026, 11, 1), 8),
            (std::vector<std::string>{"2026-11-06 12:00 Fri", "2026-11-13 12:00 Fri",
                                      "2026-11-20 12:00 Fri", "2026-11-27 12:00 Fri",
                                      "2026-12-04 12:00 Fri", "2026-12-11 12:00 Fri",
                                      "2026-12-13 12:00 Sun", "2026-12-18 12:00 Fri"}));
}

TEST(CronNextAfter, StarStepDayOfMonthNarrowsTheWeekdayAsInVixieCron) {
  // `*/2` does not count as restricted, so both day fields must match: odd-day Mondays.
  const CronSpec spec = parse_ok("0 0 */2 * MON");
  EXPECT_EQ(next_matches(spec, at(2026, 11, 1), 4),
            (std::vector<std::string>{"2026-11-09 00:00 Mon", "2026-11-23 00:00 Mon",
                                      "2026-12-07 00:00 Mon", "2026-12-21 00:00 Mon"}));
}

TEST(CronNextAfter, NeverMatchingSpecsGiveNullopt) {
  EXPECT_EQ(parse_ok("0 0 30 2 *").next_after(at(2026, 1, 1)), std::nullopt);
  EXPECT_EQ(parse_ok("0 0 31 APR,JUN,SEP,NOV *").next_after(at(2026, 1, 1)), std::nullopt);
}

TEST(CronNextAfter, ImpossibleDayStillMatchesThroughTheWeekdayWhenBothAreRestricted) {
  EXPECT_EQ(text(parse_ok("0 0 30 2 MON").next_after(at(2026, 1, 1))), "2026-02-02 00:00 Mon");
}

TEST(CronNextAfter, EmptyHandBuiltSpecNeverMatches) {
  EXPECT_EQ(CronSpec{}.next_after(at(2026, 1, 1)), std::nullopt);
}

TEST(CronNextAfter, ResultAlwaysMatches) {
  const CronSpec spec = parse_ok("7,37 */5 1-7 * SUN");
  std::optional<date::local_seconds> t = at(2026, 1, 1);
  for (int i = 0; i < 50 && t; ++i) {
    t = spec.next_after(*t);
    ASSERT_TRUE(t.has_value());
    EXPECT_TRUE(spec.matches(*t)) << text(t);
  }
}

// next_after skips days and hours; a plain minute-by-minute scan with matches() must agree.
TEST(CronNextAfter, AgreesWithMinuteByMinuteScan) {
  const std::vector<std::string> specs{"*/7 9-17 * * MON-FRI", "0 0,12 1,15 * WED",
                                       "59 23 28-31 * *",      "15 2 * FEB,MAR SUN",
                                       "0 */6 */3 * 1-5/2",    "30 12 1 */2 *"};
  const std::vector<date::local_seconds> starts{at(2026, 2, 26, 22, 13, 5), at(2027, 12, 30)};
  for (const std::string& text_spec : specs) {
    const CronSpec spec = parse_ok(text_spec);
    for (date::local_seconds start : starts) {
      std::optional<date::local_seconds> expected;
      auto t = date::floor<minutes>(start) + minutes{1};
      for (int i = 0; i < 60 * 24 * 40; ++i, t += minutes{1}) {
        if (spec.matches(t)) {
          expected = t;
          break;
        }
      }
      ASSERT_TRUE(expected.has_value()) << text_spec;
      EXPECT_EQ(text(spec.next_after(start)), text(expected)) << text_spec;
    }
  }
}

}  // namespace
}  // namespace ombud
