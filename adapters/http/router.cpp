#include "adapters/http/router.h"

#include <algorithm>
#include <stdexcept>

#include "adapters/http/http_error.h"

namespace ombud::http {

std::string_view RouteMatch::param(std::string_view name) const {
  for (const auto& [n, v] : params) {
    if (n == name) return v;
  }
  return {};
}

void Router::add(std::string method, std::string_view pattern, RouteHandler handler) {
  const auto fail = [&](const std::string& why) {
    throw std::invalid_argument("route " + method + " " + std::string(pattern) + ": " + why);
  };
  if (pattern.empty() || pattern.front() != '/') fail("a pattern must start with '/'");
  Entry entry{Route{method, std::string(pattern)}, {}, std::move(handler)};
  // "/" is the root: no segments. Otherwise every piece between slashes is a segment.
  if (pattern != "/") {
    std::size_t start = 1;
    while (start <= pattern.size()) {
      std::size_t end = pattern.find('/', start);
      if (end == std::string_view::npos) end = pattern.size();
      const std::string_view piece = pattern.substr(start, end - start);
      if (piece.empty()) fail("empty path segment");
      const bool opens = piece.front() == '{';
      const bool closes = piece.back() == '}';
      if (opens != closes || (opens && piece.size() < 3)) fail("malformed parameter segment");
      if (!opens && piece.find_first_of("{}") != std::string_view::npos) {
        fail("a parameter must be a whole segment");
      }
      Segment segment{std::string(opens ? piece.substr(1, piece.size() - 2) : piece), opens};
      if (segment.is_param) {
        for (const auto& s : entry.segments) {
          if (s.is_param && s.text == segment.text) fail("repeated parameter {" + s.text + "}");
        }
      }
      entry.segments.push_back(std::move(segment));
      start = end + 1;
    }
  }
  for (const auto& e : entries_) {
    if (e.route.method == method && e.route.pattern == pattern) fail("added twice");
  }
  entries_.push_back(std::move(entry));
}

bool Router::matches(const Entry& entry, const std::vector<std::string>& segments) {
  if (entry.segments.size() != segments.size()) return false;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const Segment& s = entry.segments[i];
    // A parameter matches any non-empty segment: "/v1/instances/" is not an instance.
    if (s.is_param ? segments[i].empty() : s.text != segments[i]) return false;
  }
  return true;
}

bool Router::more_specific(const Entry& a, const Entry& b) {
  for (std::size_t i = 0; i < a.segments.size() && i < b.segments.size(); ++i) {
    if (a.segments[i].is_param != b.segments[i].is_param) return !a.segments[i].is_param;
  }
  return false;
}

HttpResponse Router::dispatch(const HttpRequest& request, std::string* matched) const {
  if (matched != nullptr) matched->clear();
  auto target = parse_target(request.target);
  if (!target) return error_response(target.error());

  // HEAD is GET without the body (RFC 9110 §9.3.2): load balancers' health checks use it. The
  // request handler leaves the body out of whatever the answer is.
  const std::string_view method =
      request.method == "HEAD" ? std::string_view("GET") : std::string_view(request.method);
  const Entry* best = nullptr;
  std::vector<std::string_view> allowed;
  for (const Entry& entry : entries_) {
    if (!matches(entry, target->segments)) continue;
    if (entry.route.method == method) {
      if (best == nullptr || more_specific(entry, *best)) best = &entry;
    } else if (std::find(allowed.begin(), allowed.end(), entry.route.method) == allowed.end()) {
      allowed.push_back(entry.route.method);
      if (entry.route.method == "GET") allowed.push_back("HEAD");
    }
  }
  if (best == nullptr) {
    if (allowed.empty()) {
      return error_response(404, "not_found", "no such path: " + target->path);
    }
    std::sort(allowed.begin(), allowed.end());
    std::string allow;
    for (const auto method : allowed) {
      if (!allow.empty()) allow += ", ";
      allow += method;
    }
    HttpResponse response = error_response(
        405, "method_not_allowed",
        request.method + " is not allowed on " + target->path + " (allowed: " + allow + ")");
    response.headers.set("Allow", std::move(allow));
    return response;
  }

  RouteMatch match;
  match.pattern = best->route.pattern;
  for (std::size_t i = 0; i < best->segments.size(); ++i) {
    if (best->segments[i].is_param) {
      match.params.emplace_back(best->segments[i].text, std::move(target->segments[i]));
    }
  }
  match.query = std::move(target->query);
  if (matched != nullptr) *matched = best->route.pattern;
  return best->handler(request, match);
}

std::vector<Router::Route> Router::routes() const {
  std::vector<Route> result;
  result.reserve(entries_.size());
  for (const auto& e : entries_) result.push_back(e.route);
  return result;
}

}  // namespace ombud::http
