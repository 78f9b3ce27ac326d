#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/expr/ast.h"
#include "engine/expr/expression.h"

namespace ombud::expr {
namespace {

FieldSchema field(std::string name, FieldType type) {
  FieldSchema f;
  f.name = std::move(name);
  f.type = type;
  return f;
}

// The data schema of the complaint workflow in the format document, plus a few more types.
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

Schema visited_event() {
  Schema s;
  s.fields.push_back(field("score", FieldType::int_));
  return s;
}

class CheckerTest : public ::testing::Test {
 protected:
  // The type of `text`, which must parse and check cleanly.
  std::string type_of(std::string_view text) {
    const ParseResult parsed = parse(text);
    if (!parsed.errors.empty()) return "syntax error: " + parsed.errors[0].message;
    std::vector<Error> errors;
    const Type t = check(*parsed.root, scope_, errors);
    if (!errors.empty()) return "type error: " + errors[0].message;
    return t.name();
  }

  std::vector<Error> errors_of(std::string_view text) {
    const ParseResult parsed = parse(text);
    EXPECT_TRUE(parsed.errors.empty()) << text;
    std::vector<Error> errors;
    if (parsed.root) check(*parsed.root, scope_, errors);
    return errors;
  }

  // The single type error of `text`.
  Error error_of(std::string_view text) {
    const std::vector<Error> errors = errors_of(text);
    EXPECT_EQ(errors.size(), 1u) << text;
    return errors.empty() ? Error{} : errors[0];
  }

  Schema data_ = complaint_data();
  Schema event_ = visited_event();
  CheckScope scope_{&data_, &event_, "visited"};
};

TEST_F(CheckerTest, AcceptsTheFormatDocumentExpressions) {
  EXPECT_EQ(type_of("data.phone"), "string");
  EXPECT_EQ(type_of("data.phone.trimPrefix('+86')"), "string");
  EXPECT_EQ(type_of("data.phone.remove(' ')"), "string");
  EXPECT_EQ(type_of("event.score >= 3"), "bool");
  EXPECT_EQ(type_of("data.reopened + 1"), "int");
  EXPECT_EQ(type_of("data.channel == 'agency' ? duration('1d') : duration('3d')"), "duration");
  EXPECT_EQ(type_of("now - data.received_at > duration('3d')"), "bool");
}

TEST_F(CheckerTest, RejectsUnknownDataFieldWithSuggestion) {
  const Error e = error_of("data.scroe > 3");
  EXPECT_EQ(e.offset, 5u);
  EXPECT_EQ(e.length, 5u);
  EXPECT_EQ(e.message, "data has no field 'scroe' (did you mean 'score'?)");
}

TEST_F(CheckerTest, RejectsUnknownDataFieldWithoutSuggestionWhenNothingIsClose) {
  EXPECT_EQ(error_of("data.zzzzzzzz").message, "data has no field 'zzzzzzzz'");
}

TEST_F(CheckerTest, RejectsUnknownEventFieldNamingTheEvent) {
  const Error e = error_of("event.scroe >= 3");
  EXPECT_EQ(e.offset, 6u);
  EXPECT_EQ(e.message, "event 'visited' has no field 'scroe' (did you mean 'score'?)");
  scope_.event_name.clear();
  EXPECT_EQ(error_of("event.scroe").message, "event has no field 'scroe' (did you mean 'score'?)");
}

TEST_F(CheckerTest, RejectsEventFieldsWhereThereIsNoEvent) {
  scope_.event = nullptr;
  const Error e = error_of("data.score > 1 && event.score >= 3");
  EXPECT_EQ(e.offset, 18u);
  EXPECT_EQ(e.length, 5u);
  EXPECT_EQ(e.message, "event fields are not available here");
  EXPECT_EQ(error_of("has(event.score)").message, "event fields are not available here");
}

TEST_F(CheckerTest, RejectsDataFieldsWhereThereIsNoData) {
  scope_.data = nullptr;
  EXPECT_EQ(error_of("data.score").message, "data fields are not available here");
}

TEST_F(CheckerTest, RejectsUnknownIdentifiersWithSuggestion) {
  const Error e = error_of("dta.score > 3");
  EXPECT_EQ(e.offset, 0u);
  EXPECT_EQ(e.length, 3u);
  EXPECT_EQ(e.message, "unknown identifier 'dta' (did you mean 'data'?)");
  EXPECT_EQ(error_of("nwo").message, "unknown identifier 'nwo' (did you mean 'now'?)");
}

TEST_F(CheckerTest, TypesInstanceFieldsAndNow) {
  EXPECT_EQ(type_of("instance.version"), "int");
  EXPECT_EQ(type_of("instance.created_at"), "timestamp");
  EXPECT_EQ(type_of("instance.state"), "string");
  EXPECT_EQ(type_of("instance.assignee"), "string");
  EXPECT_EQ(type_of("now"), "timestamp");
  const Error e = error_of("instance.stat == 'closed'");
  EXPECT_EQ(e.offset, 9u);
  EXPECT_EQ(e.message, "instance has no field 'stat' (did you mean 'state'?)");
}

TEST_F(CheckerTest, KeepsIntArithmeticIntAndWidensMixedToNumber) {
  EXPECT_EQ(type_of("data.score * 2 - 1"), "int");
  EXPECT_EQ(type_of("data.score / 2"), "int");
  EXPECT_EQ(type_of("data.score % 2"), "int");
  EXPECT_EQ(type_of("data.score + data.ratio"), "number");
  EXPECT_EQ(type_of("1.5 * 2"), "number");
}

TEST_F(CheckerTest, RestrictsModuloToInts) {
  const Error e = error_of("data.ratio % 2");
  EXPECT_EQ(e.offset, 11u);
  EXPECT_EQ(e.message, "operator '%' cannot be applied to number and int");
}

TEST_F(CheckerTest, RejectsAddingIntAndStringNamingBothTypes) {
  const Error e = error_of("data.score + 'x'");
  EXPECT_EQ(e.offset, 11u);
  EXPECT_EQ(e.length, 1u);
  EXPECT_EQ(e.message, "operator '+' cannot be applied to int and string");
}

TEST_F(CheckerTest, ConcatenatesStringsAndLists) {
  EXPECT_EQ(type_of("data.phone + '-' + data.summary"), "string");
  EXPECT_EQ(type_of("[1] + [2]"), "list<int>");
  EXPECT_EQ(type_of("[1] + ['a']"), "list<dyn>");
}

TEST_F(CheckerTest, TypesTimestampAndDurationArithmetic) {
  EXPECT_EQ(type_of("data.received_at + duration('1d')"), "timestamp");
  EXPECT_EQ(type_of("duration('1d') + data.received_at"), "timestamp");
  EXPECT_EQ(type_of("now - data.goal"), "timestamp");
  EXPECT_EQ(type_of("now - data.received_at"), "duration");
  EXPECT_EQ(type_of("data.goal + duration('4h')"), "duration");
  EXPECT_EQ(type_of("data.goal - duration('4h')"), "duration");
  EXPECT_EQ(error_of("now + data.received_at").message,
            "operator '+' cannot be applied to timestamp and timestamp");
  EXPECT_EQ(error_of("data.goal - now").message,
            "operator '-' cannot be applied to duration and timestamp");
  EXPECT_EQ(error_of("data.goal * 2").message,
            "operator '*' cannot be applied to duration and int");
}

TEST_F(CheckerTest, ComparesOnlyCompatibleTypes) {
  EXPECT_EQ(type_of("data.score == 1.5"), "bool");
  EXPECT_EQ(type_of("data.score < data.ratio"), "bool");
  EXPECT_EQ(type_of("data.summary == null"), "bool");
  EXPECT_EQ(type_of("data.received_at <= now"), "bool");
  EXPECT_EQ(type_of("data.goal > duration('1h')"), "bool");
  EXPECT_EQ(type_of("data.tags == [1, 2]"), "bool");
  const Error e = error_of("data.score == 'x'");
  EXPECT_EQ(e.offset, 11u);
  EXPECT_EQ(e.message, "operator '==' cannot be applied to int and string");
  EXPECT_EQ(error_of("data.phone < 3").message, "operator '<' cannot be applied to string and int");
  EXPECT_EQ(error_of("data.tags < data.tags").message,
            "operator '<' cannot be applied to list<dyn> and list<dyn>");
  EXPECT_EQ(error_of("null < 1").message, "operator '<' cannot be applied to null and int");
}

TEST_F(CheckerTest, ChecksTheOperandsOfIn) {
  EXPECT_EQ(type_of("data.channel in ['phone', 'visit']"), "bool");
  EXPECT_EQ(type_of("'k' in data.meta"), "bool");
  EXPECT_EQ(type_of("'138' in data.phone"), "bool");
  EXPECT_EQ(type_of("data.score in data.tags"), "bool");
  EXPECT_EQ(type_of("1 in [1.5, 2.5]"), "bool");
  EXPECT_EQ(error_of("1 in ['a']").message,
            "operator 'in' cannot be applied to int and list<string>");
  EXPECT_EQ(error_of("1 in data.phone").message,
            "operator 'in' cannot be applied to int and string");
  EXPECT_EQ(error_of("1 in 2").message, "operator 'in' cannot be applied to int and int");
}

TEST_F(CheckerTest, RequiresBoolOperandsForLogicalOperators) {
  EXPECT_EQ(type_of("data.active && !false || data.score > 1"), "bool");
  const Error e = error_of("data.score && true");
  EXPECT_EQ(e.offset, 11u);
  EXPECT_EQ(e.length, 2u);
  EXPECT_EQ(e.message, "operator '&&' cannot be applied to int and bool");
  EXPECT_EQ(error_of("true || 'x'").message, "operator '||' cannot be applied to bool and string");
  EXPECT_EQ(error_of("!data.phone").message, "operator '!' cannot be applied to string");
}

TEST_F(CheckerTest, NegatesNumbersAndDurations) {
  EXPECT_EQ(type_of("-data.score"), "int");
  EXPECT_EQ(type_of("-data.ratio"), "number");
  EXPECT_EQ(type_of("-data.goal"), "duration");
  const Error e = error_of("-data.phone");
  EXPECT_EQ(e.offset, 0u);
  EXPECT_EQ(e.message, "operator '-' cannot be applied to string");
}

TEST_F(CheckerTest, RequiresTernaryBranchesToAgree) {
  const Error e = error_of("data.active ? 1 : 'x'");
  EXPECT_EQ(e.offset, 12u);
  EXPECT_EQ(e.message, "branches of '?:' have different types: int and string");
  EXPECT_EQ(type_of("true ? 1 : 2.5"), "number");
  EXPECT_EQ(type_of("true ? null : 1"), "int");
  EXPECT_EQ(type_of("true ? data.meta.x : 1"), "dyn");
}

TEST_F(CheckerTest, RequiresABoolTernaryCondition) {
  const Error e = error_of("data.score ? 1 : 2");
  EXPECT_EQ(e.offset, 11u);
  EXPECT_EQ(e.message, "condition of '?:' must be bool, not int");
}

TEST_F(CheckerTest, ValidatesDurationLiteralsAtTheLiteral) {
  const Error e = error_of("now - data.received_at > duration('3x')");
  EXPECT_EQ(e.offset, 34u);
  EXPECT_EQ(e.length, 4u);
  EXPECT_EQ(e.message,
            "invalid duration '3x' (expected a duration such as 30s, 15m, 4h, 2d, 1w or 1d4h)");
  EXPECT_EQ(error_of("duration('')").offset, 9u);
  EXPECT_EQ(error_of("duration('4h1d')").message,
            "invalid duration '4h1d' (expected a duration such as 30s, 15m, 4h, 2d, 1w or 1d4h)");
}

TEST_F(CheckerTest, ValidatesTimestampLiteralsAtTheLiteral) {
  const Error e = error_of("data.received_at < timestamp('2026-02-30T09:00:00Z')");
  EXPECT_EQ(e.offset, 29u);
  EXPECT_EQ(e.length, 22u);
  EXPECT_EQ(e.message,
            "invalid timestamp '2026-02-30T09:00:00Z' (expected an RFC 3339 instant such as "
            "2026-11-23T09:00:00+08:00)");
  EXPECT_EQ(type_of("timestamp('2026-11-23T09:00:00+08:00')"), "timestamp");
}

TEST_F(CheckerTest, AcceptsConversionsOfNonLiteralStrings) {
  EXPECT_EQ(type_of("duration(data.summary)"), "duration");
  EXPECT_EQ(type_of("timestamp(data.meta.at)"), "timestamp");
  EXPECT_EQ(type_of("duration(data.goal)"), "duration");
  EXPECT_EQ(error_of("duration(1)").message, "function 'duration' cannot be applied to int");
  EXPECT_EQ(error_of("timestamp(data.goal)").message,
            "function 'timestamp' cannot be applied to duration");
}

TEST_F(CheckerTest, HasNeedsAFieldSelection) {
  EXPECT_EQ(type_of("has(data.score)"), "bool");
  EXPECT_EQ(type_of("has(event.score)"), "bool");
  EXPECT_EQ(type_of("has(data.meta.x)"), "bool");
  const Error e = error_of("has(data)");
  EXPECT_EQ(e.offset, 4u);
  EXPECT_EQ(e.length, 4u);
  EXPECT_EQ(e.message, "has() needs a field selection such as has(data.score)");
  EXPECT_EQ(error_of("has()").message, "has() needs a field selection such as has(data.score)");
  EXPECT_EQ(error_of("has(data.scroe)").message,
            "data has no field 'scroe' (did you mean 'score'?)");
}

TEST_F(CheckerTest, TypesSizeStringAndInt) {
  EXPECT_EQ(type_of("size(data.phone) + size(data.tags) + size(data.meta)"), "int");
  EXPECT_EQ(type_of("string(data.score) + string(now)"), "string");
  EXPECT_EQ(type_of("int('5') + int(data.ratio) + int(data.score)"), "int");
  EXPECT_EQ(error_of("size(1)").message, "function 'size' cannot be applied to int");
  EXPECT_EQ(error_of("int(true)").message, "function 'int' cannot be applied to bool");
}

TEST_F(CheckerTest, TypesMinAndMax) {
  EXPECT_EQ(type_of("min(1, 2)"), "int");
  EXPECT_EQ(type_of("min(1, 2.5)"), "number");
  EXPECT_EQ(type_of("max(now, data.received_at, instance.created_at)"), "timestamp");
  EXPECT_EQ(type_of("max(data.goal, duration('1d'))"), "duration");
  EXPECT_EQ(type_of("min('a', data.phone)"), "string");
  EXPECT_EQ(type_of("min(data.meta.x, 1)"), "dyn");
  EXPECT_EQ(error_of("min(1, 'a')").message, "function 'min' cannot be applied to int and string");
  EXPECT_EQ(error_of("max(1, 2, [])").message,
            "function 'max' cannot be applied to int, int and list<dyn>");
}

TEST_F(CheckerTest, ChecksFunctionArity) {
  const Error e = error_of("size(1, 2)");
  EXPECT_EQ(e.offset, 0u);
  EXPECT_EQ(e.length, 4u);
  EXPECT_EQ(e.message, "function 'size' takes 1 argument, not 2");
  EXPECT_EQ(error_of("min(1)").message, "function 'min' takes at least 2 arguments, not 1");
  EXPECT_EQ(error_of("data.phone.startsWith()").message,
            "method 'startsWith' takes 1 argument, not 0");
  EXPECT_EQ(error_of("data.phone.size(1)").message, "method 'size' takes 0 arguments, not 1");
}

TEST_F(CheckerTest, RejectsUnknownFunctionsAndMethodsWithSuggestion) {
  const Error e = error_of("sise(data.phone) > 3");
  EXPECT_EQ(e.offset, 0u);
  EXPECT_EQ(e.length, 4u);
  EXPECT_EQ(e.message, "unknown function 'sise' (did you mean 'size'?)");
  const Error m = error_of("data.phone.startswith('1')");
  EXPECT_EQ(m.offset, 11u);
  EXPECT_EQ(m.message, "unknown method 'startswith' (did you mean 'startsWith'?)");
}

TEST_F(CheckerTest, TypesStringMethods) {
  EXPECT_EQ(type_of("data.phone.startsWith('138')"), "bool");
  EXPECT_EQ(type_of("data.phone.endsWith('0')"), "bool");
  EXPECT_EQ(type_of("data.summary.contains(data.phone)"), "bool");
  EXPECT_EQ(type_of("data.tags.size()"), "int");
  EXPECT_EQ(error_of("data.score.startsWith('1')").message,
            "method 'startsWith' cannot be applied to int");
  const Error e = error_of("data.phone.contains(1)");
  EXPECT_EQ(e.offset, 20u);
  EXPECT_EQ(e.message, "argument of 'contains' must be string, not int");
}

TEST_F(CheckerTest, TypesIndexing) {
  EXPECT_EQ(type_of("[1, 2][0]"), "int");
  EXPECT_EQ(type_of("data.tags[0]"), "dyn");
  EXPECT_EQ(type_of("data.meta['k']"), "dyn");
  EXPECT_EQ(type_of("data.meta.x[3]"), "dyn");
  const Error e = error_of("data.tags['x']");
  EXPECT_EQ(e.offset, 9u);
  EXPECT_EQ(e.message, "list index must be int, not string");
  EXPECT_EQ(error_of("data.meta[1]").message, "map key must be string, not int");
  EXPECT_EQ(error_of("data.phone[0]").message, "cannot index string");
}

TEST_F(CheckerTest, RejectsSelectingFieldsOfScalars) {
  const Error e = error_of("data.score.value > 1");
  EXPECT_EQ(e.offset, 11u);
  EXPECT_EQ(e.message, "cannot select field 'value' from int");
  EXPECT_EQ(type_of("data.meta.a.b"), "dyn");
}

TEST_F(CheckerTest, RejectsEnumComparisonsWithUndeclaredValues) {
  const Error e = error_of("data.channel == 'agncy'");
  EXPECT_EQ(e.offset, 16u);
  EXPECT_EQ(e.length, 7u);
  EXPECT_EQ(e.message, "'agncy' is not one of the values of 'channel' (did you mean 'agency'?)");
  EXPECT_EQ(error_of("'vist' != data.channel").offset, 0u);
  EXPECT_EQ(error_of("data.channel in ['phone', 'emial']").message,
            "'emial' is not one of the values of 'channel' (did you mean 'email'?)");
  EXPECT_EQ(type_of("data.channel == 'agency'"), "bool");
}

TEST_F(CheckerTest, RejectsStateComparisonsWithStatesTheWorkflowLacks) {
  const std::vector<std::string> states{"received", "waiting_customer", "closed"};
  scope_.states = &states;
  const Error e = error_of("instance.state == 'waiting_custmer'");
  EXPECT_EQ(e.offset, 18u);
  EXPECT_EQ(e.message,
            "'waiting_custmer' is not a state of this workflow (did you mean 'waiting_customer'?)");
  EXPECT_EQ(error_of("instance.state in ['closed', 'clsoed']").message,
            "'clsoed' is not a state of this workflow (did you mean 'closed'?)");
  EXPECT_EQ(type_of("instance.state != 'waiting_customer'"), "bool");
  scope_.states = nullptr;  // without the workflow's states, nothing to compare with
  EXPECT_EQ(type_of("instance.state == 'anything'"), "bool");
}

TEST_F(CheckerTest, TypesListLiterals) {
  EXPECT_EQ(type_of("[]"), "list<dyn>");
  EXPECT_EQ(type_of("[1, 2]"), "list<int>");
  EXPECT_EQ(type_of("[1, 2.5]"), "list<number>");
  EXPECT_EQ(type_of("[1, 'a']"), "list<dyn>");
  EXPECT_EQ(type_of("[[1], [2]]"), "list<list<int>>");
  EXPECT_EQ(type_of("[null, 'a']"), "list<string>");
}

TEST_F(CheckerTest, TreatsJsonObjectContentsAsDyn) {
  EXPECT_EQ(type_of("data.meta.x + 1"), "dyn");
  EXPECT_EQ(type_of("data.meta.x > 1"), "bool");
  EXPECT_EQ(type_of("data.meta.x && true"), "bool");
  EXPECT_EQ(type_of("data"), "map");
  EXPECT_EQ(error_of("data.meta.x + null").message,
            "operator '+' cannot be applied to dyn and null");
}

TEST_F(CheckerTest, ReportsEachMistakeOnce) {
  const std::vector<Error> errors = errors_of("data.scroe + data.phne > 3 && sise(1)");
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].message, "data has no field 'scroe' (did you mean 'score'?)");
  EXPECT_EQ(errors[1].message, "data has no field 'phne' (did you mean 'phone'?)");
  EXPECT_EQ(errors[1].offset, 18u);
  EXPECT_EQ(errors[2].message, "unknown function 'sise' (did you mean 'size'?)");
}

}  // namespace
}  // namespace ombud::expr
