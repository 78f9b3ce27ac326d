#include "engine/diagnostics.h"

#include <algorithm>
#include <tuple>

namespace ombud {

std::string Diagnostic::to_string() const {
  std::string out = file;
  if (pos.line > 0) {
    out += ':' + std::to_string(pos.line) + ':' + std::to_string(pos.column);
  }
  out += severity == Severity::error ? ": error: " : ": warning: ";
  out += message;
  return out;
}

void Diagnostics::error(std::string_view file, SourcePos pos, std::string message) {
  items_.push_back({Severity::error, std::string(file), pos, std::move(message)});
}

void Diagnostics::warning(std::string_view file, SourcePos pos, std::string message) {
  items_.push_back({Severity::warning, std::string(file), pos, std::move(message)});
}

std::size_t Diagnostics::error_count() const {
  return static_cast<std::size_t>(
      std::count_if(items_.begin(), items_.end(),
                    [](const Diagnostic& d) { return d.severity == Severity::error; }));
}

std::size_t Diagnostics::warning_count() const { return items_.size() - error_count(); }

void Diagnostics::sort() {
  std::stable_sort(items_.begin(), items_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.file, a.pos.line, a.pos.column) < std::tie(b.file, b.pos.line, b.pos.column);
  });
  // The same message at the same place once: text under a YAML anchor is checked again at
  // each alias, and its mistake would be reported once per use.
  const auto same_place = [](const Diagnostic& a, const Diagnostic& b) {
    return a.file == b.file && a.pos.line == b.pos.line && a.pos.column == b.pos.column;
  };
  std::vector<Diagnostic> kept;
  kept.reserve(items_.size());
  for (auto& d : items_) {
    // The same place sorts together, but other messages there may come between two copies.
    bool seen = false;
    for (auto k = kept.rbegin(); k != kept.rend() && same_place(*k, d) && !seen; ++k) {
      seen = k->severity == d.severity && k->message == d.message;
    }
    if (!seen) kept.push_back(std::move(d));
  }
  items_ = std::move(kept);
}

namespace {

// Optimal string alignment distance: insertions, deletions, substitutions and transpositions of
// neighbours each cost one, so "scroe" is one edit from "score".
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::string closest_match(std::string_view name, const std::vector<std::string>& candidates) {
  // A typo is at most a third of the word (and at least one edit) away.
  const std::size_t limit = std::max<std::size_t>(1, name.size() / 3);
  std::string best;
  std::size_t best_distance = limit + 1;
  for (const auto& candidate : candidates) {
    const std::size_t d = edit_distance(name, candidate);
    if (d < best_distance && candidate != name) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates) {
  const std::string match = closest_match(name, candidates);
  return match.empty() ? std::string() : " (did you mean '" + match + "'?)";
}

}  // namespace ombud
