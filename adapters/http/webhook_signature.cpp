#include "adapters/http/webhook_signature.h"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <charconv>
#include <vector>

#include "adapters/http/crypto.h"

namespace ombud::http {
namespace {

SignatureCheck fail(SignatureStatus status, std::string reason) {
  return SignatureCheck{status, std::move(reason)};
}

bool present(std::optional<std::string_view> header) { return header && !header->empty(); }

}  // namespace

std::string native_signature(std::string_view secret, std::int64_t unix_seconds,
                             std::string_view body) {
  std::string signed_text = std::to_string(unix_seconds);
  signed_text += '.';
  signed_text += body;
  return to_hex(hmac_sha256(secret, signed_text));
}

SignatureCheck verify_native_signature(std::string_view secret,
                                       std::optional<std::string_view> timestamp_header,
                                       std::optional<std::string_view> signature_header,
                                       std::string_view body, std::chrono::sys_seconds now,
                                       std::chrono::seconds window) {
  if (!present(timestamp_header)) {
    return fail(SignatureStatus::missing, std::string(kNativeTimestampHeader) + " is missing");
  }
  if (!present(signature_header)) {
    return fail(SignatureStatus::missing, std::string(kNativeSignatureHeader) + " is missing");
  }
  // Digits only: no sign, no spaces, no exponent; 15 digits is beyond year 30000000.
  const std::string_view ts = *timestamp_header;
  std::int64_t seconds = 0;
  const auto [end, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), seconds);
  if (ts.size() > 15 || ec != std::errc() || end != ts.data() + ts.size() || ts.front() == '-') {
    return fail(SignatureStatus::malformed,
                std::string(kNativeTimestampHeader) + " must be a number of seconds since 1970");
  }
  const auto presented = from_hex(*signature_header);
  if (!presented || presented->size() != 32) {
    return fail(SignatureStatus::malformed,
                std::string(kNativeSignatureHeader) + " must be 64 hex digits (HMAC-SHA256)");
  }
  const auto skew = now.time_since_epoch() - std::chrono::seconds(seconds);
  if (skew > window || skew < -window) {
    return fail(SignatureStatus::expired,
                std::string(kNativeTimestampHeader) + " is " +
                    std::to_string(std::chrono::abs(skew).count()) +
                    " s away from now (allowed: " + std::to_string(window.count()) + " s)");
  }
  // Recompute over the timestamp exactly as sent, not as re-printed: "0123" signs differently.
  std::string signed_text(ts);
  signed_text += '.';
  signed_text += body;
  if (!constant_time_equal(hmac_sha256(secret, signed_text), *presented)) {
    return fail(SignatureStatus::mismatch, "signature does not match the body and timestamp");
  }
  return {};
}

std::string twilio_signature(std::string_view auth_token, std::string_view url,
                             const ParamList& params) {
  std::vector<const ParamList::Entry*> sorted;
  sorted.reserve(params.size());
  for (const auto& entry : params.entries()) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return *a < *b; });
  std::string data(url);
  for (const auto* entry : sorted) {
    data += entry->first;
    data += entry->second;
  }
  return base64_encode(hmac_sha1(auth_token, data));
}

namespace {

// The URL as given, then with its port toggled: removed when present, the scheme's default added
// when absent. Twilio's libraries try the same two forms.
std::vector<std::string> twilio_url_variants(std::string_view url) {
  std::vector<std::string> variants{std::string(url)};
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return variants;
  boost::urls::url u(*parsed);
  if (u.has_port()) {
    u.remove_port();
  } else if (u.scheme() == "https") {
    u.set_port_number(443);
  } else if (u.scheme() == "http") {
    u.set_port_number(80);
  } else {
    return variants;
  }
  variants.emplace_back(u.buffer());
  return variants;
}

}  // namespace

SignatureCheck verify_twilio_signature(std::string_view auth_token,
                                       std::optional<std::string_view> signature_header,
                                       std::string_view url, const ParamList& params) {
  if (!present(signature_header)) {
    return fail(SignatureStatus::missing, std::string(kTwilioSignatureHeader) + " is missing");
  }
  bool matched = false;
  for (const auto& variant : twilio_url_variants(url)) {
    // Evaluate every variant (no early exit) so the time taken does not say which one matched.
    matched |=
        constant_time_equal(twilio_signature(auth_token, variant, params), *signature_header);
  }
  if (!matched) {
    return fail(SignatureStatus::mismatch,
                "X-Twilio-Signature does not match the URL and form parameters");
  }
  return {};
}

SignatureCheck verify_twilio_body(std::string_view url, std::string_view body) {
  auto parsed = boost::urls::parse_uri_reference(url);
  std::optional<std::string> given;
  if (parsed) {
    for (const auto& param : parsed->params()) {
      if (param.key == "bodySHA256" && param.has_value) given = param.value;
    }
  }
  if (!given) {
    return fail(SignatureStatus::missing,
                "a body that is not form parameters is signed through bodySHA256 in the URL, and "
                "the URL has none");
  }
  const auto bytes = from_hex(*given);
  if (!bytes || !constant_time_equal(*bytes, sha256(body))) {
    return fail(SignatureStatus::mismatch, "bodySHA256 in the URL does not match the body");
  }
  return {};
}

SignatureCheck verify_shared_token(std::string_view expected,
                                   std::optional<std::string_view> presented) {
  if (!present(presented)) return fail(SignatureStatus::missing, "the token header is missing");
  if (!constant_time_equal(sha256(expected), sha256(*presented))) {
    return fail(SignatureStatus::mismatch, "the token does not match");
  }
  return {};
}

}  // namespace ombud::http
