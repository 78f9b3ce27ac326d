#include "adapters/cli/store_choice.h"

#include "adapters/yaml/config_loader.h"
#include "engine/config.h"
#include "engine/diagnostics.h"

namespace ombud::cli {

std::string chosen_store(const std::string& store_flag, const std::string& config_file) {
  if (!store_flag.empty()) return store_flag;
  if (!config_file.empty()) {
    Diagnostics reported_later;
    if (auto config = yaml::load_config_file(config_file, reported_later)) return config->store;
  }
  return Config{}.store;
}

}  // namespace ombud::cli
