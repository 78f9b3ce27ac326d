// Request ids tie a request's log lines, its response and the caller's own logs together.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ombud::http {

inline constexpr std::string_view kRequestIdHeader = "X-Request-Id";

// 32 lowercase hex digits (128 random bits): unique without coordination between nodes.
std::string generate_request_id();

// The caller's X-Request-Id if it is sane — 1 to 128 characters of [A-Za-z0-9._:-] — so a
// proxy's id carries through; nullopt otherwise (anything else could forge log lines or headers).
std::optional<std::string_view> accept_request_id(std::string_view presented);

}  // namespace ombud::http
