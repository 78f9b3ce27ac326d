// Helpers shared by the YAML adapter tests: load text the way `ombud validate` does and return
// the diagnostics as "line:col: severity: message" strings, easy to assert on exactly.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "adapters/yaml/config_loader.h"
#include "adapters/yaml/workflow_loader.h"
#include "engine/definition_check.h"

namespace ombud::testing {

inline std::vector<std::string> lines_of(const Diagnostics& diags, const std::string& file) {
  std::vector<std::string> out;
  for (const auto& d : diags.items()) {
    std::string line = d.to_string();
    if (line.rfind(file + ":", 0) == 0) line = line.substr(file.size() + 1);
    out.push_back(line);
  }
  return out;
}

// Loads and checks a workflow from text; returns every diagnostic, sorted by position.
inline std::vector<std::string> workflow_problems(const std::string& text,
                                                  const Config* config = nullptr,
                                                  bool strict = false) {
  Diagnostics diags;
  const auto def = yaml::load_workflow("wf.yaml", text, diags);
  if (def) {
    CheckOptions options;
    options.config = config;
    options.strict = strict;
    check_definition(*def, diags, options);
  }
  diags.sort();
  return lines_of(diags, "wf.yaml");
}

// A config from YAML text that must load cleanly; a test failure names its first problem.
inline Config config_of(const std::string& text) {
  Diagnostics diags;
  auto config = yaml::load_config("cfg.yaml", text, diags);
  if (!config || diags.has_errors()) {
    ADD_FAILURE() << (diags.items().empty() ? "no config" : diags.items()[0].to_string());
  }
  return config ? std::move(*config) : Config{};
}

inline std::vector<std::string> config_problems(const std::string& text) {
  Diagnostics diags;
  (void)yaml::load_config("cfg.yaml", text, diags);
  diags.sort();
  return lines_of(diags, "cfg.yaml");
}

}  // namespace ombud::testing
