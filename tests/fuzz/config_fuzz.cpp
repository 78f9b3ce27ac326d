// Fuzzes the config loader: any bytes in, diagnostics out, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "adapters/yaml/config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  ombud::Diagnostics diags;
  (void)ombud::yaml::load_config("fuzz.yaml", text, diags);
  return 0;
}
