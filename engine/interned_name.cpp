#include "engine/interned_name.h"

#include <functional>
#include <mutex>
#include <unordered_set>

namespace ombud {

namespace {

struct TextHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// The process-wide table behind InternedName. Its nodes never move, so the pointers handed out
// stay valid; it is never shrunk, and is deliberately leaked so that names stay usable while
// static objects are destroyed.
struct NameTable {
  std::mutex mutex;
  std::unordered_set<std::string, TextHash, std::equal_to<>> names;
};

NameTable& name_table() {
  static NameTable* const table = new NameTable();
  return *table;
}

}  // namespace

const std::string InternedName::kEmpty;

InternedName::InternedName(std::string_view text) {
  if (text.empty()) {
    text_ = &kEmpty;
    return;
  }
  NameTable& table = name_table();
  const std::lock_guard<std::mutex> lock(table.mutex);
  auto it = table.names.find(text);
  if (it == table.names.end()) it = table.names.emplace(text).first;
  text_ = &*it;
}

}  // namespace ombud
