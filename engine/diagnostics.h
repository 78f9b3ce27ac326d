// Diagnostics: what the loader and the checker tell an admin about a workflow or config file.
//
// Every problem carries the file and a 1-based line:column at the node that is wrong, so an
// editor can jump straight to it. Checks collect all problems in one pass instead of stopping
// at the first; callers decide whether warnings count as errors (`--strict`).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ombud {

// A place in a source file. Lines and columns are 1-based; 0 means "unknown".
struct SourcePos {
  int line = 0;
  int column = 0;

  friend bool operator==(const SourcePos&, const SourcePos&) = default;
};

enum class Severity { error, warning };

struct Diagnostic {
  Severity severity = Severity::error;
  std::string file;
  SourcePos pos;
  std::string message;

  // "file:line:col: error: message" (the form compilers use, so editors and CI pick it up).
  std::string to_string() const;
};

// An append-only list of diagnostics for one or more files.
class Diagnostics {
 public:
  void error(std::string_view file, SourcePos pos, std::string message);
  void warning(std::string_view file, SourcePos pos, std::string message);
  void add(Diagnostic d) { items_.push_back(std::move(d)); }

  const std::vector<Diagnostic>& items() const { return items_; }
  std::size_t error_count() const;
  std::size_t warning_count() const;
  bool has_errors() const { return error_count() > 0; }

  // Sorts by file, line, column (stable, so same-place messages keep their order).
  void sort();

 private:
  std::vector<Diagnostic> items_;
};

// The closest candidate to `name` by edit distance, or "" when nothing is close enough to be a
// plausible typo. Used for "did you mean" hints.
std::string closest_match(std::string_view name, const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" or "".
std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace ombud
