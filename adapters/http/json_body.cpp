#include "adapters/http/json_body.h"

#include <boost/json/stream_parser.hpp>
#include <string>

namespace ombud::http {
namespace {

// 1-based line and column of byte `offset`, counting columns in bytes (what editors show for
// ASCII, and close enough for the rest to find the spot).
std::string describe_position(std::string_view text, std::size_t offset) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + " (byte " +
         std::to_string(offset) + ")";
}

bool is_json_media_type(std::string_view content_type) {
  const auto semicolon = content_type.find(';');
  std::string_view type = content_type.substr(0, semicolon);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  if (iequals(type, "application/json")) return true;
  // Structured syntax suffix (RFC 6839): application/problem+json, application/vnd.x+json.
  constexpr std::string_view kSuffix = "+json";
  return type.size() > kSuffix.size() && iequals(type.substr(0, 12), "application/") &&
         iequals(type.substr(type.size() - kSuffix.size()), kSuffix);
}

}  // namespace

HttpResult<boost::json::value> parse_json(std::string_view text) {
  boost::json::stream_parser parser;
  boost::system::error_code ec;
  // write() reports how much it consumed before an error, which is where the error is.
  const std::size_t consumed = parser.write(text.data(), text.size(), ec);
  std::size_t offset = consumed;
  if (!ec) {
    parser.finish(ec);
    offset = text.size();
  }
  if (ec) {
    const std::string reason = text.empty() ? std::string("empty body") : ec.message();
    return HttpError{400, "malformed_json",
                     "malformed JSON at " + describe_position(text, offset) + ": " + reason, ""};
  }
  return parser.release();
}

HttpResult<boost::json::object> parse_json_object(const HttpRequest& request) {
  if (const auto type = request.headers.get("Content-Type"); type && !is_json_media_type(*type)) {
    return HttpError{415, "unsupported_media_type",
                     "expected Content-Type application/json, got '" + std::string(*type) + "'",
                     ""};
  }
  auto value = parse_json(request.body);
  if (!value) return value.error();
  if (!value->is_object()) {
    return HttpError{400, "invalid_body", "the request body must be a JSON object", ""};
  }
  return std::move(value->as_object());
}

}  // namespace ombud::http
