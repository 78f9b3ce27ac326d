#include "adapters/http/request_id.h"

#include <algorithm>
#include <random>

namespace ombud::http {

std::string generate_request_id() {
  // Ids are not secrets: a per-thread PRNG seeded once is enough, and avoids a syscall or a lock
  // per request.
  thread_local std::mt19937_64 engine{std::random_device{}()};
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int half = 0; half < 2; ++half) {
    std::uint64_t bits = engine();
    for (int i = 0; i < 16; ++i, bits >>= 4) id[half * 16 + i] = kDigits[bits & 0xF];
  }
  return id;
}

std::optional<std::string_view> accept_request_id(std::string_view presented) {
  const auto sane = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
  };
  if (presented.empty() || presented.size() > 128) return std::nullopt;
  if (!std::all_of(presented.begin(), presented.end(), sane)) return std::nullopt;
  return presented;
}

}  // namespace ombud::http
