#include "adapters/http/request_handler.h"

#include <array>
#include <chrono>
#include <exception>

#include "adapters/http/http_error.h"
#include "adapters/http/json_log.h"
#include "adapters/http/request_id.h"
#include "engine/store.h"

namespace ombud::http {
namespace {

// Metric labels must have few values: an arbitrary method or an unmatched path (a scanner probing
// thousands of URLs) would each create a series, so those collapse to one label value.
std::string_view method_label(std::string_view method) {
  static constexpr std::array<std::string_view, 7> kKnown = {"GET",    "POST",    "PUT", "PATCH",
                                                             "DELETE", "OPTIONS", "HEAD"};
  for (const auto known : kKnown) {
    if (known == method) return known;
  }
  return "other";
}

}  // namespace

RequestHandler::RequestHandler(const Router& router, MetricsRegistry& metrics,
                               std::shared_ptr<spdlog::logger> logger)
    : router_(router),
      requests_(metrics.counter("ombud_http_requests_total", "HTTP requests answered.",
                                {"method", "route", "status"})),
      latency_(metrics.histogram("ombud_http_request_duration_seconds",
                                 "Time from a complete request to its response being ready.",
                                 {"method", "route"})),
      logger_(std::move(logger)) {}

HttpResponse RequestHandler::operator()(const HttpRequest& request) const {
  const auto started = std::chrono::steady_clock::now();
  std::string request_id;
  if (const auto presented = request.headers.get(kRequestIdHeader)) {
    if (const auto accepted = accept_request_id(*presented)) request_id = *accepted;
  }
  if (request_id.empty()) request_id = generate_request_id();

  std::string route;
  HttpResponse response;
  try {
    response = router_.dispatch(request, &route);
  } catch (const StoreFailure& e) {
    // The database is away (PostgreSQL restarting, a failover). The request can be sent again
    // once it is back, as after any 503 (a write with its idempotency key).
    log_fields(*logger_, spdlog::level::err, "store unavailable",
               {{"request_id", request_id}, {"route", route}, {"error", e.what()}});
    response =
        error_response(503, "unavailable",
                       "the store is unavailable; retry shortly (request id " + request_id + ")");
    response.headers.set("Retry-After", "1");
  } catch (const std::exception& e) {
    log_fields(*logger_, spdlog::level::err, "handler failed",
               {{"request_id", request_id}, {"route", route}, {"error", e.what()}});
    response = error_response(500, "internal", "internal error (request id " + request_id + ")");
  }
  response.headers.set(kRequestIdHeader, request_id);
  // Every answer to a HEAD goes without its body (a 404 or 405 too): on a kept-alive connection
  // the client would read body bytes as the start of the next answer.
  response.head_only = request.method == "HEAD";

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const std::string_view route_label = route.empty() ? std::string_view("unmatched") : route;
  const std::string status = std::to_string(response.status);
  requests_.labels({method_label(request.method), route_label, status}).inc();
  latency_.labels({method_label(request.method), route_label}).observe(seconds);
  log_fields(*logger_, response.status >= 500 ? spdlog::level::warn : spdlog::level::info,
             "request",
             {{"request_id", request_id},
              {"method", request.method},
              {"target", request.target},
              {"route", route},
              {"status", response.status},
              {"duration_ms", seconds * 1000.0},
              {"bytes_in", request.body.size()},
              {"bytes_out", response.body.size()},
              {"remote", request.remote_address}});
  return response;
}

}  // namespace ombud::http
