#include "adapters/http/hooks.h"

#include <boost/json/array.hpp>

#include "adapters/http/crypto.h"
#include "adapters/http/json_body.h"
#include "adapters/http/params.h"
#include "adapters/http/webhook_signature.h"
#include "engine/expr/expression.h"
#include "engine/store.h"

namespace ombud::http {
namespace {

enum class MediaType { json, form, other };

MediaType media_type_of(const HttpRequest& request) {
  const auto header = request.headers.get("Content-Type");
  if (!header) return MediaType::json;  // curl without -H, or a sender that says nothing
  std::string_view type = header->substr(0, header->find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  if (iequals(type, "application/x-www-form-urlencoded")) return MediaType::form;
  constexpr std::string_view kSuffix = "+json";
  if (iequals(type, "application/json") ||
      (type.size() > kSuffix.size() &&
       iequals(type.substr(type.size() - kSuffix.size()), kSuffix))) {
    return MediaType::json;
  }
  return MediaType::other;
}

// Form fields as a JSON object of strings; a name sent more than once becomes a list of them.
boost::json::object form_object(const ParamList& params) {
  boost::json::object out;
  for (const auto& [name, value] : params.entries()) {
    auto* existing = out.if_contains(name);
    if (existing == nullptr) {
      out[name] = value;
    } else if (auto* list = existing->if_array()) {
      list->emplace_back(value);
    } else {
      boost::json::array list2;
      list2.push_back(std::move(*existing));
      list2.emplace_back(value);
      *existing = std::move(list2);
    }
  }
  return out;
}

HttpError unauthorized(const SignatureCheck& check) {
  return HttpError{401, "invalid_signature", check.reason, ""};
}

std::string where(const Expr& e, std::size_t offset) {
  const SourcePos pos = e.pos_at(offset);
  return "line " + std::to_string(pos.line) + ", column " + std::to_string(pos.column);
}

class RouteEvaluator {
 public:
  RouteEvaluator(const boost::json::object& payload, std::chrono::sys_seconds now) {
    ctx_.body = &payload;
    ctx_.now = std::chrono::time_point_cast<Millis>(now);
  }

  expr::EvalResult evaluate(const Expr& e) const {
    if (!e.ast) {
      expr::EvalResult r;
      r.error.message = "the expression did not parse";
      return r;
    }
    return expr::evaluate(*e.ast, ctx_);
  }

  // A key or an event id: a non-empty string, or an integer written in decimal.
  std::optional<std::string> text(const Expr& e, std::string& error) const {
    const expr::EvalResult r = evaluate(e);
    if (!r.ok()) {
      error = r.error.message + " (" + where(e, r.error.offset) + ")";
      return std::nullopt;
    }
    if (const auto* s = std::get_if<std::string>(&r.value->v); s != nullptr && !s->empty()) {
      return *s;
    }
    if (const auto* i = std::get_if<std::int64_t>(&r.value->v)) return std::to_string(*i);
    const std::string got = r.value->is_null() ? "null"
                            : std::holds_alternative<std::string>(r.value->v)
                                ? "an empty string"
                                : r.value->to_string();
    error = "'" + e.text + "' gave " + got + ", not a non-empty string";
    return std::nullopt;
  }

  // The data object; fields whose value is null are left out, as if the sender had not sent
  // them, so that optional fields a payload lacks do not reach the workflow as null.
  std::optional<boost::json::object> data(const HookData& fields, std::string& error) const {
    boost::json::object out;
    for (const auto& field : fields) {
      const std::string& name = field.first;  // not a structured binding: lambdas capture it
      const auto& spec = field.second;
      const auto eval = [&](const Expr& e) -> std::optional<boost::json::value> {
        const expr::EvalResult r = evaluate(e);
        if (!r.ok()) {
          error = "data." + name + ": " + r.error.message + " (" + where(e, r.error.offset) + ")";
          return std::nullopt;
        }
        return expr::to_json(*r.value);
      };
      auto value = resolve_value(spec, eval);
      if (!value) return std::nullopt;
      if (!value->is_null()) out[name] = std::move(*value);
    }
    return out;
  }

 private:
  expr::EvalContext ctx_;
};

std::string route_name(const HookRoute& route, std::size_t index) {
  return "route " + std::to_string(index + 1) + " (line " + std::to_string(route.pos.line) + ")";
}

// What the matched route says, or the inbox with the reason its mapping failed.
std::variant<HookStart, HookEvent, HookInbox> apply_route(const HookRoute& route, std::size_t index,
                                                          const RouteEvaluator& eval) {
  std::string error;
  const auto inbox = [&](std::string_view what) {
    return HookInbox{route_name(route, index) + " matched, but its " + std::string(what) +
                     " failed: " + error};
  };
  std::string key;
  if (route.key) {
    auto k = eval.text(*route.key, error);
    if (!k) return inbox("key");
    key = std::move(*k);
  }
  auto data = eval.data(route.data, error);
  if (!data) return inbox("data");
  if (!route.start.empty()) {
    HookStart start{route.start, std::move(*data), std::move(key), std::nullopt};
    if (route.if_open) {
      auto open_data = eval.data(route.if_open->data, error);
      if (!open_data) return inbox("if_open data");
      start.if_open = HookStart::IfOpen{route.if_open->event, std::move(*open_data)};
    }
    return start;
  }
  return HookEvent{route.workflow, std::move(key), route.event, std::move(*data)};
}

}  // namespace

HttpResult<HookDecision> decide_hook(const HookSource& source, const HttpRequest& request,
                                     std::string_view full_url, std::chrono::sys_seconds now,
                                     std::string_view secret) {
  if (secret.empty()) {
    return HttpError{503, "hook_not_configured",
                     "hook source '" + source.name + "' has no secret configured", ""};
  }
  const MediaType media = media_type_of(request);
  // Twilio signs the form parameters, so they are read before the check.
  std::optional<ParamList> form;
  if (media == MediaType::form) {
    auto parsed = parse_form(request.body);
    if (!parsed && source.verify.scheme == HookScheme::twilio) return parsed.error();
    if (parsed) form = std::move(*parsed);
  }
  SignatureCheck check;
  switch (source.verify.scheme) {
    case HookScheme::ombud:
      check =
          verify_native_signature(secret, request.headers.get(kNativeTimestampHeader),
                                  request.headers.get(kNativeSignatureHeader), request.body, now);
      break;
    case HookScheme::twilio:
      check = verify_twilio_signature(secret, request.headers.get(kTwilioSignatureHeader), full_url,
                                      form ? *form : ParamList{});
      // The signature covers form parameters only: any other body through bodySHA256.
      if (check.ok() && !form && !request.body.empty()) {
        check = verify_twilio_body(full_url, request.body);
      }
      break;
    case HookScheme::token:
      check = verify_shared_token(secret, request.headers.get(source.verify.header));
      if (!check.ok()) check.reason = source.verify.header + ": " + check.reason;
      break;
  }
  if (!check.ok()) return unauthorized(check);

  HookDecision decision;
  switch (media) {
    case MediaType::form: {
      if (!form) return parse_form(request.body).error();
      decision.payload = form_object(*form);
      break;
    }
    case MediaType::json: {
      if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) break;  // empty: {}
      auto json = parse_json(request.body);
      if (!json) return json.error();
      if (!json->is_object()) {
        return HttpError{400, "invalid_body",
                         "the webhook body must be a JSON object or a form "
                         "(application/x-www-form-urlencoded)",
                         ""};
      }
      decision.payload = std::move(json->as_object());
      break;
    }
    case MediaType::other:
      return HttpError{415, "unsupported_media_type",
                       "send the webhook body as application/json or "
                       "application/x-www-form-urlencoded, not " +
                           std::string(*request.headers.get("Content-Type")),
                       ""};
  }

  const RouteEvaluator eval(decision.payload, now);
  std::optional<std::string> dedup_problem;
  if (source.dedup) {
    std::string error;
    if (auto id = eval.text(*source.dedup, error)) {
      decision.dedup_id = std::move(*id);
    } else {
      dedup_problem = "the event id (dedup: " + source.dedup->text + ") failed: " + error;
    }
  } else if (source.verify.scheme == HookScheme::twilio) {
    const auto* sid = decision.payload.if_contains("CallSid");
    const auto* status = decision.payload.if_contains("CallStatus");
    if (sid != nullptr && sid->is_string() && !sid->as_string().empty()) {
      decision.dedup_id =
          std::string(sid->as_string()) + ":" +
          (status != nullptr && status->is_string() ? std::string(status->as_string())
                                                    : std::string());
    } else {
      dedup_problem = "the delivery has no CallSid to deduplicate it by";
    }
  }
  // Without an id of its own, a delivery is known by its bytes: a retry of it is the same event.
  if (decision.dedup_id.empty()) decision.dedup_id = "sha256:" + to_hex(sha256(request.body));
  decision.idempotency_key = std::string(kHookKeyPrefix) + source.name + ":" + decision.dedup_id;
  if (dedup_problem) {
    decision.action = HookInbox{*dedup_problem};
    return decision;
  }

  std::string first_failure;
  for (std::size_t i = 0; i < source.routes.size(); ++i) {
    const HookRoute& route = source.routes[i];
    if (route.when) {
      const expr::EvalResult r = eval.evaluate(*route.when);
      if (!r.ok() && first_failure.empty()) {
        first_failure = "; " + route_name(route, i) + "'s condition failed: " + r.error.message +
                        " (" + where(*route.when, r.error.offset) + ")";
      }
      if (!expr::is_true(r)) continue;
    }
    decision.route = i;
    decision.action = apply_route(route, i, eval);
    return decision;
  }
  decision.action = HookInbox{"no route of hook source '" + source.name + "' matched the delivery" +
                              first_failure};
  return decision;
}

std::optional<std::string> hook_secret(const HookSource& source, const EnvLookup& getenv) {
  if (!source.verify.secret_env.empty()) {
    auto value = getenv(source.verify.secret_env);
    if (!value || value->empty()) return std::nullopt;
    return value;
  }
  if (source.verify.secret.empty()) return std::nullopt;
  return source.verify.secret;
}

}  // namespace ombud::http
