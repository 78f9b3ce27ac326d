#include "adapters/cli/store_choice.h"

#include <filesystem>

#include "adapters/cli/diagnostics_output.h"
#include "adapters/sql/store_url.h"
#include "adapters/yaml/config_loader.h"
#include "engine/config.h"

namespace ombud::cli {

std::string chosen_config(const std::string& config_flag) {
  if (!config_flag.empty()) return config_flag;
  constexpr const char* kDefault = "config/ombud.yaml";
  return std::filesystem::exists(kDefault) ? kDefault : "";
}

std::optional<std::string> chosen_store(const std::string& store_flag,
                                        const std::string& config_file, std::ostream& errors) {
  if (!store_flag.empty()) return store_flag;
  if (config_file.empty()) return Config{}.store;
  Diagnostics diags;
  auto config = yaml::load_config_file(config_file, diags);
  if (config && !diags.has_errors()) return config->store;
  diags.sort();
  print_text(errors, diags);
  return std::nullopt;
}

std::string missing_sqlite_store(const std::string& store_url) {
  const auto url = sql::parse_store_url(store_url, nullptr);
  if (!url || url->dialect != sql::Dialect::sqlite || url->sqlite_path == ":memory:") return "";
  return std::filesystem::exists(url->sqlite_path) ? "" : url->sqlite_path;
}

}  // namespace ombud::cli
