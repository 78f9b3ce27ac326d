#include "engine/interned_name.h"

#include <functional>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace ombud {

namespace {

struct TextHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Where each text is: its number. Deliberately leaked, so that names can still be created while
// static objects are destroyed.
struct NameIndex {
  std::mutex mutex;
  std::unordered_map<std::string, std::uint32_t, TextHash, std::equal_to<>> numbers;
  std::uint32_t next = 1;  // 0 is the empty name
};

NameIndex& name_index() {
  static NameIndex* const index = new NameIndex();
  return *index;
}

}  // namespace

constinit std::string* InternedName::chunks_[InternedName::kMaxChunks] = {};
const std::string InternedName::kEmpty;

InternedName::InternedName(std::string_view text) {
  if (text.empty()) return;
  NameIndex& index = name_index();
  const std::lock_guard<std::mutex> lock(index.mutex);
  auto it = index.numbers.find(text);
  if (it != index.numbers.end()) {
    id_ = it->second;
    return;
  }
  const std::uint32_t id = index.next;
  if (id >> kChunkBits >= kMaxChunks) throw std::length_error("too many distinct names");
  std::string*& chunk = chunks_[id >> kChunkBits];
  if (chunk == nullptr) chunk = new std::string[kChunkSize];
  // The text is in place before the number leaves this function; readers reach it only through
  // a name they were given, so they see it.
  chunk[id & (kChunkSize - 1)] = std::string(text);
  index.numbers.emplace(std::string(text), id);
  index.next = id + 1;
  id_ = id;
}

}  // namespace ombud
