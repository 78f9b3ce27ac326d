// Webhook verification: Twilio's scheme against the vectors in Twilio's own library tests
// (twilio-python tests/unit/test_request_validator.py), the native scheme against a vector
// computed with `openssl dgst -sha256 -hmac`, and the shared-token scheme.
#include "adapters/http/webhook_signature.h"

#include <gtest/gtest.h>

namespace ombud::http {
namespace {

using std::chrono::seconds;
using std::chrono::sys_seconds;

constexpr std::string_view kSecret = "whsec_test";
constexpr std::string_view kBody = R"({"event":"call.completed","call_id":"c-1"})";
constexpr std::int64_t kTimestamp = 1700000000;
// printf '%s' '1700000000.{"event":"call.completed","call_id":"c-1"}' |
//   openssl dgst -sha256 -hmac whsec_test
constexpr std::string_view kOpensslSignature =
    "6c383ce968c11777ba9f02ba24e104320dfdec2f9c4f4167d8c5d46c97f6fd06";
const sys_seconds kNow{seconds(kTimestamp + 10)};

TEST(NativeSignature, MatchesOpensslVector) {
  EXPECT_EQ(native_signature(kSecret, kTimestamp, kBody), kOpensslSignature);
}

TEST(NativeSignature, AcceptsAValidSignatureInEitherCase) {
  EXPECT_TRUE(verify_native_signature(kSecret, "1700000000", kOpensslSignature, kBody, kNow).ok());
  std::string upper(kOpensslSignature);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(verify_native_signature(kSecret, "1700000000", upper, kBody, kNow).ok());
}

TEST(NativeSignature, RejectsAnAlteredBodyOrTimestamp) {
  EXPECT_EQ(verify_native_signature(kSecret, "1700000000", kOpensslSignature,
                                    R"({"event":"call.completed","call_id":"c-2"})", kNow)
                .status,
            SignatureStatus::mismatch);
  EXPECT_EQ(verify_native_signature(kSecret, "1700000001", kOpensslSignature, kBody, kNow).status,
            SignatureStatus::mismatch);
  EXPECT_EQ(verify_native_signature("other", "1700000000", kOpensslSignature, kBody, kNow).status,
            SignatureStatus::mismatch);
}

TEST(NativeSignature, EnforcesTheReplayWindowInBothDirections) {
  const auto check_at = [&](std::int64_t now) {
    return verify_native_signature(kSecret, "1700000000", kOpensslSignature, kBody,
                                   sys_seconds(seconds(now)))
        .status;
  };
  EXPECT_EQ(check_at(kTimestamp + 300), SignatureStatus::valid);
  EXPECT_EQ(check_at(kTimestamp - 300), SignatureStatus::valid);
  EXPECT_EQ(check_at(kTimestamp + 301), SignatureStatus::expired);
  EXPECT_EQ(check_at(kTimestamp - 301), SignatureStatus::expired);
}

TEST(NativeSignature, ReportsMissingAndMalformedHeaders) {
  EXPECT_EQ(verify_native_signature(kSecret, std::nullopt, kOpensslSignature, kBody, kNow).status,
            SignatureStatus::missing);
  EXPECT_EQ(verify_native_signature(kSecret, "1700000000", "", kBody, kNow).status,
            SignatureStatus::missing);
  for (const std::string_view ts : {"-1700000000", "17e8", " 1700000000", "1700000000.5", "x"}) {
    EXPECT_EQ(verify_native_signature(kSecret, ts, kOpensslSignature, kBody, kNow).status,
              SignatureStatus::malformed)
        << ts;
  }
  EXPECT_EQ(verify_native_signature(kSecret, "1700000000", "abcd", kBody, kNow).status,
            SignatureStatus::malformed);
  const auto check = verify_native_signature(kSecret, "1700000000", "zz", kBody, kNow);
  EXPECT_NE(check.reason.find("X-Ombud-Signature"), std::string::npos) << check.reason;
}

const std::string kTwilioUrl = "https://mycompany.com/myapp.php?foo=1&bar=2";
ParamList twilio_params() {
  return ParamList({{"CallSid", "CA1234567890ABCDE"},
                    {"Digits", "1234"},
                    {"From", "+14158675309"},
                    {"To", "+18005551212"},
                    {"Caller", "+14158675309"}});
}

TEST(TwilioSignature, MatchesTwilioLibraryVector) {
  EXPECT_EQ(twilio_signature("12345", kTwilioUrl, twilio_params()), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
}

TEST(TwilioSignature, SortsRepeatedParametersByValue) {
  const ParamList params(
      {{"Sid", "CA123"}, {"SidAccount", "AC123"}, {"Digits", "5678"}, {"Digits", "1234"}});
  EXPECT_EQ(twilio_signature("12345", kTwilioUrl, params), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
}

TEST(TwilioSignature, VerifiesWithAndWithoutTheDefaultPort) {
  EXPECT_TRUE(
      verify_twilio_signature("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", kTwilioUrl, twilio_params())
          .ok());
  // Twilio signed https://mycompany.com:443/…; we saw the URL without the port.
  EXPECT_TRUE(
      verify_twilio_signature("12345", "kvajT1Ptam85bY51eRf/AJRuM3w=", kTwilioUrl, twilio_params())
          .ok());
  // We saw a port Twilio did not sign.
  EXPECT_TRUE(verify_twilio_signature("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
                                      "https://mycompany.com:1234/myapp.php?foo=1&bar=2",
                                      twilio_params())
                  .ok());
}

TEST(TwilioSignature, RejectsTamperingAndMissingHeader) {
  auto params = twilio_params();
  params.add("Extra", "1");
  EXPECT_EQ(
      verify_twilio_signature("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", kTwilioUrl, params).status,
      SignatureStatus::mismatch);
  EXPECT_EQ(
      verify_twilio_signature("54321", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", kTwilioUrl, twilio_params())
          .status,
      SignatureStatus::mismatch);
  EXPECT_EQ(verify_twilio_signature("12345", std::nullopt, kTwilioUrl, twilio_params()).status,
            SignatureStatus::missing);
}

TEST(SharedToken, AcceptsOnlyTheExactToken) {
  EXPECT_TRUE(verify_shared_token("s3cret-token", "s3cret-token").ok());
  EXPECT_EQ(verify_shared_token("s3cret-token", "s3cret-tokeN").status, SignatureStatus::mismatch);
  EXPECT_EQ(verify_shared_token("s3cret-token", "s3cret").status, SignatureStatus::mismatch);
  EXPECT_EQ(verify_shared_token("s3cret-token", std::nullopt).status, SignatureStatus::missing);
  EXPECT_EQ(verify_shared_token("s3cret-token", "").status, SignatureStatus::missing);
}

}  // namespace
}  // namespace ombud::http
