// Two nodes on one store: a version published through one is loaded by the other, so cases
// started on it can be served by either.
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "adapters/api/api.h"
#include "adapters/http/api_token.h"
#include "adapters/http/json_log.h"
#include "adapters/http/metrics.h"
#include "adapters/http/request_handler.h"
#include "adapters/http/router.h"
#include "adapters/node/node.h"

namespace ombud {
namespace {

std::string source_text(const std::string& path) {
  std::ifstream in(std::string(OMBUD_SOURCE_DIR) + "/" + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// An empty directory of this test process's own.
std::filesystem::path fresh_directory(const std::string& prefix) {
  const auto dir = std::filesystem::temp_directory_path() / (prefix + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::unique_ptr<Node> open_with(const std::string& url, const std::string& workflow_file,
                                const std::string& name, Diagnostics& diags) {
  NodeOptions options;
  options.config_file = std::string(OMBUD_SOURCE_DIR) + "/config/ombud.yaml";
  options.workflow_paths = {workflow_file};
  options.store_url = url;
  options.worker.node = name;
  return Node::open(options, diags);
}

std::unique_ptr<Node> open_node(const std::string& url, const std::string& name) {
  Diagnostics diags;
  auto node =
      open_with(url, std::string(OMBUD_SOURCE_DIR) + "/workflows/complaint.yaml", name, diags);
  for (const auto& d : diags.items()) ADD_FAILURE() << d.to_string();
  return node;
}

TEST(SharedStore, AVersionPublishedOnOneNodeIsLoadedByTheOther) {
  const auto dir = fresh_directory("ombud-shared-");
  const std::string url = "sqlite:" + (dir / "ombud.db").string();
  auto a = open_node(url, "node-a");
  auto b = open_node(url, "node-b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(b->definition("complaint", 1));
  EXPECT_FALSE(b->definition("complaint", 2));

  std::string changed = source_text("workflows/complaint.yaml");
  changed += "\n# a comment is enough for a new version\n";
  Diagnostics diags;
  auto published = a->publish("complaint.yaml", changed, "test", diags);
  ASSERT_TRUE(published) << (diags.items().empty() ? "" : diags.items()[0].to_string());
  ASSERT_EQ(published->definition.version, 2);

  Diagnostics found;
  EXPECT_EQ(b->refresh_definitions(found), 1U);
  EXPECT_TRUE(found.items().empty());
  EXPECT_TRUE(b->definition("complaint", 2));
  EXPECT_EQ(b->refresh_definitions(found), 0U);  // nothing new the second time
  a.reset();
  b.reset();
  std::filesystem::remove_all(dir);
}

// An event for a case on a version another node published a moment ago (before this node's
// periodic look) is answered: the node loads the version when it meets it.
TEST(SharedStore, AnEventForACaseOnAVersionPublishedElsewhereIsAnswered) {
  const auto dir = fresh_directory("ombud-event-v2-");
  const std::string url = "sqlite:" + (dir / "ombud.db").string();
  auto a = open_node(url, "node-a");
  auto b = open_node(url, "node-b");
  ASSERT_TRUE(a && b);
  Diagnostics diags;
  ASSERT_TRUE(a->publish("complaint.yaml", source_text("workflows/complaint.yaml") + "\n# v2\n",
                         "test", diags));
  a->worker().start();
  b->worker().start();
  StartRequest start;
  start.workflow = "complaint";
  start.data = {{"phone", "13900000042"}, {"summary", "broken"}};
  const RuntimeResult started = a->worker().submit(start).get();
  ASSERT_EQ(started.status, RuntimeResult::Status::ok) << started.error;
  ASSERT_EQ(started.instance->version, 2);
  ASSERT_FALSE(b->definition("complaint", 2));

  http::MetricsRegistry metrics;
  api::Api api(*b, metrics, {});
  http::Router router;
  api.add_routes(router);
  http::RequestHandler handler(
      router, metrics,
      http::make_json_logger("test", std::make_shared<spdlog::sinks::null_sink_mt>()));
  const http::NewApiToken token = http::generate_api_token();
  b->store().save_api_token({token.id, token.hash, "admin", "", "test", b->clock().now(), false});
  http::HttpRequest request;
  request.method = "POST";
  request.target = "/v1/instances/" + started.instance->id + "/events";
  request.headers.add("Authorization", "Bearer " + token.token);
  request.headers.add("Content-Type", "application/json");
  request.body = R"({"event":"acknowledge"})";
  const http::HttpResponse answer = handler(request);
  EXPECT_EQ(answer.status, 200) << answer.body;
  EXPECT_TRUE(b->definition("complaint", 2));
  a->worker().stop();
  b->worker().stop();
  a.reset();
  b.reset();
  std::filesystem::remove_all(dir);
}

// The workflow files are published at every start; one holding the content of an earlier version
// is older than what was published since (through the API, or by a node with newer files) and
// must not roll new cases back to it.
TEST(SharedStore, AFileWithAnEarlierVersionsContentDoesNotRollBackALaterPublish) {
  const auto dir = fresh_directory("ombud-rollback-");
  const std::string url = "sqlite:" + (dir / "ombud.db").string();
  const std::string file = (dir / "complaint.yaml").string();
  const std::string original = source_text("workflows/complaint.yaml");
  const auto write_file = [&](const std::string& text) { std::ofstream(file) << text; };
  const auto open_on = [&](Diagnostics& diags) { return open_with(url, file, "node-a", diags); };
  write_file(original);
  {
    Diagnostics diags;
    auto node = open_on(diags);
    ASSERT_TRUE(node);
    EXPECT_TRUE(diags.items().empty());
    Diagnostics published;
    auto v2 =
        node->publish("complaint.yaml", original + "\n# through the API\n", "chen.jing", published);
    ASSERT_TRUE(v2);
    ASSERT_EQ(v2->definition.version, 2);
  }
  {
    Diagnostics diags;
    auto node = open_on(diags);  // the file still holds version 1
    ASSERT_TRUE(node);
    EXPECT_FALSE(node->definition("complaint", 3));
    EXPECT_EQ(node->definition("complaint", 0), node->definition("complaint", 2));
    ASSERT_EQ(diags.items().size(), 1U);
    EXPECT_EQ(diags.items()[0].severity, Severity::warning);
    EXPECT_NE(diags.items()[0].message.find("content of version 1"), std::string::npos)
        << diags.items()[0].message;
    EXPECT_NE(diags.items()[0].message.find("chen.jing"), std::string::npos);
  }
  write_file(original + "\n# edited in the file\n");
  {
    Diagnostics diags;
    auto node = open_on(diags);  // a change of the file's own is published
    ASSERT_TRUE(node);
    EXPECT_TRUE(diags.items().empty());
    EXPECT_EQ(node->definition("complaint", 0), node->definition("complaint", 3));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ombud
