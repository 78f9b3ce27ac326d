// Form bodies and request targets: decoding, repeated names, and errors that say where.
#include "adapters/http/params.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ombud::http {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(Form, DecodesPlusAndPercentEscapes) {
  const auto form = parse_form("From=%2B14158675309&Name=Ana+Mar%C3%ADa&Empty=&Flag");
  ASSERT_TRUE(form.has_value());
  EXPECT_THAT(form->entries(), ElementsAre(Pair("From", "+14158675309"),
                                           Pair("Name",
                                                "Ana Mar\xC3\xAD"
                                                "a"),
                                           Pair("Empty", ""), Pair("Flag", "")));
}

TEST(Form, KeepsRepeatedNamesAndSkipsEmptyPieces) {
  const auto form = parse_form("a=1&&a=2&");
  ASSERT_TRUE(form.has_value());
  EXPECT_THAT(form->all("a"), ElementsAre("1", "2"));
  EXPECT_EQ(form->get("a"), "1");
  EXPECT_FALSE(form->get("b").has_value());
}

TEST(Form, EmptyBodyHasNoParameters) {
  const auto form = parse_form("");
  ASSERT_TRUE(form.has_value());
  EXPECT_TRUE(form->empty());
}

TEST(Form, NamesTheBadEscapeAndItsOffset) {
  const auto form = parse_form("ok=1&bad=%G1");
  ASSERT_FALSE(form.has_value());
  EXPECT_EQ(form.error().status, 400);
  EXPECT_EQ(form.error().code, "malformed_form");
  EXPECT_EQ(form.error().message, "malformed form body at byte 9: '%G1' is not a percent escape");
  const auto truncated = parse_form("a=%4");
  ASSERT_FALSE(truncated.has_value());
  EXPECT_EQ(truncated.error().message,
            "malformed form body at byte 2: '%4' is not a percent escape");
}

TEST(Form, RefusesANulCharacter) {
  const auto form = parse_form("From=%2B86139&CallSid=CA%001");
  ASSERT_FALSE(form.has_value());
  EXPECT_EQ(form.error().status, 400);
  EXPECT_EQ(form.error().message,
            "malformed form body at byte 24: '%00' is a NUL character, which ombud does not store");
  const auto raw =
      parse_form(std::string("From=%2B86138\0"
                             "00000",
                             19));
  ASSERT_FALSE(raw.has_value());
  EXPECT_EQ(raw.error().message,
            "malformed form body at byte 13: a NUL character, which ombud does not store");
}

TEST(Target, RefusesANulCharacter) {
  const auto target = parse_target("/v1/instances?key=139%00");
  ASSERT_FALSE(target.has_value());
  EXPECT_EQ(target.error().code, "invalid_target");
}

TEST(Target, SplitsDecodedSegmentsAndQuery) {
  const auto target = parse_target("/v1/instances/a%2Fb/history?limit=10&state=new+case&x");
  ASSERT_TRUE(target.has_value());
  EXPECT_EQ(target->path, "/v1/instances/a%2Fb/history");
  EXPECT_THAT(target->segments, ElementsAre("v1", "instances", "a/b", "history"));
  EXPECT_EQ(target->query.get("limit"), "10");
  EXPECT_EQ(target->query.get("state"), "new case");
  EXPECT_EQ(target->query.get("x"), "");
}

TEST(Target, RootHasNoSegments) {
  const auto target = parse_target("/");
  ASSERT_TRUE(target.has_value());
  EXPECT_TRUE(target->segments.empty());
}

TEST(Target, RejectsNonOriginFormAndBadEscapes) {
  for (const std::string_view bad : {"v1/instances", "http://x/y", "/a%zz", "*", ""}) {
    const auto target = parse_target(bad);
    ASSERT_FALSE(target.has_value()) << bad;
    EXPECT_EQ(target.error().code, "invalid_target");
  }
  // What is usually wrong, not only Boost.URL's "leftover".
  EXPECT_NE(parse_target("/v1/instances/%ZZ")
                .error()
                .message.find("each '%' must be followed by two hex digits"),
            std::string::npos);
}

}  // namespace
}  // namespace ombud::http
