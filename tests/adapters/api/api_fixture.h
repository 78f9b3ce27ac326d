// The REST API as a plain function: a node on the in-memory store with the shipped config and
// workflows, the API's routes behind the request handler, and one API token per role saved in
// the store. Tests call `call(method, target, token, body)` and read status, headers and JSON.
#pragma once

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "adapters/api/api.h"
#include "adapters/http/api_token.h"
#include "adapters/http/crypto.h"
#include "adapters/http/json_log.h"
#include "adapters/http/metrics.h"
#include "adapters/http/request_handler.h"
#include "adapters/http/router.h"
#include "adapters/node/node.h"

namespace ombud::api::testing {

namespace json = boost::json;
using http::HttpRequest;
using http::HttpResponse;

inline constexpr const char* kPhoneSecret = "test-phone-secret-0123456789";

inline std::string source_file(const std::string& relative) {
  return std::string(OMBUD_SOURCE_DIR) + "/" + relative;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The body of a JSON answer; a test failure (and null) when it is not JSON.
inline json::value body_of(const HttpResponse& r) {
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  EXPECT_FALSE(ec) << "not JSON: " << r.body;
  return ec ? json::value() : v;
}

inline std::string error_code(const HttpResponse& r) {
  const json::value v = body_of(r);
  const auto* code = v.is_object() ? v.as_object().if_contains("error") : nullptr;
  if (code == nullptr || !code->is_object()) return "";
  const auto* c = code->as_object().if_contains("code");
  return c != nullptr && c->is_string() ? std::string(c->as_string()) : "";
}

inline std::string error_field(const HttpResponse& r) {
  const json::value v = body_of(r);
  const auto* e = v.is_object() ? v.as_object().if_contains("error") : nullptr;
  if (e == nullptr || !e->is_object()) return "";
  const auto* f = e->as_object().if_contains("field");
  return f != nullptr && f->is_string() ? std::string(f->as_string()) : "";
}

inline std::string str(const json::value& v, std::string_view pointer) {
  boost::system::error_code ec;
  const json::value* found = v.find_pointer(pointer, ec);
  if (found == nullptr || !found->is_string()) return "";
  return std::string(found->as_string());
}

class ApiFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("OMBUD_HOOK_PHONE_SECRET", kPhoneSecret, 1);
    ::unsetenv("OMBUD_HOOK_TWILIO_AUTH_TOKEN");  // the twilio source stays unconfigured
    NodeOptions options;
    options.config_file = config_file();
    options.workflow_paths = {source_file("workflows")};
    options.store_url = "memory:";
    options.published_by = "api test";
    Diagnostics diags;
    node_ = Node::open(options, diags);
    ASSERT_TRUE(node_) << diags.error_count() << " error(s), first: "
                       << (diags.items().empty() ? "" : diags.items().front().message);

    ApiOptions api_options;
    api_options.answer_timeout = std::chrono::seconds(20);
    api_ = std::make_unique<Api>(*node_, metrics_, api_options);
    node_->worker().on_commit = [this](std::span<const RuntimeResult> r) {
      api_->record_commit(r);
    };
    api_->add_routes(router_);
    handler_ = std::make_unique<http::RequestHandler>(
        router_, metrics_,
        http::make_json_logger("api-test", std::make_shared<spdlog::sinks::null_sink_mt>()));

    for (const char* role : {"admin", "supervisor", "agent", "hook"}) {
      tokens_[role] = make_token(role, "", false);
    }
    tokens_["revoked"] = make_token("admin", "", true);
    tokens_["unknown"] = http::generate_api_token().token;  // well-formed, never saved
    tokens_["malformed"] = "omb_not-a-real-token";
    tokens_["li.na"] = make_token("agent", "li.na", false);

    node_->worker().start();
    started_ = true;
  }

  // The config the node runs on; a fixture may give an edited copy.
  virtual std::string config_file() { return source_file("config/ombud.yaml"); }

  void TearDown() override {
    if (started_) node_->worker().stop();
  }

  std::string make_token(const std::string& role, const std::string& person, bool revoked) {
    const http::NewApiToken t = http::generate_api_token();
    ApiTokenRow row;
    row.id = t.id;
    row.hash = t.hash;
    row.role = role;
    row.person = person;
    row.label = "test " + role;
    row.created_at = node_->clock().now();
    row.revoked = revoked;
    node_->store().save_api_token(row);
    token_ids_[t.token] = t.id;
    return t.token;
  }

  // `who` is a key of tokens_ ("admin", "agent", "revoked", ...) or "" for no Authorization.
  HttpResponse call(const std::string& method, const std::string& target, const std::string& who,
                    const std::string& body = "",
                    const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    HttpRequest r;
    r.method = method;
    r.target = target;
    if (!who.empty()) r.headers.add("Authorization", "Bearer " + tokens_.at(who));
    if (!body.empty()) r.headers.add("Content-Type", "application/json");
    for (const auto& [name, value] : headers) r.headers.add(name, value);
    r.body = body;
    return (*handler_)(r);
  }

  std::string token_id(const std::string& who) { return token_ids_.at(tokens_.at(who)); }

  // A phone-system delivery signed with the native scheme (or with `secret`).
  HttpResponse hook(const std::string& body, const std::string& who = "",
                    const std::string& secret = kPhoneSecret) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const std::string ts = std::to_string(now);
    const std::string sig = http::to_hex(http::hmac_sha256(secret, ts + "." + body));
    return call("POST", "/hooks/phone", who, body,
                {{"X-Ombud-Timestamp", ts}, {"X-Ombud-Signature", sig}, {"Host", "ombud.test"}});
  }

  // Starts a complaint from `phone`; the instance's JSON.
  json::object start_complaint(const std::string& phone, const std::string& who = "admin") {
    const json::object body{{"workflow", "complaint"},
                            {"data", json::object{{"phone", phone}, {"summary", "broken"}}}};
    const HttpResponse r = call("POST", "/v1/instances", who, json::serialize(body));
    EXPECT_EQ(r.status, 201) << r.body;
    const json::value v = body_of(r);
    if (!v.is_object() || !v.as_object().contains("instance")) return {};
    return v.at("instance").as_object();
  }

  // A completed call from `caller` that no case takes: kept in the inbox. Returns the entry's id.
  std::uint64_t parked_call(const std::string& event_id, const std::string& caller) {
    const HttpResponse r = hook(R"({"event_id":")" + event_id + R"(","call_id":"c-)" + event_id +
                                R"(","status":"completed","caller":")" + caller + R"("})");
    EXPECT_EQ(r.status, 202) << r.body;
    const json::value v = body_of(r);
    if (!v.is_object() || !v.as_object().contains("inbox")) return 0;
    return v.at("inbox").at("id").to_number<std::uint64_t>();
  }

  // A complaint its handler escalated: it waits in supervisor review. Returns its id.
  std::string escalated_complaint(const std::string& phone) {
    const std::string id(start_complaint(phone).at("id").as_string());
    const HttpResponse r = call("POST", "/v1/instances/" + id + "/events", "agent",
                                R"({"event":"escalate","data":{"reason":"angry"}})");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::value_to<std::string>(get_instance(id).at("state")), "supervisor_review");
    return id;
  }

  json::object get_instance(const std::string& id) {
    const HttpResponse r = call("GET", "/v1/instances/" + id, "admin");
    EXPECT_EQ(r.status, 200) << r.body;
    const json::value v = body_of(r);
    return v.is_object() ? v.as_object() : json::object();
  }

  std::unique_ptr<Node> node_;
  http::MetricsRegistry metrics_;
  std::unique_ptr<Api> api_;
  http::Router router_;
  std::unique_ptr<http::RequestHandler> handler_;
  std::map<std::string, std::string> tokens_;     // who → token
  std::map<std::string, std::string> token_ids_;  // token → id
  bool started_ = false;
};

}  // namespace ombud::api::testing
