#include "adapters/http/outbox_delivery.h"

#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdlib>

#include "adapters/http/http_client.h"
#include "adapters/http/json_log.h"
#include "adapters/http/webhook_signature.h"
#include "engine/time.h"

namespace ombud::http {

namespace {

// How long a target that gave no answer is left alone (OutboxDelivery::Silent).
constexpr std::chrono::seconds kSilentRest{10};

std::string text_of(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : "";
}

// What a failed answer says, shortened for the outbox row and the log: at most about 200 bytes
// of valid UTF-8 on one line (PostgreSQL refuses to store anything else; a gateway may answer
// in another encoding, and a cut may fall inside a character). Bytes that are not UTF-8 become
// '?'.
std::string answer_excerpt(const std::string& body) {
  constexpr std::size_t kKeep = 200;
  std::string out;
  std::size_t i = 0;
  while (i < body.size() && out.size() < kKeep) {
    const auto c = static_cast<unsigned char>(body[i]);
    const std::size_t length = c < 0x80           ? 1
                               : (c >> 5) == 0x6  ? 2
                               : (c >> 4) == 0xE  ? 3
                               : (c >> 3) == 0x1E ? 4
                                                  : 0;
    bool valid = length > 0 && i + length <= body.size();
    for (std::size_t k = 1; valid && k < length; ++k) {
      valid = (static_cast<unsigned char>(body[i + k]) & 0xC0) == 0x80;
    }
    if (!valid) {
      out += '?';
      ++i;
    } else if (c == '\n' || c == '\r') {
      out += ' ';
      ++i;
    } else {
      out.append(body, i, length);
      i += length;
    }
  }
  return i < body.size() ? out + "…" : out;
}

}  // namespace

OutboxDelivery::OutboxDelivery(const Config& config, std::shared_ptr<spdlog::logger> log)
    : config_(config), log_(std::move(log)) {
  auto read = [&](const DeliveryTarget& t) {
    if (!t.secret.empty()) {
      secrets_[t.name] = t.secret;
    } else if (!t.secret_env.empty()) {
      const char* value = std::getenv(t.secret_env.c_str());
      if (value != nullptr && *value != '\0') {
        secrets_[t.name] = value;
      } else {
        missing_secret_[t.name] = t.secret_env;
      }
    }
  };
  if (config_.notifications) read(*config_.notifications);
  for (const DeliveryTarget& t : config_.webhook_targets) read(t);
}

std::vector<std::string> OutboxDelivery::problems() const {
  std::vector<std::string> out;
  auto check = [&](const DeliveryTarget& t) {
    if (t.deliver != DeliveryTarget::Deliver::http) return;
    if (std::string why = check_post_url(t.url); !why.empty()) {
      out.push_back(config_.file + ": the url of " + t.name + ": " + why);
    }
  };
  if (config_.notifications) check(*config_.notifications);
  for (const DeliveryTarget& t : config_.webhook_targets) check(t);
  return out;
}

std::vector<std::string> OutboxDelivery::warnings() const {
  std::vector<std::string> out;
  if (!config_.notifications) {
    out.emplace_back(
        "notifications are not sent: the config has no 'notifications:' (deliver: http with a "
        "url, or deliver: log); they wait in the outbox");
  }
  for (const auto& [target, variable] : missing_secret_) {
    out.push_back("the secret of '" + target + "' is not set (environment variable " + variable +
                  "): its messages are not sent until it is");
  }
  return out;
}

std::string OutboxDelivery::notification_body(const OutboxMessage& m) const {
  const boost::json::object& p = m.payload;
  boost::json::array recipients;
  if (const auto* ids = p.if_contains("recipients"); ids != nullptr && ids->is_array()) {
    for (const auto& id : ids->get_array()) {
      if (!id.is_string()) continue;
      boost::json::object r{{"id", id}};
      if (const Person* person = config_.find_person(id.get_string())) {
        r["name"] = person->name;
        r["email"] = person->email;
        r["phone"] = person->phone;
      }
      recipients.push_back(std::move(r));
    }
  }
  // Written before ombud kept the texts with the message (or by a node without templates): a
  // subject that says what it is about rather than none.
  std::string subject = text_of(p, "subject");
  if (subject.empty()) subject = "ombud: " + text_of(p, "template") + " for " + m.instance_id;
  return boost::json::serialize(
      boost::json::object{{"delivery", m.id},
                          {"instance", m.instance_id},
                          {"template", text_of(p, "template")},
                          {"to", text_of(p, "to")},
                          {"recipients", std::move(recipients)},
                          {"subject", std::move(subject)},
                          {"body", text_of(p, "body")},
                          {"created_at", format_timestamp(m.created_at)}});
}

std::string OutboxDelivery::deliver(const OutboxMessage& m) {
  const DeliveryTarget* target = nullptr;
  std::string body;
  if (m.kind == "notification") {
    if (!config_.notifications) {
      return "no notification gateway: the config has no 'notifications:'";
    }
    target = &*config_.notifications;
    body = notification_body(m);
  } else if (m.kind == "webhook") {
    const std::string name = text_of(m.payload, "target");
    target = config_.find_webhook_target(name);
    if (target == nullptr) return "no webhook target '" + name + "' in the config";
    const auto* b = m.payload.if_contains("body");
    body = b != nullptr ? boost::json::serialize(*b) : "null";
  } else {
    return "unknown kind of message '" + m.kind + "'";
  }
  if (target->deliver == DeliveryTarget::Deliver::log) {
    log_fields(*log_, spdlog::level::info, m.kind,
               {{"delivery", static_cast<std::int64_t>(m.id)},
                {"instance", m.instance_id},
                {"target", target->name},
                {"content", body}});
    return "";
  }
  std::string error = post(*target, m, body);
  // One line per attempt made; the messages not tried while a target rests keep their reason
  // in the outbox row only.
  if (!error.empty() && !error.starts_with("not tried: ")) {
    log_fields(*log_, spdlog::level::warn, "delivery failed",
               {{"delivery", static_cast<std::int64_t>(m.id)},
                {"kind", m.kind},
                {"instance", m.instance_id},
                {"target", target->name},
                {"attempt", m.attempts},
                {"error", error}});
  }
  return error;
}

std::string OutboxDelivery::post(const DeliveryTarget& target, const OutboxMessage& m,
                                 const std::string& body) {
  if (auto missing = missing_secret_.find(target.name); missing != missing_secret_.end()) {
    return "not sent unsigned: the environment variable " + missing->second + " is not set";
  }
  {
    const std::lock_guard lock(silent_mutex_);
    if (auto s = silent_.find(target.name); s != silent_.end()) {
      const auto now = std::chrono::steady_clock::now();
      if (now < s->second.until) {
        return "not tried: " + target.name + " gave no answer moments ago (" + s->second.error +
               ")";
      }
      // The rest is over: this message tries the target; the others wait for its outcome.
      s->second.until = now + target.timeout + std::chrono::seconds(1);
    }
  }
  std::vector<std::pair<std::string, std::string>> headers{
      {"X-Ombud-Delivery", std::to_string(m.id)}, {"X-Ombud-Instance", m.instance_id}};
  if (auto secret = secrets_.find(target.name); secret != secrets_.end()) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    headers.emplace_back("X-Ombud-Timestamp", std::to_string(now));
    headers.emplace_back("X-Ombud-Signature", native_signature(secret->second, now, body));
  }
  const PostResult r = http_post(target.url, body, headers, target.timeout);
  {
    const std::lock_guard lock(silent_mutex_);
    if (r.status == 0) {
      silent_[target.name] = {std::chrono::steady_clock::now() + kSilentRest, r.error};
    } else {
      silent_.erase(target.name);
    }
  }
  if (r.status >= 200 && r.status < 300) return "";
  if (r.status == 0) return r.error;
  // The target's name, not its URL: some carry their secret in the path.
  return "HTTP " + std::to_string(r.status) + " from " + target.name +
         (r.body.empty() ? "" : ": " + answer_excerpt(r.body));
}

}  // namespace ombud::http
