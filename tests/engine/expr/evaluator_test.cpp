#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cstdint>
#include <limits>
#include <string>

#include "engine/expr/ast.h"
#include "engine/expr/expression.h"

namespace ombud::expr {
namespace {

using namespace std::chrono_literals;

FieldSchema field(std::string name, FieldType type) {
  FieldSchema f;
  f.name = std::move(name);
  f.type = type;
  return f;
}

Schema complaint_data() {
  Schema s;
  s.fields.push_back(field("phone", FieldType::string));
  FieldSchema channel = field("channel", FieldType::enum_);
  channel.values = {"phone", "visit", "letter", "email", "agency"};
  s.fields.push_back(channel);
  s.fields.push_back(field("received_at", FieldType::timestamp));
  s.fields.push_back(field("summary", FieldType::string));
  s.fields.push_back(field("score", FieldType::int_));
  s.fields.push_back(field("reopened", FieldType::int_));
  s.fields.push_back(field("ratio", FieldType::number));
  s.fields.push_back(field("active", FieldType::bool_));
  s.fields.push_back(field("goal", FieldType::duration));
  s.fields.push_back(field("tags", FieldType::list));
  s.fields.push_back(field("meta", FieldType::object));
  return s;
}

Timestamp at(std::string_view text) { return *parse_timestamp(text); }

Value integer(std::int64_t i) { return Value{i}; }
Value text(std::string s) { return Value{std::move(s)}; }

class EvaluatorTest : public ::testing::Test {
 protected:
  EvalContext context() const {
    EvalContext ctx;
    ctx.data = &data_;
    ctx.data_schema = &data_schema_;
    ctx.event = &event_;
    ctx.event_schema = &event_schema_;
    ctx.instance = &instance_;
    ctx.now = now_;
    return ctx;
  }

  EvalResult run(std::string_view text) const { return run(text, context()); }

  static EvalResult run(std::string_view text, const EvalContext& ctx) {
    const ParseResult parsed = parse(text);
    EXPECT_TRUE(parsed.errors.empty()) << text << ": " << parsed.errors[0].message;
    if (!parsed.root) return {};
    return evaluate(*parsed.root, ctx);
  }

  // The value of `text`, which must evaluate without error.
  Value value(std::string_view text) const {
    const EvalResult r = run(text);
    EXPECT_TRUE(r.ok()) << text << ": " << r.error.message;
    return r.value.value_or(Value{});
  }

  // The error `text` evaluates to.
  Error error(std::string_view text) const {
    const EvalResult r = run(text);
    EXPECT_FALSE(r.ok()) << text << " gave " << (r.ok() ? r.value->to_string() : "");
    return r.error;
  }

  Schema data_schema_ = complaint_data();
  Schema event_schema_ = [] {
    Schema s;
    s.fields.push_back(field("score", FieldType::int_));
    return s;
  }();
  Data data_ = boost::json::parse(R"({
      "phone": "13800000000", "channel": "agency", "received_at": "2026-11-20T09:00:00Z",
      "summary": "noisy neighbour", "score": 4, "reopened": 1, "ratio": 0.5, "active": true,
      "goal": "1d4h", "tags": ["a", "b"], "meta": {"k": "v", "n": null, "deep": {"x": 2}}
  })")
                   .as_object();
  boost::json::object event_ = boost::json::parse(R"({"score": 2})").as_object();
  boost::json::object instance_ = boost::json::parse(R"({
      "id": "c-1", "state": "in_progress", "workflow": "complaint", "version": 3,
      "key": "13800000000", "assignee": "li", "priority": "high",
      "created_at": "2026-11-19T08:00:00Z"
  })")
                                      .as_object();
  Timestamp now_ = at("2026-11-23T09:00:00Z");
};

// ---- Arithmetic -------------------------------------------------------------------------------

TEST_F(EvaluatorTest, ComputesIntArithmeticWithPrecedence) {
  EXPECT_EQ(value("1 + 2 * 3 - 8 / 2 % 3"), integer(6));
  EXPECT_EQ(value("(1 + 2) * 3"), integer(9));
  EXPECT_EQ(value("data.reopened + 1"), integer(2));
}

TEST_F(EvaluatorTest, TruncatesIntegerDivisionTowardZero) {
  EXPECT_EQ(value("-7 / 2"), integer(-3));
  EXPECT_EQ(value("-7 % 2"), integer(-1));
  EXPECT_EQ(value("7 % -2"), integer(1));
}

TEST_F(EvaluatorTest, GivesANumberWhenMixingIntAndNumber) {
  EXPECT_EQ(value("1 + 0.5"), Value{1.5});
  EXPECT_EQ(value("data.score * data.ratio"), Value{2.0});
  EXPECT_EQ(value("3 / 2.0"), Value{1.5});
  EXPECT_EQ(value("-data.ratio"), Value{-0.5});
}

TEST_F(EvaluatorTest, ReturnsDivisionByZeroAsAnErrorValue) {
  Error e = error("data.score / 0");
  EXPECT_EQ(e.offset, 11u);
  EXPECT_EQ(e.length, 1u);
  EXPECT_EQ(e.message, "division by zero");
  EXPECT_EQ(error("1.5 / 0").message, "division by zero");
  EXPECT_EQ(error("1 / 0.0").message, "division by zero");
  e = error("5 % (data.score - 4)");
  EXPECT_EQ(e.offset, 2u);
  EXPECT_EQ(e.message, "modulo by zero");
}

TEST_F(EvaluatorTest, ReturnsInt64OverflowAsAnError) {
  Error e = error("9223372036854775807 + 1");
  EXPECT_EQ(e.offset, 20u);
  EXPECT_EQ(e.message, "integer overflow in 9223372036854775807 + 1");
  EXPECT_EQ(error("-9223372036854775808 - 1").message,
            "integer overflow in -9223372036854775808 - 1");
  EXPECT_EQ(error("4611686018427387904 * 2").message,
            "integer overflow in 4611686018427387904 * 2");
  EXPECT_EQ(error("-9223372036854775808 / -1").message,
            "integer overflow in -9223372036854775808 / -1");
  e = error("-(-9223372036854775808)");
  EXPECT_EQ(e.offset, 0u);
  EXPECT_EQ(e.message, "integer overflow in -(-9223372036854775808)");
}

TEST_F(EvaluatorTest, ComputesTheRemainderOfMinimumInt64ByMinusOne) {
  EXPECT_EQ(value("-9223372036854775808 % -1"), integer(0));
}

TEST_F(EvaluatorTest, ReturnsNumberOverflowAsAnError) {
  const Error e = error("1e308 * 10");
  EXPECT_EQ(e.offset, 6u);
  EXPECT_EQ(e.message, "number overflow in 1e+308 * 10");
}

TEST_F(EvaluatorTest, ConcatenatesStringsAndLists) {
  EXPECT_EQ(value("data.phone + '/' + data.channel"), text("13800000000/agency"));
  EXPECT_EQ(value("data.tags + ['c']"), (Value{List{text("a"), text("b"), text("c")}}));
}

TEST_F(EvaluatorTest, ReportsOperandKindsOnRuntimeTypeMismatch) {
  const Error e = error("data.meta.k - 1");
  EXPECT_EQ(e.offset, 12u);
  EXPECT_EQ(e.message, "operator '-' cannot be applied to string and int");
  EXPECT_EQ(error("-data.meta.k").message, "operator '-' cannot be applied to string");
  EXPECT_EQ(error("!data.meta.k").message, "operator '!' cannot be applied to string");
  EXPECT_EQ(error("data.ratio % 2").message, "operator '%' cannot be applied to number and int");
}

// ---- Comparison -------------------------------------------------------------------------------

TEST_F(EvaluatorTest, ComparesIntsAndNumbersExactly) {
  EXPECT_EQ(value("1 == 1.0"), Value{true});
  EXPECT_EQ(value("2 < 2.5 && 2.5 < 3 && 3 >= 3.0"), Value{true});
  EXPECT_EQ(value("9007199254740993 == 9007199254740992.0"), Value{false});
  EXPECT_EQ(value("9007199254740993 > 9007199254740992.0"), Value{true});
  EXPECT_EQ(value("9223372036854775807 < 9223372036854775808.0"), Value{true});
}

TEST_F(EvaluatorTest, OrdersStringsBytewiseAndBoolsFalseFirst) {
  EXPECT_EQ(value("'a' < 'b' && 'B' < 'a' && 'ab' > 'a'"), Value{true});
  EXPECT_EQ(value("false < true"), Value{true});
}

TEST_F(EvaluatorTest, TreatsValuesOfDifferentKindsAsUnequal) {
  EXPECT_EQ(value("1 == 'a'"), Value{false});
  EXPECT_EQ(value("null != 0"), Value{true});
  EXPECT_EQ(value("[1, 'a'] == [1.0, 'a']"), Value{true});
  EXPECT_EQ(value("[1] == [1, 2]"), Value{false});
  EXPECT_EQ(value("data.meta.deep == data.meta.deep"), Value{true});
}

TEST_F(EvaluatorTest, ReturnsAnErrorForOrderingAcrossKinds) {
  const Error e = error("1 < 'a'");
  EXPECT_EQ(e.offset, 2u);
  EXPECT_EQ(e.message, "operator '<' cannot be applied to int and string");
  EXPECT_EQ(error("data.tags < data.tags").message,
            "operator '<' cannot be applied to list and list");
}

// ---- Data, event, instance --------------------------------------------------------------------

TEST_F(EvaluatorTest, ReadsDataFieldsAsTheirSchemaTypes) {
  EXPECT_EQ(value("data.received_at"), Value{at("2026-11-20T09:00:00Z")});
  EXPECT_EQ(value("data.goal"), (Value{Duration{1, 4h}}));
  EXPECT_EQ(value("data.channel"), text("agency"));
  EXPECT_EQ(value("data.active"), Value{true});
  EXPECT_EQ(value("data.tags"), (Value{List{text("a"), text("b")}}));
  EXPECT_EQ(value("data.meta.deep.x"), integer(2));
  EXPECT_EQ(value("data.meta['k']"), text("v"));
}

TEST_F(EvaluatorTest, ReadsAMissingDeclaredFieldAsNull) {
  data_.erase("score");
  EXPECT_EQ(value("data.score"), Value{});
  EXPECT_EQ(value("data.score == null"), Value{true});
  EXPECT_EQ(value("has(data.score)"), Value{false});
  const Error e = error("data.score + 1");
  EXPECT_EQ(e.offset, 11u);
  EXPECT_EQ(e.message, "operator '+' cannot be applied to null and int");
}

TEST_F(EvaluatorTest, ReadsAStoredJsonNullAsNull) {
  data_["summary"] = nullptr;
  EXPECT_EQ(value("data.summary == null"), Value{true});
  EXPECT_EQ(value("has(data.summary)"), Value{false});
}

TEST_F(EvaluatorTest, ReturnsAnErrorForAnUndeclaredField) {
  data_["extra"] = 1;
  const Error e = error("data.extra");
  EXPECT_EQ(e.offset, 5u);
  EXPECT_EQ(e.message, "data has no field 'extra'");
}

TEST_F(EvaluatorTest, ReadsFieldsUntypedWithoutASchema) {
  EvalContext ctx = context();
  ctx.data_schema = nullptr;
  EXPECT_EQ(run("data.received_at", ctx).value, text("2026-11-20T09:00:00Z"));
  EXPECT_EQ(run("data.nothing", ctx).value, Value{});
}

TEST_F(EvaluatorTest, ReturnsAnErrorForAMalformedStoredValue) {
  data_["received_at"] = "yesterday";
  const Error e = error("now - data.received_at");
  EXPECT_EQ(e.offset, 11u);
  EXPECT_EQ(e.message,
            "data field 'received_at' holds 'yesterday', which is not a valid timestamp");
}

TEST_F(EvaluatorTest, ReadsEventAndInstanceFields) {
  EXPECT_EQ(value("event.score >= 3"), Value{false});
  EXPECT_EQ(value("instance.version"), integer(3));
  EXPECT_EQ(value("instance.created_at < now"), Value{true});
  EXPECT_EQ(value("instance.state == 'in_progress' && instance.assignee == 'li'"), Value{true});
  EXPECT_EQ(error("instance.nope").message, "instance has no field 'nope'");
}

TEST_F(EvaluatorTest, ReturnsAnErrorWhenEventFieldsAreUnavailable) {
  EvalContext ctx = context();
  ctx.event = nullptr;
  const EvalResult r = run("1 < 2 && event.score > 1", ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.offset, 9u);
  EXPECT_EQ(r.error.length, 5u);
  EXPECT_EQ(r.error.message, "event fields are not available here");
}

TEST_F(EvaluatorTest, TakesNowFromTheContext) {
  EXPECT_EQ(value("now"), Value{now_});
  now_ = at("2030-01-01T00:00:00Z");
  EXPECT_EQ(value("now"), Value{at("2030-01-01T00:00:00Z")});
}

// ---- Time -------------------------------------------------------------------------------------

TEST_F(EvaluatorTest, ComparesElapsedTimeWithDurations) {
  // Received exactly three days before now.
  EXPECT_EQ(value("now - data.received_at > duration('3d')"), Value{false});
  EXPECT_EQ(value("now - data.received_at >= duration('3d')"), Value{true});
  EXPECT_EQ(value("now - data.received_at > duration('2d23h')"), Value{true});
  EXPECT_EQ(value("now - data.received_at == duration('72h')"), Value{true});
}

TEST_F(EvaluatorTest, SubtractsTimestampsIntoAWallClockDuration) {
  EXPECT_EQ(value("now - data.received_at"), (Value{Duration{0, 72h}}));
  EXPECT_EQ(value("data.received_at - now"), (Value{Duration{0, -72h}}));
}

TEST_F(EvaluatorTest, ShiftsTimestampsByDurations) {
  EXPECT_EQ(value("data.received_at + duration('1d4h')"), Value{at("2026-11-21T13:00:00Z")});
  EXPECT_EQ(value("duration('2h') + data.received_at"), Value{at("2026-11-20T11:00:00Z")});
  EXPECT_EQ(value("now - duration('1w')"), Value{at("2026-11-18T09:00:00Z")});
}

TEST_F(EvaluatorTest, AddsAndNegatesDurations) {
  EXPECT_EQ(value("duration('1d') + duration('4h')"), (Value{Duration{1, 4h}}));
  EXPECT_EQ(value("duration('1d') - duration('4h')"), (Value{Duration{1, -4h}}));
  EXPECT_EQ(value("-duration('1d')"), (Value{Duration{-1, 0ms}}));
  EXPECT_EQ(value("duration('1d') == duration('24h')"), Value{true});
  EXPECT_EQ(value("duration('1d') > duration('23h')"), Value{true});
}

TEST_F(EvaluatorTest, ReturnsAnErrorForTimestampsOutOfRange) {
  const Error e = error("timestamp('9999-12-31T00:00:00Z') + duration('2d')");
  EXPECT_EQ(e.offset, 34u);
  EXPECT_EQ(e.message, "timestamp out of range");
  EXPECT_EQ(error("timestamp('0000-01-01T00:00:00Z') - duration('1s')").message,
            "timestamp out of range");
}

TEST_F(EvaluatorTest, ReturnsAnErrorForDurationsOutOfRange) {
  std::string big = "duration('1000000w')";
  std::string sum = big;
  for (int i = 0; i < 3; ++i) sum += " + " + big;
  EXPECT_EQ(error(sum).message, "duration out of range");
}

TEST_F(EvaluatorTest, ConvertsStringsToDurationsAndTimestamps) {
  EXPECT_EQ(value("duration('90m')"), (Value{Duration{0, 90min}}));
  EXPECT_EQ(value("timestamp('2026-11-23T09:00:00+08:00')"), Value{at("2026-11-23T01:00:00Z")});
  EXPECT_EQ(value("duration(data.goal)"), (Value{Duration{1, 4h}}));
  const Error e = error("duration(data.summary)");
  EXPECT_EQ(e.offset, 0u);
  EXPECT_EQ(e.length, 8u);
  EXPECT_EQ(e.message, "cannot convert 'noisy neighbour' to duration");
  EXPECT_EQ(error("timestamp(data.phone)").message, "cannot convert '13800000000' to timestamp");
}

// ---- Logic and choice -------------------------------------------------------------------------

TEST_F(EvaluatorTest, ShortCircuitsAndOnFalseOnEitherSide) {
  EXPECT_EQ(value("false && 1 / 0 == 1"), Value{false});
  EXPECT_EQ(value("1 / 0 == 1 && false"), Value{false});
  const Error e = error("true && 1 / 0 == 1");
  EXPECT_EQ(e.offset, 10u);
  EXPECT_EQ(e.message, "division by zero");
  EXPECT_EQ(value("true && data.active"), Value{true});
}

TEST_F(EvaluatorTest, ShortCircuitsOrOnTrueOnEitherSide) {
  EXPECT_EQ(value("true || 1 / 0 == 1"), Value{true});
  EXPECT_EQ(value("1 / 0 == 1 || true"), Value{true});
  EXPECT_EQ(error("false || 1 / 0 == 1").message, "division by zero");
  EXPECT_EQ(value("false || false"), Value{false});
}

TEST_F(EvaluatorTest, ReturnsTheFirstErrorWhenNeitherSideDecides) {
  const Error e = error("1 / 0 == 1 && 2 % 0 == 1");
  EXPECT_EQ(e.offset, 2u);
  EXPECT_EQ(e.message, "division by zero");
}

TEST_F(EvaluatorTest, RejectsNonBoolOperandsOfLogicalOperators) {
  const Error e = error("data.meta.k && true");
  EXPECT_EQ(e.offset, 12u);
  EXPECT_EQ(e.message, "operator '&&' cannot be applied to string");
  EXPECT_EQ(value("true || data.meta.k"), Value{true});
  EXPECT_EQ(error("false || data.meta.k").message, "operator '||' cannot be applied to string");
  EXPECT_EQ(value("data.meta.k && false"), Value{false});
}

TEST_F(EvaluatorTest, EvaluatesOnlyTheChosenTernaryBranch) {
  EXPECT_EQ(value("true ? 1 : 1 / 0"), integer(1));
  EXPECT_EQ(value("false ? 1 / 0 : 2"), integer(2));
  EXPECT_EQ(value("data.channel == 'agency' ? duration('1d') : duration('3d')"),
            (Value{Duration{1, 0ms}}));
}

TEST_F(EvaluatorTest, RequiresABoolTernaryConditionAtRunTime) {
  const Error e = error("data.meta.k ? 1 : 2");
  EXPECT_EQ(e.offset, 12u);
  EXPECT_EQ(e.message, "condition of '?:' must be bool, not string");
}

// ---- in, has, indexing ------------------------------------------------------------------------

TEST_F(EvaluatorTest, TestsMembershipKeysAndSubstringsWithIn) {
  EXPECT_EQ(value("'a' in data.tags"), Value{true});
  EXPECT_EQ(value("3 in [1, 2]"), Value{false});
  EXPECT_EQ(value("1 in [1.0]"), Value{true});
  EXPECT_EQ(value("data.channel in ['phone', 'agency']"), Value{true});
  EXPECT_EQ(value("'k' in data.meta && 'n' in data.meta && !('z' in data.meta)"), Value{true});
  EXPECT_EQ(value("'neigh' in data.summary"), Value{true});
  EXPECT_EQ(error("1 in data.summary").message,
            "operator 'in' cannot be applied to int and string");
}

TEST_F(EvaluatorTest, HasTestsPresenceAndNonNull) {
  EXPECT_EQ(value("has(data.phone)"), Value{true});
  EXPECT_EQ(value("has(data.meta.k)"), Value{true});
  EXPECT_EQ(value("has(data.meta.n)"), Value{false});
  EXPECT_EQ(value("has(data.meta.zz)"), Value{false});
  EXPECT_EQ(value("has(event.score)"), Value{true});
  EXPECT_EQ(value("has(instance.assignee)"), Value{true});
  EXPECT_EQ(value("has(data.score) && data.score > 3"), Value{true});
  EXPECT_EQ(error("has(data.phone.x)").message, "cannot select field 'x' from string");
  EXPECT_EQ(error("has(data.nope)").message, "data has no field 'nope'");
}

TEST_F(EvaluatorTest, ReturnsAnErrorForAnIndexOutOfRange) {
  EXPECT_EQ(value("data.tags[1]"), text("b"));
  Error e = error("data.tags[2]");
  EXPECT_EQ(e.offset, 9u);
  EXPECT_EQ(e.message, "index 2 is out of range (size 2)");
  EXPECT_EQ(error("data.tags[-1]").message, "index -1 is out of range (size 2)");
  EXPECT_EQ(error("data.tags['x']").message, "list index must be int, not string");
  EXPECT_EQ(error("data.phone[0]").message, "cannot index string");
}

TEST_F(EvaluatorTest, ReturnsAnErrorForAMissingMapKey) {
  Error e = error("data.meta.zz == 1");
  EXPECT_EQ(e.offset, 10u);
  EXPECT_EQ(e.message, "no such key 'zz'");
  EXPECT_EQ(error("data.meta['zz']").message, "no such key 'zz'");
  EXPECT_EQ(error("data.meta[1]").message, "map key must be string, not int");
  EXPECT_EQ(error("data.score.x").message, "cannot select field 'x' from int");
}

// ---- Functions --------------------------------------------------------------------------------

TEST_F(EvaluatorTest, ConvertsToInt) {
  EXPECT_EQ(value("int('42')"), integer(42));
  EXPECT_EQ(value("int('-7')"), integer(-7));
  EXPECT_EQ(value("int(2.9)"), integer(2));
  EXPECT_EQ(value("int(-2.9)"), integer(-2));
  EXPECT_EQ(value("int(data.score)"), integer(4));
  EXPECT_EQ(value("int(-9223372036854775808.0)"),
            integer(std::numeric_limits<std::int64_t>::min()));
  const Error e = error("1 + int('x')");
  EXPECT_EQ(e.offset, 4u);
  EXPECT_EQ(e.length, 3u);
  EXPECT_EQ(e.message, "cannot convert 'x' to int");
  EXPECT_EQ(error("int('4 ')").message, "cannot convert '4 ' to int");
  EXPECT_EQ(error("int('')").message, "cannot convert '' to int");
  EXPECT_EQ(error("int('99999999999999999999')").message,
            "cannot convert '99999999999999999999' to int");
  EXPECT_EQ(error("int(1e19)").message, "cannot convert 1e+19 to int (out of range)");
  EXPECT_EQ(error("int(true)").message, "function 'int' cannot be applied to bool");
}

TEST_F(EvaluatorTest, ConvertsToString) {
  EXPECT_EQ(value("string(42)"), text("42"));
  EXPECT_EQ(value("string(1.5)"), text("1.5"));
  EXPECT_EQ(value("string(2.0)"), text("2"));
  EXPECT_EQ(value("string(true)"), text("true"));
  EXPECT_EQ(value("string(null)"), text("null"));
  EXPECT_EQ(value("string(duration('90m'))"), text("1h30m"));
  EXPECT_EQ(value("string(data.received_at)"), text("2026-11-20T09:00:00Z"));
  EXPECT_EQ(value("string([1, 'a'])"), text("[1,\"a\"]"));
  EXPECT_EQ(value("string([1.5, data.meta.deep])"), text("[1.5,{\"x\":2}]"));
  EXPECT_EQ(value("string(data.phone)"), text("13800000000"));
}

TEST_F(EvaluatorTest, CountsCodePointsWithSize) {
  EXPECT_EQ(value("size('h\\u00e9llo')"), integer(5));
  EXPECT_EQ(value("size(data.tags)"), integer(2));
  EXPECT_EQ(value("size(data.meta)"), integer(3));
  EXPECT_EQ(value("data.phone.size()"), integer(11));
  EXPECT_EQ(error("size(data.score)").message, "function 'size' cannot be applied to int");
}

TEST_F(EvaluatorTest, PicksTheExtremeWithMinAndMax) {
  EXPECT_EQ(value("min(3, 1, 2)"), integer(1));
  EXPECT_EQ(value("max(1, 2.5)"), Value{2.5});
  EXPECT_EQ(value("min(1, 2.5)"), Value{1.0});
  EXPECT_EQ(value("max(now, data.received_at)"), Value{now_});
  EXPECT_EQ(value("min('b', 'a')"), text("a"));
  EXPECT_EQ(value("max(duration('1d'), duration('2h'))"), (Value{Duration{1, 0ms}}));
  const Error e = error("min(1, data.meta.k)");
  EXPECT_EQ(e.offset, 0u);
  EXPECT_EQ(e.message, "function 'min' cannot be applied to int and string");
}

TEST_F(EvaluatorTest, ImplementsStringMethods) {
  EXPECT_EQ(value("data.phone.startsWith('138')"), Value{true});
  EXPECT_EQ(value("data.phone.startsWith('139')"), Value{false});
  EXPECT_EQ(value("data.phone.endsWith('000')"), Value{true});
  EXPECT_EQ(value("'ab'.endsWith('xab')"), Value{false});
  EXPECT_EQ(value("data.summary.contains('neigh')"), Value{true});
  EXPECT_EQ(value("data.summary.contains('')"), Value{true});
  // A phone system's E.164 number against the local form a hotline enters.
  EXPECT_EQ(value("'+8613800000000'.trimPrefix('+86')"), Value{std::string("13800000000")});
  EXPECT_EQ(value("data.phone.trimPrefix('+86')"), Value{std::string("13800000000")});
  EXPECT_EQ(value("'+86 139 0000-1111 '.remove(' ').remove('-').trimPrefix('+86')"),
            Value{std::string("13900001111")});
  EXPECT_EQ(value("'aaa'.remove('aa')"), Value{std::string("a")});
  EXPECT_EQ(value("'abc'.remove('')"), Value{std::string("abc")});
  EXPECT_EQ(error("data.meta.deep.startsWith('x')").message,
            "method 'startsWith' cannot be applied to map");
  const Error e = error("data.phone.endsWith(data.score)");
  EXPECT_EQ(e.offset, 25u);
  EXPECT_EQ(e.message, "argument of 'endsWith' must be string, not int");
}

TEST_F(EvaluatorTest, ReportsUnknownNamesWhenGivenAnUncheckedTree) {
  EXPECT_EQ(error("frob(1)").message, "unknown function 'frob'");
  EXPECT_EQ(error("'a'.frob()").message, "unknown method 'frob'");
  EXPECT_EQ(error("frob").message, "unknown identifier 'frob'");
  EXPECT_EQ(error("has(1)").message, "has() needs a field selection such as has(data.score)");
  EXPECT_EQ(error("size()").message, "function 'size' takes 1 argument, not 0");
}

// ---- Guards -----------------------------------------------------------------------------------

TEST_F(EvaluatorTest, CountsOnlyTrueAsTrue) {
  EXPECT_TRUE(is_true(run("data.score > 3")));
  EXPECT_FALSE(is_true(run("data.score > 4")));
  EXPECT_FALSE(is_true(run("data.score")));
  EXPECT_FALSE(is_true(run("1 / 0 == 0")));
}

TEST_F(EvaluatorTest, IsDeterministic) {
  const ParseResult parsed =
      parse("string(now - data.received_at) + string(data.tags) + data.phone");
  ASSERT_TRUE(parsed.errors.empty());
  const EvalResult first = evaluate(*parsed.root, context());
  const EvalResult second = evaluate(*parsed.root, context());
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.value, second.value);
  EXPECT_EQ(first.value, text("72h[\"a\",\"b\"]13800000000"));
}

// ---- Values and JSON --------------------------------------------------------------------------

TEST(Value, WritesTimestampsAndDurationsAsCanonicalJsonStrings) {
  EXPECT_EQ(to_json(Value{at("2026-11-23T09:00:00+08:00")}), "2026-11-23T01:00:00Z");
  EXPECT_EQ(to_json(Value{Duration{1, 4h}}), "1d4h");
  EXPECT_EQ(to_json(Value{List{integer(1), Value{}}}), boost::json::parse("[1, null]"));
}

TEST(Value, ReadsJsonAsTheSchemaType) {
  EXPECT_EQ(from_json(boost::json::value("2026-11-23T01:00:00Z"), FieldType::timestamp),
            Value{at("2026-11-23T01:00:00Z")});
  EXPECT_EQ(from_json(boost::json::value("2d"), FieldType::duration), (Value{Duration{2, 0ms}}));
  EXPECT_EQ(from_json(boost::json::value(3.0), FieldType::int_), integer(3));
  EXPECT_EQ(from_json(boost::json::value(3), FieldType::number), Value{3.0});
  EXPECT_EQ(from_json(boost::json::value(nullptr), FieldType::int_), Value{});
  EXPECT_FALSE(from_json(boost::json::value(3.5), FieldType::int_));
  EXPECT_FALSE(from_json(boost::json::value("soon"), FieldType::timestamp));
  EXPECT_FALSE(from_json(boost::json::value(1), FieldType::string));
  EXPECT_FALSE(from_json(boost::json::value(std::uint64_t{1} << 63), FieldType::int_));
}

TEST(Value, ReadsUntypedJsonByItsKind) {
  const Value v = from_json(boost::json::parse(R"([1, 2.5, "s", true, null, {"a": 1}])"));
  const auto& list = std::get<List>(v.v);
  ASSERT_EQ(list.size(), 6u);
  EXPECT_EQ(list[0].kind(), TypeKind::integer);
  EXPECT_EQ(list[1].kind(), TypeKind::number);
  EXPECT_EQ(list[2].kind(), TypeKind::string);
  EXPECT_EQ(list[3].kind(), TypeKind::boolean);
  EXPECT_EQ(list[4].kind(), TypeKind::null);
  EXPECT_EQ(list[5].kind(), TypeKind::map);
}

TEST(Value, ComparesStructurally) {
  EXPECT_NE(integer(1), Value{1.0});
  EXPECT_NE((Value{Duration{1, 0ms}}), (Value{Duration{0, 24h}}));
  EXPECT_EQ(text("a"), text("a"));
}

TEST(Type, NamesListElementTypes) {
  EXPECT_EQ(Type::list_of(Type::of(TypeKind::integer)).name(), "list<int>");
  EXPECT_EQ(Type::of(TypeKind::list).name(), "list<dyn>");
  EXPECT_EQ(type_of_field(FieldType::enum_).name(), "string");
  EXPECT_EQ(type_of_field(FieldType::object).name(), "map");
  EXPECT_EQ(type_of_field(FieldType::list).name(), "list<dyn>");
}

}  // namespace
}  // namespace ombud::expr
