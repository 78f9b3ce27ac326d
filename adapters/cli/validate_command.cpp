// `ombud validate [--strict] [--config FILE] [--format text|json] [PATH...]`
//
// Without paths it checks the config's `workflows:` directory, which `ombud serve` publishes.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>

#include "adapters/cli/commands.h"
#include "adapters/cli/diagnostics_output.h"
#include "adapters/yaml/config_loader.h"
#include "adapters/yaml/workflow_files.h"
#include "engine/definition_check.h"

namespace ombud::cli {

namespace {

struct ValidateOptions {
  std::vector<std::string> paths;
  std::string config;
  std::string format = "text";
  bool strict = false;
};

int run_validate(const ValidateOptions& o) {
  Diagnostics diags;
  std::optional<Config> config;
  std::vector<std::string> files;
  std::vector<std::string> paths = o.paths;
  if (!o.config.empty()) {
    config = yaml::load_config_file(o.config, diags);
    files.push_back(o.config);
    if (config) {
      // Where `ombud serve` looks for the workflows it publishes.
      const auto dir = std::filesystem::path(o.config).parent_path() /
                       std::filesystem::path(config->workflows_dir);
      if (!std::filesystem::is_directory(dir)) {
        diags.error(o.config, {}, "workflows: no directory " + dir.string());
      } else if (paths.empty()) {
        paths.push_back(dir.string());
      }
    }
  }
  if (paths.empty() && o.config.empty()) {
    std::cerr << "ombud validate: give workflow files or directories, or --config (its "
                 "workflows: directory)\n";
    return 2;
  }
  const auto set = yaml::load_workflow_set(paths, config ? &*config : nullptr, o.strict, diags);
  const bool all_exist = std::all_of(paths.begin(), paths.end(), [](const std::string& p) {
    std::error_code ec;
    return std::filesystem::exists(p, ec);
  });
  if (set.files.empty() && !paths.empty() && all_exist) {
    // (A path that does not exist was reported as such already.)
    diags.error(paths.front(), {}, "no workflow files (*.yaml, *.yml) to check here");
  }
  // The webhook routes against the workflows they name: those of the config's directory, or a
  // set of files given together (a lone file's workflows are not all there is).
  if (config && (o.paths.empty() || set.files.size() > 1)) {
    std::vector<std::string> names;
    for (const Definition& def : set.definitions) names.push_back(def.name);
    check_hook_routes(
        *config,
        [&](const std::string& name) -> const Definition* {
          for (const Definition& def : set.definitions) {
            if (def.name == name) return &def;
          }
          return nullptr;
        },
        names, diags);
  }
  files.insert(files.end(), set.files.begin(), set.files.end());
  diags.sort();
  if (o.format == "json") {
    print_json(std::cout, diags, files);
  } else {
    print_text(std::cout, diags);
    std::cout << (diags.has_errors() ? "invalid: " : "valid: ") << set.files.size()
              << (set.files.size() == 1 ? " workflow file, " : " workflow files, ")
              << diags.error_count() << (diags.error_count() == 1 ? " error, " : " errors, ")
              << diags.warning_count() << (diags.warning_count() == 1 ? " warning" : " warnings")
              << '\n';
  }
  return diags.has_errors() ? 1 : 0;
}

}  // namespace

void add_validate_command(CLI::App& app, Runner& run) {
  auto options = std::make_shared<ValidateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "validate", "Check workflow files (and directories of them); exit 0 when valid, 1 when not");
  cmd->add_option("paths", options->paths,
                  "Workflow files or directories (default: the config's workflows directory)");
  cmd->add_flag("--strict", options->strict,
                "Treat warnings (unreachable states, dead ends, unhandled events) as errors");
  cmd->add_option("--config", options->config,
                  "Config file: also check calendars, queues, roles, people and templates");
  cmd->add_option("--format", options->format, "Output format")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->callback([&run, options] { run = [options] { return run_validate(*options); }; });
}

}  // namespace ombud::cli
