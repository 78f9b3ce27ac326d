#include "engine/schema.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace ombud {
namespace {

FieldSchema field(FieldType type, std::optional<double> min = {}, std::optional<double> max = {}) {
  FieldSchema f;
  f.name = "f";
  f.type = type;
  f.min = min;
  f.max = max;
  return f;
}

std::string check(const FieldSchema& f, std::string_view json) {
  return check_field_value(f, boost::json::parse(json));
}

TEST(Schema, RoundTripsFieldTypeNames) {
  const std::vector<std::string> names = field_type_names();
  EXPECT_EQ(names, (std::vector<std::string>{"string", "int", "number", "bool", "enum", "timestamp",
                                             "duration", "list", "object"}));
  for (const auto& name : names) {
    const auto type = field_type_from_name(name);
    ASSERT_TRUE(type) << name;
    EXPECT_EQ(field_type_name(*type), name);
  }
}

TEST(Schema, RejectsUnknownFieldTypeNames) {
  EXPECT_FALSE(field_type_from_name("integer"));
  EXPECT_FALSE(field_type_from_name(""));
  EXPECT_FALSE(field_type_from_name("Int"));
}

TEST(Schema, FindsFieldsByNameInDeclarationOrder) {
  Schema s;
  s.fields.push_back(field(FieldType::string));
  s.fields.back().name = "phone";
  s.fields.push_back(field(FieldType::int_));
  s.fields.back().name = "score";
  ASSERT_NE(s.find("score"), nullptr);
  EXPECT_EQ(s.find("score")->type, FieldType::int_);
  EXPECT_EQ(s.find("scor"), nullptr);
  EXPECT_EQ(s.names(), (std::vector<std::string>{"phone", "score"}));
}

TEST(Schema, ChecksIntValuesAndTheirBounds) {
  const FieldSchema f = field(FieldType::int_, 1, 4);
  EXPECT_EQ(check(f, "3"), "");
  EXPECT_EQ(check(f, "3.0"), "");
  EXPECT_EQ(check(f, "5"), "5 is above max 4");
  EXPECT_EQ(check(f, "0"), "0 is below min 1");
  EXPECT_EQ(check(f, "3.5"), "expected int, got number");
  EXPECT_EQ(check(f, "\"3\""), "expected int, got string");
  EXPECT_EQ(check(f, "18446744073709551615"), "18446744073709551615 is out of range for int");
}

TEST(Schema, ChecksNumberValuesAndTheirBounds) {
  const FieldSchema f = field(FieldType::number, 0, 1.5);
  EXPECT_EQ(check(f, "1"), "");
  EXPECT_EQ(check(f, "0.25"), "");
  EXPECT_EQ(check(f, "1.75"), "1.75 is above max 1.5");
  EXPECT_EQ(check(f, "-1"), "-1 is below min 0");
  EXPECT_EQ(check(f, "true"), "expected number, got bool");
}

TEST(Schema, BoundsStringsBySizeInCodePoints) {
  const FieldSchema f = field(FieldType::string, 2, 5);
  EXPECT_EQ(check(f, "\"abc\""), "");
  EXPECT_EQ(check(f, "\"\u00e9\u00e9\u00e9\u00e9\u00e9\""), "");  // 10 bytes, 5 code points
  EXPECT_EQ(check(f, "\"abcdef\""), "size 6 is above max 5");
  EXPECT_EQ(check(f, "\"a\""), "size 1 is below min 2");
  EXPECT_EQ(check(f, "[]"), "expected string, got list");
}

TEST(Schema, BoundsListsBySize) {
  const FieldSchema f = field(FieldType::list, std::nullopt, 2);
  EXPECT_EQ(check(f, "[1, \"a\"]"), "");
  EXPECT_EQ(check(f, "[1, 2, 3]"), "size 3 is above max 2");
  EXPECT_EQ(check(f, "{}"), "expected list, got object");
}

TEST(Schema, ChecksEnumMembers) {
  FieldSchema f = field(FieldType::enum_);
  f.values = {"a", "b"};
  EXPECT_EQ(check(f, "\"a\""), "");
  EXPECT_EQ(check(f, "\"x\""), "'x' is not one of a, b");
  EXPECT_EQ(check(f, "1"), "expected enum, got int");
}

TEST(Schema, ChecksTimestampsAndDurationsInTheirTextForms) {
  const FieldSchema t = field(FieldType::timestamp);
  EXPECT_EQ(check(t, "\"2026-11-23T09:00:00+08:00\""), "");
  EXPECT_EQ(check(t, "\"yesterday\""), "'yesterday' is not a timestamp");
  EXPECT_EQ(check(t, "0"), "expected timestamp, got int");
  const FieldSchema d = field(FieldType::duration);
  EXPECT_EQ(check(d, "\"1d4h\""), "");
  EXPECT_EQ(check(d, "\"4h1d\""), "'4h1d' is not a duration");
  EXPECT_EQ(check(d, "3600"), "expected duration, got int");
}

TEST(Schema, ChecksBoolsAndObjects) {
  EXPECT_EQ(check(field(FieldType::bool_), "false"), "");
  EXPECT_EQ(check(field(FieldType::bool_), "0"), "expected bool, got int");
  EXPECT_EQ(check(field(FieldType::object), "{\"a\": 1}"), "");
  EXPECT_EQ(check(field(FieldType::object), "[]"), "expected object, got list");
}

TEST(Schema, AcceptsNullOnlyForOptionalFields) {
  FieldSchema f = field(FieldType::int_);
  EXPECT_EQ(check(f, "null"), "");
  f.required = true;
  EXPECT_EQ(check(f, "null"), "expected int, got null");
}

}  // namespace
}  // namespace ombud
