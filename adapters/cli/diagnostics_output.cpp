#include "adapters/cli/diagnostics_output.h"

#include <boost/json.hpp>

namespace ombud::cli {

void print_text(std::ostream& out, const Diagnostics& diags) {
  for (const auto& d : diags.items()) out << d.to_string() << '\n';
}

void print_json(std::ostream& out, const Diagnostics& diags,
                const std::vector<std::string>& files) {
  boost::json::array items;
  for (const auto& d : diags.items()) {
    items.push_back({{"file", d.file},
                     {"line", d.pos.line},
                     {"column", d.pos.column},
                     {"severity", d.severity == Severity::error ? "error" : "warning"},
                     {"message", d.message}});
  }
  boost::json::array file_list;
  for (const auto& f : files) file_list.emplace_back(f);
  const boost::json::object doc{{"valid", !diags.has_errors()},
                                {"errors", diags.error_count()},
                                {"warnings", diags.warning_count()},
                                {"files", std::move(file_list)},
                                {"diagnostics", std::move(items)}};
  out << boost::json::serialize(doc) << '\n';
}

}  // namespace ombud::cli
