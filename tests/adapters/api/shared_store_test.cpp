// Two nodes on one store: a version published through one is loaded by the other, so cases
// started on it can be served by either.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "adapters/node/node.h"

namespace ombud {
namespace {

std::string source_text(const std::string& path) {
  std::ifstream in(std::string(OMBUD_SOURCE_DIR) + "/" + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::unique_ptr<Node> open_node(const std::string& url, const std::string& name) {
  NodeOptions options;
  options.config_file = std::string(OMBUD_SOURCE_DIR) + "/config/ombud.yaml";
  options.workflow_paths = {std::string(OMBUD_SOURCE_DIR) + "/workflows/complaint.yaml"};
  options.store_url = url;
  options.worker.node = name;
  Diagnostics diags;
  auto node = Node::open(options, diags);
  for (const auto& d : diags.items()) ADD_FAILURE() << d.to_string();
  return node;
}

TEST(SharedStore, AVersionPublishedOnOneNodeIsLoadedByTheOther) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("ombud-shared-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
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

}  // namespace
}  // namespace ombud
