#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ombud {

// A name as instances keep it (a state, a workflow, an SLA, a queue, a key of `data`): the
// number of one copy of the text shared by the whole process. Every instance repeats the same few
// names, and idle instances are most of the engine's memory, so a name takes 4 bytes instead of
// a std::string (32 bytes, plus a heap block for a name longer than 15 characters), and copying
// one allocates nothing. The table only grows: it holds the names of the loaded workflows and
// their data fields (and those of stored instances), which are few. Creating a name from text
// looks it up under a mutex, so any thread may do it; reading one indexes the table without a
// lock: the text is in place before its number is handed out, and never moves.
class InternedName {
 public:
  InternedName() noexcept = default;
  InternedName(std::string_view text);  // NOLINT(google-explicit-constructor): a string is a name
  InternedName(const std::string& text) : InternedName(std::string_view(text)) {}  // NOLINT
  InternedName(const char* text) : InternedName(std::string_view(text)) {}         // NOLINT

  const std::string& str() const noexcept {
    return id_ == 0 ? kEmpty : chunks_[id_ >> kChunkBits][id_ & (kChunkSize - 1)];
  }
  const char* c_str() const noexcept { return str().c_str(); }
  operator const std::string&() const noexcept { return str(); }  // NOLINT
  operator std::string_view() const noexcept { return str(); }    // NOLINT
  bool empty() const noexcept { return id_ == 0; }
  std::size_t size() const noexcept { return str().size(); }
  void clear() noexcept { id_ = 0; }

  friend std::string operator+(std::string_view a, const InternedName& b) {
    std::string out;
    out.reserve(a.size() + b.size());
    return out.append(a).append(b.str());
  }
  friend std::string operator+(const InternedName& a, std::string_view b) {
    std::string out;
    out.reserve(a.size() + b.size());
    return out.append(a.str()).append(b);
  }
  friend std::string operator+(const std::string& a, const InternedName& b) {
    return std::string_view(a) + b;
  }
  friend std::string operator+(const InternedName& a, const std::string& b) {
    return a + std::string_view(b);
  }
  friend std::string operator+(const char* a, const InternedName& b) {
    return std::string_view(a) + b;
  }
  friend std::string operator+(const InternedName& a, const char* b) {
    return a + std::string_view(b);
  }

  // Equal texts share one copy, so names compare by number.
  friend bool operator==(const InternedName& a, const InternedName& b) noexcept {
    return a.id_ == b.id_;
  }
  friend bool operator==(const InternedName& a, const std::string& b) noexcept {
    return a.str() == b;
  }
  friend bool operator==(const InternedName& a, std::string_view b) noexcept {
    return a.str() == b;
  }
  friend bool operator==(const InternedName& a, const char* b) noexcept { return a.str() == b; }

 private:
  // The table: chunks of texts, allocated as names are added and never moved or freed. Number 0
  // is the empty name, which needs no look-up.
  static constexpr unsigned kChunkBits = 10;
  static constexpr std::uint32_t kChunkSize = 1U << kChunkBits;
  static constexpr std::uint32_t kMaxChunks = 1U << 16;  // 64M names
  static std::string* chunks_[kMaxChunks];
  static const std::string kEmpty;

  std::uint32_t id_ = 0;
};

static_assert(sizeof(InternedName) == 4);

}  // namespace ombud
