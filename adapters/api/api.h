// The REST API of a node: every `/v1/...` route, the operational routes (/metrics, /healthz,
// /readyz, /openapi.json) and phone-system webhooks, as handlers on an http::Router. Each
// handler is a plain function of the request: it checks the caller's token and role, reads and
// validates the body (4xx with a JSON body naming the field), hands starts and events to the
// node's worker and answers only after the worker committed them.
//
// Roles (API tokens, `ombud token create --role R`):
//   admin       everything, including publishing workflows; transition `roles:` do not apply
//   supervisor  read everything, start cases, send events, reassign, the inbox, the directory
//   agent       read cases and workflows, start cases, send events
//   hook        start cases and send events (a phone system with a token instead of a signature)
// /healthz, /readyz, /metrics and /openapi.json need no token; /hooks/{source} is
// authenticated by the source's signature scheme instead.
//
// A token made for a person (`--person li.na`) acts with that person's directory roles when a
// transition names `roles:`; otherwise with the token's role.
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <memory>
#include <span>
#include <string>

#include "adapters/http/metrics.h"
#include "adapters/http/router.h"
#include "adapters/node/node.h"

namespace ombud::api {

struct ApiOptions {
  // Served as-is at /openapi.json; empty: the document built in (docs/openapi.json).
  std::string openapi_file;
  std::chrono::milliseconds answer_timeout{30'000};  // a step not committed by then: 503
  std::chrono::milliseconds token_cache_ttl{5'000};  // a revoked token stops working within this
  std::shared_ptr<spdlog::logger> log;  // why /readyz failed (not told to its caller); null: not
                                        // logged
};

// A step's result as the API answers it: `ok_status` (201 for a start, 200 for an event) or the
// error's status. A store failure throws StoreFailure, for the RequestHandler to log with the
// request id and answer 503 without the database's words. `brief`: for phone systems (hook
// tokens, /hooks), which may not read cases: the outcome and the case's id, workflow, state and
// key, not its data, assignee or history.
http::HttpResponse result_response(const RuntimeResult& r, int ok_status, bool brief = false);

class Api {
 public:
  // `node` and `metrics` must outlive the API. Registers the engine's metric families.
  Api(Node& node, http::MetricsRegistry& metrics, ApiOptions options);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  void add_routes(http::Router& router);

  // Webhook sources whose secret is missing (its environment variable is unset): they answer
  // 503 until it is set and the node restarted.
  std::vector<std::string> unconfigured_hooks() const;

  // For the worker's on_commit: counts events, transitions, timers, SLA breaches and
  // escalations per workflow.
  void record_commit(std::span<const RuntimeResult> results);
  // For the worker's on_flush: the store's commit latency.
  void record_flush(std::chrono::nanoseconds took);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ombud::api
