// What every request gets around the router: a request id (the caller's sane X-Request-Id, or a
// new one) echoed in the response, one JSON access-log line, request counts and latency by route
// and status, and a 500 with the JSON error shape when a handler throws — an exception never
// reaches the connection code.
#pragma once

#include <spdlog/logger.h>
#include <memory>

#include "adapters/http/http_message.h"
#include "adapters/http/metrics.h"
#include "adapters/http/router.h"

namespace ombud::http {

class RequestHandler {
 public:
  // `router`, `metrics` and `logger` must outlive the handler. Registers
  // ombud_http_requests_total{method,route,status} and
  // ombud_http_request_duration_seconds{method,route} in `metrics`.
  RequestHandler(const Router& router, MetricsRegistry& metrics,
                 std::shared_ptr<spdlog::logger> logger);

  // Safe to call from many threads at once (the router is read-only by then).
  HttpResponse operator()(const HttpRequest& request) const;

 private:
  const Router& router_;
  MetricFamily<Counter>& requests_;
  MetricFamily<Histogram>& latency_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace ombud::http
