// Request bodies as JSON: what a client is told when its JSON is wrong.
#include "adapters/http/json_body.h"

#include <gtest/gtest.h>

namespace ombud::http {
namespace {

HttpRequest json_request(std::string body, std::string content_type = "application/json") {
  HttpRequest request;
  request.method = "POST";
  request.target = "/v1/instances";
  if (!content_type.empty()) request.headers.set("Content-Type", std::move(content_type));
  request.body = std::move(body);
  return request;
}

TEST(JsonBody, ParsesAnObject) {
  const auto body = parse_json_object(json_request(R"({"workflow":"complaint","data":{}})"));
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(body->at("workflow").as_string(), "complaint");
}

TEST(JsonBody, NamesLineAndColumnOfTheError) {
  const auto body = parse_json_object(json_request("{\n  \"workflow\" \"complaint\"\n}"));
  ASSERT_FALSE(body.has_value());
  EXPECT_EQ(body.error().status, 400);
  EXPECT_EQ(body.error().code, "malformed_json");
  EXPECT_EQ(body.error().message.rfind("malformed JSON at line 2, column 14 (byte 15): ", 0), 0U)
      << body.error().message;
}

TEST(JsonBody, ReportsTruncatedAndEmptyDocumentsAtTheEnd) {
  const auto truncated = parse_json(R"({"a": [1, 2)");
  ASSERT_FALSE(truncated.has_value());
  EXPECT_NE(truncated.error().message.find("line 1, column 12 (byte 11)"), std::string::npos)
      << truncated.error().message;
  const auto empty = parse_json("");
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().message, "malformed JSON at line 1, column 1 (byte 0): empty body");
}

TEST(JsonBody, RejectsTrailingGarbage) {
  const auto body = parse_json(R"({"a":1} x)");
  ASSERT_FALSE(body.has_value());
  EXPECT_NE(body.error().message.find("byte 8"), std::string::npos) << body.error().message;
}

// PostgreSQL stores no NUL in text, and SQLite cuts the text at it: a NUL anywhere is refused
// where it came in, naming where it is, before it can reach a batch shared with other requests.
TEST(JsonBody, RefusesANulCharacterAndSaysWhere) {
  const auto in_value = parse_json(R"({"data":{"phones":["139","1380\u000000001"]}})");
  ASSERT_FALSE(in_value.has_value());
  EXPECT_EQ(in_value.error().status, 400);
  EXPECT_EQ(in_value.error().code, "invalid_text");
  EXPECT_EQ(in_value.error().field, "/data/phones/1");
  const auto in_name = parse_json(R"({"data":{"a/b\u0000":1}})");
  ASSERT_FALSE(in_name.has_value());
  EXPECT_EQ(in_name.error().field, std::string("/data/a~1b") + '\0');
  EXPECT_TRUE(parse_json(R"({"note":"\\u0000 as text, escaped"})").has_value());
}

TEST(JsonBody, RequiresAnObject) {
  const auto body = parse_json_object(json_request("[1,2]"));
  ASSERT_FALSE(body.has_value());
  EXPECT_EQ(body.error().code, "invalid_body");
}

TEST(JsonBody, ChecksTheMediaType) {
  EXPECT_TRUE(parse_json_object(json_request("{}", "application/json; charset=utf-8")).has_value());
  EXPECT_TRUE(parse_json_object(json_request("{}", "Application/Problem+JSON")).has_value());
  EXPECT_TRUE(parse_json_object(json_request("{}", "")).has_value());
  const auto form = parse_json_object(json_request("{}", "application/x-www-form-urlencoded"));
  ASSERT_FALSE(form.has_value());
  EXPECT_EQ(form.error().status, 415);
  EXPECT_EQ(form.error().code, "unsupported_media_type");
}

TEST(ErrorResponse, HasTheSharedShape) {
  const auto response = error_response(422, "invalid_field", "priority must be 1-5", "priority");
  EXPECT_EQ(response.status, 422);
  EXPECT_EQ(response.headers.get("content-type"), "application/json");
  EXPECT_EQ(
      response.body,
      R"({"error":{"code":"invalid_field","message":"priority must be 1-5","field":"priority"}})");
  EXPECT_EQ(error_response(404, "not_found", "no").body,
            R"({"error":{"code":"not_found","message":"no"}})");
}

}  // namespace
}  // namespace ombud::http
