// HTTP requests and responses as plain values, so request handling is a function from one to the
// other that tests call without sockets. The server (server.h) converts from and to the wire;
// nothing here knows about Beast.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ombud::http {

// ASCII case-insensitive equality, as header names and media types compare (RFC 9110 §5.1).
bool iequals(std::string_view a, std::string_view b);

// `text` without the spaces and tabs around it (optional whitespace, RFC 9110 §5.6.3).
std::string_view trim_spaces(std::string_view text);

// Header fields in arrival order. Names compare case-insensitively; a repeated field keeps every
// occurrence. Small (a request has a dozen fields), so lookups are linear scans.
class HttpHeaders {
 public:
  using Field = std::pair<std::string, std::string>;

  // The value of the first field called `name`, or nullopt.
  std::optional<std::string_view> get(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }
  // Replaces every field called `name` by one with `value`.
  void set(std::string_view name, std::string value);
  void add(std::string name, std::string value);
  void erase(std::string_view name);

  const std::vector<Field>& fields() const { return fields_; }
  auto begin() const { return fields_.begin(); }
  auto end() const { return fields_.end(); }

 private:
  std::vector<Field> fields_;
};

struct HttpRequest {
  std::string method;  // as sent, e.g. "GET" (methods are case-sensitive)
  std::string target;  // origin form as sent: path and optional "?query"
  HttpHeaders headers;
  std::string body;
  unsigned version = 11;       // 10 for HTTP/1.0, 11 for HTTP/1.1
  std::string remote_address;  // the peer as "ip:port"; empty when there is none (tests)
};

struct HttpResponse {
  int status = 200;
  HttpHeaders headers;
  std::string body;
  // The answer to a HEAD request: sent with the Content-Length of `body`, without the body.
  bool head_only = false;

  // A response whose body is `value` serialised, with Content-Type application/json.
  static HttpResponse json(int status, const boost::json::value& value);
  static HttpResponse text(int status, std::string body,
                           std::string_view content_type = "text/plain; charset=utf-8");
};

}  // namespace ombud::http
