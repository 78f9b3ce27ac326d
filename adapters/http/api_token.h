// API tokens: what a caller presents as `Authorization: Bearer omb_…`.
//
// A token is "omb_" + 43 base64url characters (32 random bytes). Only its SHA-256 is stored, so
// a leaked database or config file does not leak usable tokens; the token itself is shown once,
// when created. A fast hash is right here (unlike for passwords): the token has 256 bits of
// entropy, so there is nothing to brute-force, and lookups stay cheap on every request.
//
// Persistence is a port, TokenRepository: the SQL store implements it later;
// InMemoryTokenRepository serves tests and config-file tokens.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace ombud::http {

inline constexpr std::string_view kApiTokenPrefix = "omb_";

struct NewApiToken {
  std::string token;  // give to the user once; never store or log it
  std::string hash;   // store this: lowercase hex SHA-256 of `token`
  std::string id;     // a public handle for listing and revoking: the hash's first 12 hex digits
};

// Draws 32 bytes from RAND_bytes. Throws std::runtime_error if the generator fails.
NewApiToken generate_api_token();

std::string hash_api_token(std::string_view token);
std::string api_token_id(std::string_view hash);

// Prefix, length and alphabet are right. Cheap rejection of garbage before any lookup, and what
// secret scanners match on.
bool is_well_formed_api_token(std::string_view token);

// The token in an `Authorization: Bearer <token>` header value; nullopt for another scheme or an
// empty token. The scheme name is case-insensitive (RFC 9110 §11.1).
std::optional<std::string_view> bearer_token(std::string_view authorization);

struct ApiTokenRecord {
  std::string id;
  std::string hash;
  std::string role;   // admin, supervisor, agent or hook
  std::string label;  // who or what it was made for, e.g. "twilio production"
  bool revoked = false;
};

// Where token records live. Implementations must be safe to call from several threads.
class TokenRepository {
 public:
  virtual ~TokenRepository() = default;
  // The record whose hash is `hash`, revoked or not; nullopt when there is none.
  virtual std::optional<ApiTokenRecord> find_by_hash(std::string_view hash) const = 0;
  // Adds or replaces the record with `record.hash`.
  virtual void save(const ApiTokenRecord& record) = 0;
  // Marks the record with this id revoked; false when there is none.
  virtual bool revoke(std::string_view id) = 0;
};

class InMemoryTokenRepository final : public TokenRepository {
 public:
  std::optional<ApiTokenRecord> find_by_hash(std::string_view hash) const override;
  void save(const ApiTokenRecord& record) override;
  bool revoke(std::string_view id) override;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, ApiTokenRecord, std::less<>> by_hash_;  // guarded by mutex_
};

enum class TokenCheck { ok, malformed, unknown, revoked };

struct TokenVerification {
  TokenCheck status = TokenCheck::unknown;
  std::optional<ApiTokenRecord> record;  // set when ok
};

// Looks `token` up by its hash. Looking up by hash (not by the token) means the time taken
// reveals nothing useful about the secret; the stored hash is still compared in constant time,
// for repositories that look up by a prefix.
TokenVerification verify_api_token(const TokenRepository& repository, std::string_view token);

}  // namespace ombud::http
