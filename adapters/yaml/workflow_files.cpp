#include "adapters/yaml/workflow_files.h"

#include <algorithm>
#include <filesystem>

#include "adapters/yaml/workflow_loader.h"
#include "engine/definition_check.h"

namespace ombud::yaml {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> expand(const std::vector<std::string>& paths, Diagnostics& diags) {
  std::vector<std::string> files;
  for (const auto& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::directory_iterator(path, ec)) {
        const auto ext = entry.path().extension();
        if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) {
          found.push_back(entry.path().string());
        }
      }
      if (ec) diags.error(path, {}, "cannot list directory: " + ec.message());
      std::sort(found.begin(), found.end());
      if (found.empty() && !ec)
        diags.warning(path, {}, "no *.yaml or *.yml files in this directory");
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(path, ec)) {
      files.push_back(path);
    } else {
      diags.error(path, {}, "no such file or directory");
    }
  }
  return files;
}

}  // namespace

WorkflowSet load_workflow_set(const std::vector<std::string>& paths, const Config* config,
                              bool strict, Diagnostics& diags, Severity absent_people) {
  WorkflowSet set;
  set.files = expand(paths, diags);
  for (const auto& file : set.files) {
    if (auto def = load_workflow_file(file, diags)) set.definitions.push_back(std::move(*def));
  }
  std::vector<std::string> names;
  for (const auto& def : set.definitions) {
    if (def.name.empty()) continue;
    const auto previous = std::find_if(set.definitions.begin(), set.definitions.end(),
                                       [&](const Definition& d) { return d.name == def.name; });
    if (&*previous != &def) {
      diags.error(def.file, def.pos,
                  "workflow '" + def.name + "' is already defined in " + previous->file);
    }
    names.push_back(def.name);
  }
  CheckOptions options;
  options.config = config;
  options.strict = strict;
  options.absent_people = absent_people;
  // `start:` references are checked when a set of files is validated together; a lone file may
  // well start a workflow that lives elsewhere.
  if (set.files.size() > 1) {
    options.workflows = &names;
    options.find_workflow = [&set](const std::string& name) -> const Definition* {
      for (const Definition& d : set.definitions) {
        if (d.name == name) return &d;
      }
      return nullptr;
    };
  }
  for (const auto& def : set.definitions) check_definition(def, diags, options);
  return set;
}

}  // namespace ombud::yaml
