// HTTP/1.1 bytes to and from the value types, with the same parser and limits as the server.
// For the fuzz target and for tests that want exact bytes; the server itself streams.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "adapters/http/http_error.h"
#include "adapters/http/http_message.h"

namespace ombud::http {

// Parses one complete request from `raw`. Errors are what the server would answer: 413
// `body_too_large`, 431 `header_too_large`, 400 `bad_request` (malformed or incomplete).
HttpResult<HttpRequest> parse_request(std::string_view raw, std::size_t body_limit,
                                      std::size_t header_limit);

// The response as bytes on the wire: status line, headers (plus Content-Length and Connection)
// and body.
std::string serialize_response(const HttpResponse& response, unsigned version, bool keep_alive);

}  // namespace ombud::http
