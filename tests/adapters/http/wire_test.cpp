// Bytes to requests and responses to bytes, with the server's limits.
#include "adapters/http/wire.h"

#include <gtest/gtest.h>

#include "adapters/http/request_id.h"

namespace ombud::http {
namespace {

TEST(Wire, ParsesARequestWithBody) {
  const auto request = parse_request(
      "POST /hooks/twilio?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
      "Content-Length: 7\r\n\r\n{\"a\":1}",
      1024, 1024);
  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->method, "POST");
  EXPECT_EQ(request->target, "/hooks/twilio?x=1");
  EXPECT_EQ(request->version, 11U);
  EXPECT_EQ(request->headers.get("content-type"), "application/json");
  EXPECT_EQ(request->body, "{\"a\":1}");
}

TEST(Wire, ParsesAChunkedBody) {
  const auto request = parse_request(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 1024,
      1024);
  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->body, "abc");
}

TEST(Wire, OversizedBodyIs413) {
  const auto request = parse_request(
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 20\r\n\r\n01234567890123456789", 10, 1024);
  ASSERT_FALSE(request.has_value());
  EXPECT_EQ(request.error().status, 413);
  EXPECT_EQ(request.error().code, "body_too_large");
  EXPECT_NE(request.error().message.find("(10 bytes)"), std::string::npos)
      << request.error().message;
}

TEST(Wire, OversizedHeaderIs431) {
  const auto request = parse_request(
      "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(200, 'x') + "\r\n\r\n", 1024, 64);
  ASSERT_FALSE(request.has_value());
  EXPECT_EQ(request.error().status, 431);
}

TEST(Wire, GarbageAndTruncationAre400) {
  for (const std::string_view raw : {"NOT HTTP\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\n",
                                     "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab", ""}) {
    const auto request = parse_request(raw, 1024, 1024);
    ASSERT_FALSE(request.has_value()) << raw;
    EXPECT_EQ(request.error().status, 400) << raw;
  }
}

TEST(Wire, SerializesStatusHeadersAndLength) {
  HttpResponse response = HttpResponse::text(404, "nope");
  response.headers.set("X-Request-Id", "r1");
  const std::string bytes = serialize_response(response, 11, false);
  EXPECT_EQ(bytes.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0U) << bytes;
  EXPECT_NE(bytes.find("X-Request-Id: r1\r\n"), std::string::npos);
  EXPECT_NE(bytes.find("Content-Length: 4\r\n"), std::string::npos);
  EXPECT_NE(bytes.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(bytes.substr(bytes.size() - 8), "\r\n\r\nnope");
}

// The answer to a HEAD request: the GET answer's headers and length, no body.
TEST(Wire, AHeadAnswerHasTheLengthButNoBody) {
  HttpResponse response = HttpResponse::text(200, "healthy");
  response.head_only = true;
  const std::string bytes = serialize_response(response, 11, true);
  EXPECT_NE(bytes.find("Content-Length: 7\r\n"), std::string::npos) << bytes;
  EXPECT_EQ(bytes.substr(bytes.size() - 4), "\r\n\r\n") << bytes;
}

TEST(RequestId, AcceptsOnlySaneIds) {
  EXPECT_EQ(accept_request_id("abc-123_x.y:z"), "abc-123_x.y:z");
  EXPECT_FALSE(accept_request_id("").has_value());
  EXPECT_FALSE(accept_request_id("a b").has_value());
  EXPECT_FALSE(accept_request_id("a\"b").has_value());
  EXPECT_FALSE(accept_request_id(std::string(129, 'a')).has_value());
  EXPECT_EQ(generate_request_id().find_first_not_of("0123456789abcdef"), std::string::npos);
}

}  // namespace
}  // namespace ombud::http
