// Webhook decisions: each verification scheme, JSON and form payloads, routing (first match
// wins, key and data mapping, if_open), deduplication ids and the inbox for what cannot be
// routed. Sources are loaded from YAML the way the server loads config/ombud.yaml.
#include "adapters/http/hooks.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "adapters/http/crypto.h"
#include "adapters/http/webhook_signature.h"
#include "adapters/yaml/config_loader.h"

namespace ombud::http {
namespace {

using std::chrono::seconds;
using std::chrono::sys_seconds;

constexpr std::string_view kSecret = "whsec_test";
constexpr std::int64_t kTimestamp = 1700000000;
const sys_seconds kNow{seconds(kTimestamp + 10)};
constexpr std::string_view kTwilioUrl = "https://ombud.example.com/hooks/twilio";

constexpr const char* kConfig = R"(hooks:
  phone:
    verify: {scheme: ombud, secret_env: PHONE_SECRET}
    dedup: body.event_id
    routes:
      - when: body.status == "completed" && body.tag == "complaint"
        start: complaint
        key: body.caller
        data: {phone: "${ body.caller }", channel: phone, summary: "${ body.note }"}
        if_open:
          event: customer_called
          data: {call_id: "${ body.call_id }"}
      - when: body.status == "completed"
        event: customer_called
        workflow: complaint
        key: body.caller
        data: {call_id: "${ body.call_id }"}
      - when: body.status == "mapping_error"
        event: customer_called
        workflow: complaint
        key: body.caller
        data: {minutes: "${ body.seconds / 60 }"}
  twilio:
    verify: {scheme: twilio, secret: twilio-auth-token}
    routes:
      - when: body.CallStatus == "completed"
        event: customer_called
        workflow: complaint
        key: body.From
        data: {call_id: "${ body.CallSid }"}
  desk:
    verify: {scheme: token, secret: s3cret, header: X-Desk-Token}
    routes:
      - start: complaint
        data: {phone: "${ body.phone }"}
)";

class Hooks : public ::testing::Test {
 protected:
  void SetUp() override {
    Diagnostics diags;
    config_ = yaml::load_config("cfg.yaml", kConfig, diags);
    ASSERT_TRUE(config_.has_value());
    ASSERT_TRUE(diags.items().empty()) << diags.items().front().to_string();
  }

  const HookSource& source(std::string_view name) const { return *config_->find_hook(name); }

  static HttpRequest native(const std::string& body, std::int64_t ts = kTimestamp) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/hooks/phone";
    r.headers.add("Content-Type", "application/json");
    r.headers.add(std::string(kNativeTimestampHeader), std::to_string(ts));
    r.headers.add(std::string(kNativeSignatureHeader), native_signature(kSecret, ts, body));
    r.body = body;
    return r;
  }

  static HttpRequest twilio(const ParamList& params, const std::string& body,
                            std::string_view token = "twilio-auth-token") {
    HttpRequest r;
    r.method = "POST";
    r.target = "/hooks/twilio";
    r.headers.add("Content-Type", "application/x-www-form-urlencoded");
    r.headers.add(std::string(kTwilioSignatureHeader), twilio_signature(token, kTwilioUrl, params));
    r.body = body;
    return r;
  }

  HttpResult<HookDecision> phone(const std::string& body) const {
    return decide_hook(source("phone"), native(body), "", kNow, kSecret);
  }

  std::optional<Config> config_;
};

const HookStart& start_of(const HookDecision& d) { return std::get<HookStart>(d.action); }
const HookEvent& event_of(const HookDecision& d) { return std::get<HookEvent>(d.action); }
const HookInbox& inbox_of(const HookDecision& d) { return std::get<HookInbox>(d.action); }

TEST_F(Hooks, NativeSignatureValidStartsTheFirstMatchingRoute) {
  const auto d =
      phone(R"({"event_id":"e-1","status":"completed","tag":"complaint","caller":"13900000001",)"
            R"("note":"late delivery","call_id":"c-1"})");
  ASSERT_TRUE(d.has_value()) << d.error().message;
  ASSERT_TRUE(std::holds_alternative<HookStart>(d->action));
  EXPECT_EQ(d->route, 0U);
  const HookStart& s = start_of(*d);
  EXPECT_EQ(s.workflow, "complaint");
  EXPECT_EQ(s.key, "13900000001");
  EXPECT_EQ(boost::json::serialize(s.data),
            R"({"phone":"13900000001","channel":"phone","summary":"late delivery"})");
  ASSERT_TRUE(s.if_open.has_value());
  EXPECT_EQ(s.if_open->event, "customer_called");
  EXPECT_EQ(boost::json::serialize(s.if_open->data), R"({"call_id":"c-1"})");
}

TEST_F(Hooks, NativeSignatureMismatchIs401) {
  HttpRequest r = native(R"({"event_id":"e-1"})");
  r.body = R"({"event_id":"e-2"})";
  const auto d = decide_hook(source("phone"), r, "", kNow, kSecret);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().status, 401);
  EXPECT_EQ(d.error().code, "invalid_signature");
  EXPECT_EQ(d.error().message, "signature does not match the body and timestamp");
}

TEST_F(Hooks, NativeSignatureOutsideTheReplayWindowIs401) {
  const auto d = decide_hook(source("phone"), native("{}", kTimestamp - 600), "", kNow, kSecret);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().status, 401);
  EXPECT_NE(d.error().message.find("X-Ombud-Timestamp is 610 s away"), std::string::npos);
}

TEST_F(Hooks, MissingSecretIs503NeverAnAcceptance) {
  const auto d = decide_hook(source("phone"), native("{}"), "", kNow, "");
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().status, 503);
}

TEST_F(Hooks, TwilioSignatureValidRoutesTheFormAndDedupsByCallSidAndStatus) {
  const ParamList params({{"CallSid", "CA123"}, {"CallStatus", "completed"}, {"From", "+8613900"}});
  const auto d = decide_hook(source("twilio"),
                             twilio(params, "CallSid=CA123&CallStatus=completed&From=%2B8613900"),
                             kTwilioUrl, kNow, "twilio-auth-token");
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->dedup_id, "CA123:completed");
  EXPECT_EQ(d->idempotency_key, "hook:twilio:CA123:completed");
  const HookEvent& e = event_of(*d);
  EXPECT_EQ(e.workflow, "complaint");
  EXPECT_EQ(e.event, "customer_called");
  EXPECT_EQ(e.key, "+8613900");
  EXPECT_EQ(boost::json::serialize(e.data), R"({"call_id":"CA123"})");
}

// The shipped config: Twilio's E.164 From reaches the complaint keyed by the local number the
// hotline registered.
TEST_F(Hooks, TheShippedTwilioRouteKeysByTheLocalNumber) {
  Diagnostics diags;
  const auto shipped = yaml::load_config_file(OMBUD_SOURCE_DIR "/config/ombud.yaml", diags);
  ASSERT_TRUE(shipped && shipped->find_hook("twilio") != nullptr);
  const ParamList params({{"CallSid", "CA9"},
                          {"CallStatus", "completed"},
                          {"Direction", "inbound"},
                          {"From", "+8613900000001"}});
  const auto d = decide_hook(
      *shipped->find_hook("twilio"),
      twilio(params, "CallSid=CA9&CallStatus=completed&Direction=inbound&From=%2B8613900000001"),
      kTwilioUrl, kNow, "twilio-auth-token");
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(event_of(*d).key, "13900000001");
}

TEST_F(Hooks, TwilioSignatureWithAnotherTokenIs401) {
  const ParamList params({{"CallSid", "CA123"}, {"CallStatus", "completed"}});
  const auto d =
      decide_hook(source("twilio"), twilio(params, "CallSid=CA123&CallStatus=completed", "other"),
                  kTwilioUrl, kNow, "twilio-auth-token");
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().status, 401);
}

TEST_F(Hooks, TwilioSignatureOverAnotherUrlIs401) {
  const ParamList params({{"CallSid", "CA123"}, {"CallStatus", "completed"}});
  const auto d =
      decide_hook(source("twilio"), twilio(params, "CallSid=CA123&CallStatus=completed"),
                  "https://elsewhere.example.com/hooks/twilio", kNow, "twilio-auth-token");
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().status, 401);
}

// Twilio's signature covers the URL and form parameters only. A JSON body is covered through
// bodySHA256 in the signed URL: without it, or with another body, the delivery is refused
// (a signature captured once would otherwise carry any body).
TEST_F(Hooks, ATwilioJsonBodyMustMatchTheBodySha256ItsUrlCarries) {
  const std::string body = R"({"CallSid":"CA7","CallStatus":"completed","From":"+8613900"})";
  auto json_request = [&](const std::string& url, const std::string& sent) {
    HttpRequest r;
    r.method = "POST";
    r.target = url.substr(url.find("/hooks/"));
    r.headers.add("Content-Type", "application/json");
    r.headers.add(std::string(kTwilioSignatureHeader),
                  twilio_signature("twilio-auth-token", url, ParamList{}));
    r.body = sent;
    return r;
  };
  const std::string signed_url = std::string(kTwilioUrl) + "?bodySHA256=" + to_hex(sha256(body));
  const auto ok = decide_hook(source("twilio"), json_request(signed_url, body), signed_url, kNow,
                              "twilio-auth-token");
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(event_of(*ok).key, "+8613900");

  const std::string other = R"({"CallSid":"CA8","CallStatus":"completed","From":"+8613999"})";
  const auto swapped = decide_hook(source("twilio"), json_request(signed_url, other), signed_url,
                                   kNow, "twilio-auth-token");
  ASSERT_FALSE(swapped.has_value());
  EXPECT_EQ(swapped.error().status, 401);
  EXPECT_NE(swapped.error().message.find("bodySHA256 in the URL does not match the body"),
            std::string::npos);

  const std::string bare(kTwilioUrl);
  const auto unsigned_body =
      decide_hook(source("twilio"), json_request(bare, body), bare, kNow, "twilio-auth-token");
  ASSERT_FALSE(unsigned_body.has_value());
  EXPECT_EQ(unsigned_body.error().status, 401);
}

TEST_F(Hooks, SharedTokenInTheConfiguredHeader) {
  HttpRequest r;
  r.headers.add("Content-Type", "application/json");
  r.body = R"({"phone":"13900000002"})";
  r.headers.add("X-Desk-Token", "s3cret");
  const auto ok = decide_hook(source("desk"), r, "", kNow, "s3cret");
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(boost::json::serialize(start_of(*ok).data), R"({"phone":"13900000002"})");
  // A route without `when` matches everything; without `key` the start carries none.
  EXPECT_EQ(start_of(*ok).key, "");

  r.headers.set("X-Desk-Token", "guess");
  const auto wrong = decide_hook(source("desk"), r, "", kNow, "s3cret");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().status, 401);
  EXPECT_EQ(wrong.error().message, "X-Desk-Token: the token does not match");

  r.headers.erase("X-Desk-Token");
  const auto missing = decide_hook(source("desk"), r, "", kNow, "s3cret");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message, "X-Desk-Token: the token header is missing");
}

TEST_F(Hooks, FormPayloadFieldsAreReadAsBody) {
  const std::string body = "event_id=e-9&status=completed&caller=13900000003&call_id=c-9";
  HttpRequest r = native(body);
  r.headers.set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
  const auto d = decide_hook(source("phone"), r, "", kNow, kSecret);
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->route, 1U);  // no tag: the second route
  EXPECT_EQ(event_of(*d).key, "13900000003");
  EXPECT_EQ(boost::json::serialize(d->payload),
            R"({"event_id":"e-9","status":"completed","caller":"13900000003","call_id":"c-9"})");
}

TEST_F(Hooks, FirstMatchingRouteWinsOverLaterOnes) {
  // Both the first and the second route match a completed complaint call.
  const auto d = phone(
      R"({"event_id":"e-1","status":"completed","tag":"complaint","caller":"1390","call_id":"c"})");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->route, 0U);
  EXPECT_TRUE(std::holds_alternative<HookStart>(d->action));
}

TEST_F(Hooks, AbsentPayloadFieldsAreLeftOutOfTheData) {
  const auto d = phone(R"({"event_id":"e-1","status":"completed","tag":"complaint",)"
                       R"("caller":"13900000001"})");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(boost::json::serialize(start_of(*d).data),
            R"({"phone":"13900000001","channel":"phone"})");
}

TEST_F(Hooks, ConfiguredDedupFieldIsTheEventId) {
  const auto d = phone(R"({"event_id":"evt-42","status":"ringing"})");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->dedup_id, "evt-42");
  EXPECT_EQ(d->idempotency_key, "hook:phone:evt-42");
}

TEST_F(Hooks, MissingDedupFieldGoesToTheInboxKnownByTheBodyHash) {
  const auto d = phone(R"({"status":"completed","caller":"1390"})");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->dedup_id.rfind("sha256:", 0), 0U);
  EXPECT_EQ(inbox_of(*d).reason,
            "the event id (dedup: body.event_id) failed: 'body.event_id' gave null, not a "
            "non-empty string");
}

TEST_F(Hooks, UnmatchedDeliveryGoesToTheInbox) {
  const auto d = phone(R"({"event_id":"e-1","status":"ringing"})");
  ASSERT_TRUE(d.has_value());
  EXPECT_FALSE(d->route.has_value());
  EXPECT_EQ(inbox_of(*d).reason, "no route of hook source 'phone' matched the delivery");
}

TEST_F(Hooks, MappingErrorGoesToTheInboxWithTheRouteAndPlace) {
  const auto d =
      phone(R"({"event_id":"e-1","status":"mapping_error","caller":"1390","seconds":"ten"})");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->route, 2U);
  EXPECT_EQ(inbox_of(*d).reason,
            "route 3 (line 18) matched, but its data failed: data.minutes: operator '/' cannot be "
            "applied to string and int (line 22, column 42)");
}

TEST_F(Hooks, KeyThatIsNullGoesToTheInbox) {
  const auto d = phone(R"({"event_id":"e-1","status":"completed","call_id":"c-1"})");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(inbox_of(*d).reason,
            "route 2 (line 13) matched, but its key failed: 'body.caller' gave null, not a "
            "non-empty string");
}

TEST_F(Hooks, MalformedJsonIs400WithThePosition) {
  const auto d = phone(R"({"event_id": "e-1",})");
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().status, 400);
  EXPECT_EQ(d.error().code, "malformed_json");
  EXPECT_NE(d.error().message.find("line 1, column"), std::string::npos) << d.error().message;
}

TEST_F(Hooks, JsonThatIsNotAnObjectIs400) {
  const auto d = phone("[1, 2]");
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, "invalid_body");
}

TEST_F(Hooks, MalformedFormIs400NamingTheByte) {
  HttpRequest r = native("event_id=%G1");
  r.headers.set("Content-Type", "application/x-www-form-urlencoded");
  const auto d = decide_hook(source("phone"), r, "", kNow, kSecret);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().status, 400);
  EXPECT_EQ(d.error().code, "malformed_form");
}

TEST_F(Hooks, OtherMediaTypesAre415) {
  HttpRequest r = native("<call/>");
  r.headers.set("Content-Type", "application/xml");
  const auto d = decide_hook(source("phone"), r, "", kNow, kSecret);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().status, 415);
}

TEST(HookSecret, ComesFromTheEnvironmentOrTheFile) {
  HookSource s;
  s.verify.secret_env = "PHONE_SECRET";
  const EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "PHONE_SECRET") return "from-env";
    return std::nullopt;
  };
  const EnvLookup empty = [](const std::string&) -> std::optional<std::string> { return ""; };
  EXPECT_EQ(hook_secret(s, env), "from-env");
  EXPECT_EQ(hook_secret(s, empty), std::nullopt);
  s.verify.secret_env.clear();
  s.verify.secret = "inline";
  EXPECT_EQ(hook_secret(s, empty), "inline");
}

}  // namespace
}  // namespace ombud::http
