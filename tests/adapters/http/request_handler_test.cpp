// Around the router: request ids, the access log line, metrics, and handler failures.
#include "adapters/http/request_handler.h"
#include "engine/store.h"

#include <gtest/gtest.h>

#include <limits>

#include <spdlog/sinks/ostream_sink.h>
#include <boost/json/parse.hpp>
#include <sstream>

#include "adapters/http/json_log.h"
#include "engine/time.h"

namespace ombud::http {
namespace {

class RequestHandlerTest : public ::testing::Test {
 protected:
  RequestHandlerTest() {
    router_.add("GET", "/v1/instances/{id}", [](const HttpRequest&, const RouteMatch& m) {
      return HttpResponse::text(200, std::string(m.param("id")));
    });
    router_.add("GET", "/boom", [](const HttpRequest&, const RouteMatch&) -> HttpResponse {
      throw std::runtime_error("a bug");
    });
    router_.add("GET", "/store", [](const HttpRequest&, const RouteMatch&) -> HttpResponse {
      throw StoreFailure(
          "store postgresql://db/ombud: load instance: server closed the connection");
    });
  }

  HttpResponse get(std::string target, std::string request_id = {}) {
    HttpRequest request;
    request.method = "GET";
    request.target = std::move(target);
    if (!request_id.empty()) request.headers.set("X-Request-Id", std::move(request_id));
    return handler_(request);
  }

  // Each JSON log line, parsed.
  std::vector<boost::json::value> log_lines() {
    std::vector<boost::json::value> lines;
    std::istringstream in(log_.str());
    for (std::string line; std::getline(in, line);) lines.push_back(boost::json::parse(line));
    return lines;
  }

  Router router_;
  MetricsRegistry metrics_;
  std::ostringstream log_;
  std::shared_ptr<spdlog::logger> logger_ =
      make_json_logger("http", std::make_shared<spdlog::sinks::ostream_sink_st>(log_));
  RequestHandler handler_{router_, metrics_, logger_};
};

// Every answer to a HEAD goes without its body, errors included: on a kept-alive connection the
// client would read the bytes as the start of the next answer.
TEST_F(RequestHandlerTest, EveryAnswerToAHeadGoesWithoutItsBody) {
  for (const char* target : {"/v1/instances/x", "/v1/nothing", "/boom"}) {
    HttpRequest request;
    request.method = "HEAD";
    request.target = target;
    EXPECT_TRUE(handler_(request).head_only) << target;
  }
  EXPECT_FALSE(get("/v1/instances/x").head_only);
}

TEST_F(RequestHandlerTest, EchoesASaneRequestId) {
  EXPECT_EQ(get("/v1/instances/a", "lb-1234.abc").headers.get("X-Request-Id"), "lb-1234.abc");
}

TEST_F(RequestHandlerTest, ReplacesAnInsaneRequestIdWithAFreshOne) {
  const auto response = get("/v1/instances/a", "evil\r\nSet-Cookie: x");
  const auto id = response.headers.get("X-Request-Id");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->size(), 32U);
  EXPECT_NE(*id, get("/v1/instances/a").headers.get("X-Request-Id"));
}

TEST_F(RequestHandlerTest, LogsOneJsonLinePerRequest) {
  get("/v1/instances/c-1?verbose=1", "req-1");
  const auto lines = log_lines();
  ASSERT_EQ(lines.size(), 1U);
  const auto& line = lines[0].as_object();
  EXPECT_EQ(line.at("level").as_string(), "info");
  EXPECT_EQ(line.at("logger").as_string(), "http");
  EXPECT_EQ(line.at("msg").as_string(), "request");
  EXPECT_EQ(line.at("request_id").as_string(), "req-1");
  EXPECT_EQ(line.at("route").as_string(), "/v1/instances/{id}");
  EXPECT_EQ(line.at("target").as_string(), "/v1/instances/c-1?verbose=1");
  EXPECT_EQ(line.at("status").as_int64(), 200);
  EXPECT_TRUE(line.contains("duration_ms"));
  EXPECT_EQ(line.at("ts").as_string().size(), std::string("2026-01-01T00:00:00.000Z").size());
}

TEST_F(RequestHandlerTest, HandlerExceptionBecomesA500WithTheRequestId) {
  const auto response = get("/boom", "req-9");
  EXPECT_EQ(response.status, 500);
  const auto body = boost::json::parse(response.body);
  EXPECT_EQ(body.at("error").at("code").as_string(), "internal");
  EXPECT_EQ(body.at("error").at("message").as_string(), "internal error (request id req-9)");
  const auto lines = log_lines();
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_EQ(lines[0].at("level").as_string(), "error");
  EXPECT_EQ(lines[0].at("error").as_string(), "a bug");
  EXPECT_EQ(lines[1].at("level").as_string(), "warning");
}

// The database away (PostgreSQL restarting) is not a bug of ombud's: 503, which callers retry.
TEST_F(RequestHandlerTest, AStoreFailureBecomesA503ToRetry) {
  const auto response = get("/store", "req-7");
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.headers.get("Retry-After"), "1");
  const auto body = boost::json::parse(response.body);
  EXPECT_EQ(body.at("error").at("code").as_string(), "unavailable");
  // The database's address stays in the log.
  EXPECT_EQ(body.at("error").at("message").as_string(),
            "the store is unavailable; retry shortly (request id req-7)");
  const auto lines = log_lines();
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_EQ(lines[0].at("msg").as_string(), "store unavailable");
  EXPECT_NE(lines[0].at("error").as_string().find("server closed the connection"),
            std::string::npos);
}

TEST_F(RequestHandlerTest, CountsByRouteWithUnmatchedCollapsed) {
  get("/v1/instances/a");
  get("/v1/instances/b");
  get("/scanner/probe/1");
  get("/scanner/probe/2");
  const std::string text = metrics_.expose();
  EXPECT_NE(text.find("ombud_http_requests_total{method=\"GET\",route=\"/v1/instances/{id}\","
                      "status=\"200\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ombud_http_requests_total{method=\"GET\",route=\"unmatched\","
                      "status=\"404\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ombud_http_request_duration_seconds_count{method=\"GET\","
                      "route=\"/v1/instances/{id}\"} 2\n"),
            std::string::npos)
      << text;
}

TEST(JsonLog, PlainMessagesAreQuotedAndEscaped) {
  std::ostringstream out;
  auto logger = make_json_logger("core", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
  logger->warn("a \"quoted\" {} line", "braced");
  const auto line = boost::json::parse(out.str());
  EXPECT_EQ(line.at("msg").as_string(), "a \"quoted\" braced line");
  EXPECT_EQ(line.at("level").as_string(), "warning");
  EXPECT_EQ(line.at("logger").as_string(), "core");
}

TEST(JsonLog, FieldsBecomeMembersAndBracesStayLiteral) {
  std::ostringstream out;
  auto logger = make_json_logger("core", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
  log_fields(*logger, spdlog::level::info, "started {x}", {{"port", 8080}, {"path", "{a}"}});
  const auto line = boost::json::parse(out.str());
  EXPECT_EQ(line.at("msg").as_string(), "started {x}");
  EXPECT_EQ(line.at("port").as_int64(), 8080);
  EXPECT_EQ(line.at("path").as_string(), "{a}");
}

TEST(JsonLog, EveryKindOfFieldIsValidJson) {
  std::ostringstream out;
  auto logger = make_json_logger("core", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
  const std::string text = "tab\there \"quoted\" \\ back, \x01 control, 中文";
  log_fields(*logger, spdlog::level::info, "kinds",
             {{"text", text},
              {"view", std::string_view("v")},
              {"negative", -42},
              {"big", std::numeric_limits<std::uint64_t>::max()},
              {"smallest", std::numeric_limits<std::int64_t>::min()},
              {"ratio", 0.125},
              {"tiny", 1e-7},
              {"infinite", std::numeric_limits<double>::infinity()},
              {"yes", true},
              {"no", false},
              {"key \"odd\"", 1}});
  const auto line = boost::json::parse(out.str()).as_object();
  EXPECT_EQ(line.at("text").as_string(), text);
  EXPECT_EQ(line.at("view").as_string(), "v");
  EXPECT_EQ(line.at("negative").as_int64(), -42);
  EXPECT_EQ(line.at("big").as_uint64(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(line.at("smallest").as_int64(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(line.at("ratio").as_double(), 0.125);
  EXPECT_DOUBLE_EQ(line.at("tiny").to_number<double>(), 1e-7);
  EXPECT_TRUE(line.at("infinite").is_null());
  EXPECT_EQ(line.at("yes").as_bool(), true);
  EXPECT_EQ(line.at("no").as_bool(), false);
  EXPECT_EQ(line.at("key \"odd\"").as_int64(), 1);
  // The time: UTC with milliseconds.
  const std::string ts(line.at("ts").as_string());
  ASSERT_EQ(ts.size(), 24u) << ts;
  EXPECT_EQ(ts[4], '-');
  EXPECT_EQ(ts[10], 'T');
  EXPECT_EQ(ts[19], '.');
  EXPECT_EQ(ts.back(), 'Z');
  EXPECT_TRUE(parse_timestamp(ts).has_value()) << ts;
}

TEST(JsonLog, ALineIsExactlyTimeLevelLoggerAndMessage) {
  using namespace std::chrono;
  const auto at =
      sys_days{year{2026} / 5 / 1} + hours(8) + minutes(7) + seconds(9) + milliseconds(123);
  const spdlog::details::log_msg msg(time_point_cast<spdlog::log_clock::duration>(at),
                                     spdlog::source_loc{}, "core", spdlog::level::err, "x \"y\"");
  spdlog::memory_buf_t out;
  JsonLogFormatter().format(msg, out);
  EXPECT_EQ(std::string(out.data(), out.size()),
            R"({"ts":"2026-05-01T08:07:09.123Z","level":"error","logger":"core","msg":"x \"y\""})"
            "\n");
}

TEST(JsonLog, DisabledLevelsWriteNothing) {
  std::ostringstream out;
  auto logger = make_json_logger("core", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
  log_fields(*logger, spdlog::level::debug, "hidden", {{"a", 1}});
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace ombud::http
