// The config file: calendars, directory and templates, with exact positions for every mistake.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "engine/config_calendars.h"
#include "tests/adapters/yaml/test_support.h"

namespace ombud {
namespace {

using testing::config_problems;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::lines_of;

constexpr const char* kCalendar = R"(calendars:
  office:
    timezone: Asia/Shanghai
    hours: {mon: ["09:00-12:00", "13:30-18:00"], fri: ["09:00-17:00"]}
    holidays: ["2026-10-01..2026-10-07", "2026-12-25"]
    workdays: ["2026-10-10", {date: "2026-09-27", hours: ["10:00-12:00"]}]
)";

TEST(ConfigLoader, LoadsCalendars) {
  Diagnostics diags;
  const auto config = yaml::load_config("cfg.yaml", kCalendar, diags);
  ASSERT_TRUE(config.has_value());
  EXPECT_THAT(diags.items(), IsEmpty());
  const CalendarSpec* office = config->find_calendar("office");
  ASSERT_NE(office, nullptr);
  EXPECT_EQ(office->timezone, "Asia/Shanghai");
  EXPECT_THAT(office->hours[0], ElementsAre(TimeRange{540, 720}, TimeRange{810, 1080}));
  EXPECT_THAT(office->hours[1], IsEmpty());
  EXPECT_THAT(office->hours[4], ElementsAre(TimeRange{540, 1020}));
  ASSERT_EQ(office->holidays.size(), 2U);
  EXPECT_EQ(office->holidays[0].first, date::sys_days(date::year{2026} / 10 / 1));
  EXPECT_EQ(office->holidays[0].last, date::sys_days(date::year{2026} / 10 / 7));
  EXPECT_EQ(office->holidays[1].first, office->holidays[1].last);
  ASSERT_EQ(office->workdays.size(), 2U);
  // A plain make-up day works Monday's hours; one with hours works those.
  EXPECT_EQ(office->workdays[0].hours, office->hours[0]);
  EXPECT_THAT(office->workdays[1].hours, ElementsAre(TimeRange{600, 720}));
}

TEST(ConfigLoader, AcceptsMidnightAsTheEndOfADay) {
  EXPECT_THAT(config_problems(R"(calendars:
  hotline:
    timezone: UTC
    hours: {sun: ["00:00-24:00"]}
)"),
              IsEmpty());
}

TEST(ConfigLoader, RejectsUnknownTopLevelKeys) {
  EXPECT_THAT(config_problems("stor: sqlite:x.db\n"),
              ElementsAre("1:1: error: unknown key 'stor' in config (did you mean 'store'?)"));
}

TEST(ConfigLoader, RejectsUnknownStoreSchemes) {
  EXPECT_THAT(config_problems("store: mysql://db\n"),
              ElementsAre("1:8: error: store must be 'sqlite:PATH' or 'postgresql://...', got "
                          "'mysql://db'"));
}

TEST(ConfigLoader, RejectsListenWithoutPort) {
  EXPECT_THAT(config_problems("listen: localhost\n"),
              ElementsAre("1:9: error: listen must be HOST:PORT, got 'localhost'"));
}

TEST(ConfigLoader, RejectsUnknownTimeZones) {
  EXPECT_THAT(config_problems(R"(calendars:
  office:
    timezone: Asia/Beijing
    hours: {mon: ["09:00-18:00"]}
)"),
              ElementsAre("3:15: error: unknown time zone 'Asia/Beijing' (use an IANA name such as "
                          "Asia/Shanghai)"));
}

TEST(ConfigLoader, RejectsUnknownDayNames) {
  EXPECT_THAT(config_problems(R"(calendars:
  office:
    timezone: UTC
    hours: {mon: ["09:00-18:00"], thr: ["09:00-18:00"]}
)"),
              ElementsAre("4:35: error: unknown key 'thr' in hours (did you mean 'thu'?)"));
}

TEST(ConfigLoader, RejectsMalformedTimeRanges) {
  EXPECT_THAT(
      config_problems(R"(calendars:
  office:
    timezone: UTC
    hours:
      mon: ["9-12", "13:00-12:00", "25:00-26:00"]
)"),
      ElementsAre("5:13: error: '9-12' is not a time range (write HH:MM-HH:MM, e.g. 09:00-12:00)",
                  "5:21: error: time range '13:00-12:00' ends before it starts",
                  "5:36: error: '25:00-26:00' is not a time range (write HH:MM-HH:MM, e.g. "
                  "09:00-12:00)"));
}

TEST(ConfigLoader, RejectsOverlappingShifts) {
  EXPECT_THAT(
      config_problems(R"(calendars:
  office:
    timezone: UTC
    hours:
      mon: ["09:00-12:30", "12:00-18:00"]
)"),
      ElementsAre("5:28: error: time range '12:00-18:00' overlaps or precedes the one before it"));
}

TEST(ConfigLoader, RejectsBadHolidays) {
  EXPECT_THAT(
      config_problems(R"(calendars:
  office:
    timezone: UTC
    hours: {mon: ["09:00-18:00"]}
    holidays: ["2026-02-30", "2026-10-07..2026-10-01", "Christmas"]
)"),
      ElementsAre("5:16: error: '2026-02-30' is not a date or a date range (write 2026-12-25 "
                  "or 2026-10-01..2026-10-07)",
                  "5:30: error: holiday range '2026-10-07..2026-10-01' ends before it starts",
                  "5:56: error: 'Christmas' is not a date or a date range (write 2026-12-25 "
                  "or 2026-10-01..2026-10-07)"));
}

TEST(ConfigLoader, RejectsACalendarThatIsNeverOpen) {
  EXPECT_THAT(config_problems(R"(calendars:
  closed:
    timezone: UTC
    hours: {}
)"),
              ElementsAre("3:5: error: calendar 'closed' has no open hours on any day"));
}

TEST(ConfigLoader, ReservesTheCalendarNameNone) {
  EXPECT_THAT(config_problems(R"(calendars:
  none:
    timezone: UTC
    hours: {mon: ["09:00-18:00"]}
)"),
              ElementsAre("2:3: error: 'none' is reserved (it means wall-clock time)"));
}

constexpr const char* kDirectory = R"(directory:
  roles:
    agent: {title: Complaint handler}
    supervisor: {title: Supervisor}
  people:
    li.na: {name: Li Na, roles: [agent], manager: zhang.wei, capacity: 20}
    zhang.wei: {name: Zhang Wei, roles: [supervisor]}
  queues:
    complaints: {title: Complaints, members: [li.na], roles: [agent]}
)";

TEST(ConfigLoader, LoadsTheDirectory) {
  Diagnostics diags;
  const auto config = yaml::load_config("cfg.yaml", kDirectory, diags);
  ASSERT_TRUE(config.has_value());
  EXPECT_THAT(diags.items(), IsEmpty());
  const Person* li = config->find_person("li.na");
  ASSERT_NE(li, nullptr);
  EXPECT_EQ(li->name, "Li Na");
  EXPECT_EQ(li->manager, "zhang.wei");
  EXPECT_EQ(li->capacity, 20);
  EXPECT_THAT(li->roles, ElementsAre("agent"));
  ASSERT_NE(config->find_queue("complaints"), nullptr);
  EXPECT_THAT(config->find_queue("complaints")->members, ElementsAre("li.na"));
}

TEST(ConfigLoader, ReportsUnknownManagersRolesAndMembers) {
  EXPECT_THAT(config_problems(R"(directory:
  roles:
    agent: {}
  people:
    li.na: {roles: [agnet], manager: zhang.wie}
    zhang.wei: {roles: [agent]}
  queues:
    complaints: {members: [li.an]}
)"),
              ElementsAre("5:21: error: unknown role 'agnet' (did you mean 'agent'?); declare it "
                          "under directory.roles",
                          "5:38: error: unknown manager 'zhang.wie' (did you mean 'zhang.wei'?)",
                          "8:28: error: unknown person 'li.an' (did you mean 'li.na'?)"));
}

TEST(ConfigLoader, RejectsManagementLoops) {
  EXPECT_THAT(config_problems(R"(directory:
  people:
    a: {manager: b}
    b: {manager: a}
)"),
              ElementsAre("3:5: error: the management chain loops: a → b → a"));
  // Once per loop, at its first person; c only reports to it, d manages itself.
  EXPECT_THAT(config_problems(R"(directory:
  people:
    c: {manager: b}
    a: {manager: b}
    b: {manager: a}
    d: {manager: d}
)"),
              ElementsAre("4:5: error: the management chain loops: a → b → a",
                          "6:5: error: the management chain loops: d → d"));
}

TEST(ConfigLoader, RejectsQueuesWithoutMembers) {
  EXPECT_THAT(
      config_problems("directory:\n  queues:\n    complaints: {title: Complaints}\n"),
      ElementsAre("3:17: error: queue 'complaints' has no members: give 'members' or 'roles'"));
}

TEST(ConfigLoader, TemplatesNeedASubject) {
  EXPECT_THAT(
      config_problems("templates:\n  sla_breached: {body: Late}\n"),
      ElementsAre("2:17: error: template 'sla_breached' is missing required key 'subject'"));
}

TEST(ConfigLoader, TheShippedConfigIsValid) {
  Diagnostics diags;
  const auto config = yaml::load_config_file(OMBUD_SOURCE_DIR "/config/ombud.yaml", diags);
  ASSERT_TRUE(config.has_value());
  std::vector<std::string> lines;
  for (const auto& d : diags.items()) lines.push_back(d.to_string());
  EXPECT_THAT(lines, IsEmpty());
  EXPECT_NE(config->find_calendar("office"), nullptr);
  const HookSource* phone = config->find_hook("phone");
  ASSERT_NE(phone, nullptr);
  EXPECT_EQ(phone->verify.scheme, HookScheme::ombud);
  EXPECT_FALSE(phone->routes.empty());
  ASSERT_NE(config->find_hook("twilio"), nullptr);
  EXPECT_EQ(config->find_hook("twilio")->verify.scheme, HookScheme::twilio);
}

// The examples of docs/workflow-format.md ("Working time") hold for the shipped office calendar:
// an admin plans deadlines from that table.
TEST(ConfigLoader, TheDocumentedWorkingTimeExamplesHold) {
  Diagnostics diags;
  const auto config = yaml::load_config_file(OMBUD_SOURCE_DIR "/config/ombud.yaml", diags);
  ASSERT_TRUE(config.has_value());
  std::vector<std::pair<const CalendarSpec*, std::string>> problems;
  const ConfigCalendars calendars(*config, problems);
  ASSERT_TRUE(problems.empty());
  const BusinessCalendar* office = calendars.find("office");
  ASSERT_NE(office, nullptr);

  std::ifstream doc(OMBUD_SOURCE_DIR "/docs/workflow-format.md");
  std::string line;
  while (std::getline(doc, line) && line.find("shipped `office` calendar") == std::string::npos) {
  }
  while (std::getline(doc, line) && line.rfind("| start", 0) != 0) {
  }
  int rows = 0;
  while (std::getline(doc, line) && line.rfind('|', 0) == 0) {
    // | Fri 2026-03-06 16:30 | `4h` | Mon 2026-03-09 11:30 | why |
    if (line.find('`') == std::string::npos) continue;
    std::vector<std::string> cells;
    std::stringstream in(line);
    for (std::string cell; std::getline(in, cell, '|');) {
      const auto b = cell.find_first_not_of(' ');
      const auto e = cell.find_last_not_of(' ');
      cells.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
    }
    ASSERT_GE(cells.size(), 4U) << line;
    const std::string& start = cells[1];  // "Fri 2026-03-06 16:30", Asia/Shanghai (UTC+8)
    const auto from = parse_timestamp(start.substr(4, 10) + "T" + start.substr(15) + ":00+08:00");
    const auto d = parse_duration(cells[2].substr(1, cells[2].size() - 2));
    ASSERT_TRUE(from && d) << line;
    const auto end = office->add(*from, *d);
    ASSERT_TRUE(end) << line;
    const auto local = date::floor<std::chrono::minutes>(office->local_time(*end));
    EXPECT_EQ(date::format("%a %Y-%m-%d %H:%M", local), cells[3]) << line;
    ++rows;
  }
  EXPECT_GE(rows, 5);
}

// ---- hooks --------------------------------------------------------------------------------------

// A route that could never deliver (unknown workflow or event, data for an event that takes
// none) is named at the name that is wrong.
TEST(ConfigLoader, WebhookRoutesAreCheckedAgainstTheirWorkflows) {
  Diagnostics diags;
  const auto config = yaml::load_config("cfg.yaml", R"(hooks:
  phone:
    verify: {scheme: token, secret: abc, header: X-Token}
    routes:
      - start: complain
      - event: closd
        workflow: ticket
        key: body.ref
      - event: close
        workflow: ticket
        key: body.ref
        data: {why: "${ body.why }"}
      - event: note
        workflow: ticket
        key: body.ref
        data: {text: "${ body.text }"}
)",
                                        diags);
  ASSERT_TRUE(config.has_value()) << lines_of(diags, "cfg.yaml").front();
  const auto ticket = yaml::load_workflow("wf.yaml", R"(workflow: ticket
events:
  note: {text: {type: string}}
initial: open
states:
  open: {on: {close: closed, note: open}}
  closed: {type: final}
)",
                                          diags);
  ASSERT_TRUE(ticket.has_value());
  check_hook_routes(
      *config, [&](const std::string& name) { return name == "ticket" ? &*ticket : nullptr; },
      {"ticket"}, diags);
  EXPECT_THAT(lines_of(diags, "cfg.yaml"),
              ElementsAre(HasSubstr("5:16: error: no workflow 'complain'"),
                          HasSubstr("6:16: error: workflow 'ticket' handles no event 'closd' "
                                    "(did you mean 'close'?)"),
                          HasSubstr("9:16: error: the route sends data with event 'close'")));
}

TEST(ConfigLoader, LoadsHookSources) {
  Diagnostics diags;
  const auto config = yaml::load_config("cfg.yaml", R"(hooks:
  phone:
    verify: {scheme: ombud, secret_env: OMBUD_HOOK_PHONE_SECRET}
    dedup: body.event_id
    routes:
      - when: body.status == "completed"
        start: complaint
        key: body.caller
        data: {phone: "${ body.caller }", channel: phone}
        if_open: {event: customer_called, data: {call_id: "${ body.call_id }"}}
      - event: customer_replied
        workflow: complaint
        key: body.caller
  desk:
    verify: {scheme: token, secret: abc, header: X-Desk-Token}
    routes: []
)",
                                        diags);
  ASSERT_TRUE(config.has_value());
  EXPECT_THAT(diags.items(), IsEmpty());
  ASSERT_EQ(config->hooks.size(), 2U);
  const HookSource& phone = config->hooks[0];
  EXPECT_EQ(phone.name, "phone");
  EXPECT_EQ(phone.verify.secret_env, "OMBUD_HOOK_PHONE_SECRET");
  ASSERT_TRUE(phone.dedup.has_value());
  EXPECT_EQ(phone.dedup->text, "body.event_id");
  ASSERT_EQ(phone.routes.size(), 2U);
  EXPECT_EQ(phone.routes[0].start, "complaint");
  EXPECT_EQ(phone.routes[0].when->text, R"(body.status == "completed")");
  ASSERT_EQ(phone.routes[0].data.size(), 2U);
  EXPECT_EQ(phone.routes[0].data[0].first, "phone");
  ASSERT_TRUE(phone.routes[0].if_open.has_value());
  EXPECT_EQ(phone.routes[0].if_open->event, "customer_called");
  EXPECT_EQ(phone.routes[1].event, "customer_replied");
  EXPECT_EQ(phone.routes[1].workflow, "complaint");
  EXPECT_EQ(phone.routes[1].pos, (SourcePos{11, 9}));
  const HookSource& desk = config->hooks[1];
  EXPECT_EQ(desk.verify.scheme, HookScheme::token);
  EXPECT_EQ(desk.verify.secret, "abc");
  EXPECT_EQ(desk.verify.header, "X-Desk-Token");
}

TEST(ConfigLoader, RejectsUnknownHookSchemes) {
  EXPECT_THAT(config_problems(R"(hooks:
  phone:
    verify: {scheme: twillio, secret: x}
    routes: []
)"),
              ElementsAre("3:22: error: unknown verification scheme 'twillio' (did you mean "
                          "'twilio'?); use ombud, twilio or token"));
}

TEST(ConfigLoader, HookSourcesNeedASecret) {
  EXPECT_THAT(config_problems(R"(hooks:
  phone:
    verify: {scheme: ombud}
    routes: []
)"),
              ElementsAre("3:13: error: verify is missing the secret: give 'secret_env' (the name "
                          "of an environment variable that holds it) or 'secret'"));
}

TEST(ConfigLoader, HookSecretComesFromOnePlaceOnly) {
  EXPECT_THAT(config_problems(R"(hooks:
  phone:
    verify: {scheme: ombud, secret_env: PHONE, secret: abc}
    routes: []
)"),
              ElementsAre("3:56: error: give either 'secret_env' or 'secret', not both"));
}

TEST(ConfigLoader, HookExpressionSyntaxErrorsPointInsideTheExpression) {
  const auto problems = config_problems(R"(hooks:
  phone:
    verify: {scheme: ombud, secret: abc}
    routes:
      - when: body.status == == "completed"
        start: complaint
)");
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0].rfind("5:30: error: ", 0), 0U) << problems[0];
}

TEST(ConfigLoader, HookExpressionsMayOnlyReadTheBody) {
  EXPECT_THAT(config_problems(R"(hooks:
  phone:
    verify: {scheme: ombud, secret: abc}
    routes:
      - start: complaint
        data: {phone: "${ bdy.caller }", note: "${ data.summary }"}
)"),
              ElementsAre("6:27: error: unknown identifier 'bdy' (did you mean 'body'?)",
                          "6:52: error: data fields are not available here"));
}

TEST(ConfigLoader, HookRoutesStartOrSendAnEvent) {
  EXPECT_THAT(config_problems(R"(hooks:
  phone:
    verify: {scheme: ombud, secret: abc}
    routes:
      - when: "true"
      - start: complaint
        event: customer_called
      - event: customer_called
)"),
              ElementsAre("5:9: error: route needs 'start' (a workflow to start) or 'event' (an "
                          "event to send by key)",
                          "7:16: error: a route either starts a workflow ('start') or sends an "
                          "event ('event'), not both; use 'if_open' for the event sent when a "
                          "case is already open",
                          "8:9: error: route is missing required key 'workflow'",
                          "8:9: error: route is missing required key 'key' (the business key of "
                          "the case)"));
}

TEST(ConfigLoader, IfOpenNeedsTheRoutesKey) {
  EXPECT_THAT(config_problems(R"(hooks:
  phone:
    verify: {scheme: ombud, secret: abc}
    routes:
      - start: complaint
        if_open: {event: customer_called}
)"),
              ElementsAre("6:18: error: 'if_open' needs the route's 'key' to find the open case"));
}

TEST(ConfigLoader, TokenHeaderOnlyForTheTokenScheme) {
  EXPECT_THAT(config_problems(R"(hooks:
  phone:
    verify: {scheme: ombud, secret: abc, header: X-Token}
    routes: []
)"),
              ElementsAre("3:50: error: 'header' applies to the token scheme only"));
}

TEST(ConfigLoader, RetentionTakesWallClockDurationsOrForever) {
  Diagnostics diags;
  const auto config = yaml::load_config(
      "cfg.yaml", "retention: {idempotency_keys: 2d12h, delivered_messages: forever}\n", diags);
  ASSERT_TRUE(config.has_value());
  EXPECT_THAT(diags.items(), IsEmpty());
  EXPECT_EQ(config->retention.idempotency_keys, std::chrono::hours(60));
  EXPECT_EQ(config->retention.delivered_messages, Millis(0));  // zero: kept for ever
  // Unset: the worker's defaults apply.
  const auto plain = yaml::load_config("cfg.yaml", "store: sqlite:x.db\n", diags);
  ASSERT_TRUE(plain.has_value());
  EXPECT_FALSE(plain->retention.idempotency_keys);
  EXPECT_FALSE(plain->retention.delivered_messages);
}

TEST(ConfigLoader, RetentionRejectsWeeksZeroAndUnknownKeys) {
  EXPECT_THAT(config_problems(R"(retention:
  idempotency_keys: 1w
  delivered_messages: 0s
  delivered: 3d
)"),
              ElementsAre("2:21: error: retention.idempotency_keys: write weeks as days ('1w' "
                          "would be 5 days a week, as in business calendars), e.g. 7d",
                          "3:23: error: retention.delivered_messages: a zero duration would "
                          "forget at once; write 'forever' to keep for ever",
                          "4:3: error: unknown key 'delivered' in retention (expected one of: "
                          "idempotency_keys, delivered_messages)"));
  EXPECT_THAT(config_problems("retention: {idempotency_keys: soon}\n"),
              ElementsAre("1:31: error: retention.idempotency_keys: 'soon' is not a duration "
                          "(use 30m, 12h, 7d or combinations such as 1d12h, or forever)"));
}

TEST(ConfigLoader, NotificationsAndWebhookTargetsSayWhereTheOutboxSends) {
  Diagnostics diags;
  const auto config = yaml::load_config("cfg.yaml", R"(notifications:
  url: https://relay.example.com/ombud
  secret_env: OMBUD_NOTIFY_SECRET
  timeout: 5s
webhook_targets:
  crm: {url: "http://crm.internal:8081/hooks/ombud", secret: s3cret}
  audit: {deliver: log}
)",
                                        diags);
  ASSERT_TRUE(config.has_value());
  EXPECT_THAT(diags.items(), IsEmpty());
  ASSERT_TRUE(config->notifications.has_value());
  EXPECT_EQ(config->notifications->deliver, DeliveryTarget::Deliver::http);
  EXPECT_EQ(config->notifications->url, "https://relay.example.com/ombud");
  EXPECT_EQ(config->notifications->secret_env, "OMBUD_NOTIFY_SECRET");
  EXPECT_EQ(config->notifications->timeout, std::chrono::seconds(5));
  ASSERT_NE(config->find_webhook_target("crm"), nullptr);
  EXPECT_EQ(config->find_webhook_target("crm")->secret, "s3cret");
  EXPECT_EQ(config->find_webhook_target("crm")->timeout, std::chrono::seconds(10));
  EXPECT_EQ(config->find_webhook_target("audit")->deliver, DeliveryTarget::Deliver::log);
  EXPECT_EQ(config->find_webhook_target("erp"), nullptr);
}

TEST(ConfigLoader, ADeliveryTargetNeedsSomewhereToSendAndOneSecret) {
  EXPECT_THAT(
      config_problems(R"(notifications: {deliver: mail}
webhook_targets:
  crm: {url: "ftp://crm/x", secret: a, secret_env: B}
  erp: {timeout: 0s}
  audit: {deliver: log, url: "http://x/"}
)"),
      ElementsAre("1:16: error: notifications needs a url to post to (or deliver: log)",
                  "1:26: error: notifications: deliver must be http or log, got 'mail'",
                  "3:14: error: webhook target 'crm': url must begin with http:// or https://, "
                  "got 'ftp://crm/x'",
                  "3:37: error: give either 'secret_env' or 'secret', not both",
                  "4:8: error: webhook target 'erp' needs a url to post to (or deliver: log)",
                  "4:18: error: webhook target 'erp'.timeout must be longer than zero",
                  "5:30: error: webhook target 'audit': a url is for deliver: http; deliver: log "
                  "writes to the log"));
}

TEST(ConfigLoader, ATemplatePlaceholderThatDoesNotParseIsAnError) {
  const auto problems = config_problems(R"(templates:
  assigned: {subject: "Case ${ instance.id } for ${ data.name + }", body: "ok ${ data.x }"}
  broken: {subject: "Case ${ instance.id"}
)");
  ASSERT_EQ(problems.size(), 2U);
  EXPECT_THAT(problems[0],
              ::testing::StartsWith("2:23: error: template 'assigned' subject: placeholder '${ "
                                    "data.name + }': "));
  EXPECT_EQ(problems[1],
            "3:21: error: template 'broken' subject: a placeholder '${' is never closed with '}'");
}

}  // namespace
}  // namespace ombud
