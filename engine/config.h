// The server's configuration model (config/ombud.yaml), loaded by adapters/yaml/config_loader.
//
// Plain data: calendars, the directory of people, roles and queues, notification templates,
// webhook sources and where things live. Later components add their own sections (tokens); each
// section rejects keys it does not know.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include <date/date.h>

#include "engine/definition.h"
#include "engine/diagnostics.h"

namespace ombud {

// Open hours within one day: [start, end) in minutes after local midnight; end may be 1440.
struct TimeRange {
  int start_minute = 0;
  int end_minute = 0;
  friend bool operator==(const TimeRange&, const TimeRange&) = default;
};

struct CalendarSpec {
  std::string name;
  std::string timezone;  // IANA name, e.g. Asia/Shanghai
  // Weekly open hours, index 0 = Monday ... 6 = Sunday; sorted, non-overlapping.
  std::array<std::vector<TimeRange>, 7> hours;
  struct DayRange {
    date::sys_days first;
    date::sys_days last;  // inclusive
  };
  std::vector<DayRange> holidays;
  // Make-up working days (usually weekend days in Chinese holiday schedules): open with their
  // own hours, or Monday's when none are given.
  struct Workday {
    date::sys_days day;
    std::vector<TimeRange> hours;
  };
  std::vector<Workday> workdays;
  SourcePos pos;
};

struct Person {
  std::string id;  // e.g. li.na
  std::string name;
  std::vector<std::string> roles;
  std::string manager;  // person id, or empty at the top
  std::vector<std::string> skills;
  int capacity = 0;  // open cases at most; 0 = no limit
  std::string email;
  std::string phone;
  SourcePos pos;
};

struct Role {
  std::string name;
  std::string title;
  SourcePos pos;
};

struct Queue {
  std::string name;
  std::string title;
  std::vector<std::string> members;  // person ids
  std::vector<std::string> roles;    // everyone with one of these roles is a member too
  SourcePos pos;
};

struct NotificationTemplate {
  std::string name;
  std::string subject;
  std::string body;  // may contain ${ ... } placeholders, filled when the notification is sent
  SourcePos pos;
};

// ---- Webhook sources (`hooks:`), served at POST /hooks/{name} -------------------------------

// How a source proves that a request comes from it (adapters/http/webhook_signature.h).
enum class HookScheme {
  ombud,   // X-Ombud-Timestamp + X-Ombud-Signature: hex HMAC-SHA256 over "timestamp.body"
  twilio,  // X-Twilio-Signature: Base64 HMAC-SHA1 over the URL and the sorted form parameters
  token,   // a fixed secret in a header, for systems that can sign nothing
};
std::string_view hook_scheme_name(HookScheme scheme);

struct HookVerify {
  HookScheme scheme = HookScheme::ombud;
  // Exactly one is set. `secret_env` names an environment variable read once at startup (the
  // recommended form: the secret stays out of the file); `secret` is the secret itself.
  std::string secret_env;
  std::string secret;
  std::string header = "X-Hook-Token";  // token scheme: the header that carries the token
  SourcePos pos;
};

// The data given to a workflow or an event: field name → literal or `${ expression }` over
// `body`.
using HookData = std::vector<std::pair<std::string, ValueSpec>>;

// One row of a source's routing table. Either `start` is set (start that workflow) or `event`
// is (send it, by business key, to the open case of `workflow`).
struct HookRoute {
  std::optional<Expr> when;  // absent: matches every request
  std::string start;         // workflow to start
  std::string workflow;      // event routes: the workflow whose case receives the event
  std::string event;         // event routes: the event to send
  std::optional<Expr> key;   // the business key; required for events and for `if_open`
  HookData data;
  // Start routes of a workflow with `key_policy: one_open`: the event sent instead when a case
  // with this key is already open (e.g. a second call lands on the caller's open complaint).
  struct IfOpen {
    std::string event;
    HookData data;
    SourcePos pos;
  };
  std::optional<IfOpen> if_open;
  SourcePos pos;
  SourcePos start_pos, workflow_pos, event_pos, if_open_event_pos;  // of those names' values
};

struct HookSource {
  std::string name;  // the {source} in POST /hooks/{source}
  HookVerify verify;
  // The provider's event id, for deduplication. Absent: twilio uses CallSid + ":" + CallStatus;
  // the other schemes use the SHA-256 of the body (identical deliveries are one event).
  std::optional<Expr> dedup;
  std::vector<HookRoute> routes;  // in file order; the first whose `when` holds wins
  SourcePos pos;
};

// ---- Outbound deliveries: `notifications:` and `webhook_targets:` ----------------------------

// Where the outbox sends a kind of message. `http`: a POST of JSON to `url`, signed like an
// ombud-scheme webhook when a secret is given (docs/webhooks.md, "Outbound"); `log`: a line in
// the server's log, for trying ombud out without a gateway.
struct DeliveryTarget {
  enum class Deliver { http, log };
  std::string name;  // the webhook target's name; "notifications" for the gateway
  Deliver deliver = Deliver::http;
  std::string url;
  // As for hooks: an environment variable read once at start-up, or the secret itself; both
  // empty: deliveries are not signed.
  std::string secret_env;
  std::string secret;
  Millis timeout{10'000};
  SourcePos pos;
};

// How long housekeeping keeps what it may forget (docs/durability.md, "What is kept, and for
// how long"). Unset: the worker's default; zero: for ever.
struct Retention {
  std::optional<Millis> idempotency_keys;    // answers kept for repeated keys and webhook ids
  std::optional<Millis> delivered_messages;  // outbox rows after their delivery
};

struct Config {
  std::string file;
  std::string store = "sqlite:var/ombud.db";
  std::string listen = "127.0.0.1:8080";
  // The server's address as callers reach it ("https://ombud.example.com", through any proxy);
  // empty: taken from each request's Host and X-Forwarded-Proto. Twilio signs the URL it calls.
  std::string public_url;
  std::string workflows_dir = "workflows";  // relative to the config file's directory
  std::vector<CalendarSpec> calendars;
  std::vector<Role> roles;
  std::vector<Person> people;
  std::vector<Queue> queues;
  std::vector<NotificationTemplate> templates;
  std::vector<HookSource> hooks;
  Retention retention;
  std::optional<DeliveryTarget> notifications;  // none: notifications wait in the outbox
  std::vector<DeliveryTarget> webhook_targets;

  const CalendarSpec* find_calendar(std::string_view name) const;
  const Person* find_person(std::string_view id) const;
  const Queue* find_queue(std::string_view name) const;
  const Role* find_role(std::string_view name) const;
  const NotificationTemplate* find_template(std::string_view name) const;
  const HookSource* find_hook(std::string_view name) const;
  const DeliveryTarget* find_webhook_target(std::string_view name) const;
};

}  // namespace ombud
