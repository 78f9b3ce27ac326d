// Name/value parameters from a query string or an application/x-www-form-urlencoded body, and
// the request target split into decoded path segments and query.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/http/http_error.h"

namespace ombud::http {

// Decoded parameters in the order sent; a repeated name keeps every value (Twilio signs them all).
class ParamList {
 public:
  using Entry = std::pair<std::string, std::string>;

  ParamList() = default;
  explicit ParamList(std::vector<Entry> entries) : entries_(std::move(entries)) {}

  // The first value of `name`, or nullopt.
  std::optional<std::string_view> get(std::string_view name) const;
  std::vector<std::string_view> all(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }
  void add(std::string name, std::string value) {
    entries_.emplace_back(std::move(name), std::move(value));
  }

  const std::vector<Entry>& entries() const { return entries_; }
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<Entry> entries_;
};

// An origin-form request target ("/v1/instances/abc?limit=10"), parsed with Boost.URL.
struct RequestTarget {
  std::string path;                   // as sent (still percent-encoded)
  std::vector<std::string> segments;  // decoded; "%2F" stays inside its segment
  ParamList query;                    // decoded, '+' read as a space
};

// 400 `invalid_target` when `target` is not origin form ("/path?query") or has a bad escape.
HttpResult<RequestTarget> parse_target(std::string_view target);

// Parses a form body ("a=1&b=x+y&c=%C3%A9"): '+' is a space, %XX a byte, a name without '='
// has an empty value, empty pieces ("a=1&&b=2") are skipped. 400 `malformed_form` names the
// first bad escape and its byte offset: "malformed form body at byte 7: '%G1' is not a percent
// escape".
HttpResult<ParamList> parse_form(std::string_view body);

}  // namespace ombud::http
