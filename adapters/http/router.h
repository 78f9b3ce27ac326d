// Method + path pattern → handler. Patterns are literal segments and `{param}` segments:
//   router.add("GET", "/v1/instances/{id}/history", handler);
// A path no pattern matches is 404 `not_found`; a path that matches only for other methods is
// 405 `method_not_allowed` with an `Allow` header. Both answer with the JSON error shape.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/http/http_message.h"
#include "adapters/http/params.h"

namespace ombud::http {

// What the router found for a request: the pattern (for metrics labels and logs), the `{param}`
// values (decoded) and the query.
struct RouteMatch {
  std::string_view pattern;
  std::vector<std::pair<std::string_view, std::string>> params;
  ParamList query;

  // The value of `{name}`; empty when the pattern has no such parameter.
  std::string_view param(std::string_view name) const;
};

using RouteHandler = std::function<HttpResponse(const HttpRequest&, const RouteMatch&)>;

// Routes are added at start-up and then only read: dispatch() is safe from many threads at once
// as long as nobody calls add() concurrently. Matching is a scan over the routes — the API has a
// few dozen, where a scan beats a trie's pointer chasing and is obviously right.
class Router {
 public:
  struct Route {
    std::string method;
    std::string pattern;
  };

  // Throws std::invalid_argument for a pattern that does not start with '/', has an empty or
  // half-braced segment, or repeats a parameter name, and for a (method, pattern) already added:
  // these are programming errors, found when the server assembles its routes.
  void add(std::string method, std::string_view pattern, RouteHandler handler);

  // Runs the handler of the best route for the request. When two patterns match, the one with a
  // literal segment where the other has a parameter wins, left to right
  // ("/v1/instances/search" beats "/v1/instances/{id}"). `matched` receives the pattern, or ""
  // when none matched (404/405/400). Exceptions from the handler propagate.
  HttpResponse dispatch(const HttpRequest& request, std::string* matched = nullptr) const;

  // Every (method, pattern), in the order added (for the OpenAPI cross-check).
  std::vector<Route> routes() const;

 private:
  struct Segment {
    std::string text;  // the literal, or the parameter name
    bool is_param = false;
  };
  struct Entry {
    Route route;
    std::vector<Segment> segments;
    RouteHandler handler;
  };

  static bool matches(const Entry& entry, const std::vector<std::string>& segments);
  static bool more_specific(const Entry& a, const Entry& b);

  std::vector<Entry> entries_;
};

}  // namespace ombud::http
