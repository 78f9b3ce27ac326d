#include "adapters/http/params.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace ombud::http {

std::optional<std::string_view> ParamList::get(std::string_view name) const {
  for (const auto& [n, v] : entries_) {
    if (n == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::vector<std::string_view> ParamList::all(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const auto& [n, v] : entries_) {
    if (n == name) values.emplace_back(v);
  }
  return values;
}

HttpResult<RequestTarget> parse_target(std::string_view target) {
  const auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) {
    // Boost.URL says only "leftover" or "mismatch": say what is usually wrong.
    return HttpError{400, "invalid_target",
                     "the request target is not a valid path: each '%' must be followed by two "
                     "hex digits, and spaces and characters such as '\"', '<', '>' must be "
                     "percent-encoded (" +
                         parsed.error().message() + ")",
                     ""};
  }
  // Ids and keys in the target are looked up in the store, which stores no NUL character.
  if (target.find("%00") != std::string_view::npos) {
    return HttpError{400, "invalid_target",
                     "the request target holds %00 (a NUL character), which no id, key or "
                     "filter contains",
                     ""};
  }
  const boost::urls::url_view& url = *parsed;
  RequestTarget result;
  result.path = std::string(url.encoded_path());
  for (const auto& segment : url.segments()) result.segments.push_back(segment);
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;
  for (const auto& param : url.params(opts)) {
    result.query.add(param.key, param.has_value ? param.value : std::string());
  }
  return result;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes one name or value that starts at byte `base` of the body (for the error position).
HttpResult<std::string> decode_form_component(std::string_view text, std::size_t base) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      const int hi = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
      const int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return HttpError{400, "malformed_form",
                         "malformed form body at byte " + std::to_string(base + i) + ": '" +
                             std::string(text.substr(i, 3)) + "' is not a percent escape",
                         ""};
      }
      if (hi == 0 && lo == 0) {
        return HttpError{400, "malformed_form",
                         "malformed form body at byte " + std::to_string(base + i) +
                             ": '%00' is a NUL character, which ombud does not store",
                         ""};
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '\0') {
      return HttpError{400, "malformed_form",
                       "malformed form body at byte " + std::to_string(base + i) +
                           ": a NUL character, which ombud does not store",
                       ""};
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

HttpResult<ParamList> parse_form(std::string_view body) {
  ParamList params;
  std::size_t start = 0;
  while (start <= body.size()) {
    std::size_t end = body.find('&', start);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view piece = body.substr(start, end - start);
    if (!piece.empty()) {
      const std::size_t eq = piece.find('=');
      auto name = decode_form_component(piece.substr(0, eq), start);
      if (!name) return name.error();
      std::string value;
      if (eq != std::string_view::npos) {
        auto decoded = decode_form_component(piece.substr(eq + 1), start + eq + 1);
        if (!decoded) return decoded.error();
        value = std::move(*decoded);
      }
      params.add(std::move(*name), std::move(value));
    }
    start = end + 1;
  }
  return params;
}

}  // namespace ombud::http
