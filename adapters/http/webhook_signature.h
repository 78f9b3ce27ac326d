// Verifying that a webhook really comes from the phone system it claims, as pure functions of
// the secret, the request's parts and the current time. Three schemes, one per kind of sender:
//
// - native (senders we document, docs/webhooks.md):
//     X-Ombud-Timestamp: <unix seconds>
//     X-Ombud-Signature: <hex HMAC-SHA256(secret, timestamp + "." + body)>
//   Signing the timestamp with the body binds them, so a captured request cannot be replayed
//   outside the window by changing the timestamp. `openssl dgst -sha256 -hmac SECRET` computes it.
// - Twilio: X-Twilio-Signature = Base64 HMAC-SHA1(auth token, full URL + each form parameter's
//   name and value, sorted by name).
// - shared token: a configured header carries a fixed secret (for systems that can sign nothing).
//
// Every comparison of secret material is constant-time.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/http/params.h"

namespace ombud::http {

inline constexpr std::string_view kNativeTimestampHeader = "X-Ombud-Timestamp";
inline constexpr std::string_view kNativeSignatureHeader = "X-Ombud-Signature";
inline constexpr std::string_view kTwilioSignatureHeader = "X-Twilio-Signature";
inline constexpr std::chrono::seconds kNativeReplayWindow{300};

enum class SignatureStatus {
  valid,
  missing,    // a header the scheme needs is absent or empty
  malformed,  // present but not in the scheme's format (not hex, not a number, ...)
  mismatch,   // well-formed but wrong: another secret, or the request was altered
  expired,    // native: the timestamp is outside the replay window (either direction)
};

struct SignatureCheck {
  SignatureStatus status = SignatureStatus::valid;
  std::string reason;  // for the log and the 401 body; never contains secret material

  bool ok() const { return status == SignatureStatus::valid; }
};

// The native signature (lowercase hex) for `body` sent at `unix_seconds`.
std::string native_signature(std::string_view secret, std::int64_t unix_seconds,
                             std::string_view body);

// Checks the native headers (their values; nullopt when absent) against `body`. The timestamp
// must be a decimal number of seconds within `window` of `now`, in the past or in the future
// (clocks drift both ways); the signature is hex in either case.
SignatureCheck verify_native_signature(std::string_view secret,
                                       std::optional<std::string_view> timestamp_header,
                                       std::optional<std::string_view> signature_header,
                                       std::string_view body, std::chrono::sys_seconds now,
                                       std::chrono::seconds window = kNativeReplayWindow);

// Twilio's signature (Base64) of a request to `url` (scheme, host, path and query exactly as
// Twilio called it) with POST form `params` (empty for a GET). Parameters are sorted by name and
// then by value, as Twilio's own libraries do for repeated names.
std::string twilio_signature(std::string_view auth_token, std::string_view url,
                             const ParamList& params);

// Checks X-Twilio-Signature. Behind a proxy the URL Twilio signed may or may not carry the
// default port (":443"/":80"); like Twilio's libraries this accepts the URL as given, with the
// port removed and with the default port added.
SignatureCheck verify_twilio_signature(std::string_view auth_token,
                                       std::optional<std::string_view> signature_header,
                                       std::string_view url, const ParamList& params);

// A body that is not form parameters (JSON) is not covered by the Twilio signature itself: Twilio
// then adds `bodySHA256=<hex SHA-256 of the body>` to the URL it signs. Checks that parameter
// against `body` (after verify_twilio_signature has checked the URL).
SignatureCheck verify_twilio_body(std::string_view url, std::string_view body);

// Checks a shared-token header. Both sides are hashed first so the comparison takes the same time
// whatever the presented token's length.
SignatureCheck verify_shared_token(std::string_view expected,
                                   std::optional<std::string_view> presented);

}  // namespace ombud::http
