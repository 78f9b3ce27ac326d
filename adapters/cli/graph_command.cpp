// `ombud graph FILE [--format mermaid|dot] [--config FILE]`
#include <iostream>
#include <memory>

#include "adapters/cli/commands.h"
#include "adapters/cli/diagnostics_output.h"
#include "adapters/yaml/config_loader.h"
#include "adapters/yaml/workflow_files.h"
#include "engine/graph.h"

namespace ombud::cli {

namespace {

struct GraphOptions {
  std::string file;
  std::string format = "mermaid";
  std::string config;
};

int run_graph(const GraphOptions& o) {
  Diagnostics diags;
  std::optional<Config> config;
  if (!o.config.empty()) config = yaml::load_config_file(o.config, diags);
  const auto set = yaml::load_workflow_set({o.file}, config ? &*config : nullptr, false, diags);
  if (diags.has_errors() || set.definitions.empty()) {
    diags.sort();
    print_text(std::cerr, diags);
    return 1;
  }
  const Definition& def = set.definitions.front();
  std::cout << (o.format == "dot" ? to_dot(def) : to_mermaid(def));
  return 0;
}

}  // namespace

void add_graph_command(CLI::App& app, Runner& run) {
  auto options = std::make_shared<GraphOptions>();
  CLI::App* cmd = app.add_subcommand(
      "graph", "Draw a workflow's states and transitions as a Mermaid or Graphviz diagram");
  cmd->add_option("file", options->file, "Workflow file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--format", options->format, "Diagram language")
      ->check(CLI::IsMember({"mermaid", "dot"}));
  cmd->add_option("--config", options->config, "Config file, to check references as well");
  cmd->callback([&run, options] { run = [options] { return run_graph(*options); }; });
}

}  // namespace ombud::cli
