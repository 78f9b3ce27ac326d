#pragma once

#include <string>
#include <string_view>

namespace ombud {

// A name as instances keep it (a state, a workflow, an SLA, a queue, a key of `data`): a pointer
// to one copy of the text shared by the whole process. Every instance repeats the same few
// names, and idle instances are most of the engine's memory, so a name takes 8 bytes instead of
// a std::string (32 bytes, plus a heap block for a name longer than 15 characters), and copying
// one allocates nothing. The table only grows: it holds the names of the loaded workflows and
// their data fields (and those of stored instances), which are few. Creating a name from text
// looks it up under a mutex, so any thread may do it; reading one is a plain pointer
// dereference.
class InternedName {
 public:
  InternedName() noexcept : text_(&kEmpty) {}
  InternedName(std::string_view text);  // NOLINT(google-explicit-constructor): a string is a name
  InternedName(const std::string& text) : InternedName(std::string_view(text)) {}  // NOLINT
  InternedName(const char* text) : InternedName(std::string_view(text)) {}         // NOLINT

  const std::string& str() const noexcept { return *text_; }
  const char* c_str() const noexcept { return text_->c_str(); }
  operator const std::string&() const noexcept { return *text_; }  // NOLINT
  operator std::string_view() const noexcept { return *text_; }    // NOLINT
  bool empty() const noexcept { return text_->empty(); }
  std::size_t size() const noexcept { return text_->size(); }
  void clear() noexcept { text_ = &kEmpty; }

  friend std::string operator+(std::string_view a, const InternedName& b) {
    std::string out;
    out.reserve(a.size() + b.size());
    return out.append(a).append(*b.text_);
  }
  friend std::string operator+(const InternedName& a, std::string_view b) {
    std::string out;
    out.reserve(a.size() + b.size());
    return out.append(*a.text_).append(b);
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

  // Equal texts share one copy, so names compare by address.
  friend bool operator==(const InternedName& a, const InternedName& b) noexcept {
    return a.text_ == b.text_;
  }
  friend bool operator==(const InternedName& a, const std::string& b) noexcept {
    return *a.text_ == b;
  }
  friend bool operator==(const InternedName& a, std::string_view b) noexcept {
    return *a.text_ == b;
  }
  friend bool operator==(const InternedName& a, const char* b) noexcept { return *a.text_ == b; }

 private:
  static const std::string kEmpty;  // the empty name, without a look-up

  const std::string* text_;
};

}  // namespace ombud
