// Fuzzes the real API: raw bytes → the server's parser → request handler → every route of
// adapters/api over a node on an in-memory store with the shipped config and workflows (the
// worker running, so starts and events are committed). Half the inputs get an admin token added,
// so the fuzzer reaches past authentication into body parsing, validation and the engine. Any
// input must end in a response, never a crash, a hang or a sanitizer report.
#include <spdlog/sinks/null_sink.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "adapters/api/api.h"
#include "adapters/http/api_token.h"
#include "adapters/http/json_log.h"
#include "adapters/http/request_handler.h"
#include "adapters/http/wire.h"

namespace {

using namespace ombud;

struct App {
  App() {
    ::setenv("OMBUD_HOOK_PHONE_SECRET", "fuzz-secret", 1);
    NodeOptions options;
    options.config_file = std::string(OMBUD_SOURCE_DIR) + "/config/ombud.yaml";
    options.workflow_paths = {std::string(OMBUD_SOURCE_DIR) + "/workflows"};
    options.store_url = "memory:";
    Diagnostics diags;
    node = Node::open(options, diags);
    if (!node) std::abort();
    const http::NewApiToken t = http::generate_api_token();
    token = t.token;
    node->store().save_api_token({t.id, t.hash, "admin", "", "fuzz", SystemClock().now(), false});
    api::ApiOptions api_options;
    api = std::make_unique<api::Api>(*node, metrics, api_options);
    api->add_routes(router);
    handler = std::make_unique<http::RequestHandler>(
        router, metrics,
        http::make_json_logger("fuzz", std::make_shared<spdlog::sinks::null_sink_st>()));
    node->worker().start();
  }
  std::unique_ptr<Node> node;
  std::string token;
  http::MetricsRegistry metrics;
  std::unique_ptr<api::Api> api;
  http::Router router;
  std::unique_ptr<http::RequestHandler> handler;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static App app;
  if (size == 0) return 0;
  const bool as_admin = (data[0] & 1U) != 0;
  const std::string_view raw(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto request = http::parse_request(raw, 64 * 1024, 8 * 1024);
  if (!request) return 0;
  if (as_admin) request->headers.set("Authorization", "Bearer " + app.token);
  const http::HttpResponse response = (*app.handler)(*request);
  (void)http::serialize_response(response, request->version, true);
  return 0;
}
