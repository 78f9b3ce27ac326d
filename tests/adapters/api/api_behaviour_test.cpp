// What the API does for a caller who may call it: cases, events, listing, workflows, the
// directory, phone-system webhooks and the inbox, metrics and health. Status codes and bodies.
#include <gmock/gmock.h>

#include <algorithm>
#include <set>
#include <thread>
#include <vector>

#include "adapters/http/webhook_signature.h"
#include "engine/time.h"
#include "tests/adapters/api/api_fixture.h"

namespace ombud::api::testing {
namespace {

using ::testing::HasSubstr;

class ApiBehaviour : public ApiFixture {};

// ---- instances ---------------------------------------------------------------------------------

TEST_F(ApiBehaviour, StartAnswers201AndTheSameIdempotencyKeyAnswers200WithTheSameCase) {
  const std::string body =
      R"({"workflow":"complaint","data":{"phone":"13900000001","summary":"late"}})";
  const HttpResponse first =
      call("POST", "/v1/instances", "agent", body, {{"Idempotency-Key", "start-1"}});
  ASSERT_EQ(first.status, 201) << first.body;
  const json::value a = body_of(first);
  EXPECT_EQ(str(a, "/status"), "ok");
  EXPECT_EQ(str(a, "/instance/workflow"), "complaint");
  EXPECT_EQ(str(a, "/instance/state"), "assigned");  // triage ran at once
  const std::string id = str(a, "/instance/id");
  EXPECT_FALSE(id.empty());
  EXPECT_FALSE(str(a, "/instance/assignee").empty());

  const HttpResponse again =
      call("POST", "/v1/instances", "agent", body, {{"Idempotency-Key", "start-1"}});
  ASSERT_EQ(again.status, 200) << again.body;
  const json::value b = body_of(again);
  EXPECT_EQ(str(b, "/instance/id"), id);
  EXPECT_EQ(b.at("replayed"), json::value(true));
  // The first answer has the step's history; the repeat has the first status and the case as
  // it is now (here unchanged), without history.
  EXPECT_EQ(first.headers.get("Content-Type"), "application/json");
  EXPECT_FALSE(a.at("history").as_array().empty());
  EXPECT_EQ(json::serialize(a.at("instance")), json::serialize(b.at("instance")));
  EXPECT_EQ(b.at("status"), json::value("ok"));
  EXPECT_TRUE(b.at("history").as_array().empty());

  // The key may also come in the body.
  const std::string in_body =
      R"({"workflow":"complaint","idempotency_key":"start-2","data":{"phone":"13900000002"}})";
  const HttpResponse c1 = call("POST", "/v1/instances", "admin", in_body);
  const HttpResponse c2 = call("POST", "/v1/instances", "admin", in_body);
  EXPECT_EQ(c1.status, 201) << c1.body;
  EXPECT_EQ(c2.status, 200) << c2.body;
  EXPECT_EQ(str(body_of(c1), "/instance/id"), str(body_of(c2), "/instance/id"));
}

TEST_F(ApiBehaviour, StartRejectsBadRequests) {
  const HttpResponse malformed = call("POST", "/v1/instances", "admin", "{nope");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(error_code(malformed), "malformed_json");

  const HttpResponse no_workflow = call("POST", "/v1/instances", "admin", R"({"data":{}})");
  EXPECT_EQ(no_workflow.status, 400);
  EXPECT_EQ(error_field(no_workflow), "workflow");

  const HttpResponse bad_data =
      call("POST", "/v1/instances", "admin", R"({"workflow":"complaint","data":[1]})");
  EXPECT_EQ(bad_data.status, 400);
  EXPECT_EQ(error_field(bad_data), "data");

  const HttpResponse unknown = call("POST", "/v1/instances", "admin", R"({"workflow":"nope"})");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(error_code(unknown), "unknown_workflow");
  EXPECT_EQ(error_field(unknown), "workflow");

  // The workflow refuses the data (phone is required): 422.
  const HttpResponse invalid =
      call("POST", "/v1/instances", "admin", R"({"workflow":"complaint","data":{}})");
  EXPECT_EQ(invalid.status, 422) << invalid.body;
  EXPECT_EQ(error_code(invalid), "rejected");

  // key_policy one_open: a second open complaint from the same phone is refused.
  start_complaint("13900000003");
  const HttpResponse second = call("POST", "/v1/instances", "admin",
                                   R"({"workflow":"complaint","data":{"phone":"13900000003"}})");
  EXPECT_EQ(second.status, 422) << second.body;

  HttpRequest text;
  text.method = "POST";
  text.target = "/v1/instances";
  text.headers.add("Authorization", "Bearer " + tokens_.at("admin"));
  text.headers.add("Content-Type", "text/plain");
  text.body = R"({"workflow":"complaint"})";
  EXPECT_EQ((*handler_)(text).status, 415);
}

TEST_F(ApiBehaviour, GetInstanceHasSlasTimersAndIncidentsAndHistoryNamesTheActor) {
  const json::object in = start_complaint("13900000011", "agent");
  const std::string id(in.at("id").as_string());
  const json::object got = get_instance(id);
  EXPECT_EQ(str(got, "/id"), id);
  EXPECT_EQ(str(got, "/state"), "assigned");
  ASSERT_TRUE(got.contains("slas"));
  ASSERT_TRUE(got.contains("timers"));
  ASSERT_TRUE(got.contains("incidents"));
  EXPECT_FALSE(got.at("slas").as_array().empty());
  std::set<std::string> slas;
  for (const auto& s : got.at("slas").as_array()) slas.insert(str(s, "/name"));
  EXPECT_TRUE(slas.count("acknowledge") == 1) << json::serialize(got.at("slas"));
  EXPECT_FALSE(got.at("timers").as_array().empty());  // the SLA clocks' escalation timers
  EXPECT_TRUE(got.at("incidents").as_array().empty());
  EXPECT_TRUE(got.at("revision").is_number());

  const HttpResponse h = call("GET", "/v1/instances/" + id + "/history", "supervisor");
  ASSERT_EQ(h.status, 200) << h.body;
  const json::value hist = body_of(h);
  EXPECT_EQ(str(hist, "/instance"), id);
  const auto& entries = hist.at("history").as_array();
  ASSERT_FALSE(entries.empty());
  bool started_by_agent = false;
  for (const auto& e : entries) {
    EXPECT_TRUE(e.as_object().contains("actor"));
    EXPECT_TRUE(e.at("seq").is_number());
    if (str(e, "/kind") == "started") {
      started_by_agent = str(e, "/actor") == "token:" + token_id("agent");
    }
  }
  EXPECT_TRUE(started_by_agent) << h.body;

  // A token for a person: history names the person.
  const HttpResponse ack =
      call("POST", "/v1/instances/" + id + "/events", "li.na", R"({"event":"acknowledge"})");
  ASSERT_EQ(ack.status, 200) << ack.body;
  const json::value after = body_of(call("GET", "/v1/instances/" + id + "/history", "admin"));
  bool by_li_na = false;
  for (const auto& e : after.at("history").as_array()) by_li_na |= str(e, "/actor") == "li.na";
  EXPECT_TRUE(by_li_na) << json::serialize(after);

  const HttpResponse missing = call("GET", "/v1/instances/complaint-424242", "agent");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(error_code(missing), "not_found");
  EXPECT_EQ(call("GET", "/v1/instances/complaint-424242/history", "agent").status, 404);
}

TEST_F(ApiBehaviour, ListFiltersAndWalksEveryPageWithTheCursor) {
  std::set<std::string> started;
  for (int i = 0; i < 4; ++i) {
    started.insert(
        std::string(start_complaint("1390000002" + std::to_string(i)).at("id").as_string()));
  }
  ASSERT_EQ(started.size(), 4U);

  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  while (true) {
    std::string target = "/v1/instances?workflow=complaint&limit=1";
    if (!cursor.empty()) target += "&cursor=" + cursor;
    const HttpResponse r = call("GET", target, "agent");
    ASSERT_EQ(r.status, 200) << r.body;
    const json::value page = body_of(r);
    ASSERT_LE(page.at("items").as_array().size(), 1U);
    for (const auto& item : page.at("items").as_array()) {
      EXPECT_TRUE(seen.insert(str(item, "/id")).second) << "seen twice: " << str(item, "/id");
    }
    ASSERT_TRUE(page.as_object().contains("next_cursor"));
    ++pages;
    ASSERT_LT(pages, 10);
    if (page.at("next_cursor").is_null()) break;
    cursor = std::string(page.at("next_cursor").as_string());
  }
  EXPECT_EQ(seen, started);
  EXPECT_EQ(pages, 4);
  // A cursor that names no case is refused rather than read as a place in the id order.
  const HttpResponse stray = call("GET", "/v1/instances?cursor=complaint-9999", "agent");
  EXPECT_EQ(stray.status, 400) << stray.body;
  EXPECT_EQ(error_field(stray), "cursor");

  const json::value all = body_of(call("GET", "/v1/instances?limit=500", "admin"));
  EXPECT_EQ(all.at("items").as_array().size(), 4U);
  EXPECT_TRUE(all.at("next_cursor").is_null());

  const json::value by_key = body_of(call("GET", "/v1/instances?key=13900000022", "admin"));
  ASSERT_EQ(by_key.at("items").as_array().size(), 1U);
  EXPECT_EQ(str(by_key, "/items/0/key"), "13900000022");

  const std::string assignee = str(by_key, "/items/0/assignee");
  const json::value by_assignee =
      body_of(call("GET", "/v1/instances?assignee=" + assignee, "admin"));
  EXPECT_GE(by_assignee.at("items").as_array().size(), 1U);
  for (const auto& item : by_assignee.at("items").as_array()) {
    EXPECT_EQ(str(item, "/assignee"), assignee);
  }

  EXPECT_EQ(body_of(call("GET", "/v1/instances?state=assigned&open=true", "admin"))
                .at("items")
                .as_array()
                .size(),
            4U);
  EXPECT_TRUE(
      body_of(call("GET", "/v1/instances?state=closed", "admin")).at("items").as_array().empty());
  EXPECT_TRUE(body_of(call("GET", "/v1/instances?workflow=leave_request", "admin"))
                  .at("items")
                  .as_array()
                  .empty());
  EXPECT_TRUE(
      body_of(call("GET", "/v1/instances?sla=breached", "admin")).at("items").as_array().empty());
  EXPECT_EQ(call("GET", "/v1/instances?sla=at_risk", "admin").status, 200);
}

TEST_F(ApiBehaviour, BadQueryParametersAre400NamingTheField) {
  for (const char* bad :
       {"limit=0", "limit=501", "limit=abc", "limit=-1", "limit=", "limit=99999999999999999999"}) {
    SCOPED_TRACE(bad);
    const HttpResponse r = call("GET", std::string("/v1/instances?") + bad, "admin");
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(error_code(r), "invalid_field");
    EXPECT_EQ(error_field(r), "limit");
  }
  const HttpResponse sla = call("GET", "/v1/instances?sla=late", "admin");
  EXPECT_EQ(sla.status, 400);
  EXPECT_EQ(error_field(sla), "sla");
  const HttpResponse open = call("GET", "/v1/instances?open=yes", "admin");
  EXPECT_EQ(open.status, 400);
  EXPECT_EQ(error_field(open), "open");
  const HttpResponse inbox = call("GET", "/v1/inbox?limit=0", "admin");
  EXPECT_EQ(inbox.status, 400);
  EXPECT_EQ(error_field(inbox), "limit");
}

// ---- events ------------------------------------------------------------------------------------

TEST_F(ApiBehaviour, EventsByIdCheckTheBodyAndTheRevision) {
  const std::string id(start_complaint("13900000031").at("id").as_string());
  const std::string target = "/v1/instances/" + id + "/events";

  const HttpResponse missing = call("POST", target, "agent", R"({"data":{}})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(error_code(missing), "invalid_field");
  EXPECT_EQ(error_field(missing), "event");
  EXPECT_EQ(error_code(call("POST", target, "agent", "[1,")), "malformed_json");
  const HttpResponse bad_rev = call("POST", target, "agent", R"({"event":"x","revision":"7"})");
  EXPECT_EQ(bad_rev.status, 400);
  EXPECT_EQ(error_field(bad_rev), "revision");

  const auto revision = get_instance(id).at("revision").to_number<std::int64_t>();
  const HttpResponse stale =
      call("POST", target, "agent",
           R"({"event":"acknowledge","revision":)" + std::to_string(revision + 3) + "}");
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_EQ(error_code(stale), "stale_revision");
  EXPECT_EQ(error_field(stale), "revision");
  EXPECT_EQ(str(get_instance(id), "/state"), "assigned");

  const HttpResponse ok = call("POST", target, "agent",
                               R"({"event":"acknowledge","revision":)" + std::to_string(revision) +
                                   R"(,"data":{"note":"called back"}})",
                               {{"Idempotency-Key", "ack-1"}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(str(body_of(ok), "/instance/state"), "investigating");
  // The prefixes of ombud's own keys (webhooks, inbox replays) are not a caller's to use.
  for (const char* reserved : {"hook:phone:CA1", "inbox:1"}) {
    const HttpResponse refused = call("POST", target, "agent", R"({"event":"acknowledge"})",
                                      {{"Idempotency-Key", reserved}});
    EXPECT_EQ(refused.status, 400) << refused.body;
    EXPECT_EQ(error_field(refused), "idempotency_key");
  }
  // The same key with another request (here, without the note): refused, nothing applied.
  const HttpResponse reused =
      call("POST", target, "agent", R"({"event":"acknowledge"})", {{"Idempotency-Key", "ack-1"}});
  EXPECT_EQ(reused.status, 422) << reused.body;
  EXPECT_EQ(error_code(reused), "idempotency_key_reused");
  EXPECT_EQ(error_field(reused), "idempotency_key");
  // A client whose answer was lost retries the very same request, revision included: it must
  // learn the outcome (the 503 `timeout` answer tells it to do exactly this), not get 409.
  const HttpResponse retry =
      call("POST", target, "agent",
           R"({"event":"acknowledge","revision":)" + std::to_string(revision) +
               R"(,"data":{"note":"called back"}})",
           {{"Idempotency-Key", "ack-1"}});
  EXPECT_EQ(retry.status, 200) << retry.body;
  EXPECT_EQ(str(body_of(retry), "/instance/state"), "investigating");
  EXPECT_EQ(body_of(retry).at("replayed"), json::value(true));

  // No transition takes the event in this state: 200 `not_handled`, nothing changes.
  const HttpResponse unhandled =
      call("POST", target, "agent", R"({"event":"visited","data":{"score":5}})");
  EXPECT_EQ(unhandled.status, 200) << unhandled.body;
  EXPECT_EQ(str(body_of(unhandled), "/status"), "not_handled");
  EXPECT_EQ(str(get_instance(id), "/state"), "investigating");
  // Refused by the workflow: the event's payload is invalid (escalate needs a reason).
  const HttpResponse invalid = call("POST", target, "agent", R"({"event":"escalate","data":{}})");
  EXPECT_EQ(invalid.status, 422) << invalid.body;
  EXPECT_EQ(error_code(invalid), "rejected");

  const HttpResponse nowhere =
      call("POST", "/v1/instances/complaint-424242/events", "agent", R"({"event":"add_note"})");
  EXPECT_EQ(nowhere.status, 404) << nowhere.body;
  const HttpResponse nowhere_rev = call("POST", "/v1/instances/complaint-424242/events", "agent",
                                        R"({"event":"add_note","revision":1})");
  EXPECT_EQ(nowhere_rev.status, 404) << nowhere_rev.body;
}

TEST_F(ApiBehaviour, EventsByBusinessKey) {
  const std::string id(start_complaint("13900000041").at("id").as_string());
  const HttpResponse r = call(
      "POST", "/v1/events", "hook",
      R"({"workflow":"complaint","key":"13900000041","event":"add_note","data":{"note":"hi"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  const json::value v = body_of(r);
  EXPECT_EQ(str(v, "/instance/id"), id);
  EXPECT_EQ(str(v, "/status"), "ok");
  EXPECT_EQ(str(get_instance(id), "/data/last_note"), "hi");
  // A hook token may not read cases, and its answers do not show them either: no data, no
  // assignee, no history.
  EXPECT_EQ(v.as_object().at("instance").as_object().size(), 4U) << r.body;  // id, workflow,
                                                                             // state, key
  EXPECT_FALSE(v.as_object().contains("history")) << r.body;
  // An agent's answer shows the case.
  const HttpResponse agent = call(
      "POST", "/v1/events", "agent",
      R"({"workflow":"complaint","key":"13900000041","event":"add_note","data":{"note":"ho"}})");
  EXPECT_EQ(str(body_of(agent), "/instance/data/last_note"), "ho") << agent.body;

  const HttpResponse no_key =
      call("POST", "/v1/events", "hook", R"({"workflow":"complaint","event":"add_note"})");
  EXPECT_EQ(no_key.status, 400);
  EXPECT_EQ(error_field(no_key), "key");
  const HttpResponse no_event =
      call("POST", "/v1/events", "hook", R"({"workflow":"complaint","key":"13900000041"})");
  EXPECT_EQ(no_event.status, 400);
  EXPECT_EQ(error_field(no_event), "event");
  const HttpResponse unknown_wf =
      call("POST", "/v1/events", "hook", R"({"workflow":"nope","key":"k","event":"e"})");
  EXPECT_EQ(unknown_wf.status, 404);
  EXPECT_EQ(error_code(unknown_wf), "unknown_workflow");
  const HttpResponse no_case = call("POST", "/v1/events", "hook",
                                    R"({"workflow":"complaint","key":"000000","event":"add_note",
                                        "data":{"note":"x"}})");
  EXPECT_EQ(no_case.status, 404) << no_case.body;
}

TEST_F(ApiBehaviour, AssignToAPersonAndToNobodyKnown) {
  const std::string id(start_complaint("13900000051").at("id").as_string());
  const std::string target = "/v1/instances/" + id + "/assign";
  const HttpResponse ok =
      call("POST", target, "supervisor", R"({"to":"liu.yang","reason":"knows billing"})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(str(body_of(ok), "/instance/assignee"), "liu.yang");
  EXPECT_EQ(str(get_instance(id), "/assignee"), "liu.yang");
  // complaint.yaml's on_assign tells the new handler, in the same commit as the move.
  std::vector<std::string> told;
  for (const OutboxMessage& m : node_->store().outbox(false, 100)) {
    if (m.instance_id == id &&
        json::serialize(m.payload).find("complaint_reassigned") != std::string::npos) {
      told.push_back(json::serialize(m.payload.at("recipients")));
    }
  }
  EXPECT_EQ(told, std::vector<std::string>{R"(["liu.yang"])"});

  const HttpResponse unknown = call("POST", target, "supervisor", R"({"to":"no.body"})");
  EXPECT_EQ(unknown.status, 422);
  EXPECT_EQ(error_code(unknown), "unknown_person");
  EXPECT_EQ(error_field(unknown), "to");
  EXPECT_EQ(str(get_instance(id), "/assignee"), "liu.yang");

  const HttpResponse not_string = call("POST", target, "admin", R"({"to":5})");
  EXPECT_EQ(not_string.status, 400);
  EXPECT_EQ(error_field(not_string), "to");
  EXPECT_EQ(
      call("POST", "/v1/instances/complaint-424242/assign", "admin", R"({"to":"li.na"})").status,
      404);
}

// A case taken from its assignee waits in a queue, where a supervisor sees it; never in none.
TEST_F(ApiBehaviour, ACaseTakenFromItsAssigneeWaitsInAQueue) {
  const std::string id(start_complaint("13900000052").at("id").as_string());
  const std::string target = "/v1/instances/" + id + "/assign";
  ASSERT_EQ(call("POST", target, "supervisor", R"({"to":"liu.yang"})").status, 200);
  ASSERT_EQ(str(get_instance(id), "/queue"), "");  // picked from the queue, which it left

  const HttpResponse nowhere = call("POST", target, "supervisor", "{}");
  EXPECT_EQ(nowhere.status, 422) << nowhere.body;
  EXPECT_EQ(str(get_instance(id), "/assignee"), "liu.yang");
  const HttpResponse unknown = call("POST", target, "supervisor", R"({"queue":"no_such_queue"})");
  EXPECT_EQ(unknown.status, 422) << unknown.body;
  EXPECT_EQ(error_code(unknown), "unknown_queue");
  EXPECT_EQ(error_field(unknown), "queue");
  const HttpResponse both =
      call("POST", target, "supervisor", R"({"to":"li.na","queue":"complaints"})");
  EXPECT_EQ(both.status, 400) << both.body;
  EXPECT_EQ(error_field(both), "queue");

  const HttpResponse queued =
      call("POST", target, "supervisor", R"({"queue":"complaints","reason":"on leave"})");
  ASSERT_EQ(queued.status, 200) << queued.body;
  EXPECT_EQ(str(get_instance(id), "/assignee"), "");
  EXPECT_EQ(str(get_instance(id), "/queue"), "complaints");
  // Where a supervisor finds it: the cases waiting in that queue.
  const json::value waiting = body_of(call("GET", "/v1/instances?queue=complaints", "supervisor"));
  ASSERT_EQ(waiting.at("items").as_array().size(), 1U) << waiting;
  EXPECT_EQ(str(waiting, "/items/0/id"), id);
  const json::value history = body_of(call("GET", "/v1/instances/" + id + "/history", "admin"));
  EXPECT_NE(json::serialize(history).find("reassigned from liu.yang to the queue complaints"),
            std::string::npos);

  // Asked again to wait where it waits: nothing changes, and nothing is recorded.
  const json::value before = get_instance(id);
  ASSERT_EQ(call("POST", target, "supervisor", "{}").status, 200);
  EXPECT_EQ(get_instance(id).at("revision"), before.at("revision"));
  // A person picked from the queue takes it out of the queue, as a workflow's assign does: a
  // later {} then has no queue to put it back into without naming one.
  ASSERT_EQ(call("POST", target, "supervisor", R"({"to":"li.na"})").status, 200);
  EXPECT_EQ(str(get_instance(id), "/queue"), "");
  EXPECT_EQ(call("POST", target, "supervisor", R"({"to":"li.na"})").status, 200);
  const json::value picked = get_instance(id);
  EXPECT_EQ(picked.at("revision").to_number<std::int64_t>(),
            before.at("revision").to_number<std::int64_t>() + 1);
  // Two supervisors on one queue: the one who saw an older revision is told.
  const HttpResponse stale =
      call("POST", target, "supervisor",
           R"({"to":"liu.yang","revision":)" + json::serialize(before.at("revision")) + "}");
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_EQ(error_field(stale), "revision");
  EXPECT_EQ(str(get_instance(id), "/assignee"), "li.na");
}

// An incident someone has dealt with is marked resolved: it stays in the case, and the history
// says who resolved it and why. Before, incidents could only pile up.
// A supervisor may hand a case to anyone, but not to herself where that would make her its
// decider: chen.jing's own leave waits for zhang.wei, and taking it would let her approve it.
// A complaint, which a supervisor may decide anyway, she can take.
TEST_F(ApiBehaviour, ASupervisorCannotMakeHerselfTheDeciderOfACase) {
  tokens_.try_emplace("chen.jing", make_token("supervisor", "chen.jing", false));
  const HttpResponse created = call("POST", "/v1/instances", "admin",
                                    R"({"workflow":"leave_request","data":{"employee":"chen.jing",
               "starts":"2027-03-01T09:00:00+08:00","days":1}})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id(str(body_of(created), "/instance/id"));
  ASSERT_EQ(str(get_instance(id), "/assignee"), "zhang.wei");
  const std::string assign = "/v1/instances/" + id + "/assign";

  const HttpResponse taken = call("POST", assign, "chen.jing", R"({"to":"chen.jing"})");
  EXPECT_EQ(taken.status, 422) << taken.body;
  EXPECT_NE(taken.body.find("cannot assign the case to themselves"), std::string::npos)
      << taken.body;
  EXPECT_EQ(str(get_instance(id), "/assignee"), "zhang.wei");
  EXPECT_EQ(
      call("POST", "/v1/instances/" + id + "/events", "chen.jing", R"({"event":"approve"})").status,
      403);

  const std::string complaint(start_complaint("13900000055").at("id").as_string());
  const HttpResponse mine =
      call("POST", "/v1/instances/" + complaint + "/assign", "chen.jing", R"({"to":"chen.jing"})");
  EXPECT_EQ(mine.status, 200) << mine.body;
  EXPECT_EQ(str(get_instance(complaint), "/assignee"), "chen.jing");
}

TEST_F(ApiBehaviour, ASupervisorResolvesAnIncident) {
  // The director has no manager: nobody can decide his leave, and the case says so.
  const HttpResponse created = call("POST", "/v1/instances", "admin",
                                    R"({"workflow":"leave_request","data":{"employee":"zhao.min",
               "starts":"2026-12-07T09:00:00+08:00","days":1}})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id(str(body_of(created), "/instance/id"));
  const json::value before = get_instance(id);
  ASSERT_EQ(before.at("incidents").as_array().size(), 1U) << before;
  EXPECT_EQ(before.at("incidents").at(0).at("resolved"), json::value(false));
  const std::string target = "/v1/instances/" + id + "/incidents/1/resolve";

  // Only a supervisor or an admin; an agent is refused and nothing changes.
  EXPECT_EQ(call("POST", target, "agent", R"({"note":"x"})").status, 403);
  // A number the case has no incident for, or no number at all.
  const HttpResponse missing =
      call("POST", "/v1/instances/" + id + "/incidents/2/resolve", "supervisor", "{}");
  EXPECT_EQ(missing.status, 404) << missing.body;
  EXPECT_NE(missing.body.find("has no incident 2 (it has 1)"), std::string::npos) << missing.body;
  EXPECT_EQ(call("POST", "/v1/instances/" + id + "/incidents/0/resolve", "supervisor", "{}").status,
            404);
  EXPECT_EQ(call("POST", "/v1/instances/" + id + "/incidents/x/resolve", "supervisor", "{}").status,
            404);
  const HttpResponse unknown_field = call("POST", target, "supervisor", R"({"reason":"x"})");
  EXPECT_EQ(unknown_field.status, 400);
  EXPECT_EQ(error_field(unknown_field), "reason");
  const HttpResponse stale = call("POST", target, "supervisor", R"({"revision":0})");
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_EQ(error_field(stale), "revision");
  EXPECT_EQ(get_instance(id).at("revision"), before.at("revision"));

  const HttpResponse ok = call("POST", target, "supervisor",
                               R"({"note":"he.ping approves the director's leave","revision":)" +
                                   json::serialize(before.at("revision")) + "}");
  ASSERT_EQ(ok.status, 200) << ok.body;
  const json::value after = get_instance(id);
  EXPECT_EQ(after.at("incidents").at(0).at("resolved"), json::value(true)) << after;
  EXPECT_EQ(after.at("incidents").at(0).at("message"), before.at("incidents").at(0).at("message"));
  EXPECT_EQ(after.at("state"), before.at("state"));
  const json::value history = body_of(call("GET", "/v1/instances/" + id + "/history", "admin"));
  const json::value& last = history.at("history").as_array().back();
  EXPECT_EQ(str(last, "/kind"), "incident_resolved");
  EXPECT_EQ(str(last, "/message"), "incident 1 resolved by token:" + token_id("supervisor") +
                                       ": he.ping approves the director's leave");
  EXPECT_EQ(last.at("details").at("incident"), json::value(1));

  // Resolved already: nothing more is recorded.
  ASSERT_EQ(call("POST", target, "admin", "{}").status, 200);
  EXPECT_EQ(get_instance(id).at("revision"), after.at("revision"));
}

// A query parameter a list does not read is named, not ignored: ?queue= listed every case.
TEST_F(ApiBehaviour, AnUnknownOrMalformedQueryParameterIs400NamingIt) {
  const auto refused = [&](const std::string& target, const std::string& field) {
    const HttpResponse r = call("GET", target, "supervisor");
    EXPECT_EQ(r.status, 400) << target << " " << r.body;
    EXPECT_EQ(error_field(r), field) << r.body;
  };
  refused("/v1/instances?queu=complaints", "queu");
  refused("/v1/instances?state=open&bogus=1", "bogus");
  refused("/v1/inbox?all=yes", "all");
  refused("/v1/inbox?open=true", "open");
  refused("/v1/workflows/complaint/graph?fromat=dot", "fromat");
  refused("/v1/workflows/complaint?version=1", "version");
  refused("/v1/instances/complaint-1/history?limit=5", "limit");
  // A dry run that is not one must not publish.
  const HttpResponse put = call("PUT", "/v1/workflows/complaint?dry_run=true", "admin",
                                read_text(source_file("workflows/complaint.yaml")) + "\n# v2\n");
  EXPECT_EQ(put.status, 400) << put.body;
  EXPECT_EQ(error_field(put), "dry_run");
  EXPECT_EQ(body_of(call("GET", "/v1/workflows/complaint", "admin")).at("version"), json::value(1));
  EXPECT_EQ(call("GET", "/v1/inbox?all=true&limit=5", "supervisor").status, 200);
  EXPECT_EQ(call("GET", "/v1/instances?state=assigned&limit=5", "supervisor").status, 200);
}

// Every member of a request body is one the route reads; a misspelt one is named, not dropped.
TEST_F(ApiBehaviour, AnUnknownBodyFieldIs400NamingIt) {
  const std::string id(start_complaint("13900000053").at("id").as_string());
  const json::value before = get_instance(id);
  const auto refused = [&](const std::string& target, const std::string& body,
                           const std::string& field) {
    const HttpResponse r = call("POST", target, "admin", body);
    EXPECT_EQ(r.status, 400) << target << " " << r.body;
    EXPECT_EQ(error_code(r), "invalid_field") << r.body;
    EXPECT_EQ(error_field(r), field) << r.body;
  };
  refused("/v1/instances/" + id + "/assign", R"({"assignee":"li.na"})", "assignee");
  refused("/v1/instances/" + id + "/events", R"({"event":"add_note","idempotencyKey":"k"})",
          "idempotencyKey");
  refused("/v1/instances", R"({"workflow":"complaint","priority":"urgent","data":{}})", "priority");
  refused("/v1/events", R"({"workflow":"complaint","key":"1","event":"x","bogus":1})", "bogus");
  const HttpResponse parked =
      hook(R"({"event_id":"evt-u","call_id":"c-u","status":"completed","caller":"13900000054"})");
  ASSERT_EQ(parked.status, 202) << parked.body;
  const auto entry = body_of(parked).at("inbox").at("id").to_number<std::uint64_t>();
  refused("/v1/inbox/" + std::to_string(entry) + "/replay",
          R"({"instance":")" + id + R"(","event":"add_note","revision":3})", "revision");
  EXPECT_EQ(get_instance(id).at("revision"), before.at("revision")) << "nothing was applied";
  EXPECT_EQ(get_instance(id).at("assignee"), before.at("assignee"));
}

// ---- workflows ---------------------------------------------------------------------------------

TEST_F(ApiBehaviour, ListAndGetWorkflows) {
  const HttpResponse list = call("GET", "/v1/workflows", "agent");
  ASSERT_EQ(list.status, 200);
  std::set<std::string> names;
  const json::value workflows = body_of(list);
  for (const auto& w : workflows.at("workflows").as_array()) names.insert(str(w, "/name"));
  EXPECT_TRUE(names.count("complaint") == 1 && names.count("leave_request") == 1) << list.body;
  const HttpResponse one = call("GET", "/v1/workflows/complaint", "agent");
  ASSERT_EQ(one.status, 200);
  const json::value w = body_of(one);
  EXPECT_EQ(w.at("version"), json::value(1));
  EXPECT_EQ(str(w, "/source"), read_text(source_file("workflows/complaint.yaml")));
  EXPECT_EQ(w.at("versions").as_array().size(), 1U);
  EXPECT_EQ(call("GET", "/v1/workflows/nope", "agent").status, 404);
}

// Two ways curl mangles a workflow file: a form upload (-F) wraps it in boundaries, and -d strips
// its line breaks. The first is refused as such, the second's errors say why.
TEST_F(ApiBehaviour, PutWorkflowSaysHowCurlMangledTheFile) {
  const std::string yaml = read_text(source_file("workflows/leave_request.yaml"));
  HttpRequest upload;
  upload.method = "PUT";
  upload.target = "/v1/workflows/leave_request";
  upload.headers.add("Authorization", "Bearer " + tokens_.at("admin"));
  upload.headers.add("Content-Type", "multipart/form-data; boundary=------x");
  upload.body = "--------x\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n" + yaml +
                "\r\n--------x--\r\n";
  const HttpResponse form = (*handler_)(upload);
  EXPECT_EQ(form.status, 415) << form.body;
  EXPECT_NE(form.body.find("--data-binary @leave_request.yaml"), std::string::npos) << form.body;

  std::string flat = yaml;
  std::erase(flat, '\n');
  const HttpResponse stripped = call("PUT", "/v1/workflows/leave_request", "admin", flat);
  EXPECT_EQ(stripped.status, 422) << stripped.body;
  EXPECT_NE(str(body_of(stripped), "/error/message").find("curl -d removes them"),
            std::string::npos)
      << stripped.body;
  EXPECT_EQ(body_of(call("GET", "/v1/workflows/leave_request", "admin")).at("version"),
            json::value(1));
}

TEST_F(ApiBehaviour, PutWorkflowPublishesChecksAndNamesTheFault) {
  const std::string target = "/v1/workflows/leave_request";
  const HttpResponse invalid =
      call("PUT", target, "admin", "workflow: leave_request\nstates: [unclosed\n");
  ASSERT_EQ(invalid.status, 422) << invalid.body;
  const json::value iv = body_of(invalid);
  EXPECT_EQ(str(iv, "/error/code"), "invalid_workflow");
  ASSERT_FALSE(iv.at("diagnostics").as_array().empty());
  const auto& d = iv.at("diagnostics").as_array().front();
  EXPECT_GE(d.at("line").to_number<int>(), 1);
  EXPECT_GE(d.at("column").to_number<int>(), 1);
  EXPECT_EQ(str(d, "/severity"), "error");
  EXPECT_EQ(str(d, "/file"), "leave_request.yaml");

  // Sent under another name: the fault is the `workflow:` value, and that is where it points.
  const HttpResponse elsewhere =
      call("PUT", "/v1/workflows/complaint", "admin", "# a comment\nworkflow: leave_request\n");
  ASSERT_EQ(elsewhere.status, 422) << elsewhere.body;
  const auto& named = body_of(elsewhere).at("diagnostics").as_array().front();
  EXPECT_EQ(named.at("line"), json::value(2)) << elsewhere.body;
  EXPECT_EQ(named.at("column"), json::value(11)) << elsewhere.body;

  // A mistake found while reading does not hide the ones the checks find: every one at once.
  const HttpResponse two = call("PUT", target, "admin", R"(workflow: leave_request
initial: a
events:
  go: {n: {type: int, required: yes}}
states:
  a: {on: {go: nowhere}}
  b: {type: final}
)");
  ASSERT_EQ(two.status, 422) << two.body;
  const auto& found = body_of(two).at("diagnostics").as_array();
  std::set<int> lines;
  for (const auto& item : found) lines.insert(item.at("line").to_number<int>());
  EXPECT_EQ(lines, (std::set<int>{4, 6})) << two.body;

  // A semantic error also points at its line: a transition to a state that does not exist.
  std::string yaml = read_text(source_file("workflows/leave_request.yaml"));
  const auto title = yaml.find("title: Leave request");
  ASSERT_NE(title, std::string::npos);
  std::string changed = yaml;
  changed.replace(title, std::string("title: Leave request").size(), "title: Leave request (v2)");

  const HttpResponse created = call("PUT", target, "admin", changed);
  ASSERT_EQ(created.status, 201) << created.body;
  const json::value c = body_of(created);
  EXPECT_EQ(c.at("created"), json::value(true));
  EXPECT_EQ(c.at("version"), json::value(2));
  EXPECT_EQ(str(c, "/name"), "leave_request");
  EXPECT_EQ(str(c, "/published_by"), "token:" + token_id("admin"));
  EXPECT_TRUE(c.at("warnings").is_array());

  const json::value got = body_of(call("GET", target, "agent"));
  EXPECT_EQ(got.at("version"), json::value(2));
  EXPECT_EQ(str(got, "/source"), changed);
  EXPECT_EQ(got.at("versions").as_array().size(), 2U);

  const HttpResponse same = call("PUT", target, "admin", changed);
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(body_of(same).at("created"), json::value(false));
  EXPECT_EQ(body_of(same).at("version"), json::value(2));

  const HttpResponse mismatch = call("PUT", "/v1/workflows/other_name", "admin", changed);
  ASSERT_EQ(mismatch.status, 422) << mismatch.body;
  EXPECT_THAT(mismatch.body, HasSubstr("leave_request"));
  EXPECT_FALSE(body_of(mismatch).at("diagnostics").as_array().empty());
  EXPECT_EQ(call("GET", "/v1/workflows/other_name", "admin").status, 404);
}

// Cases started after a publish run on the new version; cases already open stay on theirs.
// A version that no longer handles what the phone system's routes send would send every such
// call to the inbox: refused, naming the route in the config.
TEST_F(ApiBehaviour, PutWorkflowRefusesAVersionThatBreaksTheHookRoutes) {
  std::string yaml = read_text(source_file("workflows/complaint.yaml"));
  for (auto at = yaml.find("customer_called"); at != std::string::npos;
       at = yaml.find("customer_called", at)) {
    yaml.replace(at, std::string("customer_called").size(), "customer_rang");
  }
  const HttpResponse r = call("PUT", "/v1/workflows/complaint", "admin", yaml);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_THAT(r.body, HasSubstr("workflow 'complaint' handles no event 'customer_called'"));
  EXPECT_THAT(r.body, HasSubstr("ombud.yaml"));
  EXPECT_EQ(body_of(call("GET", "/v1/workflows/complaint", "admin")).at("version"), 1);
}

TEST_F(ApiBehaviour, NewCasesStartOnThePublishedVersion) {
  const std::string old_id(start_complaint("13900000151").at("id").as_string());
  std::string yaml = read_text(source_file("workflows/complaint.yaml"));
  const std::string title = "title: Customer complaint";
  const auto at = yaml.find(title);
  ASSERT_NE(at, std::string::npos);
  yaml.replace(at, title.size(), "title: Customer complaint (v2)");
  const HttpResponse put = call("PUT", "/v1/workflows/complaint", "admin", yaml);
  ASSERT_EQ(put.status, 201) << put.body;
  const json::object fresh = start_complaint("13900000152");
  EXPECT_EQ(fresh.at("version"), json::value(2)) << json::serialize(fresh);
  EXPECT_EQ(get_instance(old_id).at("version"), json::value(1));
  const HttpResponse ack = call("POST", "/v1/instances/" + old_id + "/events", "supervisor",
                                R"({"event":"acknowledge"})");
  EXPECT_EQ(ack.status, 200) << ack.body;
  EXPECT_EQ(str(body_of(ack), "/instance/state"), "investigating");
  EXPECT_THAT(call("GET", "/v1/workflows/complaint/graph", "agent").body,
              HasSubstr("stateDiagram"));
}

TEST_F(ApiBehaviour, GraphAsMermaidOrDot) {
  const HttpResponse mermaid = call("GET", "/v1/workflows/complaint/graph", "agent");
  ASSERT_EQ(mermaid.status, 200);
  EXPECT_THAT(mermaid.body, HasSubstr("stateDiagram"));
  EXPECT_THAT(mermaid.body, HasSubstr("supervisor_review"));
  const HttpResponse explicit_mermaid =
      call("GET", "/v1/workflows/complaint/graph?format=mermaid", "agent");
  EXPECT_EQ(explicit_mermaid.body, mermaid.body);
  const HttpResponse dot = call("GET", "/v1/workflows/complaint/graph?format=dot", "agent");
  ASSERT_EQ(dot.status, 200);
  EXPECT_THAT(dot.body, HasSubstr("digraph"));
  EXPECT_THAT(std::string(dot.headers.get("Content-Type").value_or("")),
              HasSubstr("text/vnd.graphviz"));
  const HttpResponse svg = call("GET", "/v1/workflows/complaint/graph?format=svg", "agent");
  EXPECT_EQ(svg.status, 400);
  EXPECT_EQ(error_field(svg), "format");
  EXPECT_EQ(call("GET", "/v1/workflows/nope/graph", "agent").status, 404);
}

// ---- directory ---------------------------------------------------------------------------------

TEST_F(ApiBehaviour, DirectoryListsPeopleWithTheirOpenCases) {
  const json::object in = start_complaint("13900000061");
  const std::string assignee(in.at("assignee").as_string());
  const HttpResponse r = call("GET", "/v1/directory", "supervisor");
  ASSERT_EQ(r.status, 200);
  const json::value d = body_of(r);
  std::map<std::string, std::int64_t> open_cases;
  for (const auto& p : d.at("people").as_array()) {
    open_cases[str(p, "/id")] = p.at("open_cases").to_number<std::int64_t>();
    EXPECT_TRUE(p.at("roles").is_array());
  }
  EXPECT_EQ(open_cases.count("li.na"), 1U);
  EXPECT_EQ(open_cases.count("chen.jing"), 1U);
  EXPECT_EQ(open_cases[assignee], 1) << r.body;
  std::int64_t total = 0;
  for (const auto& [id, n] : open_cases) total += n;
  EXPECT_EQ(total, 1);
  bool complaints_queue = false;
  for (const auto& q : d.at("queues").as_array()) {
    if (str(q, "/name") == "complaints") {
      complaints_queue = true;
      EXPECT_FALSE(q.at("members").as_array().empty());
    }
  }
  EXPECT_TRUE(complaints_queue) << r.body;
}

// ---- webhooks and the inbox --------------------------------------------------------------------

TEST_F(ApiBehaviour, AnUnroutableCallGoesToTheInboxOnceAndIsReplayedIntoACase) {
  const std::string delivery =
      R"({"event_id":"evt-1","call_id":"c-1","status":"completed","caller":"13900000071"})";
  const HttpResponse first = hook(delivery);
  ASSERT_EQ(first.status, 202) << first.body;
  const json::value a = body_of(first);
  ASSERT_TRUE(a.at("inbox").at("id").is_number()) << first.body;
  const auto inbox_id = a.at("inbox").at("id").to_number<std::uint64_t>();
  EXPECT_FALSE(str(a, "/reason").empty());

  const HttpResponse again = hook(delivery);
  ASSERT_EQ(again.status, 202) << again.body;
  EXPECT_EQ(body_of(again).at("inbox").at("id").to_number<std::uint64_t>(), inbox_id);

  const auto listed = [&](const std::string& target) {
    const HttpResponse r = call("GET", target, "supervisor");
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<json::object> found;
    const json::value page = body_of(r);
    for (const auto& item : page.at("items").as_array()) {
      if (item.at("id").to_number<std::uint64_t>() == inbox_id) found.push_back(item.as_object());
    }
    return found;
  };
  const auto open = listed("/v1/inbox");
  ASSERT_EQ(open.size(), 1U);  // once, although delivered twice
  EXPECT_EQ(str(open[0], "/source"), "hooks/phone");
  EXPECT_EQ(str(open[0], "/payload/caller"), "13900000071");
  EXPECT_EQ(str(open[0], "/replayed_into"), "");

  // The hotline registers the complaint by hand, then replays the call into it.
  const std::string id(start_complaint("13900000071").at("id").as_string());
  // The phone system retries the delivery now that the case is open: it is still the inbox
  // entry's call, not a second one.
  const HttpResponse retried = hook(delivery);
  ASSERT_EQ(retried.status, 202) << retried.body;
  EXPECT_EQ(body_of(retried).at("inbox").at("id").to_number<std::uint64_t>(), inbox_id);
  EXPECT_EQ(get_instance(id).at("data").at("contacts"), json::value(1));
  const std::string replay_target = "/v1/inbox/" + std::to_string(inbox_id) + "/replay";
  const HttpResponse missing =
      call("POST", replay_target, "supervisor", R"({"instance":")" + id + "\"}");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(error_field(missing), "event");
  const HttpResponse replay =
      call("POST", replay_target, "supervisor",
           R"({"instance":")" + id + R"(","event":"customer_called","data":{"call_id":"c-1"}})");
  ASSERT_EQ(replay.status, 200) << replay.body;
  EXPECT_EQ(str(body_of(replay), "/instance/id"), id);
  EXPECT_EQ(get_instance(id).at("data").at("contacts"), json::value(2));

  EXPECT_TRUE(listed("/v1/inbox").empty());
  const auto all = listed("/v1/inbox?all=true");
  ASSERT_EQ(all.size(), 1U);
  EXPECT_EQ(str(all[0], "/replayed_into"), id);

  // Replaying again into the same case applies the event once; into another case is a conflict.
  const HttpResponse twice =
      call("POST", replay_target, "supervisor",
           R"({"instance":")" + id + R"(","event":"customer_called","data":{"call_id":"c-1"}})");
  EXPECT_EQ(twice.status, 200) << twice.body;
  EXPECT_EQ(get_instance(id).at("data").at("contacts"), json::value(2));
  const HttpResponse elsewhere = call("POST", replay_target, "supervisor",
                                      R"({"instance":"complaint-9","event":"customer_called"})");
  EXPECT_EQ(elsewhere.status, 409);
  EXPECT_EQ(error_code(elsewhere), "already_replayed");
  // Into the same case with another event is not a repeat either: refused, nothing applied.
  const HttpResponse other =
      call("POST", replay_target, "supervisor",
           R"({"instance":")" + id + R"(","event":"add_note","data":{"note":"again"}})");
  EXPECT_EQ(other.status, 409) << other.body;
  EXPECT_EQ(error_code(other), "already_replayed");
  EXPECT_NE(other.body.find("replayed into " + id), std::string::npos) << other.body;
  // Housekeeping keeps a replay's answer as long as the inbox entry, however old, so a repeat
  // is still answered without applying the event again.
  node_->store().forget({.idempotency_keys = node_->clock().now() + std::chrono::hours(1)});
  const HttpResponse later =
      call("POST", replay_target, "supervisor",
           R"({"instance":")" + id + R"(","event":"customer_called","data":{"call_id":"c-1"}})");
  EXPECT_EQ(later.status, 200) << later.body;
  EXPECT_EQ(body_of(later).at("replayed"), json::value(true));
  EXPECT_EQ(get_instance(id).at("data").at("contacts"), json::value(2));

  EXPECT_EQ(call("POST", "/v1/inbox/777/replay", "supervisor",
                 R"({"instance":")" + id + R"(","event":"add_note"})")
                .status,
            404);
  EXPECT_EQ(call("POST", "/v1/inbox/x1/replay", "supervisor", "{}").status, 404);
  // 2^64 + id would wrap around to this entry: it names no entry.
  ASSERT_EQ(inbox_id, 1U);  // the first entry of a fresh store
  const std::string wrapped = "18446744073709551617";
  const HttpResponse overflow =
      call("POST", "/v1/inbox/" + wrapped + "/replay", "supervisor",
           R"({"instance":")" + id + R"(","event":"customer_called","data":{"call_id":"c-1"}})");
  EXPECT_EQ(overflow.status, 404) << overflow.body;
}

// Supervisors replaying one entry into different cases at the same moment: one event lands,
// the others are told the entry is used, and the entry names the case that got the event.
TEST_F(ApiBehaviour, ConcurrentReplaysOfOneEntryApplyItOnce) {
  const std::string target =
      "/v1/inbox/" + std::to_string(parked_call("evt-r", "13900000078")) + "/replay";
  std::vector<std::string> cases;
  for (int i = 0; i < 4; ++i) {
    cases.emplace_back(start_complaint("1390000008" + std::to_string(i)).at("id").as_string());
  }
  std::vector<int> status(cases.size());
  {
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < cases.size(); ++i) {
      threads.emplace_back([&, i] {
        status[i] = call("POST", target, "supervisor",
                         R"({"instance":")" + cases[i] +
                             R"(","event":"customer_called","data":{"call_id":"c-r"}})")
                        .status;
      });
    }
    for (auto& t : threads) t.join();
  }
  std::vector<std::string> landed;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_TRUE(status[i] == 200 || status[i] == 409) << status[i];
    if (get_instance(cases[i]).at("data").at("contacts") == json::value(2)) {
      landed.push_back(cases[i]);
    }
  }
  ASSERT_EQ(landed.size(), 1U);
  EXPECT_EQ(std::count(status.begin(), status.end(), 200), 1);
  const json::value all = body_of(call("GET", "/v1/inbox?all=true", "supervisor"));
  for (const auto& item : all.at("items").as_array()) {
    if (str(item, "/payload/caller") == "13900000078") {
      EXPECT_EQ(str(item, "/replayed_into"), landed[0]);
    }
  }
}

// A replay committed whose caller never marked the entry (it timed out, or its node stopped in
// between): the next replay learns where the event went, and the entry says so from then on.
TEST_F(ApiBehaviour, AReplayCommittedButNotMarkedIsFoundByTheNext) {
  const std::uint64_t entry = parked_call("evt-m", "13900000088");
  const std::string landed(start_complaint("13900000089").at("id").as_string());
  const std::string other(start_complaint("13900000090").at("id").as_string());
  EventRequest lost;  // the replay as the API sends it, without the mark after it
  lost.instance_id = landed;
  lost.event = "customer_called";
  lost.idempotency_key = std::string(kInboxKeyPrefix) + std::to_string(entry);
  lost.refuse_unhandled = true;
  ASSERT_EQ(node_->worker().submit(lost).get().status, RuntimeResult::Status::ok);
  ASSERT_EQ(node_->store().inbox_entry(entry)->replayed_into, "");

  const HttpResponse again =
      call("POST", "/v1/inbox/" + std::to_string(entry) + "/replay", "supervisor",
           R"({"instance":")" + other + R"(","event":"customer_called"})");
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_NE(again.body.find("replayed into " + landed), std::string::npos) << again.body;
  EXPECT_EQ(node_->store().inbox_entry(entry)->replayed_into, landed);
}

// More unroutable calls than a page holds are all reachable, page by page.
TEST_F(ApiBehaviour, TheInboxIsWalkedPageByPageWithItsCursor) {
  std::set<std::uint64_t> kept;
  for (int i = 0; i < 3; ++i) {
    const std::string n = std::to_string(i);
    kept.insert(parked_call("evt-p" + n, "1390000009" + n));
  }
  std::set<std::uint64_t> seen;
  std::string target = "/v1/inbox?limit=2";
  for (int pages = 1;; ++pages) {
    ASSERT_LE(pages, 2);
    const HttpResponse r = call("GET", target, "supervisor");
    ASSERT_EQ(r.status, 200) << r.body;
    const json::value page = body_of(r);
    for (const auto& item : page.at("items").as_array()) {
      EXPECT_TRUE(seen.insert(item.at("id").to_number<std::uint64_t>()).second);
    }
    if (page.at("next_cursor").is_null()) {
      EXPECT_EQ(pages, 2);
      break;
    }
    target = "/v1/inbox?limit=2&cursor=" + std::string(page.at("next_cursor").as_string());
  }
  EXPECT_EQ(seen, kept);
  for (const std::string cursor : {"abc", "99999"}) {
    const HttpResponse bad = call("GET", "/v1/inbox?cursor=" + cursor, "supervisor");
    EXPECT_EQ(bad.status, 400) << bad.body;
    EXPECT_EQ(error_field(bad), "cursor");
  }
}

// A build before housekeeping kept replays' answers could forget one: the entry says it was
// replayed, but no answer is held for its key. Sending the event again could apply it twice, so
// the replay is refused, naming the case it went into.
TEST_F(ApiBehaviour, AReplayWhoseAnswerWasForgottenIsRefused) {
  const std::string id(start_complaint("13900000073").at("id").as_string());
  InboxEntry e;
  e.source = "hooks/phone";
  e.received_at = node_->clock().now();
  e.reason = "no route matched";
  e.payload = json::object{{"caller", "13900000073"}};
  const std::uint64_t inbox_id = node_->store().add_to_inbox(e);
  ASSERT_TRUE(node_->store().mark_inbox_replayed(inbox_id, id));

  const HttpResponse r =
      call("POST", "/v1/inbox/" + std::to_string(inbox_id) + "/replay", "supervisor",
           R"({"instance":")" + id + R"(","event":"customer_called","data":{"call_id":"c-l"}})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(error_code(r), "already_replayed");
  EXPECT_NE(str(body_of(r), "/error/message").find(id), std::string::npos) << r.body;
  EXPECT_EQ(get_instance(id).at("data").at("contacts"), json::value(1));
}

// A replay the case does not handle in its state would use the entry up and apply nothing: it
// is refused, and the entry stays open for a replay that lands.
TEST_F(ApiBehaviour, AReplayTheCaseDoesNotHandleLeavesTheEntryOpen) {
  const std::uint64_t entry = parked_call("evt-n", "13900000074");
  const std::string id(start_complaint("13900000074").at("id").as_string());
  const std::string target = "/v1/inbox/" + std::to_string(entry) + "/replay";
  const HttpResponse refused =
      call("POST", target, "supervisor",
           R"({"instance":")" + id + R"(","event":"visited",)" + R"("data":{"score":3}})");
  EXPECT_EQ(refused.status, 422) << refused.body;
  const json::value open = body_of(call("GET", "/v1/inbox", "supervisor"));
  ASSERT_EQ(open.at("items").as_array().size(), 1U);
  EXPECT_EQ(str(open.at("items").as_array()[0], "/replayed_into"), "");
  const HttpResponse landed =
      call("POST", target, "supervisor",
           R"({"instance":")" + id + R"(","event":"customer_called","data":{"call_id":"c-n"}})");
  EXPECT_EQ(landed.status, 200) << landed.body;
  EXPECT_TRUE(body_of(call("GET", "/v1/inbox", "supervisor")).at("items").as_array().empty());
}

// A caller who names someone not in the directory is refused; the case stays where it was, and
// nobody is told it is theirs.
TEST_F(ApiBehaviour, AnEventThatAssignsSomeoneUnknownIs422) {
  const std::string id = escalated_complaint("13900000076");
  const std::string target = "/v1/instances/" + id + "/events";
  const json::value before = get_instance(id);
  const HttpResponse ghost =
      call("POST", target, "supervisor", R"({"event":"reassign","data":{"agent":"ghost.person"}})");
  EXPECT_EQ(ghost.status, 422) << ghost.body;
  EXPECT_NE(ghost.body.find("nobody called 'ghost.person'"), std::string::npos) << ghost.body;
  EXPECT_EQ(get_instance(id).at("revision"), before.at("revision"));
  // Naming nobody is refused the same way, not recorded as an incident with the case moved on.
  const HttpResponse empty =
      call("POST", target, "supervisor", R"({"event":"reassign","data":{"agent":""}})");
  EXPECT_EQ(empty.status, 422) << empty.body;
  EXPECT_EQ(get_instance(id).at("revision"), before.at("revision"));
  const HttpResponse real =
      call("POST", target, "supervisor", R"({"event":"reassign","data":{"agent":"li.na"}})");
  EXPECT_EQ(real.status, 200) << real.body;
  EXPECT_EQ(str(get_instance(id), "/assignee"), "li.na");
}

// Once a case is in supervisor review, only the supervisor resolves it: the handler it was
// escalated away from cannot close it behind the supervisor's back.
TEST_F(ApiBehaviour, OnlyTheSupervisorResolvesACaseInReview) {
  const std::string id = escalated_complaint("13900000077");
  const std::string target = "/v1/instances/" + id + "/events";
  // A call-back an hour from now: the return visit follows at once (one over 48 h ahead would
  // wait in awaiting_callback).
  const std::string callback_at =
      format_timestamp(std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()) +
                       std::chrono::hours(1));
  const std::string resolve =
      R"({"event":"resolved","data":{"resolution":"refund","callback_at":")" + callback_at +
      R"("}})";
  const HttpResponse by_agent = call("POST", target, "agent", resolve);
  EXPECT_EQ(by_agent.status, 403) << by_agent.body;
  EXPECT_EQ(str(get_instance(id), "/state"), "supervisor_review");
  const HttpResponse by_supervisor = call("POST", target, "supervisor", resolve);
  EXPECT_EQ(by_supervisor.status, 200) << by_supervisor.body;
  EXPECT_EQ(str(get_instance(id), "/state"), "return_visit");
}

// An event not declared under events: has no fields anything could read: data sent with it is
// refused, not dropped in silence.
TEST_F(ApiBehaviour, DataForAnEventThatDeclaresNoneIs422) {
  const std::string id = escalated_complaint("13900000079");
  const std::string target = "/v1/instances/" + id + "/events";
  const HttpResponse r =
      call("POST", target, "supervisor", R"({"event":"redispatch","data":{"x":1}})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("takes no data ('x' was sent)"), std::string::npos) << r.body;
  EXPECT_EQ(str(get_instance(id), "/state"), "supervisor_review");
  EXPECT_EQ(call("POST", target, "supervisor", R"({"event":"redispatch"})").status, 200);
}

// Events a caller may not send: one the workflow does not have, and one it raises itself.
TEST_F(ApiBehaviour, UnknownAndInternalEventsAre422) {
  const std::string id(start_complaint("13900000075").at("id").as_string());
  const std::string target = "/v1/instances/" + id + "/events";
  const HttpResponse typo = call("POST", target, "supervisor", R"({"event":"nonsense_event"})");
  EXPECT_EQ(typo.status, 422) << typo.body;
  EXPECT_NE(typo.body.find("has no event 'nonsense_event'"), std::string::npos) << typo.body;
  const HttpResponse internal =
      call("POST", target, "supervisor", R"({"event":"resolve_overdue"})");
  EXPECT_EQ(internal.status, 422) << internal.body;
  EXPECT_EQ(str(get_instance(id), "/state"), "assigned");
}

TEST_F(ApiBehaviour, ReplayWithoutDataSendsTheDeliveredPayload) {
  const std::string delivery =
      R"({"event_id":"evt-p","call_id":"c-p","status":"completed","caller":"13900000072"})";
  const HttpResponse first = hook(delivery);
  ASSERT_EQ(first.status, 202) << first.body;
  const auto inbox_id = body_of(first).at("inbox").at("id").to_number<std::uint64_t>();
  const std::string id(start_complaint("13900000072").at("id").as_string());
  const HttpResponse replay =
      call("POST", "/v1/inbox/" + std::to_string(inbox_id) + "/replay", "admin",
           R"({"instance":")" + id + R"(","event":"add_note","data":{"note":"from the inbox"}})");
  ASSERT_EQ(replay.status, 200) << replay.body;
  EXPECT_EQ(str(get_instance(id), "/data/last_note"), "from the inbox");
}

TEST_F(ApiBehaviour, ABadSignatureIs401) {
  const std::string delivery =
      R"({"event_id":"evt-x","call_id":"c-x","status":"completed","caller":"13900000081"})";
  const HttpResponse forged = hook(delivery, "", "not-the-secret");
  EXPECT_EQ(forged.status, 401);
  EXPECT_EQ(error_code(forged), "invalid_signature");
  const HttpResponse none = call("POST", "/hooks/phone", "", delivery);
  EXPECT_EQ(none.status, 401);
  EXPECT_TRUE(body_of(call("GET", "/v1/inbox?all=true", "admin")).at("items").as_array().empty());
}

TEST_F(ApiBehaviour, ASourceWithoutItsSecretAnswers503) {
  EXPECT_EQ(api_->unconfigured_hooks(), std::vector<std::string>{"twilio"});
  HttpRequest r;
  r.method = "POST";
  r.target = "/hooks/twilio";
  r.headers.add("Content-Type", "application/x-www-form-urlencoded");
  r.headers.add("X-Twilio-Signature", "AAAA");
  r.body = "CallSid=CA1&CallStatus=completed&Direction=inbound&From=13900000001";
  const HttpResponse answer = (*handler_)(r);
  EXPECT_EQ(answer.status, 503) << answer.body;
  EXPECT_EQ(error_code(answer), "hook_not_configured");
}

TEST_F(ApiBehaviour, ACallTaggedComplaintOpensACaseAndTheNextCallLandsOnIt) {
  const HttpResponse opened =
      hook(R"({"event_id":"evt-10","call_id":"c-10","status":"completed","caller":"13900000091",)"
           R"("tag":"complaint","note":"Parcel arrived damaged"})");
  ASSERT_EQ(opened.status, 200) << opened.body;
  const json::value a = body_of(opened);
  const std::string id = str(a, "/instance/id");
  EXPECT_EQ(str(a, "/instance/state"), "assigned");
  EXPECT_EQ(str(a, "/instance/key"), "13900000091");
  EXPECT_FALSE(a.at("instance").as_object().contains("data")) << opened.body;  // brief, as above
  EXPECT_EQ(str(get_instance(id), "/data/summary"), "Parcel arrived damaged");
  EXPECT_EQ(str(get_instance(id), "/data/channel"), "phone");

  // The same delivery again: the first outcome, nothing done again.
  const HttpResponse same =
      hook(R"({"event_id":"evt-10","call_id":"c-10","status":"completed","caller":"13900000091",)"
           R"("tag":"complaint","note":"Parcel arrived damaged"})");
  EXPECT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(str(body_of(same), "/instance/id"), id);

  // Another call tagged complaint from the same number: one_open, so it lands on the open case.
  const HttpResponse second =
      hook(R"({"event_id":"evt-11","call_id":"c-11","status":"completed","caller":"13900000091",)"
           R"("tag":"complaint","note":"Still waiting"})");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(str(body_of(second), "/instance/id"), id);
  // And an untagged call from that number is a repeat call too.
  const HttpResponse third =
      hook(R"({"event_id":"evt-12","call_id":"c-12","status":"completed","caller":"13900000091"})");
  ASSERT_EQ(third.status, 200) << third.body;
  EXPECT_EQ(str(body_of(third), "/instance/id"), id);

  const json::object in = get_instance(id);
  EXPECT_EQ(in.at("data").at("contacts"), json::value(3));

  // The call that landed on the open case is remembered by its own id: a retry of it is the
  // same call, whichever route it takes now, and even once the case has closed.
  const HttpResponse untagged =
      hook(R"({"event_id":"evt-11","call_id":"c-11","status":"completed","caller":"13900000091"})");
  EXPECT_EQ(untagged.status, 200) << untagged.body;
  EXPECT_EQ(body_of(untagged).at("replayed"), json::value(true)) << untagged.body;
  EXPECT_EQ(get_instance(id).at("data").at("contacts"), json::value(3));
  ASSERT_EQ(call("POST", "/v1/instances/" + id + "/events", "admin",
                 R"({"event":"cancel","data":{"reason":"duplicate"}})")
                .status,
            200);
  const HttpResponse after_close =
      hook(R"({"event_id":"evt-11","call_id":"c-11","status":"completed","caller":"13900000091",)"
           R"("tag":"complaint","note":"Still waiting"})");
  EXPECT_EQ(after_close.status, 200) << after_close.body;
  EXPECT_EQ(str(body_of(after_close), "/instance/id"), id);
  const json::value list = body_of(call("GET", "/v1/instances?key=13900000091", "admin"));
  EXPECT_EQ(list.at("items").as_array().size(), 1U) << list;
  bool by_hook = false;
  const json::value history = body_of(call("GET", "/v1/instances/" + id + "/history", "admin"));
  for (const auto& e : history.at("history").as_array()) {
    by_hook |= str(e, "/actor") == "hook:phone";
  }
  EXPECT_TRUE(by_hook);
}

// ---- operations --------------------------------------------------------------------------------

TEST_F(ApiBehaviour, MetricsHealthAndTheOpenApiDocument) {
  start_complaint("13900000099");
  call("GET", "/v1/workflows", "agent");
  const HttpResponse m = call("GET", "/metrics", "");
  ASSERT_EQ(m.status, 200);
  EXPECT_THAT(std::string(m.headers.get("Content-Type").value_or("")), HasSubstr("text/plain"));
  EXPECT_THAT(m.body, HasSubstr("ombud_http_requests_total"));
  EXPECT_THAT(m.body, HasSubstr("ombud_cases_started_total{workflow=\"complaint\"} 1"));
  EXPECT_THAT(m.body, HasSubstr("route=\"/v1/workflows\""));
  EXPECT_THAT(m.body, HasSubstr("ombud_timers_pending"));
  // The new handler's notification: this node has no way out for it (no sink), so it waits.
  EXPECT_THAT(m.body, HasSubstr("\nombud_outbox_undelivered 1\n"));
  EXPECT_THAT(m.body, HasSubstr("ombud_outbox_deliveries_total{result=\"failed\"} 0"));
  EXPECT_THAT(m.body, HasSubstr("ombud_housekeeping_forgotten_total{what=\"idempotency_keys\"} 0"));
  // Counts since start are counters (they only go up), so rate() works on them.
  for (const char* name : {"ombud_housekeeping_forgotten_total", "ombud_commit_batches_total",
                           "ombud_store_errors_total", "ombud_outbox_deliveries_total"}) {
    EXPECT_THAT(m.body, HasSubstr(std::string("# TYPE ") + name + " counter\n")) << name;
  }

  const HttpResponse health = call("GET", "/healthz", "");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(str(body_of(health), "/status"), "ok");
  const HttpResponse ready = call("GET", "/readyz", "");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(str(body_of(ready), "/status"), "ready");

  const HttpResponse doc = call("GET", "/openapi.json", "");
  ASSERT_EQ(doc.status, 200);
  EXPECT_EQ(doc.body, read_text(source_file("docs/openapi.json")));
  EXPECT_TRUE(str(body_of(doc), "/openapi").starts_with("3.1"));
}

TEST_F(ApiBehaviour, UnknownPathsAndMethods) {
  const HttpResponse none = call("GET", "/v1/nothing", "admin");
  EXPECT_EQ(none.status, 404);
  const HttpResponse method = call("DELETE", "/v1/instances", "admin");
  EXPECT_EQ(method.status, 405);
  EXPECT_TRUE(method.headers.contains("Allow"));
}

// The shipped directory, except that reviewer guo.qiang and account manager huang.li have no
// manager above them (a small office).
class FlatOffice : public ApiFixture {
 protected:
  std::string config_file() override {
    std::string text = read_text(source_file("config/ombud.yaml"));
    for (const std::string cut : {"manager: zhou.lei, capacity: 15,", "manager: sun.hao,\n"}) {
      const auto at = text.find(cut);
      if (at == std::string::npos) {
        ADD_FAILURE() << "config/ombud.yaml no longer has '" << cut << "'";
        continue;
      }
      text.erase(at, cut.back() == '\n' ? cut.size() - 1 : cut.size());
    }
    const std::string path = ::testing::TempDir() + "/flat_office.yaml";
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // A person's token: `who` acts with their own roles from the directory.
  void as(const std::string& person) {
    tokens_.try_emplace(person, make_token("agent", person, false));
  }

  HttpResponse send(const std::string& id, const std::string& person, const std::string& event,
                    const std::string& data = "{}") {
    as(person);
    return call("POST", "/v1/instances/" + id + "/events", person,
                R"({"event":")" + event + R"(","data":)" + data + "}");
  }

  std::string field(const std::string& id, const std::string& pointer) {
    return str(json::value(get_instance(id)), pointer);
  }
};

// Nobody above the reviewer: he kept the case and approved beyond his own price authority.
TEST_F(FlatOffice, AReviewerWithNoManagerDoesNotApproveBeyondHisAuthority) {
  const HttpResponse created = call("POST", "/v1/instances", "admin", R"({"workflow":
      "contract_review","data":{"drafter":"huang.li","customer":"ACME","amount":350000}})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id(str(body_of(created), "/instance/id"));
  for (const char* kind : {"id_copy", "quotation", "configuration", "deposit_receipt"}) {
    ASSERT_EQ(send(id, "huang.li", "attach", R"({"kind":")" + std::string(kind) + "\"}").status,
              200);
  }
  ASSERT_EQ(send(id, "huang.li", "submit").status, 200);
  ASSERT_EQ(field(id, "/assignee"), "guo.qiang");
  ASSERT_EQ(send(id, "guo.qiang", "approve").status, 200);

  EXPECT_EQ(field(id, "/state"), "manager_approval");
  EXPECT_EQ(field(id, "/assignee"), "zhao.min");
  EXPECT_EQ(field(id, "/data/reviewed_by"), "guo.qiang");
  const HttpResponse again = send(id, "guo.qiang", "approve");
  EXPECT_EQ(again.status, 403) << again.body;
  EXPECT_THAT(again.body, HasSubstr("assignee (zhao.min)"));
  // `routed` is the workflow's own event.
  EXPECT_EQ(send(id, "guo.qiang", "routed").status, 422);
  ASSERT_EQ(send(id, "zhao.min", "approve").status, 200);
  EXPECT_EQ(field(id, "/state"), "sealing");
  EXPECT_EQ(field(id, "/data/approved_by"), "zhao.min");
}

// Nobody above the account manager: he kept the case and confirmed his own commission.
TEST_F(FlatOffice, AnAccountManagerWithNoManagerDoesNotConfirmHisOwnCommission) {
  const HttpResponse created = call("POST", "/v1/instances", "admin", R"({"workflow":
      "customer_registration","data":{"phone":"13900001111","customer_name":"Wu",
      "registered_by":"huang.li"}})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id(str(body_of(created), "/instance/id"));
  ASSERT_EQ(send(id, "huang.li", "hand_over", R"({"salesperson":"ma.jun"})").status, 200);
  ASSERT_EQ(send(id, "ma.jun", "deal", R"({"units":2,"sales_commission":3000})").status, 200);

  EXPECT_EQ(field(id, "/state"), "commission_review");
  EXPECT_EQ(field(id, "/assignee"), "zhao.min");
  EXPECT_EQ(send(id, "huang.li", "commission_confirmed").status, 403);
  ASSERT_EQ(send(id, "zhao.min", "commission_confirmed").status, 200);
  EXPECT_EQ(field(id, "/state"), "settled");
}

// Behind a proxy, the URL Twilio signed is the config's public_url and the request's target,
// whatever Host and X-Forwarded-Proto the request carries: a signature made for another
// address does not pass by sending that address's Host.
class PublicUrl : public ApiFixture {
 protected:
  std::string config_file() override {
    ::setenv("OMBUD_HOOK_TWILIO_AUTH_TOKEN", "twilio-auth-token", 1);  // read by the Api
    std::string text = read_text(source_file("config/ombud.yaml"));
    const auto at = text.find("listen:");
    if (at == std::string::npos) ADD_FAILURE() << "config/ombud.yaml no longer has 'listen:'";
    text.insert(at, "public_url: https://ombud.example.com/\n");
    const std::string path = ::testing::TempDir() + "/public_url.yaml";
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  HttpResponse twilio_call(const std::string& signed_url, const std::string& host) {
    const std::string body = "CallSid=CA5&CallStatus=completed&Direction=inbound&From=%2B86139";
    HttpRequest r;
    r.method = "POST";
    r.target = "/hooks/twilio";
    r.headers.add("Host", host);
    r.headers.add("X-Forwarded-Proto", "http");
    r.headers.add("Content-Type", "application/x-www-form-urlencoded");
    const http::ParamList params({{"CallSid", "CA5"},
                                  {"CallStatus", "completed"},
                                  {"Direction", "inbound"},
                                  {"From", "+86139"}});
    r.headers.add("X-Twilio-Signature",
                  http::twilio_signature("twilio-auth-token", signed_url, params));
    r.body = body;
    return (*handler_)(r);
  }
};

TEST_F(PublicUrl, TwilioIsCheckedAgainstThePublicUrlNotTheHostHeader) {
  const HttpResponse forged = twilio_call("http://evil.example/hooks/twilio", "evil.example");
  EXPECT_EQ(forged.status, 401) << forged.body;
  // No open complaint for that number: the call goes to the inbox, 202.
  const HttpResponse real =
      twilio_call("https://ombud.example.com/hooks/twilio", "internal-host:8080");
  EXPECT_EQ(real.status, 202) << real.body;
}

TEST_F(ApiBehaviour, AForwardedProtoOtherThanHttpOrHttpsIs400) {
  const HttpResponse answer =
      call("POST", "/hooks/phone", "", "{}", {{"X-Forwarded-Proto", "gopher"}});
  EXPECT_EQ(answer.status, 400) << answer.body;
  EXPECT_EQ(error_field(answer), "X-Forwarded-Proto");
}

// A commit the database refused: the caller hears 503 and the request id, never the statement
// or other requests' values the database's message carries; the log has it.
TEST(ResultResponse, AStoreFailureIsThrownForTheHandlerToLogNotAnswered) {
  RuntimeResult failed;
  failed.status = RuntimeResult::Status::unavailable;
  failed.error = "store: malformed array literal while executing \"WITH inst AS (...)\"";
  failed.store_failure = true;
  EXPECT_THROW(result_response(failed, 201), StoreFailure);
  failed.store_failure = false;  // not committed in time: that is the caller's to know
  failed.error = "not committed within 30 s";
  EXPECT_EQ(result_response(failed, 201).status, 503);
}

}  // namespace
}  // namespace ombud::api::testing
