// Who may call what: every route of the API × every kind of caller (the four roles, no token, a
// revoked, an unknown and a malformed token). The table below is the contract of api.h's header
// comment; each cell checks the status class and the error body.
#include <set>

#include "tests/adapters/api/api_fixture.h"

namespace ombud::api::testing {
namespace {

struct RouteCase {
  std::string method;
  std::string pattern;  // as registered, for the check that the table covers every route
  std::string target;   // a concrete path
  std::string body;
  std::set<std::string> allowed;  // roles; empty = public (no token needed)
};

const std::set<std::string> kStaff = {"admin", "supervisor", "agent"};
const std::set<std::string> kSenders = {"admin", "supervisor", "agent", "hook"};
const std::set<std::string> kManagers = {"admin", "supervisor"};

const std::vector<RouteCase>& route_table() {
  static const std::vector<RouteCase> table = {
      {"POST", "/v1/instances", "/v1/instances", "{}", kSenders},
      {"GET", "/v1/instances", "/v1/instances?limit=5", "", kStaff},
      {"GET", "/v1/instances/{id}", "/v1/instances/complaint-999", "", kStaff},
      {"GET", "/v1/instances/{id}/history", "/v1/instances/complaint-999/history", "", kStaff},
      {"POST", "/v1/instances/{id}/events", "/v1/instances/complaint-999/events",
       R"({"event":"add_note","data":{"note":"x"}})", kSenders},
      {"POST", "/v1/instances/{id}/assign", "/v1/instances/complaint-999/assign",
       R"({"to":"li.na"})", kManagers},
      {"POST", "/v1/instances/{id}/incidents/{n}/resolve",
       "/v1/instances/complaint-999/incidents/1/resolve", R"({"note":"x"})", kManagers},
      {"POST", "/v1/events", "/v1/events", "{}", kSenders},
      {"GET", "/v1/workflows", "/v1/workflows", "", kStaff},
      {"GET", "/v1/workflows/{name}", "/v1/workflows/complaint", "", kStaff},
      // Invalid YAML: an admin gets 422, nothing is published.
      {"PUT", "/v1/workflows/{name}", "/v1/workflows/complaint", "workflow: [", {"admin"}},
      {"GET", "/v1/workflows/{name}/graph", "/v1/workflows/complaint/graph", "", kStaff},
      {"GET", "/v1/directory", "/v1/directory", "", kManagers},
      {"GET", "/v1/inbox", "/v1/inbox", "", kManagers},
      {"POST", "/v1/inbox/{id}/replay", "/v1/inbox/999/replay",
       R"({"instance":"complaint-1","event":"add_note"})", kManagers},
      {"GET", "/metrics", "/metrics", "", {}},
      {"GET", "/healthz", "/healthz", "", {}},
      {"GET", "/readyz", "/readyz", "", {}},
      {"GET", "/openapi.json", "/openapi.json", "", {}},
  };
  return table;
}

const std::vector<std::string> kRoles = {"admin", "supervisor", "agent", "hook"};
const std::vector<std::string> kNotAuthenticated = {"", "revoked", "unknown", "malformed"};

class ApiAccess : public ApiFixture {};

TEST_F(ApiAccess, TheTableCoversEveryRouteButTheSignedHook) {
  std::set<std::pair<std::string, std::string>> table, routes;
  for (const RouteCase& c : route_table()) table.insert({c.method, c.pattern});
  for (const http::Router::Route& r : router_.routes()) {
    if (r.pattern != "/hooks/{source}") routes.insert({r.method, r.pattern});
  }
  EXPECT_EQ(table, routes);
}

TEST_F(ApiAccess, EveryRouteTimesEveryCaller) {
  int cells = 0;
  for (const RouteCase& c : route_table()) {
    for (const std::string& who : kRoles) {
      SCOPED_TRACE(c.method + " " + c.target + " as " + who);
      const HttpResponse r = call(c.method, c.target, who, c.body);
      ++cells;
      if (c.allowed.empty() || c.allowed.count(who) != 0) {
        EXPECT_NE(r.status, 401) << r.body;
        EXPECT_NE(r.status, 403) << r.body;
        EXPECT_LT(r.status, 500) << r.body;
      } else {
        EXPECT_EQ(r.status, 403) << r.body;
        EXPECT_EQ(error_code(r), "forbidden");
        EXPECT_NE(r.body.find("'" + who + "'"), std::string::npos) << r.body;
        EXPECT_FALSE(r.headers.contains("WWW-Authenticate"));
      }
    }
    for (const std::string& who : kNotAuthenticated) {
      SCOPED_TRACE(c.method + " " + c.target + " as " + (who.empty() ? "nobody" : who));
      const HttpResponse r = call(c.method, c.target, who, c.body);
      ++cells;
      if (c.allowed.empty()) {
        EXPECT_EQ(r.status, 200) << r.body;
      } else {
        EXPECT_EQ(r.status, 401) << r.body;
        EXPECT_EQ(error_code(r), "unauthenticated");
        EXPECT_EQ(r.headers.get("WWW-Authenticate").value_or(""), "Bearer realm=\"ombud\"");
      }
    }
  }
  EXPECT_EQ(cells, static_cast<int>(route_table().size() * 8));
}

TEST_F(ApiAccess, UnauthenticatedAnswersSayWhy) {
  EXPECT_NE(call("GET", "/v1/workflows", "").body.find("Authorization: Bearer"), std::string::npos);
  EXPECT_NE(call("GET", "/v1/workflows", "malformed").body.find("not an ombud token"),
            std::string::npos);
  EXPECT_NE(call("GET", "/v1/workflows", "unknown").body.find("unknown token"), std::string::npos);
  EXPECT_NE(call("GET", "/v1/workflows", "revoked").body.find("revoked"), std::string::npos);
  // Another scheme is not a bearer token.
  HttpRequest basic;
  basic.method = "GET";
  basic.target = "/v1/workflows";
  basic.headers.add("Authorization", "Basic YWRtaW46YWRtaW4=");
  const HttpResponse r = (*handler_)(basic);
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(r.headers.contains("WWW-Authenticate"));
  EXPECT_NE(r.body.find("not 'Bearer <token>'"), std::string::npos) << r.body;
}

// A token made for someone the directory does not have (who left, say) acts for nobody: under
// its role alone it would pass roles: meant for the person's own roles.
TEST_F(ApiAccess, ATokenForAPersonNotInTheDirectoryIsRefused) {
  tokens_["left"] = make_token("supervisor", "former.employee", false);
  const HttpResponse r = call("GET", "/v1/workflows", "left");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(error_code(r), "unknown_person");
  EXPECT_NE(r.body.find("former.employee"), std::string::npos) << r.body;
  EXPECT_EQ(call("GET", "/v1/workflows", "li.na").status, 200);
}

// /hooks/{source} ignores tokens: the signature decides, whoever holds which token.
TEST_F(ApiAccess, TheHookIsAuthenticatedBySignatureNotByToken) {
  const std::vector<std::string> everyone = {"",     "admin",   "supervisor", "agent",
                                             "hook", "revoked", "unknown",    "malformed"};
  int n = 0;
  for (const std::string& who : everyone) {
    SCOPED_TRACE(who.empty() ? "nobody" : who);
    ++n;
    const std::string body = R"({"event_id":"access-)" + std::to_string(n) +
                             R"(","call_id":"c","status":"completed","caller":"1390000)" +
                             std::to_string(1000 + n) + R"("})";
    const HttpResponse unsigned_call = call("POST", "/hooks/phone", who, body);
    EXPECT_EQ(unsigned_call.status, 401) << unsigned_call.body;
    EXPECT_EQ(error_code(unsigned_call), "invalid_signature");
    const HttpResponse signed_call = hook(body, who);
    EXPECT_EQ(signed_call.status, 202) << signed_call.body;  // no open complaint: the inbox
  }
  const HttpResponse unknown_source = call("POST", "/hooks/nope", "", "{}");
  EXPECT_EQ(unknown_source.status, 404);
  EXPECT_EQ(error_code(unknown_source), "unknown_source");
}

// A token made for a person acts with the person's directory roles for a transition's roles:.
TEST_F(ApiAccess, TransitionRolesApplyToNonAdminsOnly) {
  const json::object a = start_complaint("13900000101");
  const std::string id(a.at("id").as_string());
  const std::string cancel = R"({"event":"cancel","data":{"reason":"test"}})";
  for (const char* who : {"agent", "hook", "li.na"}) {
    SCOPED_TRACE(who);
    const HttpResponse r = call("POST", "/v1/instances/" + id + "/events", who, cancel);
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_EQ(error_code(r), "role_not_allowed");
    EXPECT_NE(r.body.find("supervisor"), std::string::npos) << r.body;
  }
  EXPECT_EQ(str(get_instance(id), "/state"), "assigned");
  const HttpResponse ok = call("POST", "/v1/instances/" + id + "/events", "supervisor", cancel);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(str(body_of(ok), "/instance/state"), "cancelled");

  // escalate names [agent]: a supervisor token may not, an admin is not checked.
  const json::object b = start_complaint("13900000102");
  const std::string id_b(b.at("id").as_string());
  const std::string escalate = R"({"event":"escalate","data":{"reason":"angry"}})";
  const HttpResponse sup =
      call("POST", "/v1/instances/" + id_b + "/events", "supervisor", escalate);
  EXPECT_EQ(sup.status, 403) << sup.body;
  EXPECT_EQ(error_code(sup), "role_not_allowed");
  const HttpResponse admin = call("POST", "/v1/instances/" + id_b + "/events", "admin", escalate);
  EXPECT_EQ(admin.status, 200) << admin.body;
  EXPECT_EQ(str(body_of(admin), "/instance/state"), "supervisor_review");
}

}  // namespace
}  // namespace ombud::api::testing
