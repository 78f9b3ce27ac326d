// Phone-system webhooks (POST /hooks/{source}): what to do with one delivery, as a pure function
// of the source's configuration (engine/config.h, HookSource), the request, the URL it was sent
// to, the time and the secret. No I/O and no Beast: the route handler commits the decision
// (start, event or inbox) and answers; docs/webhooks.md describes the answers.
//
//   verify the signature (401) → read the payload (400/415) → dedup id → first matching route
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "adapters/http/http_error.h"
#include "adapters/http/http_message.h"
#include "engine/config.h"

namespace ombud::http {

// Start `workflow` with `data`. When `if_open` is set and the workflow refuses the start because
// a case with `key` is open (key_policy one_open), send `if_open->event` to that case instead.
struct HookStart {
  std::string workflow;
  boost::json::object data;
  std::string key;  // empty when the route gives none (the workflow derives it from `data`)
  struct IfOpen {
    std::string event;
    boost::json::object data;
  };
  std::optional<IfOpen> if_open;
};

// Send `event` with `data` to the open case of `workflow` whose business key is `key`. No such
// case makes the delivery unroutable: it goes to the inbox.
struct HookEvent {
  std::string workflow;
  std::string key;
  std::string event;
  boost::json::object data;
};

// Keep the delivery in the inbox for a person to replay: no route matched, or a route's mapping
// failed. Never dropped.
struct HookInbox {
  std::string reason;  // for people: which route and expression failed, and why
};

struct HookDecision {
  // The provider's event id (see HookSource::dedup), never empty, and the idempotency key to
  // commit under: "hook:<source>:<id>". A second delivery with the same key must get the first
  // answer again.
  std::string dedup_id;
  std::string idempotency_key;
  boost::json::object payload;       // the body as read (a form becomes an object of strings)
  std::optional<std::size_t> route;  // index into HookSource::routes of the route that matched
  std::variant<HookStart, HookEvent, HookInbox> action;
};

// Decides what a delivery means. `full_url` is the URL the sender called (scheme, host, path,
// query), which Twilio signs; `secret` is the source's secret (hook_secret below).
//
// Errors, in the order checked:
// - 503 `hook_not_configured`: `secret` is empty (an empty HMAC key would accept anyone);
// - 401 `invalid_signature`: the scheme's check failed; the message says which header and why,
//   never anything about the secret;
// - 415 `unsupported_media_type`: a body that is neither JSON nor a form;
// - 400 `malformed_json` / `malformed_form` / `invalid_body`: the payload cannot be read; the
//   message names the position (or says the JSON is not an object).
// Everything after that is a decision: a matching route, or the inbox. A `when` that fails to
// evaluate (say `body.duration > 60` without a duration) does not match; a key or data mapping
// that fails sends the delivery to the inbox with the route, the place and the error.
HttpResult<HookDecision> decide_hook(const HookSource& source, const HttpRequest& request,
                                     std::string_view full_url, std::chrono::sys_seconds now,
                                     std::string_view secret);

// The source's secret: the environment variable named by `secret_env` (looked up through
// `getenv`, so tests pass a fake), or the inline `secret`. Nullopt when the variable is unset or
// empty: the server must then refuse to start rather than accept unsigned deliveries.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
std::optional<std::string> hook_secret(const HookSource& source, const EnvLookup& getenv);

}  // namespace ombud::http
