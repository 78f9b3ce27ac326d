// One outbound HTTP POST, for the outbox: notifications to a gateway, webhooks to their targets.
// Blocking, on an io_context of its own, with one deadline for the whole call (the host's
// lookup, connect, TLS handshake, write, read). https:// verifies the server's certificate against
// the system's trusted authorities and its name. Beast and OpenSSL's TLS stay inside
// http_client.cpp.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ombud::http {

struct PostResult {
  int status = 0;     // the HTTP status; 0 when no answer came
  std::string error;  // why there was no answer ("connect to host:80: Connection refused")
  std::string body;   // the answer's body, at most the first 64 KiB
};

// Parses `url` (http:// or https://, a host, an optional port, path and query). "" when it can
// be posted to, else what is wrong with it ("the scheme must be http or https, not 'ftp'").
std::string check_post_url(std::string_view url);

PostResult http_post(std::string_view url, std::string_view body,
                     const std::vector<std::pair<std::string, std::string>>& headers,
                     std::chrono::milliseconds timeout);

}  // namespace ombud::http
