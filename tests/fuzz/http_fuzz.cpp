// Fuzzes the request path the server runs: raw bytes → Beast's parser (with the server's limits)
// → request id, router, handlers that read parameters, query, JSON and form bodies → response
// bytes. Any input must end in a response or a parse error, never a crash.
#include <spdlog/sinks/null_sink.h>
#include <cstddef>
#include <cstdint>
#include <string>

#include "adapters/http/json_body.h"
#include "adapters/http/json_log.h"
#include "adapters/http/request_handler.h"
#include "adapters/http/webhook_signature.h"
#include "adapters/http/wire.h"

namespace {

using namespace ombud::http;

struct App {
  App() {
    router.add("POST", "/v1/instances", [](const HttpRequest& r, const RouteMatch&) {
      auto body = parse_json_object(r);
      if (!body) return error_response(body.error());
      return HttpResponse::json(201, *body);
    });
    router.add("GET", "/v1/instances", [](const HttpRequest&, const RouteMatch& m) {
      return HttpResponse::text(200, std::string(m.query.get("limit").value_or("")));
    });
    router.add("GET", "/v1/instances/{id}", [](const HttpRequest&, const RouteMatch& m) {
      return HttpResponse::text(200, std::string(m.param("id")));
    });
    router.add("POST", "/hooks/{source}", [](const HttpRequest& r, const RouteMatch&) {
      auto form = parse_form(r.body);
      if (!form) return error_response(form.error());
      const auto check = verify_twilio_signature("token", r.headers.get(kTwilioSignatureHeader),
                                                 "https://example.com" + r.target, *form);
      return HttpResponse::text(check.ok() ? 200 : 401, check.reason);
    });
  }
  Router router;
  MetricsRegistry metrics;
  RequestHandler handler{router, metrics,
                         make_json_logger("fuzz", std::make_shared<spdlog::sinks::null_sink_st>())};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static App app;
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  auto request = parse_request(raw, 64 * 1024, 8 * 1024);
  if (!request) {
    (void)serialize_response(error_response(request.error()), 11, false);
    return 0;
  }
  const HttpResponse response = app.handler(*request);
  (void)serialize_response(response, request->version, true);
  return 0;
}
