#include "adapters/api/api.h"

#include <boost/json.hpp>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "adapters/api/openapi_document.h"
#include "adapters/http/api_token.h"
#include "adapters/http/hooks.h"
#include "adapters/http/http_error.h"
#include "adapters/http/json_body.h"
#include "adapters/http/json_log.h"
#include "adapters/sql/sql_store.h"
#include "adapters/yaml/workflow_loader.h"
#include "engine/graph.h"

namespace ombud::api {

namespace json = boost::json;
using http::error_response;
using http::HttpError;
using http::HttpRequest;
using http::HttpResponse;
using http::HttpResult;
using http::RouteMatch;

namespace {

// ---- roles -------------------------------------------------------------------------------------

enum Access : unsigned {
  kAdmin = 1U << 0U,
  kSupervisor = 1U << 1U,
  kAgent = 1U << 2U,
  kHook = 1U << 3U,
};
constexpr unsigned kStaff = kAdmin | kSupervisor | kAgent;
constexpr unsigned kSenders = kStaff | kHook;

unsigned access_of(std::string_view role) {
  if (role == "admin") return kAdmin;
  if (role == "supervisor") return kSupervisor;
  if (role == "agent") return kAgent;
  if (role == "hook") return kHook;
  return 0;
}

struct Caller {
  std::string role;
  std::string person;
  std::string token_id;
  std::string label;

  // Who history names as the actor.
  std::string actor() const { return !person.empty() ? person : "token:" + token_id; }
};

// ---- reading requests --------------------------------------------------------------------------

HttpError bad_field(std::string field, std::string message) {
  return {400, "invalid_field", std::move(message), std::move(field)};
}

// A JSON request body read field by field. The first problem (not JSON, a missing or mistyped
// field) is kept; later reads return empty values, and the handler answers with error().
// "a, b, c": the names a request may use, for the message that names one it may not.
std::string listed(std::initializer_list<std::string_view> names) {
  std::string out;
  for (const std::string_view n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

class Body {
 public:
  // `fields`: the members the route reads (its schema in docs/openapi.json). Any other is a 400
  // naming it: a misspelt `idempotencyKey` or `assignee` would otherwise be dropped in silence,
  // and the request run without what the caller meant it to carry.
  Body(const HttpRequest& request, std::initializer_list<std::string_view> fields)
      : request_(request) {
    auto parsed = http::parse_json_object(request);
    if (!parsed) {
      error_ = parsed.error();
      return;
    }
    object_ = std::move(*parsed);
    for (const auto& member : object_) {
      if (std::find(fields.begin(), fields.end(), member.key()) == fields.end()) {
        fail(member.key(), "unknown field '" + std::string(member.key()) +
                               "'; this request takes " + listed(fields));
        return;
      }
    }
  }

  const std::optional<HttpError>& error() const { return error_; }
  bool has(std::string_view name) const { return object_.contains(name); }

  std::string text(std::string_view name, bool required = false) {
    const json::value* v = find(name);
    if (v == nullptr) {
      if (required) fail(name, "'" + std::string(name) + "' is required");
      return {};
    }
    if (!v->is_string()) {
      fail(name, "'" + std::string(name) + "' must be a string");
      return {};
    }
    return std::string(v->as_string());
  }

  json::object object(std::string_view name) {
    const json::value* v = find(name);
    if (v == nullptr) return {};
    if (!v->is_object()) {
      fail(name, "'" + std::string(name) + "' must be a JSON object");
      return {};
    }
    return v->as_object();
  }

  // The case revision the caller acted on, when it says.
  std::optional<std::uint64_t> revision() {
    const json::value* v = find("revision");
    if (v == nullptr) return std::nullopt;
    if (v->is_int64() && v->as_int64() >= 0) return static_cast<std::uint64_t>(v->as_int64());
    if (v->is_uint64()) return v->as_uint64();
    fail("revision", "'revision' must be a non-negative integer");
    return std::nullopt;
  }

  // The body's idempotency_key, or the Idempotency-Key header. The prefixes of the keys ombud
  // makes for webhooks and inbox replays are not a caller's: such a key could answer for, or
  // be answered by, a phone system's event.
  std::string idempotency_key() {
    std::string key = text("idempotency_key");
    if (key.empty()) key = std::string(request_.headers.get("Idempotency-Key").value_or(""));
    if (std::string why = reserved_key_reason(key); !why.empty()) fail("idempotency_key", why);
    return key;
  }

 private:
  const json::value* find(std::string_view name) const {
    if (error_) return nullptr;
    auto it = object_.find(name);
    return it == object_.end() || it->value().is_null() ? nullptr : &it->value();
  }

  void fail(std::string_view field, std::string message) {
    if (!error_) error_ = bad_field(std::string(field), std::move(message));
  }

  const HttpRequest& request_;
  json::object object_;
  std::optional<HttpError> error_;
};

// A whole number written in decimal digits only (an inbox entry's id as a path segment or a
// cursor, a limit), and no more than a uint64 holds: more would wrap around to another number.
bool parse_id(std::string_view text, std::uint64_t& id) {
  id = 0;
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9' || id > (UINT64_MAX - 9) / 10) return false;
    id = id * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return true;
}

HttpResult<std::size_t> limit_param(const http::ParamList& query) {
  auto text = query.get("limit");
  if (!text) return HttpResult<std::size_t>(boost::system::in_place_value, 50);
  std::uint64_t n = 0;
  if (!parse_id(*text, n) || n < 1 || n > 500) {
    return bad_field("limit", "'limit' must be a whole number from 1 to 500");
  }
  return HttpResult<std::size_t>(boost::system::in_place_value, static_cast<std::size_t>(n));
}

// A query parameter the route does not read: 400 naming it, rather than an answer that ignores
// it (`?queue=complaints` listed every case).
std::optional<HttpError> unknown_param(const http::ParamList& query,
                                       std::initializer_list<std::string_view> known) {
  for (const auto& [name, value] : query.entries()) {
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    return bad_field(name,
                     known.size() == 0
                         ? "unknown parameter '" + name + "'; this route takes none"
                         : "unknown parameter '" + name + "'; this route takes " + listed(known));
  }
  return std::nullopt;
}

HttpError unauthenticated(std::string message) {
  return {401, "unauthenticated", std::move(message), ""};
}

// The answer to a caller who may not pass; a 401 names the scheme to use (RFC 9110 §11.6.1).
HttpResponse deny(const HttpError& error) {
  HttpResponse r = error_response(error);
  if (error.status == 401) r.headers.set("WWW-Authenticate", "Bearer realm=\"ombud\"");
  return r;
}

HttpResponse unknown_workflow(const std::string& name) {
  return error_response(404, "unknown_workflow", "no workflow '" + name + "' is published",
                        "workflow");
}

// ---- answers -----------------------------------------------------------------------------------

json::object history_json(const StoredHistory& h) {
  return {{"seq", h.seq},
          {"at", format_timestamp(h.entry.at)},
          {"kind", h.entry.kind},
          {"message", h.entry.message},
          {"details", h.entry.details.object()},
          {"actor", h.actor}};
}

json::object definition_json(const PublishedDefinition& d, bool with_source) {
  json::object o{{"name", d.name},
                 {"version", d.version},
                 {"content_hash", d.content_hash},
                 {"published_by", d.published_by},
                 {"published_at", format_timestamp(d.published_at)}};
  if (with_source) o["source"] = d.source;
  return o;
}

json::object inbox_json(const InboxEntry& e) {
  return {{"id", e.id},
          {"source", e.source},
          {"received_at", format_timestamp(e.received_at)},
          {"reason", e.reason},
          {"payload", e.payload},
          {"replayed_into", e.replayed_into}};
}

json::array diagnostics_json(const Diagnostics& diags) {
  json::array out;
  for (const Diagnostic& d : diags.items()) {
    out.push_back(json::object{{"file", d.file},
                               {"line", d.pos.line},
                               {"column", d.pos.column},
                               {"severity", d.severity == Severity::error ? "error" : "warning"},
                               {"message", d.message}});
  }
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

HttpResponse result_response(const RuntimeResult& r, int ok_status, bool brief) {
  switch (r.status) {
    case RuntimeResult::Status::ok:
    case RuntimeResult::Status::not_handled: {
      const int status = r.replayed ? 200 : ok_status;
      if (!brief) return HttpResponse::json(status, r.to_json());
      json::object out{{"status", r.status == RuntimeResult::Status::ok ? "ok" : "not_handled"}};
      if (r.replayed) out["replayed"] = true;
      if (r.instance) {
        json::object case_of{{"id", r.instance->id},
                             {"workflow", r.instance->workflow.str()},
                             {"state", r.instance->state.str()}};
        if (!r.instance->key.empty()) case_of["key"] = r.instance->key;
        out["instance"] = std::move(case_of);
      }
      return HttpResponse::json(status, out);
    }
    case RuntimeResult::Status::rejected:
      if (r.error.find("needs one of the roles") != std::string::npos) {
        return error_response(403, "role_not_allowed", r.error);
      }
      return error_response(422, "rejected", r.error);
    case RuntimeResult::Status::not_found:
      return error_response(404, "not_found", r.error);
    case RuntimeResult::Status::conflict:
      return error_response(409, "conflict", r.error);
    case RuntimeResult::Status::unavailable:
      // The database's own words stay in the log (RequestHandler, with the request id).
      if (r.store_failure) throw StoreFailure(r.error);
      return error_response(503, "unavailable", r.error);
    case RuntimeResult::Status::key_reused:
      return error_response(422, "idempotency_key_reused", r.error, "idempotency_key");
    case RuntimeResult::Status::stale_revision:
      return error_response(409, "stale_revision", r.error, "revision");
  }
  return error_response(500, "internal", "unknown result");
}

// ---- the API -----------------------------------------------------------------------------------

struct Api::Impl {
  Impl(Node& n, http::MetricsRegistry& m, ApiOptions o)
      : node(n),
        metrics(m),
        options(std::move(o)),
        openapi(options.openapi_file.empty() ? std::string(api::openapi_document())
                                             : read_file(options.openapi_file)),
        events(m.counter("ombud_events_total", "Events applied to cases", {"workflow"})),
        transitions(m.counter("ombud_transitions_total", "State transitions taken", {"workflow"})),
        starts(m.counter("ombud_cases_started_total", "Cases started", {"workflow"})),
        timers_fired(m.counter("ombud_timers_fired_total", "Timers fired", {"workflow"})),
        lateness(m.histogram("ombud_timer_lateness_seconds",
                             "How late timers fired after their due time", {},
                             {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300})),
        breaches(m.counter("ombud_sla_breaches_total", "SLA goals exceeded", {"workflow", "sla"})),
        escalations(m.counter("ombud_sla_escalations_total", "Escalation levels reached",
                              {"workflow", "sla", "level"})),
        timers_pending(m.gauge("ombud_timers_pending",
                               "Timer rows in the store: each case's earliest pending timer")),
        timers_in_memory(
            m.gauge("ombud_timers_claimed", "Timers this node holds in its look-ahead window")),
        outbox_undelivered(m.gauge("ombud_outbox_undelivered",
                                   "Notifications and webhooks in the store not delivered yet")),
        deliveries(m.counter("ombud_outbox_deliveries_total",
                             "Delivery attempts of notifications and webhooks by this node",
                             {"result"})),
        batches(m.counter("ombud_commit_batches_total", "Group commits written by this node")),
        store_errors(m.counter("ombud_store_errors_total", "Batches whose commit failed")),
        forgotten(m.counter("ombud_housekeeping_forgotten_total",
                            "Rows housekeeping forgot since this node started (retention)",
                            {"what"})),
        commit_latency(m.histogram("ombud_store_commit_seconds",
                                   "How long one group commit's transaction took", {})),
        checkpoints(m.counter("ombud_sqlite_checkpoints_total",
                              "SQLite log checkpoints since the store opened: by the store's "
                              "thread, the rest by the next commit, or by a commit because the "
                              "thread had fallen behind",
                              {"by"})) {
    if (const Config* config = node.config()) {
      for (const HookSource& s : config->hooks) {
        auto secret = http::hook_secret(s, [](const std::string& name) {
          const char* v = std::getenv(name.c_str());
          return v != nullptr ? std::optional<std::string>(v) : std::nullopt;
        });
        if (secret) hook_secrets[s.name] = *secret;
      }
    }
  }

  std::vector<std::string> unconfigured_hooks() const {
    std::vector<std::string> out;
    if (const Config* config = node.config()) {
      for (const HookSource& s : config->hooks) {
        if (hook_secrets.count(s.name) == 0) out.push_back(s.name);
      }
    }
    return out;
  }

  // ---- authentication ----

  // The row of a presented token, kept for `token_cache_ttl` by the token's hash: the cache,
  // like the store, never holds a token itself.
  std::optional<ApiTokenRow> lookup_token(std::string_view token) {
    const std::string hash = http::hash_api_token(token);
    const auto now = std::chrono::steady_clock::now();
    {
      const std::lock_guard lock(token_mutex);
      auto it = token_cache.find(hash);
      if (it != token_cache.end() && now - it->second.second < options.token_cache_ttl) {
        return it->second.first;
      }
    }
    std::optional<ApiTokenRow> row = node.store().find_api_token(hash);
    if (!row) return row;  // not cached: a token created a moment later works at once
    const std::lock_guard lock(token_mutex);
    if (token_cache.size() > 10'000) token_cache.clear();
    token_cache.insert_or_assign(hash, std::pair{row, now});
    return row;
  }

  HttpResult<Caller> authorize(const HttpRequest& request, unsigned allowed) {
    auto header = request.headers.get("Authorization");
    if (!header) {
      return unauthenticated(
          "this route needs 'Authorization: Bearer <token>' (ombud token create)");
    }
    auto token = http::bearer_token(*header);
    if (!token) return unauthenticated("the Authorization header is not 'Bearer <token>'");
    if (!http::is_well_formed_api_token(*token)) {
      return unauthenticated("the bearer token is not an ombud token (omb_...)");
    }
    auto row = lookup_token(*token);
    if (!row) return unauthenticated("unknown token");
    if (row->revoked) return unauthenticated("the token was revoked");
    if ((access_of(row->role) & allowed) == 0U) {
      return HttpError{403, "forbidden", "the role '" + row->role + "' may not use this route", ""};
    }
    if (const Config* config = node.config();
        config != nullptr && !row->person.empty() && config->find_person(row->person) == nullptr) {
      // Made for someone who has left the directory (or was never in it): acting under the
      // token's role alone would pass `roles:` checks meant for the person's own roles, and
      // the history would name someone nobody can look up.
      return HttpError{403, "unknown_person",
                       "the token was made for '" + row->person +
                           "', who is not in the directory; revoke it, or add the person",
                       ""};
    }
    return Caller{row->role, row->person, row->id, row->label};
  }

  // Roles a transition's `roles:` is checked against; admins are not checked.
  void set_actor(const Caller& caller, EventRequest& r) const {
    r.actor = caller.actor();
    if (caller.role == "admin") return;
    r.enforce_roles = true;
    r.actor_roles = {caller.role};
    if (const Config* config = node.config(); config != nullptr && !caller.person.empty()) {
      if (const Person* p = config->find_person(caller.person)) r.actor_roles = p->roles;
    }
  }

  // Whether `name` is published; a name this node does not know may have been published by
  // another node sharing the store a moment ago.
  bool known_workflow(const std::string& name) {
    if (node.definition(name)) return true;
    Diagnostics ignored;
    node.refresh_definitions(ignored);
    return node.definition(name) != nullptr;
  }

  // ---- waiting for the worker ----

  // The step's result once committed; nullopt when that took longer than the answer timeout.
  template <class Request>
  std::optional<RuntimeResult> run(Request request) {
    std::future<RuntimeResult> answer = node.worker().submit(std::move(request));
    if (answer.wait_for(options.answer_timeout) != std::future_status::ready) return std::nullopt;
    return answer.get();
  }

  static HttpResponse timed_out() {
    return error_response(503, "timeout",
                          "the step was not committed in time; send it again with the same "
                          "idempotency key to learn its outcome");
  }

  // `caller`'s role decides how much of the case the answer shows (result_response, brief).
  template <class Request>
  HttpResponse submit(Request request, int ok_status, const Caller& caller) {
    auto result = run(request);
    // A case on a version another node published a moment ago: load it, and ask once more.
    if (result && version_not_loaded(*result)) {
      Diagnostics ignored;
      if (node.refresh_definitions(ignored) > 0) result = run(std::move(request));
    }
    return result ? result_response(*result, ok_status, caller.role == "hook") : timed_out();
  }

  // ---- instances ----

  HttpResponse create_instance(const HttpRequest& req, const RouteMatch&) {
    auto caller = authorize(req, kSenders);
    if (!caller) return deny(caller.error());
    Body body(req, {"workflow", "data", "key", "idempotency_key"});
    StartRequest r;
    r.workflow = body.text("workflow", true);
    r.data = body.object("data");
    r.key = body.text("key");
    r.idempotency_key = body.idempotency_key();
    if (body.error()) return error_response(*body.error());
    if (!known_workflow(r.workflow)) return unknown_workflow(r.workflow);
    r.actor = caller->actor();
    return submit(std::move(r), 201, *caller);
  }

  HttpResponse get_instance(const HttpRequest& req, const RouteMatch& m) {
    auto caller = authorize(req, kStaff);
    if (!caller) return deny(caller.error());
    // The stored document as it is: no parse and serialize on the way through.
    auto document = node.store().load_document(std::string(m.param("id")));
    if (!document)
      return error_response(404, "not_found", "no case '" + std::string(m.param("id")) + "'");
    return HttpResponse::text(200, std::move(*document), "application/json");
  }

  HttpResponse instance_history(const HttpRequest& req, const RouteMatch& m) {
    auto caller = authorize(req, kStaff);
    if (!caller) return deny(caller.error());
    const std::string id(m.param("id"));
    if (!node.store().load(id)) return error_response(404, "not_found", "no case '" + id + "'");
    json::array items;
    for (const StoredHistory& h : node.store().history(id)) items.push_back(history_json(h));
    return HttpResponse::json(200, json::object{{"instance", id}, {"history", std::move(items)}});
  }

  HttpResponse list_instances(const HttpRequest& req, const RouteMatch& m) {
    auto caller = authorize(req, kStaff);
    if (!caller) return deny(caller.error());
    if (auto unknown = unknown_param(m.query, {"workflow", "state", "assignee", "queue", "key",
                                               "open", "sla", "limit", "cursor"})) {
      return error_response(*unknown);
    }
    InstanceFilter f;
    auto text = [&](std::string_view name) { return std::string(m.query.get(name).value_or("")); };
    f.workflow = text("workflow");
    f.state = text("state");
    f.assignee = text("assignee");
    f.queue = text("queue");
    f.key = text("key");
    f.after_id = text("cursor");
    if (!f.after_id.empty() && !node.store().load(f.after_id)) {
      // A cursor is the id of the last case of a page; one that names no case is a typo or
      // another server's, and reading it as a position would page from an arbitrary place.
      return error_response(bad_field(
          "cursor", "no case '" + f.after_id + "': pass the previous page's next_cursor"));
    }
    const std::string open = text("open");
    if (!open.empty() && open != "true" && open != "false") {
      return error_response(bad_field("open", "'open' must be true or false"));
    }
    f.open_only = open == "true";
    const std::string sla = text("sla");
    if (sla == "breached") {
      f.sla = InstanceFilter::Sla::breached;
    } else if (sla == "at_risk") {
      f.sla = InstanceFilter::Sla::at_risk;
    } else if (!sla.empty()) {
      return error_response(bad_field("sla", "'sla' must be breached or at_risk"));
    }
    f.now = node.clock().now();
    auto limit = limit_param(m.query);
    if (!limit) return error_response(limit.error());
    f.limit = *limit + 1;  // one more tells whether there is a next page
    std::vector<Instance> found = node.store().find_instances(f);
    const bool more = found.size() > *limit;
    if (more) found.resize(*limit);
    json::array items;
    for (const Instance& in : found) items.push_back(to_json(in));
    json::object out{{"items", std::move(items)}};
    out["next_cursor"] = more ? json::value(found.back().id) : json::value(nullptr);
    return HttpResponse::json(200, out);
  }

  HttpResponse send_event(const HttpRequest& req, const RouteMatch& m) {
    auto caller = authorize(req, kSenders);
    if (!caller) return deny(caller.error());
    Body body(req, {"event", "data", "idempotency_key", "revision"});
    EventRequest r;
    r.instance_id = std::string(m.param("id"));
    r.event = body.text("event", true);
    r.data = body.object("data");
    r.idempotency_key = body.idempotency_key();
    r.revision = body.revision();
    if (body.error()) return error_response(*body.error());
    set_actor(*caller, r);
    return submit(std::move(r), 200, *caller);
  }

  HttpResponse send_event_by_key(const HttpRequest& req, const RouteMatch&) {
    auto caller = authorize(req, kSenders);
    if (!caller) return deny(caller.error());
    Body body(req, {"workflow", "key", "event", "data", "idempotency_key"});
    EventRequest r;
    r.workflow = body.text("workflow", true);
    r.key = body.text("key", true);
    r.event = body.text("event", true);
    r.data = body.object("data");
    r.idempotency_key = body.idempotency_key();
    if (body.error()) return error_response(*body.error());
    if (!known_workflow(r.workflow)) return unknown_workflow(r.workflow);
    set_actor(*caller, r);
    return submit(std::move(r), 200, *caller);
  }

  HttpResponse assign(const HttpRequest& req, const RouteMatch& m) {
    auto caller = authorize(req, kAdmin | kSupervisor);
    if (!caller) return deny(caller.error());
    Body body(req, {"to", "queue", "reason", "idempotency_key", "revision"});
    AssignRequest r;
    r.instance_id = std::string(m.param("id"));
    r.to = body.text("to");
    r.queue = body.text("queue");
    r.reason = body.text("reason");
    r.idempotency_key = body.idempotency_key();
    r.revision = body.revision();
    if (body.error()) return error_response(*body.error());
    if (!r.to.empty() && !r.queue.empty()) {
      return error_response(bad_field("queue", "name a person ('to') or a queue, not both"));
    }
    if (const Config* config = node.config(); config != nullptr) {
      if (!r.to.empty() && config->find_person(r.to) == nullptr) {
        return error_response(422, "unknown_person",
                              "nobody called '" + r.to + "' in the directory", "to");
      }
      if (!r.queue.empty() && config->find_queue(r.queue) == nullptr) {
        return error_response(422, "unknown_queue", "no queue '" + r.queue + "' in the directory",
                              "queue");
      }
    }
    r.actor = caller->actor();
    return submit(std::move(r), 200, *caller);
  }

  HttpResponse resolve_incident(const HttpRequest& req, const RouteMatch& m) {
    auto caller = authorize(req, kAdmin | kSupervisor);
    if (!caller) return deny(caller.error());
    ResolveIncidentRequest r;
    r.instance_id = std::string(m.param("id"));
    std::uint64_t n = 0;
    if (!parse_id(m.param("n"), n) || n == 0) {
      return error_response(404, "not_found",
                            "no incident '" + std::string(m.param("n")) +
                                "': incidents are numbered from 1, in the order of `incidents`");
    }
    r.incident = n;
    Body body(req, {"note", "idempotency_key", "revision"});
    r.note = body.text("note");
    r.idempotency_key = body.idempotency_key();
    r.revision = body.revision();
    if (body.error()) return error_response(*body.error());
    r.actor = caller->actor();
    return submit(std::move(r), 200, *caller);
  }

  // ---- workflows ----

  HttpResponse list_workflows(const HttpRequest& req, const RouteMatch&) {
    auto caller = authorize(req, kStaff);
    if (!caller) return deny(caller.error());
    json::array items;
    for (const PublishedDefinition& d : node.store().latest_definitions()) {
      items.push_back(definition_json(d, false));
    }
    return HttpResponse::json(200, json::object{{"workflows", std::move(items)}});
  }

  HttpResponse get_workflow(const HttpRequest& req, const RouteMatch& m) {
    auto caller = authorize(req, kStaff);
    if (!caller) return deny(caller.error());
    const std::string name(m.param("name"));
    std::vector<PublishedDefinition> versions = node.store().definition_versions(name);
    if (versions.empty()) {
      return error_response(404, "unknown_workflow", "no workflow '" + name + "' is published");
    }
    json::array list;
    for (const PublishedDefinition& d : versions) list.push_back(definition_json(d, false));
    json::object out = definition_json(versions.back(), true);
    out["versions"] = std::move(list);
    return HttpResponse::json(200, out);
  }

  HttpResponse put_workflow(const HttpRequest& req, const RouteMatch& m) {
    auto caller = authorize(req, kAdmin);
    if (!caller) return deny(caller.error());
    const std::string name(m.param("name"));
    const std::string file = name + ".yaml";
    // Any text type is taken as YAML (curl's --data-binary sends form-urlencoded by default);
    // a form upload is not: its boundaries and part headers would be read as the workflow.
    if (const auto type = req.headers.get("Content-Type");
        type && type->size() >= 10 && http::iequals(type->substr(0, 10), "multipart/")) {
      return error_response(415, "unsupported_media_type",
                            "send the YAML itself as the body (curl --data-binary @" + file +
                                "), not as a form upload (-F)");
    }
    Diagnostics diags;
    std::optional<PublishResult> published;
    {
      // The name in the YAML must be the one in the path: publishing under another would
      // surprise whoever reads the URL later.
      Diagnostics parse;
      auto def = yaml::load_workflow(file, req.body, parse);
      if (def && def->name != name) {
        diags.error(
            file, def->name_pos.line > 0 ? def->name_pos : SourcePos{1, 1},
            "the workflow is called '" + def->name + "' but was sent to /v1/workflows/" + name);
      } else {
        published = node.publish(file, req.body, caller->actor(), diags);
      }
    }
    if (!published) {
      diags.sort();
      std::string message = std::to_string(diags.error_count()) + " error(s) in " + file;
      // (A one-line JSON body is valid YAML, and not a flattened file.)
      if (req.body.size() > 40 && req.body.find('\n') == std::string::npos &&
          req.body.find_first_not_of(" \t") != req.body.find('{')) {
        message +=
            " (the body has no line breaks: curl -d removes them; send the file with "
            "--data-binary @" +
            file + ")";
      }
      json::object out{
          {"error", json::object{{"code", "invalid_workflow"}, {"message", std::move(message)}}},
          {"diagnostics", diagnostics_json(diags)}};
      return HttpResponse::json(422, out);
    }
    json::object out = definition_json(published->definition, false);
    out["created"] = published->created;
    out["warnings"] = diagnostics_json(diags);
    return HttpResponse::json(published->created ? 201 : 200, out);
  }

  HttpResponse workflow_graph(const HttpRequest& req, const RouteMatch& m) {
    auto caller = authorize(req, kStaff);
    if (!caller) return deny(caller.error());
    auto def = node.definition(std::string(m.param("name")));
    if (!def) {
      return error_response(404, "unknown_workflow",
                            "no workflow '" + std::string(m.param("name")) + "' is published");
    }
    if (auto unknown = unknown_param(m.query, {"format"})) return error_response(*unknown);
    const std::string format(m.query.get("format").value_or("mermaid"));
    if (format == "mermaid") return HttpResponse::text(200, to_mermaid(*def));
    if (format == "dot") {
      return HttpResponse::text(200, to_dot(*def), "text/vnd.graphviz; charset=utf-8");
    }
    return error_response(bad_field("format", "'format' must be mermaid or dot"));
  }

  // ---- directory and inbox ----

  HttpResponse directory(const HttpRequest& req, const RouteMatch&) {
    auto caller = authorize(req, kAdmin | kSupervisor);
    if (!caller) return deny(caller.error());
    json::array people, queues;
    if (const Config* config = node.config()) {
      for (const Person& p : config->people) {
        json::array roles(p.roles.begin(), p.roles.end());
        json::array skills(p.skills.begin(), p.skills.end());
        people.push_back(json::object{{"id", p.id},
                                      {"name", p.name},
                                      {"roles", std::move(roles)},
                                      {"manager", p.manager},
                                      {"skills", std::move(skills)},
                                      {"capacity", p.capacity},
                                      {"open_cases", node.store().open_cases(p.id)}});
      }
      for (const Queue& q : config->queues) {
        json::array members;
        for (const Person* p : node.context().directory->queue_members(q.name)) {
          members.push_back(json::value(p->id));
        }
        queues.push_back(
            json::object{{"name", q.name}, {"title", q.title}, {"members", std::move(members)}});
      }
    }
    return HttpResponse::json(200, json::object{{"people", std::move(people)}, {"queues", queues}});
  }

  HttpResponse list_inbox(const HttpRequest& req, const RouteMatch& m) {
    auto caller = authorize(req, kAdmin | kSupervisor);
    if (!caller) return deny(caller.error());
    if (auto unknown = unknown_param(m.query, {"all", "limit", "cursor"})) {
      return error_response(*unknown);
    }
    auto limit = limit_param(m.query);
    if (!limit) return error_response(limit.error());
    const std::string_view all_text = m.query.get("all").value_or("false");
    if (all_text != "true" && all_text != "false") {
      return error_response(bad_field("all", "'all' must be true or false"));
    }
    const bool all = all_text == "true";
    std::uint64_t after = 0;
    if (auto cursor = m.query.get("cursor")) {
      if (!parse_id(*cursor, after) || !node.store().inbox_entry(after)) {
        return error_response(
            bad_field("cursor", "'cursor' must be the previous page's next_cursor: an entry's id"));
      }
    }
    auto found = node.store().inbox(!all, after, *limit + 1);  // one more: is there a next page
    const bool more = found.size() > *limit;
    if (more) found.resize(*limit);
    json::array items;
    for (const InboxEntry& e : found) items.push_back(inbox_json(e));
    json::object out{{"items", std::move(items)}};
    out["next_cursor"] = more ? json::value(std::to_string(found.back().id)) : json::value(nullptr);
    return HttpResponse::json(200, out);
  }

  HttpResponse replay_inbox(const HttpRequest& req, const RouteMatch& m) {
    auto caller = authorize(req, kAdmin | kSupervisor);
    if (!caller) return deny(caller.error());
    std::uint64_t id = 0;
    if (!parse_id(m.param("id"), id)) {
      return error_response(404, "not_found", "no inbox entry with that id");
    }
    auto entry = node.store().inbox_entry(id);
    if (!entry) return error_response(404, "not_found", "no inbox entry " + std::to_string(id));
    Body body(req, {"instance", "event", "data"});
    EventRequest r;
    r.instance_id = body.text("instance", true);
    r.event = body.text("event", true);
    // The payload is the sender's, not the event's schema: the supervisor maps what is needed.
    r.data = body.object("data");
    if (body.error()) return error_response(*body.error());
    if (!entry->replayed_into.empty() && entry->replayed_into != r.instance_id) {
      return error_response(
          409, "already_replayed",
          "inbox entry " + std::to_string(id) + " was replayed into " + entry->replayed_into);
    }
    // One key per entry: replaying twice (or from two nodes) applies the event once.
    r.idempotency_key = std::string(kInboxKeyPrefix) + std::to_string(id);
    if (!entry->replayed_into.empty() && !node.store().idempotent_response(r.idempotency_key)) {
      // Housekeeping keeps the answers of replays, but a build before it did forgot them after
      // retention.idempotency_keys; sending the event again would apply it twice.
      return error_response(409, "already_replayed",
                            "inbox entry " + std::to_string(id) + " was replayed into " +
                                entry->replayed_into +
                                " (the answer given then is no longer kept)");
    }
    set_actor(*caller, r);
    r.refuse_unhandled = true;  // the entry stays open unless the event lands
    auto result = run(std::move(r));
    if (!result) return timed_out();
    if (result->status == RuntimeResult::Status::key_reused) {
      // Another replay of this entry (into another case, or with another event or data) got in
      // first, perhaps a moment ago on another request: the entry was used once, by that one.
      // Its answer names the case, also when that replay's caller never got to mark the entry
      // (it timed out, or its node stopped between the commit and the mark): marked now.
      const auto kept =
          node.store().idempotent_response(std::string(kInboxKeyPrefix) + std::to_string(id));
      std::string into = kept ? answered_case(*kept) : std::string();
      if (into.empty()) {
        into = "another case";
      } else {
        node.store().mark_inbox_replayed(id, into);
      }
      return error_response(409, "already_replayed",
                            "inbox entry " + std::to_string(id) + " was replayed into " + into +
                                " with another event or data");
    }
    HttpResponse answer = result_response(*result, 200);
    // The case the event went into, as committed: a repeat's answer names the first replay's.
    if (answer.status == 200 && result->instance) {
      node.store().mark_inbox_replayed(id, result->instance->id);
    }
    return answer;
  }

  // ---- phone-system webhooks ----

  HttpResponse hook(const HttpRequest& req, const RouteMatch& m) {
    const std::string source_name(m.param("source"));
    const Config* config = node.config();
    const HookSource* source = config != nullptr ? config->find_hook(source_name) : nullptr;
    if (source == nullptr) {
      return error_response(404, "unknown_source", "no webhook source '" + source_name + "'");
    }
    const auto found = hook_secrets.find(source_name);  // read-only after start-up
    const std::string secret = found != hook_secrets.end() ? found->second : "";
    // The URL as the sender called it (Twilio signs it): the config's public_url and the
    // target; without it, the Host header, with the scheme a TLS-terminating proxy reports.
    std::string url = config->public_url + req.target;
    if (config->public_url.empty()) {
      const std::string_view scheme = req.headers.get("X-Forwarded-Proto").value_or("http");
      if (scheme != "http" && scheme != "https") {
        return error_response(400, "bad_request", "X-Forwarded-Proto must be http or https",
                              "X-Forwarded-Proto");
      }
      url = std::string(scheme) + "://" + std::string(req.headers.get("Host").value_or("")) +
            req.target;
    }
    const auto now = std::chrono::time_point_cast<std::chrono::seconds>(node.clock().now());
    auto decision = http::decide_hook(*source, req, url, now, secret);
    if (!decision) return error_response(decision.error());
    const std::string actor = "hook:" + source_name;
    const auto inbox_answer = [](std::uint64_t id, const std::string& reason) {
      return HttpResponse::json(
          202, json::object{{"inbox", json::object{{"id", id}}}, {"reason", reason}});
    };
    auto to_inbox = [&](const std::string& reason) {
      InboxEntry e;
      e.source = "hooks/" + source_name;
      e.received_at = node.clock().now();
      e.reason = reason;
      e.payload = decision->payload;
      e.dedup_key = decision->idempotency_key;
      return inbox_answer(node.store().add_to_inbox(e), reason);
    };
    const auto answer = [&](const RuntimeResult& result) {
      if (result.replayed && result.inbox_entry != 0) {
        // A retry of a delivery that went to the inbox is answered with that entry, even if it
        // could be routed now (its case opened since): the entry is what a supervisor replays,
        // and applying the retry too would count the call twice.
        return inbox_answer(result.inbox_entry, "delivered before: kept in the inbox");
      }
      if (result.status == RuntimeResult::Status::rejected ||
          result.status == RuntimeResult::Status::not_found) {
        // No open case for that caller, or the workflow refused the start or the event.
        return to_inbox(result.error);
      }
      return result_response(result, 200, true);
    };
    if (const auto* inbox = std::get_if<http::HookInbox>(&decision->action)) {
      return to_inbox(inbox->reason);
    }
    if (const auto* start = std::get_if<http::HookStart>(&decision->action)) {
      StartRequest r;
      r.workflow = start->workflow;
      r.data = start->data;
      r.key = start->key;
      r.idempotency_key = decision->idempotency_key;
      r.actor = actor;
      RuntimeResult result = wait(std::move(r));
      if (result.status == RuntimeResult::Status::rejected && result.instance && start->if_open) {
        // The caller already has an open case (one_open): the call lands on it, under the
        // delivery's own key (the refused start kept none). A retry is then answered as this
        // call, whichever route takes it and even once the case has closed; under a key of its
        // own, a retry after the close opened a second case and one by another route counted
        // the call twice.
        EventRequest e;
        e.instance_id = result.instance->id;
        e.event = start->if_open->event;
        e.data = start->if_open->data;
        e.idempotency_key = decision->idempotency_key;
        e.actor = actor;
        result = wait(std::move(e));
      }
      return answer(result);
    }
    const auto& event = std::get<http::HookEvent>(decision->action);
    EventRequest r;
    r.workflow = event.workflow;
    r.key = event.key;
    r.event = event.event;
    r.data = event.data;
    r.idempotency_key = decision->idempotency_key;
    r.actor = actor;
    return answer(wait(std::move(r)));
  }

  // As run(), a step not committed in time read as unavailable (a webhook's answer).
  template <class Request>
  RuntimeResult wait(Request request) {
    if (auto result = run(std::move(request))) return std::move(*result);
    RuntimeResult r;
    r.status = RuntimeResult::Status::unavailable;
    r.error = "the step was not committed in time";
    return r;
  }

  // ---- operations ----

  HttpResponse healthz(const HttpRequest&, const RouteMatch&) {
    return HttpResponse::json(200, json::object{{"status", "ok"}});
  }

  HttpResponse readyz(const HttpRequest&, const RouteMatch&) {
    try {
      // A read through the store's pool: the database answers and the schema is there.
      (void)node.store().get("ids:readyz");
      json::object out{{"status", "ready"}, {"store", "ok"}};
      if (const auto* sql = dynamic_cast<const sql::SqlStore*>(&node.store())) {
        // Exactly the migrations this build knows are applied. A newer node may have migrated
        // the store past them while this one ran (docs/durability.md: stop the old nodes first):
        // this node would write rows the new schema reads otherwise.
        const auto applied = sql->applied_migrations();
        const int version = applied.empty() ? 0 : applied.back().version;
        const int known = sql::SqlStore::latest_schema_version();
        out["schema_version"] = version;
        if (version != known) {
          out["status"] = "not_ready";
          out["store"] = "schema at version " + std::to_string(version) +
                         (version < known ? ", this build needs " + std::to_string(known) +
                                                ": run ombud migrate"
                                          : ", newer than this build knows (" +
                                                std::to_string(known) + "): upgrade this node");
          return HttpResponse::json(503, out);
        }
      }
      return HttpResponse::json(200, out);
    } catch (const std::exception& e) {
      // Unauthenticated: the database's own words (user, host, statement) go to the log only.
      if (options.log) {
        http::log_fields(*options.log, spdlog::level::err, "readiness check failed",
                         {{"error", e.what()}});
      }
      return HttpResponse::json(503, json::object{{"status", "not_ready"},
                                                  {"store", "unavailable"},
                                                  {"error", "the store cannot be read"}});
    }
  }

  HttpResponse metrics_page(const HttpRequest&, const RouteMatch&) {
    try {
      timers_pending.labels({}).set(static_cast<double>(node.store().pending_timers()));
      outbox_undelivered.labels({}).set(static_cast<double>(node.store().undelivered_messages()));
    } catch (const std::exception&) {
      // The store is down: /readyz says so; the other metrics are still worth scraping.
    }
    const WorkerStats stats = node.worker().stats();
    timers_in_memory.labels({}).set(static_cast<double>(stats.timers_in_memory));
    deliveries.labels({"delivered"}).set_total(static_cast<double>(stats.outbox_delivered));
    deliveries.labels({"failed"}).set_total(static_cast<double>(stats.outbox_failed));
    batches.labels({}).set_total(static_cast<double>(stats.batches));
    store_errors.labels({}).set_total(static_cast<double>(stats.store_errors));
    forgotten.labels({"idempotency_keys"}).set_total(static_cast<double>(stats.forgotten_keys));
    forgotten.labels({"delivered_messages"})
        .set_total(static_cast<double>(stats.forgotten_messages));
    const auto* sql = dynamic_cast<const sql::SqlStore*>(&node.store());
    if (const auto counts = sql != nullptr ? sql->checkpoint_counts() : std::nullopt) {
      checkpoints.labels({"thread"}).set_total(static_cast<double>(counts->background));
      checkpoints.labels({"commit_rest"}).set_total(static_cast<double>(counts->tail));
      checkpoints.labels({"commit_behind"}).set_total(static_cast<double>(counts->fallen_behind));
    }
    return HttpResponse::text(200, metrics.expose(), http::MetricsRegistry::kContentType);
  }

  HttpResponse openapi_document(const HttpRequest&, const RouteMatch&) {
    if (openapi.empty()) {
      return error_response(404, "not_found", "the OpenAPI document was not found at startup");
    }
    HttpResponse r = HttpResponse::text(200, openapi, "application/json");
    return r;
  }

  void record(std::span<const RuntimeResult> results) {
    for (const RuntimeResult& r : results) {
      if (!r.instance || r.replayed) continue;
      const std::string& wf = r.instance->workflow;
      for (const HistoryEntry& h : r.history) {
        if (h.kind == "started") {
          starts.labels({wf}).inc();
        } else if (h.kind == "event") {
          events.labels({wf}).inc();
        } else if (h.kind == "transition") {
          transitions.labels({wf}).inc();
        } else if (h.kind == "timer") {
          timers_fired.labels({wf}).inc();
          const json::object details = h.details.object();
          if (auto it = details.find("late_ms"); it != details.end() && it->value().is_int64()) {
            lateness.labels({}).observe(static_cast<double>(it->value().as_int64()) / 1000.0);
          }
        } else if (h.kind == "escalation") {
          timers_fired.labels({wf}).inc();  // an escalation level is a timer coming due
          const json::object details = h.details.object();
          const auto sla = details.find("sla");
          const auto level = details.find("level");
          if (sla != details.end() && level != details.end() && sla->value().is_string()) {
            escalations
                .labels({wf, std::string_view(sla->value().as_string()),
                         json::serialize(level->value())})
                .inc();
          }
        } else if (h.kind == "sla" && h.message.find(" breached: ") != std::string::npos) {
          const json::object details = h.details.object();
          const auto sla = details.find("sla");
          if (sla != details.end() && sla->value().is_string()) {
            breaches.labels({wf, std::string_view(sla->value().as_string())}).inc();
          }
        }
      }
    }
  }

  Node& node;
  http::MetricsRegistry& metrics;
  ApiOptions options;
  std::string openapi;
  http::MetricFamily<http::Counter>& events;
  http::MetricFamily<http::Counter>& transitions;
  http::MetricFamily<http::Counter>& starts;
  http::MetricFamily<http::Counter>& timers_fired;
  http::MetricFamily<http::Histogram>& lateness;
  http::MetricFamily<http::Counter>& breaches;
  http::MetricFamily<http::Counter>& escalations;
  http::MetricFamily<http::Gauge>& timers_pending;
  http::MetricFamily<http::Gauge>& timers_in_memory;
  http::MetricFamily<http::Gauge>& outbox_undelivered;
  http::MetricFamily<http::Counter>& deliveries;
  http::MetricFamily<http::Counter>& batches;
  http::MetricFamily<http::Counter>& store_errors;
  http::MetricFamily<http::Counter>& forgotten;
  http::MetricFamily<http::Histogram>& commit_latency;
  http::MetricFamily<http::Counter>& checkpoints;   // SQLite only
  std::map<std::string, std::string> hook_secrets;  // by source; read once at start-up
  std::mutex token_mutex;
  std::unordered_map<std::string,
                     std::pair<std::optional<ApiTokenRow>, std::chrono::steady_clock::time_point>>
      token_cache;  // by the token's hash (lookup_token)
};

Api::Api(Node& node, http::MetricsRegistry& metrics, ApiOptions options)
    : impl_(std::make_unique<Impl>(node, metrics, std::move(options))) {}

Api::~Api() = default;

std::vector<std::string> Api::unconfigured_hooks() const { return impl_->unconfigured_hooks(); }

void Api::record_flush(std::chrono::nanoseconds took) {
  impl_->commit_latency.labels({}).observe(std::chrono::duration<double>(took).count());
}

void Api::record_commit(std::span<const RuntimeResult> results) { impl_->record(results); }

void Api::add_routes(http::Router& router) {
  Impl* i = impl_.get();
  auto bind = [i](HttpResponse (Impl::*f)(const HttpRequest&, const RouteMatch&)) {
    return [i, f](const HttpRequest& req, const RouteMatch& m) { return (i->*f)(req, m); };
  };
  // A /v1 route that reads no query parameter refuses one, rather than ignore what the caller
  // meant (`PUT …?dry_run=true` published for real). The routes that read some check their own.
  auto plain = [i](HttpResponse (Impl::*f)(const HttpRequest&, const RouteMatch&)) {
    return [i, f](const HttpRequest& req, const RouteMatch& m) {
      if (auto unknown = unknown_param(m.query, {})) return error_response(*unknown);
      return (i->*f)(req, m);
    };
  };
  router.add("POST", "/v1/instances", plain(&Impl::create_instance));
  router.add("GET", "/v1/instances", bind(&Impl::list_instances));
  router.add("GET", "/v1/instances/{id}", plain(&Impl::get_instance));
  router.add("GET", "/v1/instances/{id}/history", plain(&Impl::instance_history));
  router.add("POST", "/v1/instances/{id}/events", plain(&Impl::send_event));
  router.add("POST", "/v1/instances/{id}/assign", plain(&Impl::assign));
  router.add("POST", "/v1/instances/{id}/incidents/{n}/resolve", plain(&Impl::resolve_incident));
  router.add("POST", "/v1/events", plain(&Impl::send_event_by_key));
  router.add("GET", "/v1/workflows", plain(&Impl::list_workflows));
  router.add("GET", "/v1/workflows/{name}", plain(&Impl::get_workflow));
  router.add("PUT", "/v1/workflows/{name}", plain(&Impl::put_workflow));
  router.add("GET", "/v1/workflows/{name}/graph", bind(&Impl::workflow_graph));
  router.add("GET", "/v1/directory", plain(&Impl::directory));
  router.add("GET", "/v1/inbox", bind(&Impl::list_inbox));
  router.add("POST", "/v1/inbox/{id}/replay", plain(&Impl::replay_inbox));
  router.add("POST", "/hooks/{source}", bind(&Impl::hook));
  router.add("GET", "/metrics", bind(&Impl::metrics_page));
  router.add("GET", "/healthz", bind(&Impl::healthz));
  router.add("GET", "/readyz", bind(&Impl::readyz));
  router.add("GET", "/openapi.json", bind(&Impl::openapi_document));
}

}  // namespace ombud::api
