// The details of a history entry: a JSON object, kept as its text.
//
// Every step writes several history entries. Nearly all are stored and never read field by
// field, and a boost::json::object costs a heap block per key on top of its table, so the engine
// writes the object straight to text as it builds it: one string, in the order the fields were
// added, the same text boost::json::serialize gives the object. It is parsed only where a field
// is read (the API's metrics, documents that embed it).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace ombud {

// A field's name. The engine's own names are string literals, checked when the code compiles to
// need no escape, and written as they are; other names (data fields) are escaped.
class DetailsKey {
 public:
  template <std::size_t N>
  consteval DetailsKey(const char (&literal)[N])  // NOLINT(google-explicit-constructor)
      : text_(literal, N - 1), plain_(true) {
    for (char c : text_) {
      if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\') {
        throw "a literal details key must need no escape";  // stops the compilation
      }
    }
  }
  DetailsKey(std::string_view text) : text_(text) {}    // NOLINT(google-explicit-constructor)
  DetailsKey(const std::string& text) : text_(text) {}  // NOLINT(google-explicit-constructor)

  std::string_view text() const noexcept { return text_; }
  bool plain() const noexcept { return plain_; }

 private:
  std::string_view text_;
  bool plain_ = false;
};

class Details {
 public:
  Details() noexcept = default;  // no fields
  Details(const Details& other);
  Details& operator=(const Details& other);
  Details(Details&& other) noexcept
      : text_(std::move(other.text_)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  Details& operator=(Details&& other) noexcept;
  ~Details() = default;

  // Text written by text() and read back from a store. Throws std::invalid_argument unless it
  // is a JSON object's text (checked by its braces only: the store wrote it).
  static Details from_text(std::string_view text);

  // Adds a field: a string (std::string_view, std::string, const char*), a bool, an integer, a
  // double, or any JSON value. A temporary stays one: Details().add(..).add(..) moves its text.
  template <typename V>
  Details& add(DetailsKey key, const V& value) & {
    put(key, value);
    return *this;
  }
  template <typename V>
  Details&& add(DetailsKey key, const V& value) && {
    put(key, value);
    return std::move(*this);
  }

  bool empty() const noexcept { return size_ == 0; }
  // The object as JSON text: "{}" without fields.
  std::string_view text() const noexcept {
    return size_ == 0 ? std::string_view("{}") : std::string_view(text_.get(), size_);
  }
  boost::json::object object() const;

  friend bool operator==(const Details& a, const Details& b) noexcept {
    return a.text() == b.text();
  }

 private:
  void put(DetailsKey key, std::string_view value);
  void put(DetailsKey key, const std::string& value) { put(key, std::string_view(value)); }
  void put(DetailsKey key, const char* value) { put(key, std::string_view(value)); }
  void put(DetailsKey key, bool value);
  void put(DetailsKey key, double value) { put(key, boost::json::value(value)); }
  template <std::integral T>
  requires(!std::same_as<T, bool>) void put(DetailsKey key, T value) {
    if constexpr (std::is_signed_v<T>) {
      put_int(key, static_cast<std::int64_t>(value));
    } else {
      put_uint(key, static_cast<std::uint64_t>(value));
    }
  }
  void put(DetailsKey key, const boost::json::value& value);
  void put(DetailsKey key, const boost::json::object& value);
  void put_int(DetailsKey key, std::int64_t value);
  void put_uint(DetailsKey key, std::uint64_t value);
  // Opens the next field ("{" or ",", then the quoted key and ":"); the caller writes the value
  // and close() ends the object.
  void open(DetailsKey key);
  void close() { *extend(1) = '}'; }

  // The text is written straight into a buffer of its own, which grows by doubling: a field
  // is a few small writes, and each checks for room inline. Returns where the next `n`
  // characters go, counting them as written.
  char* extend(std::size_t n) {
    if (capacity_ - size_ < n) grow(n);
    char* at = text_.get() + size_;
    size_ += static_cast<std::uint32_t>(n);
    return at;
  }
  void grow(std::size_t n);
  void write(std::string_view s) {
    if (!s.empty()) std::memcpy(extend(s.size()), s.data(), s.size());
  }
  void write_string(std::string_view s);  // quoted and escaped
  void write_value(const boost::json::value& value);
  void write_object(const boost::json::object& object);

  std::unique_ptr<char[]> text_;  // empty, or a whole object
  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = 0;
};

// Appends `s` to `out` as a JSON string, quotes included, escaped as boost::json::serialize does.
void append_json_string(std::string& out, std::string_view s);

}  // namespace ombud
