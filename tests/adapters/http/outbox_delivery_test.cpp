// Notifications and webhooks leaving through the outbox, posted by the real client to ombud's
// own HTTP server on loopback: what a gateway receives, how it is signed, and what a failed
// delivery reports (the outbox row keeps it and retries).
#include "adapters/http/outbox_delivery.h"

#include <gtest/gtest.h>

#include <spdlog/sinks/ostream_sink.h>
#include <boost/json/parse.hpp>
#include <mutex>
#include <sstream>
#include <thread>

#include "adapters/http/http_client.h"
#include "adapters/http/json_log.h"
#include "adapters/http/server.h"
#include "adapters/http/webhook_signature.h"

namespace ombud::http {
namespace {

using namespace std::chrono_literals;

// A gateway: /ok answers 204, /fail 500 with a reason, /slow after two seconds. It keeps what
// it received.
class Gateway {
 public:
  Gateway() : server_(ServerOptions{}, [this](HttpRequest&& r) { return answer(std::move(r)); }) {
    port_ = server_.start().value();
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  std::vector<HttpRequest> received() {
    const std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  HttpResponse answer(HttpRequest&& r) {
    {
      const std::lock_guard lock(mutex_);
      received_.push_back(r);
    }
    if (r.target == "/fail") return HttpResponse::text(500, "mail relay down\nretry later");
    if (r.target == "/long") {
      std::string text = "\xff bad byte, then ";
      for (int i = 0; i < 100; ++i) text += "错";
      return HttpResponse::text(502, text);
    }
    if (r.target == "/slow") std::this_thread::sleep_for(2s);
    return HttpResponse::text(204, "");
  }

  std::mutex mutex_;
  std::vector<HttpRequest> received_;
  Server server_;
  std::uint16_t port_ = 0;
};

DeliveryTarget target(std::string name, std::string url, std::string secret = "") {
  DeliveryTarget t;
  t.name = std::move(name);
  t.url = std::move(url);
  t.secret = std::move(secret);
  t.timeout = 300ms;
  return t;
}

Config config_with_li_na() {
  Config c;
  Person p;
  p.id = "li.na";
  p.name = "Li Na";
  p.email = "li.na@example.com";
  p.phone = "13800000001";
  c.people.push_back(p);
  return c;
}

OutboxMessage notification() {
  OutboxMessage m;
  m.id = 42;
  m.instance_id = "complaint-7";
  m.kind = "notification";
  m.payload = {{"template", "complaint_assigned"},
               {"to", "assignee"},
               {"recipients", boost::json::array{"li.na", "gone.person"}},
               {"subject", "Complaint complaint-7 is yours"},
               {"body", "Call the customer back today."}};
  return m;
}

std::shared_ptr<spdlog::logger> logger_to(std::ostringstream& out) {
  return make_json_logger("test", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
}

TEST(OutboxDelivery, ANotificationIsPostedSignedWithItsTextsAndTheRecipientsContacts) {
  Gateway gateway;
  Config config = config_with_li_na();
  config.notifications = target("notifications", gateway.url("/ok"), "gateway-secret");
  std::ostringstream log;
  OutboxDelivery delivery(config, logger_to(log));
  EXPECT_TRUE(delivery.warnings().empty());

  EXPECT_EQ(delivery.deliver(notification()), "");
  const auto got = gateway.received();
  ASSERT_EQ(got.size(), 1U);
  const HttpRequest& r = got[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/ok");
  EXPECT_EQ(r.headers.get("Content-Type"), "application/json");
  EXPECT_EQ(r.headers.get("X-Ombud-Delivery"), "42");
  EXPECT_EQ(r.headers.get("X-Ombud-Instance"), "complaint-7");
  // The gateway checks it as ombud checks a phone system's call.
  const auto check = verify_native_signature(
      "gateway-secret", r.headers.get("X-Ombud-Timestamp"), r.headers.get("X-Ombud-Signature"),
      r.body, std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()));
  EXPECT_TRUE(check.ok()) << check.reason;
  EXPECT_FALSE(verify_native_signature("another-secret", r.headers.get("X-Ombud-Timestamp"),
                                       r.headers.get("X-Ombud-Signature"), r.body,
                                       std::chrono::time_point_cast<std::chrono::seconds>(
                                           std::chrono::system_clock::now()))
                   .ok());

  const boost::json::value body = boost::json::parse(r.body);
  EXPECT_EQ(body.at("delivery"), 42);
  EXPECT_EQ(body.at("instance"), "complaint-7");
  EXPECT_EQ(body.at("subject"), "Complaint complaint-7 is yours");
  EXPECT_EQ(body.at("body"), "Call the customer back today.");
  EXPECT_EQ(body.at("template"), "complaint_assigned");
  const auto& recipients = body.at("recipients").as_array();
  ASSERT_EQ(recipients.size(), 2U);
  EXPECT_EQ(recipients[0].at("email"), "li.na@example.com");
  EXPECT_EQ(recipients[0].at("phone"), "13800000001");
  EXPECT_EQ(recipients[0].at("name"), "Li Na");
  // Someone who left the directory since: the id alone.
  EXPECT_EQ(recipients[1], (boost::json::object{{"id", "gone.person"}}));
}

TEST(OutboxDelivery, AWebhookPostsItsBodyAsTheWorkflowMadeItToItsTarget) {
  Gateway gateway;
  Config config;
  config.webhook_targets.push_back(target("crm", gateway.url("/ok")));
  std::ostringstream log;
  OutboxDelivery delivery(config, logger_to(log));
  OutboxMessage m;
  m.id = 7;
  m.instance_id = "complaint-1";
  m.kind = "webhook";
  m.payload = {{"target", "crm"},
               {"body", boost::json::object{{"event", "complaint_closed"}, {"score", 5}}}};

  EXPECT_EQ(delivery.deliver(m), "");
  const auto got = gateway.received();
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(boost::json::parse(got[0].body),
            (boost::json::object{{"event", "complaint_closed"}, {"score", 5}}));
  // No secret: not signed.
  EXPECT_FALSE(got[0].headers.get("X-Ombud-Signature").has_value());

  m.payload["target"] = "erp";
  EXPECT_EQ(delivery.deliver(m), "no webhook target 'erp' in the config");
}

TEST(OutboxDelivery, AFailureSaysWhatTheGatewayAnsweredOrWhyItDidNotAnswer) {
  Gateway gateway;
  Config config = config_with_li_na();
  std::ostringstream log;

  config.notifications = target("notifications", gateway.url("/fail"));
  EXPECT_EQ(OutboxDelivery(config, logger_to(log)).deliver(notification()),
            "HTTP 500 from notifications: mail relay down retry later");
  EXPECT_NE(log.str().find("\"msg\":\"delivery failed\""), std::string::npos) << log.str();

  // The gateway answers after two seconds, the target allows 300 ms.
  config.notifications = target("notifications", gateway.url("/slow"));
  EXPECT_EQ(OutboxDelivery(config, logger_to(log)).deliver(notification()),
            "reading the answer: timed out");

  // https:// to a server that speaks plain HTTP.
  config.notifications = target("notifications", "https" + gateway.url("/ok").substr(4));
  EXPECT_NE(OutboxDelivery(config, logger_to(log))
                .deliver(notification())
                .find("TLS handshake with 127.0.0.1: "),
            std::string::npos);

  // What the outbox row keeps of an answer is short and valid UTF-8 (PostgreSQL stores nothing
  // else): a cut never splits a character, and a byte that is not UTF-8 becomes '?'.
  config.notifications = target("notifications", gateway.url("/long"));
  const std::string error = OutboxDelivery(config, logger_to(log)).deliver(notification());
  EXPECT_TRUE(error.starts_with("HTTP 502 from notifications: ? bad byte, then 错错")) << error;
  EXPECT_TRUE(error.ends_with("错…")) << error;
  EXPECT_LT(error.size(), 260U);

  // A port nobody listens on.
  const std::string closed = "http://127.0.0.1:1/";
  config.notifications = target("notifications", closed);
  EXPECT_EQ(OutboxDelivery(config, logger_to(log)).deliver(notification()),
            "connect to 127.0.0.1:1: Connection refused");
}

// A gateway that gave no answer is left alone for a while: its next messages fail at once,
// without a connection each, and other targets are not held up by it.
TEST(OutboxDelivery, AGatewayThatGaveNoAnswerIsNotTriedAgainAtOnce) {
  Gateway gateway;
  Config config = config_with_li_na();
  config.notifications = target("notifications", gateway.url("/slow"));  // 2 s, 300 ms allowed
  config.webhook_targets.push_back(target("crm", gateway.url("/ok")));
  std::ostringstream log;
  OutboxDelivery delivery(config, logger_to(log));

  EXPECT_EQ(delivery.deliver(notification()), "reading the answer: timed out");
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(delivery.deliver(notification()),
            "not tried: notifications gave no answer moments ago (reading the answer: timed out)");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 200ms);
  EXPECT_EQ(gateway.received().size(), 1U);

  OutboxMessage m;
  m.id = 8;
  m.instance_id = "complaint-7";
  m.kind = "webhook";
  m.payload = {{"target", "crm"}, {"body", boost::json::object{{"event", "closed"}}}};
  EXPECT_EQ(delivery.deliver(m), "");
  EXPECT_EQ(gateway.received().size(), 2U);
}

TEST(OutboxDelivery, NothingIsSentWithNowhereToGoOrUnsignedWhenTheSecretIsMissing) {
  Gateway gateway;
  Config config = config_with_li_na();
  std::ostringstream log;
  {
    OutboxDelivery delivery(config, logger_to(log));
    EXPECT_EQ(delivery.deliver(notification()),
              "no notification gateway: the config has no 'notifications:'");
    ASSERT_EQ(delivery.warnings().size(), 1U);
    EXPECT_NE(delivery.warnings()[0].find("notifications are not sent"), std::string::npos);
  }
  config.notifications = target("notifications", gateway.url("/ok"));
  config.notifications->secret_env = "OMBUD_TEST_UNSET_GATEWAY_SECRET";
  ::unsetenv("OMBUD_TEST_UNSET_GATEWAY_SECRET");
  OutboxDelivery delivery(config, logger_to(log));
  EXPECT_EQ(delivery.deliver(notification()),
            "not sent unsigned: the environment variable OMBUD_TEST_UNSET_GATEWAY_SECRET is not "
            "set");
  ASSERT_EQ(delivery.warnings().size(), 1U);
  EXPECT_NE(delivery.warnings()[0].find("OMBUD_TEST_UNSET_GATEWAY_SECRET"), std::string::npos);
  EXPECT_TRUE(gateway.received().empty());
}

// Targets that could never be posted to stop the server at start-up, not every delivery.
TEST(OutboxDelivery, AUrlThatCannotBePostedToIsAProblem) {
  Config config;
  config.file = "ombud.yaml";
  config.notifications = target("notifications", "https://user:pw@relay.example.com/");
  config.webhook_targets.push_back(target("crm", "http://crm.example.com/hooks#x"));
  config.webhook_targets.push_back(target("erp", "http://erp.example.com/hooks"));
  std::ostringstream log;
  const auto problems = OutboxDelivery(config, logger_to(log)).problems();
  ASSERT_EQ(problems.size(), 2U);
  EXPECT_NE(problems[0].find("ombud.yaml: the url of notifications: "), std::string::npos);
  EXPECT_NE(problems[1].find("the url of crm: a URL to post to has no #fragment"),
            std::string::npos);
}

// A message the outbox kept before its texts were: still says what it is about.
TEST(OutboxDelivery, ANotificationWithoutItsTextsGetsASubject) {
  Config config = config_with_li_na();
  std::ostringstream log;
  OutboxMessage m = notification();
  m.payload.erase("subject");
  m.payload.erase("body");
  const boost::json::value body =
      boost::json::parse(OutboxDelivery(config, logger_to(log)).notification_body(m));
  EXPECT_EQ(body.at("subject"), "ombud: complaint_assigned for complaint-7");
  EXPECT_EQ(body.at("body"), "");
}

TEST(OutboxDelivery, DeliverLogWritesTheMessageToTheLog) {
  Config config = config_with_li_na();
  config.notifications = DeliveryTarget{};
  config.notifications->name = "notifications";
  config.notifications->deliver = DeliveryTarget::Deliver::log;
  std::ostringstream log;
  EXPECT_EQ(OutboxDelivery(config, logger_to(log)).deliver(notification()), "");
  const boost::json::value line = boost::json::parse(log.str());
  EXPECT_EQ(line.at("msg"), "notification");
  EXPECT_EQ(line.at("instance"), "complaint-7");
  EXPECT_EQ(boost::json::parse(line.at("content").as_string()).at("subject"),
            "Complaint complaint-7 is yours");
}

// A name is looked up within the call's deadline; one that does not resolve says so.
TEST(HttpPost, AHostNameIsLookedUpWithinTheDeadline) {
  Gateway gateway;
  const std::string port = gateway.url("").substr(std::string("http://127.0.0.1:").size());
  const PostResult ok = http_post("http://localhost:" + port + "/ok", "{}", {}, 2s);
  EXPECT_EQ(ok.status, 204) << ok.error;
  EXPECT_EQ(gateway.received().size(), 1U);

  // Unknown, or unanswered where no DNS server is reachable: either way within the deadline.
  const auto started = std::chrono::steady_clock::now();
  const PostResult nowhere = http_post("http://no-such-host.invalid/", "{}", {}, 1s);
  EXPECT_EQ(nowhere.status, 0);
  EXPECT_TRUE(nowhere.error.starts_with("resolving no-such-host.invalid: ")) << nowhere.error;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);
}

TEST(HttpPost, UrlsItCannotPostToAreNamed) {
  EXPECT_EQ(check_post_url("https://crm.example.com/hooks/ombud?x=1"), "");
  EXPECT_EQ(check_post_url("http://[::1]:8080/"), "");
  EXPECT_EQ(check_post_url("ftp://example.com/"), "the scheme must be http or https, not 'ftp'");
  EXPECT_EQ(check_post_url("http://10.0.0.1:70000/"), "the port must be 1-65535, not '70000'");
  EXPECT_NE(check_post_url("not a url").find("is not a URL"), std::string::npos);
  EXPECT_NE(check_post_url("https://user:pw@example.com/").find("password"), std::string::npos);
  const PostResult r = http_post("ftp://example.com/", "{}", {}, 1s);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.error, "the scheme must be http or https, not 'ftp'");
}

}  // namespace
}  // namespace ombud::http
