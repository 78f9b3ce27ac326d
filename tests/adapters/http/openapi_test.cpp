// docs/openapi.json: the contract of issue 5. This checks the document itself: it parses, every
// `{param}` of a path is declared, every $ref resolves, and every route the issue lists is there.
// tests/adapters/api/api_openapi_test.cpp compares it with the API's Router::routes() both ways.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <regex>
#include <sstream>

namespace {

boost::json::value load_document() {
  std::ifstream in(std::string(OMBUD_SOURCE_DIR) + "/docs/openapi.json");
  std::stringstream text;
  text << in.rdbuf();
  return boost::json::parse(text.str());
}

// The JSON Pointer target of a local $ref ("#/components/schemas/Error"), or nullptr.
const boost::json::value* resolve(const boost::json::value& doc, std::string_view ref) {
  if (!ref.starts_with("#")) return nullptr;
  boost::system::error_code ec;
  return doc.find_pointer(ref.substr(1), ec);
}

void collect_refs(const boost::json::value& v, std::vector<std::string>& refs) {
  if (v.is_object()) {
    for (const auto& member : v.as_object()) {
      if (member.key() == "$ref" && member.value().is_string()) {
        refs.emplace_back(member.value().as_string());
      } else {
        collect_refs(member.value(), refs);
      }
    }
  } else if (v.is_array()) {
    for (const auto& item : v.as_array()) collect_refs(item, refs);
  }
}

TEST(OpenApi, IsVersion31WithBearerAuthAndTheErrorSchema) {
  const auto doc = load_document();
  EXPECT_TRUE(doc.at("openapi").as_string().starts_with("3.1"));
  EXPECT_EQ(doc.at_pointer("/components/securitySchemes/bearer/scheme").as_string(), "bearer");
  const auto& error = doc.at_pointer("/components/schemas/Error/properties/error");
  EXPECT_EQ(error.at("required"), boost::json::parse(R"(["code","message"])"));
  EXPECT_TRUE(error.at("properties").as_object().contains("field"));
}

TEST(OpenApi, HasEveryRouteOfIssue5) {
  const auto doc = load_document();
  const auto& paths = doc.at("paths").as_object();
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"/v1/instances", "post"},
      {"/v1/instances", "get"},
      {"/v1/instances/{id}", "get"},
      {"/v1/instances/{id}/history", "get"},
      {"/v1/instances/{id}/events", "post"},
      {"/v1/events", "post"},
      {"/v1/workflows", "get"},
      {"/v1/workflows/{name}", "get"},
      {"/v1/workflows/{name}", "put"},
      {"/v1/workflows/{name}/graph", "get"},
      {"/v1/directory", "get"},
      {"/v1/instances/{id}/assign", "post"},
      {"/v1/inbox", "get"},
      {"/v1/inbox/{id}/replay", "post"},
      {"/hooks/{source}", "post"},
      {"/metrics", "get"},
      {"/healthz", "get"},
      {"/readyz", "get"},
      {"/openapi.json", "get"}};
  for (const auto& [path, method] : expected) {
    ASSERT_TRUE(paths.contains(path)) << path;
    EXPECT_TRUE(paths.at(path).as_object().contains(method)) << method << " " << path;
  }
}

TEST(OpenApi, DeclaresEveryPathParameter) {
  const auto doc = load_document();
  const std::regex param(R"(\{([a-z_]+)\})");
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    const std::string p(path);
    for (auto it = std::sregex_iterator(p.begin(), p.end(), param); it != std::sregex_iterator();
         ++it) {
      const std::string name = (*it)[1];
      bool declared = false;
      if (const auto* params = item.as_object().if_contains("parameters")) {
        for (const auto& declared_param : params->as_array()) {
          declared |=
              declared_param.at("in") == "path" && declared_param.at("name").as_string() == name;
        }
      }
      EXPECT_TRUE(declared) << path << " does not declare {" << name << "}";
    }
  }
}

TEST(OpenApi, EveryRefResolves) {
  const auto doc = load_document();
  std::vector<std::string> refs;
  collect_refs(doc, refs);
  EXPECT_GT(refs.size(), 20U);
  for (const auto& ref : refs) EXPECT_NE(resolve(doc, ref), nullptr) << ref;
}

}  // namespace
