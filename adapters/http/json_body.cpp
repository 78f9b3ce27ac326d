#include "adapters/http/json_body.h"

#include <boost/json/stream_parser.hpp>
#include <optional>
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
  const std::string_view type = trim_spaces(content_type.substr(0, semicolon));
  if (iequals(type, "application/json")) return true;
  // Structured syntax suffix (RFC 6839): application/problem+json, application/vnd.x+json.
  constexpr std::string_view kSuffix = "+json";
  return type.size() > kSuffix.size() && iequals(type.substr(0, 12), "application/") &&
         iequals(type.substr(type.size() - kSuffix.size()), kSuffix);
}

// The JSON pointer of the first string or name in `v` that holds a NUL character ("" for the
// document itself), or nullopt. PostgreSQL cannot store one in text; SQLite cuts the text at it.
std::optional<std::string> nul_at(const boost::json::value& v, const std::string& at) {
  auto escaped = [](std::string_view name) {
    std::string out;
    for (const char c : name) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
    return out;
  };
  if (v.is_string()) {
    if (v.get_string().find('\0') != boost::json::string::npos) return at;
  } else if (v.is_array()) {
    for (std::size_t i = 0; i < v.get_array().size(); ++i) {
      if (auto found = nul_at(v.get_array()[i], at + "/" + std::to_string(i))) return found;
    }
  } else if (v.is_object()) {
    for (const auto& [name, member] : v.get_object()) {
      const std::string path = at + "/" + escaped(name);
      if (name.find('\0') != std::string_view::npos) return path;
      if (auto found = nul_at(member, path)) return found;
    }
  }
  return std::nullopt;
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
  boost::json::value document = parser.release();
  // Only an escape writes a NUL into a JSON string: most documents need no walk.
  if (text.find("\\u0000") != std::string_view::npos) {
    if (auto at = nul_at(document, "")) {
      return HttpError{400, "invalid_text",
                       "a text holds the character \\u0000 (NUL), which ombud does not store" +
                           (at->empty() ? std::string() : " (at " + *at + ")"),
                       *at};
    }
  }
  return document;
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
