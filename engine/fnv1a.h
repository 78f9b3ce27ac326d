// FNV-1a 64: a hash that is the same in every process and every build (std::hash is not promised
// to be), for values other processes or later builds compare: lock keys, request digests.
#pragma once

#include <cstdint>
#include <string_view>

namespace ombud {

class Fnv1a {
 public:
  static constexpr std::uint64_t kOffsetBasis = 14695981039346656037ULL;

  explicit constexpr Fnv1a(std::uint64_t basis = kOffsetBasis) : h_(basis) {}

  void mix(std::string_view text) {
    for (const unsigned char c : text) {
      h_ ^= c;
      h_ *= 1099511628211ULL;
    }
  }
  std::uint64_t value() const { return h_; }

 private:
  std::uint64_t h_;
};

}  // namespace ombud
