#include "adapters/http/api_token.h"

#include <algorithm>

#include "adapters/http/crypto.h"
#include "adapters/http/http_message.h"

namespace ombud::http {
namespace {

constexpr std::size_t kTokenBytes = 32;
constexpr std::size_t kEncodedLength = 43;  // ceil(32 * 4 / 3), unpadded

bool is_base64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

NewApiToken generate_api_token() {
  NewApiToken result;
  result.token = std::string(kApiTokenPrefix) + base64url_encode(random_bytes(kTokenBytes));
  result.hash = hash_api_token(result.token);
  result.id = api_token_id(result.hash);
  return result;
}

std::string hash_api_token(std::string_view token) { return to_hex(sha256(token)); }

std::string api_token_id(std::string_view hash) { return std::string(hash.substr(0, 12)); }

bool is_well_formed_api_token(std::string_view token) {
  if (token.size() != kApiTokenPrefix.size() + kEncodedLength) return false;
  if (token.substr(0, kApiTokenPrefix.size()) != kApiTokenPrefix) return false;
  const auto body = token.substr(kApiTokenPrefix.size());
  return std::all_of(body.begin(), body.end(), is_base64url);
}

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "Bearer";
  if (authorization.size() <= kScheme.size() + 1 ||
      !iequals(authorization.substr(0, kScheme.size()), kScheme) ||
      authorization[kScheme.size()] != ' ') {
    return std::nullopt;
  }
  std::string_view token = authorization.substr(kScheme.size() + 1);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

std::optional<ApiTokenRecord> InMemoryTokenRepository::find_by_hash(std::string_view hash) const {
  const std::lock_guard lock(mutex_);
  const auto it = by_hash_.find(hash);
  if (it == by_hash_.end()) return std::nullopt;
  return it->second;
}

void InMemoryTokenRepository::save(const ApiTokenRecord& record) {
  const std::lock_guard lock(mutex_);
  by_hash_.insert_or_assign(record.hash, record);
}

bool InMemoryTokenRepository::revoke(std::string_view id) {
  const std::lock_guard lock(mutex_);
  for (auto& [hash, record] : by_hash_) {
    if (record.id == id) {
      record.revoked = true;
      return true;
    }
  }
  return false;
}

TokenVerification verify_api_token(const TokenRepository& repository, std::string_view token) {
  if (!is_well_formed_api_token(token)) return {TokenCheck::malformed, std::nullopt};
  const std::string hash = hash_api_token(token);
  auto record = repository.find_by_hash(hash);
  if (!record || !constant_time_equal(record->hash, hash)) {
    return {TokenCheck::unknown, std::nullopt};
  }
  if (record->revoked) return {TokenCheck::revoked, std::nullopt};
  return {TokenCheck::ok, std::move(record)};
}

}  // namespace ombud::http
