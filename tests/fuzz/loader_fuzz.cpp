// Fuzzes the workflow loader and the definition checker: any bytes in, diagnostics out, never a
// crash, hang, leak or undefined behaviour.
#include <cstddef>
#include <cstdint>
#include <string>

#include "adapters/yaml/workflow_loader.h"
#include "engine/definition_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  ombud::Diagnostics diags;
  const auto def = ombud::yaml::load_workflow("fuzz.yaml", text, diags);
  if (def) {
    ombud::CheckOptions options;
    options.strict = (size % 2) == 0;
    ombud::check_definition(*def, diags, options);
  }
  for (const auto& d : diags.items()) (void)d.to_string();
  return 0;
}
