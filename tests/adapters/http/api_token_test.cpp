// API tokens: shape, hashing, and verification against a repository.
#include "adapters/http/api_token.h"

#include <gtest/gtest.h>

#include "adapters/http/crypto.h"

namespace ombud::http {
namespace {

TEST(ApiToken, GeneratedTokenHasPrefixLengthAndAlphabet) {
  const auto issued = generate_api_token();
  EXPECT_EQ(issued.token.rfind("omb_", 0), 0U);
  EXPECT_EQ(issued.token.size(), 4U + 43U);
  EXPECT_TRUE(is_well_formed_api_token(issued.token));
  EXPECT_EQ(issued.hash, to_hex(sha256(issued.token)));
  EXPECT_EQ(issued.id, issued.hash.substr(0, 12));
  EXPECT_NE(issued.token, generate_api_token().token);
}

TEST(ApiToken, HashIsSha256Hex) {
  EXPECT_EQ(hash_api_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ApiToken, RejectsMalformedTokens) {
  const std::string good = generate_api_token().token;
  EXPECT_FALSE(is_well_formed_api_token("tok_" + good.substr(4)));
  EXPECT_FALSE(is_well_formed_api_token(good.substr(0, good.size() - 1)));
  EXPECT_FALSE(is_well_formed_api_token(good.substr(0, good.size() - 1) + "="));
  EXPECT_FALSE(is_well_formed_api_token(""));
}

TEST(ApiToken, ExtractsBearerToken) {
  EXPECT_EQ(bearer_token("Bearer omb_x"), "omb_x");
  EXPECT_EQ(bearer_token("bearer   omb_x "), "omb_x");
  EXPECT_FALSE(bearer_token("Basic dXNlcjpwYXNz").has_value());
  EXPECT_FALSE(bearer_token("Bearer ").has_value());
  EXPECT_FALSE(bearer_token("Beareromb_x").has_value());
}

TEST(ApiToken, VerifiesAgainstTheRepository) {
  InMemoryTokenRepository repository;
  const auto issued = generate_api_token();
  repository.save({issued.id, issued.hash, "supervisor", "ana's laptop", false});

  const auto ok = verify_api_token(repository, issued.token);
  EXPECT_EQ(ok.status, TokenCheck::ok);
  ASSERT_TRUE(ok.record.has_value());
  EXPECT_EQ(ok.record->role, "supervisor");

  EXPECT_EQ(verify_api_token(repository, generate_api_token().token).status, TokenCheck::unknown);
  EXPECT_EQ(verify_api_token(repository, "omb_short").status, TokenCheck::malformed);
}

TEST(ApiToken, RevokedTokenIsRefused) {
  InMemoryTokenRepository repository;
  const auto issued = generate_api_token();
  repository.save({issued.id, issued.hash, "agent", "", false});
  EXPECT_TRUE(repository.revoke(issued.id));
  EXPECT_FALSE(repository.revoke("nonexistent"));
  const auto check = verify_api_token(repository, issued.token);
  EXPECT_EQ(check.status, TokenCheck::revoked);
  EXPECT_FALSE(check.record.has_value());
}

}  // namespace
}  // namespace ombud::http
