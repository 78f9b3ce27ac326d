// Reading a request body as JSON, with 400/415 answers that say what is wrong and where.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string_view>

#include "adapters/http/http_error.h"

namespace ombud::http {

// Parses `text` as one JSON document. On failure: 400 `malformed_json` whose message names the
// position, e.g. "malformed JSON at line 2, column 7 (byte 15): expected ':'" — what an API
// client needs to find the mistake in what it sent.
HttpResult<boost::json::value> parse_json(std::string_view text);

// The request body as a JSON object. 415 `unsupported_media_type` when a Content-Type other than
// application/json (or a +json type) was sent — `curl -d` without `-H` sends a form type, and
// saying so beats a confusing parse error; 400 `malformed_json` as above; 400 `invalid_body` when
// the document is not an object. A missing Content-Type is accepted.
HttpResult<boost::json::object> parse_json_object(const HttpRequest& request);

}  // namespace ombud::http
