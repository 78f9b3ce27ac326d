// The few cryptographic primitives the adapter needs, over OpenSSL, on byte strings. Digests
// and MACs return raw bytes; hex and Base64 are separate so each scheme states its encoding.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ombud::http {

std::string sha256(std::string_view data);                             // 32 bytes
std::string hmac_sha256(std::string_view key, std::string_view data);  // 32 bytes
std::string hmac_sha1(std::string_view key, std::string_view data);    // 20 bytes

// `count` bytes from OpenSSL's CSPRNG. Throws std::runtime_error if it cannot deliver (it
// cannot be seeded), because a guessable secret must never be handed out.
std::string random_bytes(std::size_t count);

// Compares in time that depends only on the lengths, never on where the bytes differ
// (CRYPTO_memcmp). Unequal lengths return false at once: callers compare fixed-size digests, so
// the length is not a secret.
bool constant_time_equal(std::string_view a, std::string_view b);

std::string to_hex(std::string_view bytes);  // lowercase
// Accepts either case; nullopt for an odd length or a non-hex character.
std::optional<std::string> from_hex(std::string_view hex);
std::string base64_encode(std::string_view bytes);  // standard alphabet, padded (RFC 4648 §4)
// URL- and filename-safe alphabet without padding (RFC 4648 §5), for tokens.
std::string base64url_encode(std::string_view bytes);

}  // namespace ombud::http
