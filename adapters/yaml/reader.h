// Typed reads from a yaml::Node with diagnostics: the shared vocabulary of the workflow and
// config loaders. Every read that fails reports `file:line:col: message` at the offending node
// and returns an empty result, so a loader can carry on and report every problem in one run.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/yaml/yaml_tree.h"
#include "engine/definition.h"
#include "engine/diagnostics.h"

namespace ombud::yaml {

class Reader {
 public:
  Reader(const Document& doc, Diagnostics& diags) : doc_(doc), diags_(diags) {}

  const Document& document() const { return doc_; }
  void error(const Node& at, std::string message) {
    diags_.error(doc_.file, at.pos, std::move(message));
  }
  void error(SourcePos at, std::string message) { diags_.error(doc_.file, at, std::move(message)); }

  // True for a map; otherwise reports "<what> must be a map, got a list".
  bool expect_map(const Node& node, std::string_view what);
  bool expect_sequence(const Node& node, std::string_view what);

  // Reports every key of `map` that is not in `allowed`: "unknown key 'tagret' in transition
  // (did you mean 'target'?)".
  void check_keys(const Node& map, std::span<const std::string_view> allowed,
                  std::string_view what);

  // The value under `key`, reporting "<what> is missing required key 'key'" at the map when absent.
  const Node* require(const Node& map, std::string_view key, std::string_view what);

  std::optional<std::string> string(const Node& node, std::string_view what);
  std::optional<std::int64_t> integer(const Node& node, std::string_view what);
  std::optional<double> number(const Node& node, std::string_view what);
  std::optional<bool> boolean(const Node& node, std::string_view what);
  std::optional<Duration> duration(const Node& node, std::string_view what);

  // A name matching [a-z][a-z0-9_]* (states, events, workflows, queues, ...).
  std::optional<std::string> name(const Node& node, std::string_view what);

  // A list of strings; `positions` (if given) receives each item's position.
  std::vector<std::string> string_list(const Node& node, std::string_view what,
                                       std::vector<SourcePos>* positions = nullptr);

  // An expression: `${ ... }`, or (when `bare` is true, as for guards and keys) the text as is.
  // Syntax errors are reported at their exact column inside the expression, and the Expr is
  // returned without a tree (so that callers still know an expression was written there).
  std::optional<Expr> expression(const Node& node, bool bare, std::string_view what);

  // A literal (plain scalars become null/bool/int/double/string by their spelling; quoted ones
  // stay strings), an expression (`${ ... }`), or a map/list of those.
  std::optional<ValueSpec> value(const Node& node);

  // A plain scalar as JSON (null, true/false, integer, number, else string).
  static boost::json::value scalar_to_json(const Node& node);

  // True when a scalar is written as an expression: `${ ... }`.
  static bool is_expression(const Node& node);

 private:
  const Document& doc_;
  Diagnostics& diags_;
};

}  // namespace ombud::yaml
