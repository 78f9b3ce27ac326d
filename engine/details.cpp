#include "engine/details.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cstring>
#include <limits>
#include <stdexcept>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ombud {

namespace {

constexpr char kHex[] = "0123456789abcdef";

bool needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

// The length of the leading run of `s` that needs no escape. History details are mostly plain
// text (names, timestamps, sentences), so this scan is where the time goes: 16 bytes at a time.
std::size_t plain_prefix(std::string_view s) {
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i last_control = _mm_set1_epi8(0x1F);
  for (; i + 16 <= s.size(); i += 16) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    // Bytes below 0x20: unsigned compare, as min(c, 0x1F) == c.
    const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(chunk, last_control), chunk);
    const __m128i special = _mm_or_si128(
        control, _mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)));
    const int mask = _mm_movemask_epi8(special);
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  while (i < s.size() && !needs_escape(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

// Writes `s` as a JSON string through `write(std::string_view)`, escaped as
// boost::json::serialize does: the short escapes it has, \u00xx for other control characters,
// everything else (UTF-8 included) as it is.
template <typename Write>
void escaped(std::string_view s, const Write& write) {
  write("\"");
  while (!s.empty()) {
    const std::size_t plain = plain_prefix(s);
    write(s.substr(0, plain));
    if (plain == s.size()) break;
    const auto c = static_cast<unsigned char>(s[plain]);
    s.remove_prefix(plain + 1);
    switch (c) {
      case '"':
        write("\\\"");
        break;
      case '\\':
        write("\\\\");
        break;
      case '\b':
        write("\\b");
        break;
      case '\f':
        write("\\f");
        break;
      case '\n':
        write("\\n");
        break;
      case '\r':
        write("\\r");
        break;
      case '\t':
        write("\\t");
        break;
      default: {
        const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        write(std::string_view(u, sizeof u));
      }
    }
  }
  write("\"");
}

}  // namespace

Details::Details(const Details& other) { *this = other; }

Details& Details::operator=(const Details& other) {
  if (this == &other) return *this;
  if (other.size_ == 0) {
    size_ = 0;
    return *this;
  }
  if (capacity_ < other.size_) {
    text_ = std::make_unique_for_overwrite<char[]>(other.size_);
    capacity_ = other.size_;
  }
  std::memcpy(text_.get(), other.text_.get(), other.size_);
  size_ = other.size_;
  return *this;
}

Details& Details::operator=(Details&& other) noexcept {
  if (this != &other) {
    text_ = std::move(other.text_);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

void Details::grow(std::size_t n) {
  std::size_t capacity = std::max<std::size_t>({64, std::size_t{capacity_} * 2, size_ + n});
  if (capacity > std::numeric_limits<std::uint32_t>::max()) {
    throw std::length_error("history details are too long");
  }
  auto grown = std::make_unique_for_overwrite<char[]>(capacity);
  if (size_ != 0) std::memcpy(grown.get(), text_.get(), size_);
  text_ = std::move(grown);
  capacity_ = static_cast<std::uint32_t>(capacity);
}

Details Details::from_text(std::string_view text) {
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') {
    throw std::invalid_argument("history details are not a JSON object: " +
                                std::string(text.substr(0, 40)));
  }
  Details d;
  if (text != "{}") d.write(text);
  return d;
}

void Details::open(DetailsKey key) {
  if (size_ == 0) {
    write("{");
  } else {
    text_[size_ - 1] = ',';  // the closing brace
  }
  if (key.plain()) {
    const std::string_view k = key.text();
    char* p = extend(k.size() + 3);
    *p++ = '"';
    std::memcpy(p, k.data(), k.size());
    p[k.size()] = '"';
    p[k.size() + 1] = ':';
  } else {
    write_string(key.text());
    write(":");
  }
}

void Details::write_string(std::string_view s) {
  if (plain_prefix(s) == s.size()) {  // nearly always: the quoted text in one write
    char* p = extend(s.size() + 2);
    *p++ = '"';
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    p[s.size()] = '"';
    return;
  }
  escaped(s, [this](std::string_view part) { write(part); });
}

void Details::put(DetailsKey key, std::string_view value) {
  open(key);
  write_string(value);
  close();
}

void Details::put(DetailsKey key, bool value) {
  open(key);
  write(value ? "true" : "false");
  close();
}

void Details::put_int(DetailsKey key, std::int64_t value) {
  open(key);
  char buf[24];
  write(std::string_view(buf, std::to_chars(buf, buf + sizeof buf, value).ptr));
  close();
}

void Details::put_uint(DetailsKey key, std::uint64_t value) {
  open(key);
  char buf[24];
  write(std::string_view(buf, std::to_chars(buf, buf + sizeof buf, value).ptr));
  close();
}

void Details::put(DetailsKey key, const boost::json::value& value) {
  open(key);
  write_value(value);
  close();
}

void Details::put(DetailsKey key, const boost::json::object& value) {
  open(key);
  write_object(value);
  close();
}

// As boost::json::serialize writes them, without its serializer's set-up and its own string:
// an event's data goes into every event entry. (Parsed JSON is at most 32 levels deep, so the
// recursion is bounded.)
void Details::write_value(const boost::json::value& value) {
  char buf[24];
  switch (value.kind()) {
    case boost::json::kind::null:
      write("null");
      return;
    case boost::json::kind::bool_:
      write(value.get_bool() ? "true" : "false");
      return;
    case boost::json::kind::int64:
      write(std::string_view(buf, std::to_chars(buf, buf + sizeof buf, value.get_int64()).ptr));
      return;
    case boost::json::kind::uint64:
      write(std::string_view(buf, std::to_chars(buf, buf + sizeof buf, value.get_uint64()).ptr));
      return;
    case boost::json::kind::double_:
      write(boost::json::serialize(value));  // its own spelling of doubles
      return;
    case boost::json::kind::string:
      write_string(value.get_string());
      return;
    case boost::json::kind::array: {
      write("[");
      bool first = true;
      for (const auto& item : value.get_array()) {
        if (!first) write(",");
        first = false;
        write_value(item);
      }
      write("]");
      return;
    }
    case boost::json::kind::object:
      write_object(value.get_object());
      return;
  }
}

void Details::write_object(const boost::json::object& object) {
  write("{");
  bool first = true;
  for (const auto& field : object) {
    if (!first) write(",");
    first = false;
    write_string(field.key());
    write(":");
    write_value(field.value());
  }
  write("}");
}

boost::json::object Details::object() const {
  if (size_ == 0) return {};
  return boost::json::parse(text()).as_object();
}

void append_json_string(std::string& out, std::string_view s) {
  escaped(s, [&out](std::string_view part) { out.append(part); });
}

}  // namespace ombud
