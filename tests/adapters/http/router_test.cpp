// The router: patterns, parameters, precedence, and the JSON 404/405 answers.
#include "adapters/http/router.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace ombud::http {
namespace {

using ::testing::ElementsAre;

HttpRequest request(std::string method, std::string target) {
  HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  return r;
}

// Answers with the pattern and its parameters, so tests see what matched.
RouteHandler echo(std::string name) {
  return [name](const HttpRequest&, const RouteMatch& match) {
    std::string body = name;
    for (const auto& [param, value] : match.params) body += " " + std::string(param) + "=" + value;
    return HttpResponse::text(200, body);
  };
}

Router api() {
  Router router;
  router.add("GET", "/v1/instances", echo("list"));
  router.add("POST", "/v1/instances", echo("create"));
  router.add("GET", "/v1/instances/{id}", echo("get"));
  router.add("GET", "/v1/instances/search", echo("search"));
  router.add("POST", "/v1/instances/{id}/events", echo("event"));
  router.add("GET", "/", echo("root"));
  return router;
}

TEST(Router, MatchesLiteralAndParameterSegments) {
  const Router router = api();
  std::string matched;
  EXPECT_EQ(router.dispatch(request("GET", "/v1/instances"), &matched).body, "list");
  EXPECT_EQ(matched, "/v1/instances");
  EXPECT_EQ(router.dispatch(request("POST", "/v1/instances/c-42/events"), &matched).body,
            "event id=c-42");
  EXPECT_EQ(matched, "/v1/instances/{id}/events");
  EXPECT_EQ(router.dispatch(request("GET", "/")).body, "root");
}

TEST(Router, DecodesParametersAndPassesTheQuery) {
  Router router;
  router.add("GET", "/v1/workflows/{name}/graph", [](const HttpRequest&, const RouteMatch& m) {
    return HttpResponse::text(
        200, std::string(m.param("name")) + "|" + std::string(m.query.get("format").value_or("-")));
  });
  EXPECT_EQ(router.dispatch(request("GET", "/v1/workflows/contract%20issue/graph?format=dot")).body,
            "contract issue|dot");
}

TEST(Router, LiteralSegmentBeatsParameter) {
  const Router router = api();
  EXPECT_EQ(router.dispatch(request("GET", "/v1/instances/search")).body, "search");
  EXPECT_EQ(router.dispatch(request("GET", "/v1/instances/searching")).body, "get id=searching");
}

TEST(Router, UnknownPathIs404WithJsonError) {
  const Router router = api();
  std::string matched = "stale";
  const auto response = router.dispatch(request("GET", "/v1/nothing?x=1"), &matched);
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(matched, "");
  const auto body = boost::json::parse(response.body);
  EXPECT_EQ(body.at("error").at("code").as_string(), "not_found");
  EXPECT_EQ(body.at("error").at("message").as_string(), "no such path: /v1/nothing");
  // An empty segment is not a parameter value, and a trailing slash is another path.
  EXPECT_EQ(router.dispatch(request("GET", "/v1/instances//events")).status, 404);
  EXPECT_EQ(router.dispatch(request("GET", "/v1/instances/")).status, 404);
}

TEST(Router, WrongMethodIs405WithAllow) {
  const Router router = api();
  const auto response = router.dispatch(request("DELETE", "/v1/instances"));
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.headers.get("Allow"), "GET, HEAD, POST");
  const auto body = boost::json::parse(response.body);
  EXPECT_EQ(body.at("error").at("code").as_string(), "method_not_allowed");
  EXPECT_EQ(router.dispatch(request("PUT", "/v1/instances/x")).headers.get("Allow"), "GET, HEAD");
}

// HEAD runs the GET route (the request handler then leaves the body out).
TEST(Router, HeadRunsTheGetRoute) {
  const Router router = api();
  const auto get = router.dispatch(request("GET", "/v1/instances/x"));
  const auto head = router.dispatch(request("HEAD", "/v1/instances/x"));
  EXPECT_EQ(head.status, get.status);
  EXPECT_EQ(head.body, get.body);
  EXPECT_EQ(router.dispatch(request("HEAD", "/v1/nothing")).status, 404);
}

TEST(Router, MalformedTargetIs400) {
  const Router router = api();
  const auto response = router.dispatch(request("GET", "/v1/%zz"));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(boost::json::parse(response.body).at("error").at("code").as_string(), "invalid_target");
}

TEST(Router, RejectsBadPatternsAndDuplicates) {
  Router router;
  EXPECT_THROW(router.add("GET", "v1", echo("")), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/v1//x", echo("")), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/v1/{id", echo("")), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/v1/{}", echo("")), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/v1/x{id}", echo("")), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/v1/{id}/{id}", echo("")), std::invalid_argument);
  router.add("GET", "/v1/{id}", echo(""));
  EXPECT_THROW(router.add("GET", "/v1/{id}", echo("")), std::invalid_argument);
}

TEST(Router, ListsRoutesInOrder) {
  Router router;
  router.add("GET", "/a", echo(""));
  router.add("POST", "/b/{x}", echo(""));
  const auto routes = router.routes();
  ASSERT_EQ(routes.size(), 2U);
  EXPECT_EQ(routes[1].method, "POST");
  EXPECT_EQ(routes[1].pattern, "/b/{x}");
}

}  // namespace
}  // namespace ombud::http
