// docs/openapi.json against the routes the API really registers, both ways, and against what
// the handlers really answer (statuses, parameters).
#include <set>

#include "tests/adapters/api/api_fixture.h"

namespace ombud::api::testing {
namespace {

const std::set<std::string> kMethods = {"get", "put", "post", "delete", "patch", "head", "options"};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class ApiOpenApi : public ApiFixture {
 protected:
  json::value doc_ = json::parse(read_text(source_file("docs/openapi.json")));

  const json::object& operation(const std::string& path, const std::string& method) {
    return doc_.at("paths").at(path).at(method).as_object();
  }
  std::set<std::string> statuses(const std::string& path, const std::string& method) {
    std::set<std::string> out;
    for (const auto& r : operation(path, method).at("responses").as_object()) {
      out.insert(std::string(r.key()));
    }
    return out;
  }
  std::set<std::string> parameters(const std::string& path, const std::string& method) {
    std::set<std::string> out;
    if (const auto* ps = operation(path, method).if_contains("parameters")) {
      for (const auto& p : ps->as_array()) {
        const json::value* resolved = &p;
        if (const auto* ref = p.as_object().if_contains("$ref")) {
          boost::system::error_code ec;
          resolved = doc_.find_pointer(std::string(ref->as_string()).substr(1), ec);
          if (resolved == nullptr) continue;
        }
        out.insert(str(*resolved, "/in") + ":" + str(*resolved, "/name"));
      }
    }
    return out;
  }
};

TEST_F(ApiOpenApi, EveryRouteIsDocumentedAndEveryDocumentedOperationIsARoute) {
  std::set<std::pair<std::string, std::string>> routes, documented;
  for (const http::Router::Route& r : router_.routes()) routes.insert({lower(r.method), r.pattern});
  for (const auto& [path, item] : doc_.at("paths").as_object()) {
    for (const auto& member : item.as_object()) {
      if (kMethods.count(std::string(member.key())) != 0) {
        documented.insert({std::string(member.key()), std::string(path)});
      }
    }
  }
  for (const auto& r : routes) {
    EXPECT_EQ(documented.count(r), 1U) << r.first << " " << r.second << " is not documented";
  }
  for (const auto& d : documented) {
    EXPECT_EQ(routes.count(d), 1U) << d.first << " " << d.second << " is not a route";
  }
  EXPECT_EQ(routes.size(), 20U);
}

TEST_F(ApiOpenApi, DocumentsTheQueryParametersAndHeadersTheHandlersRead) {
  const std::set<std::string> list = parameters("/v1/instances", "get");
  for (const char* p : {"query:workflow", "query:state", "query:assignee", "query:queue",
                        "query:key", "query:sla", "query:open", "query:limit", "query:cursor"}) {
    EXPECT_EQ(list.count(p), 1U) << p;
  }
  EXPECT_EQ(parameters("/v1/instances", "post").count("header:Idempotency-Key"), 1U);
  EXPECT_EQ(parameters("/v1/instances/{id}/events", "post").count("header:Idempotency-Key"), 1U);
  EXPECT_EQ(parameters("/v1/events", "post").count("header:Idempotency-Key"), 1U);
  EXPECT_EQ(parameters("/v1/instances/{id}/assign", "post").count("header:Idempotency-Key"), 1U);
  EXPECT_EQ(parameters("/v1/instances/{id}/incidents/{n}/resolve", "post")
                .count("header:Idempotency-Key"),
            1U);
  const std::set<std::string> inbox = parameters("/v1/inbox", "get");
  EXPECT_EQ(inbox.count("query:limit"), 1U);
  EXPECT_EQ(inbox.count("query:all"), 1U);
  EXPECT_EQ(inbox.count("query:cursor"), 1U);
  EXPECT_EQ(parameters("/v1/workflows/{name}/graph", "get").count("query:format"), 1U);

  // limit 1–500, sla breached|at_risk.
  for (const auto& p : operation("/v1/instances", "get").at("parameters").as_array()) {
    if (str(p, "/name") == "limit") {
      EXPECT_EQ(p.at("schema").at("minimum"), json::value(1));
      EXPECT_EQ(p.at("schema").at("maximum"), json::value(500));
    }
    if (str(p, "/name") == "sla") {
      EXPECT_EQ(p.at("schema").at("enum"), json::parse(R"(["breached","at_risk"])"));
    }
  }
  boost::system::error_code ec;
  EXPECT_NE(doc_.find_pointer("/components/schemas/InstancePage/properties/next_cursor", ec),
            nullptr);
}

TEST_F(ApiOpenApi, DocumentsTheStatusCodesTheHandlersAnswer) {
  const auto has = [&](const std::string& path, const std::string& method,
                       std::initializer_list<const char*> codes) {
    const std::set<std::string> documented = statuses(path, method);
    for (const char* c : codes)
      EXPECT_EQ(documented.count(c), 1U) << method << " " << path << " " << c;
  };
  has("/v1/instances", "post", {"201", "200", "400", "401", "403", "404", "415", "422", "503"});
  has("/v1/instances", "get", {"200", "400", "401", "403"});
  has("/v1/instances/{id}", "get", {"200", "400", "401", "403", "404"});
  has("/v1/instances/{id}/history", "get", {"200", "400", "401", "403", "404"});
  has("/v1/instances/{id}/events", "post",
      {"200", "400", "401", "403", "404", "409", "422", "503"});
  has("/v1/instances/{id}/assign", "post",
      {"200", "400", "401", "403", "404", "409", "422", "503"});
  has("/v1/instances/{id}/incidents/{n}/resolve", "post",
      {"200", "400", "401", "403", "404", "409", "422", "503"});
  has("/v1/events", "post", {"200", "400", "401", "403", "404", "409", "422", "503"});
  has("/v1/workflows", "get", {"200", "400", "401", "403"});
  has("/v1/workflows/{name}", "get", {"200", "400", "401", "403", "404"});
  has("/v1/workflows/{name}", "put", {"201", "200", "400", "401", "403", "415", "422"});
  has("/v1/workflows/{name}/graph", "get", {"200", "400", "401", "403", "404"});
  has("/v1/directory", "get", {"200", "400", "401", "403"});
  has("/v1/inbox", "get", {"200", "400", "401", "403"});
  has("/v1/inbox/{id}/replay", "post", {"200", "400", "401", "403", "404", "409", "422", "503"});
  has("/hooks/{source}", "post", {"200", "202", "400", "401", "404", "415", "503"});
  has("/readyz", "get", {"200", "503"});
  has("/openapi.json", "get", {"200", "404"});
  // Public routes and the hook need no token.
  for (const char* path : {"/healthz", "/readyz", "/metrics", "/openapi.json", "/hooks/{source}"}) {
    const std::string method = std::string(path) == "/hooks/{source}" ? "post" : "get";
    ASSERT_TRUE(operation(path, method).contains("security")) << path;
    EXPECT_TRUE(operation(path, method).at("security").as_array().empty()) << path;
  }
  boost::system::error_code ec;
  EXPECT_NE(doc_.find_pointer("/components/schemas/ReplayRequest/properties/instance", ec),
            nullptr);
  EXPECT_EQ(doc_.at_pointer("/components/schemas/ReplayRequest/required"),
            json::parse(R"(["instance","event"])"));
  EXPECT_NE(doc_.find_pointer("/components/schemas/ValidationFailure/properties/diagnostics", ec),
            nullptr);
}

}  // namespace
}  // namespace ombud::api::testing
