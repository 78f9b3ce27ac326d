#include "adapters/yaml/config_loader.h"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <set>

#include "adapters/yaml/reader.h"
#include "adapters/yaml/workflow_loader.h"
#include "engine/templates.h"

namespace ombud::yaml {

namespace {

using Keys = std::span<const std::string_view>;

constexpr std::array<std::string_view, 11> kTopKeys{
    "store",     "listen", "public_url", "workflows",     "calendars",      "directory",
    "templates", "hooks",  "retention",  "notifications", "webhook_targets"};
constexpr std::array<std::string_view, 5> kDeliveryKeys{"deliver", "url", "secret_env", "secret",
                                                        "timeout"};
constexpr std::array<std::string_view, 2> kRetentionKeys{"idempotency_keys", "delivered_messages"};
constexpr std::array<std::string_view, 4> kCalendarKeys{"timezone", "hours", "holidays",
                                                        "workdays"};
constexpr std::array<std::string_view, 7> kDayNames{"mon", "tue", "wed", "thu",
                                                    "fri", "sat", "sun"};
constexpr std::array<std::string_view, 3> kDirectoryKeys{"roles", "people", "queues"};
constexpr std::array<std::string_view, 7> kPersonKeys{"name",     "roles", "manager", "skills",
                                                      "capacity", "email", "phone"};
constexpr std::array<std::string_view, 3> kQueueKeys{"title", "members", "roles"};
constexpr std::array<std::string_view, 1> kRoleKeys{"title"};
constexpr std::array<std::string_view, 2> kTemplateKeys{"subject", "body"};
constexpr std::array<std::string_view, 2> kWorkdayKeys{"date", "hours"};
constexpr std::array<std::string_view, 3> kHookKeys{"verify", "dedup", "routes"};
constexpr std::array<std::string_view, 4> kVerifyKeys{"scheme", "secret_env", "secret", "header"};
constexpr std::array<std::string_view, 3> kSchemeNames{"ombud", "twilio", "token"};
constexpr std::array<std::string_view, 7> kRouteKeys{"when", "start", "workflow", "event",
                                                     "key",  "data",  "if_open"};
constexpr std::array<std::string_view, 2> kIfOpenKeys{"event", "data"};

bool is_env_name(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// RFC 9110 token characters, which is what a header name may contain.
bool is_header_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

std::optional<int> parse_clock(std::string_view s) {
  // HH:MM with 00 ≤ HH ≤ 24 and 24:00 the only value with hour 24.
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  for (std::size_t i : {0U, 1U, 3U, 4U}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  const int h = (s[0] - '0') * 10 + (s[1] - '0');
  const int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
  return h * 60 + m;
}

std::optional<date::sys_days> parse_day(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int y = 0, mo = 0, d = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 4 || i == 7) continue;
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  y = std::stoi(std::string(s.substr(0, 4)));
  mo = std::stoi(std::string(s.substr(5, 2)));
  d = std::stoi(std::string(s.substr(8, 2)));
  const date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                                 date::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return date::sys_days(ymd);
}

class ConfigLoader {
 public:
  ConfigLoader(const Document& doc, Diagnostics& diags) : r_(doc, diags) {}

  Config load(const Node& root) {
    Config c;
    c.file = r_.document().file;
    r_.check_keys(root, Keys(kTopKeys), "config");
    if (const Node* n = root.find("store")) {
      c.store = r_.string(*n, "store").value_or(c.store);
      if (c.store.rfind("sqlite:", 0) != 0 && c.store.rfind("postgresql://", 0) != 0 &&
          c.store.rfind("postgres://", 0) != 0) {
        r_.error(*n, "store must be 'sqlite:PATH' or 'postgresql://...', got '" + c.store + "'");
      } else if (c.store == "sqlite:" || c.store.rfind("sqlite:?", 0) == 0) {
        r_.error(*n, "store: no file after 'sqlite:'");
      }
    }
    if (const Node* n = root.find("listen")) {
      c.listen = r_.string(*n, "listen").value_or(c.listen);
      const auto colon = c.listen.rfind(':');
      if (colon == std::string::npos || colon + 1 == c.listen.size() ||
          c.listen.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
        r_.error(*n, "listen must be HOST:PORT, got '" + c.listen + "'");
      } else if (c.listen.size() - colon - 1 > 5 || std::stoi(c.listen.substr(colon + 1)) > 65535) {
        r_.error(*n, "listen '" + c.listen + "': port must be 0-65535");
      }
    }
    if (const Node* n = root.find("public_url")) {
      c.public_url = r_.string(*n, "public_url").value_or("");
      const std::size_t host = c.public_url.starts_with("https://")  ? 8
                               : c.public_url.starts_with("http://") ? 7
                                                                     : 0;
      if (host == 0 || host == c.public_url.size() || c.public_url[host] == '/' ||
          c.public_url.find_first_of("?#") != std::string::npos) {
        r_.error(*n,
                 "public_url must be http(s)://HOST[:PORT][/PATH], as callers reach the "
                 "server, got '" +
                     c.public_url + "'");
      }
      while (c.public_url.ends_with('/')) c.public_url.pop_back();
    }
    if (const Node* n = root.find("workflows"))
      c.workflows_dir = r_.string(*n, "workflows").value_or("");
    if (const Node* n = root.find("calendars")) calendars(*n, c);
    if (const Node* n = root.find("directory")) directory(*n, c);
    if (const Node* n = root.find("templates")) templates(*n, c);
    if (const Node* n = root.find("hooks")) hooks(*n, c);
    if (const Node* n = root.find("retention")) retention(*n, c.retention);
    if (const Node* n = root.find("notifications")) {
      c.notifications = delivery(*n, "notifications", "notifications");
    }
    if (const Node* n = root.find("webhook_targets")) webhook_targets(*n, c);
    return c;
  }

 private:
  std::vector<TimeRange> ranges(const Node& n, std::string_view what) {
    std::vector<TimeRange> out;
    if (!r_.expect_sequence(n, what)) return out;
    for (const auto& item : n.items) {
      const auto s = r_.string(item, what);
      if (!s) continue;
      const auto dash = s->find('-');
      std::optional<int> from;
      std::optional<int> to;
      if (dash != std::string::npos) {
        from = parse_clock(s->substr(0, dash));
        to = parse_clock(s->substr(dash + 1));
      }
      if (!from || !to) {
        r_.error(item, "'" + *s + "' is not a time range (write HH:MM-HH:MM, e.g. 09:00-12:00)");
        continue;
      }
      if (*from >= *to) {
        r_.error(item, "time range '" + *s + "' ends before it starts");
        continue;
      }
      if (!out.empty() && *from < out.back().end_minute) {
        r_.error(item, "time range '" + *s + "' overlaps or precedes the one before it");
        continue;
      }
      out.push_back({*from, *to});
    }
    return out;
  }

  void calendars(const Node& n, Config& c) {
    if (!r_.expect_map(n, "calendars")) return;
    for (const auto& [key, value] : n.entries) {
      CalendarSpec cal;
      cal.name = key.value;
      cal.pos = key.pos;
      r_.name(key, "calendar name");
      if (cal.name == "none") r_.error(key, "'none' is reserved (it means wall-clock time)");
      const std::string context = "calendar '" + cal.name + "'";
      if (!r_.expect_map(value, context)) continue;
      r_.check_keys(value, Keys(kCalendarKeys), context);
      if (const Node* tz = r_.require(value, "timezone", context)) {
        cal.timezone = r_.string(*tz, "timezone").value_or("");
        try {
          (void)date::locate_zone(cal.timezone);
        } catch (const std::exception&) {
          r_.error(*tz, "unknown time zone '" + cal.timezone +
                            "' (use an IANA name such as Asia/Shanghai)");
        }
      }
      if (const Node* hours = r_.require(value, "hours", context)) {
        if (r_.expect_map(*hours, "hours")) {
          r_.check_keys(*hours, Keys(kDayNames), "hours");
          for (std::size_t d = 0; d < kDayNames.size(); ++d) {
            if (const Node* day = hours->find(kDayNames[d])) {
              cal.hours.at(d) = ranges(*day, "hours");
            }
          }
        }
      }
      if (const Node* hol = value.find("holidays")) {
        if (r_.expect_sequence(*hol, "holidays")) {
          for (const auto& item : hol->items) {
            const auto s = r_.string(item, "holiday");
            if (!s) continue;
            const auto dots = s->find("..");
            auto first = parse_day(dots == std::string::npos ? *s : s->substr(0, dots));
            auto last = dots == std::string::npos ? first : parse_day(s->substr(dots + 2));
            if (!first || !last) {
              r_.error(item, "'" + *s +
                                 "' is not a date or a date range (write 2026-12-25 or "
                                 "2026-10-01..2026-10-07)");
            } else if (*last < *first) {
              r_.error(item, "holiday range '" + *s + "' ends before it starts");
            } else {
              cal.holidays.push_back({*first, *last});
            }
          }
        }
      }
      if (const Node* wd = value.find("workdays")) {
        if (r_.expect_sequence(*wd, "workdays")) {
          for (const auto& item : wd->items) workday(item, cal);
        }
      }
      // Judged on what was written, so that malformed ranges are not reported twice.
      bool open = false;
      if (const Node* hours = value.find("hours"); hours != nullptr && hours->is_map()) {
        for (const auto& [day, ranges] : hours->entries) open = open || !ranges.items.empty();
      }
      if (!open && value.find("hours") != nullptr && cal.workdays.empty()) {
        r_.error(value, context + " has no open hours on any day");
      }
      c.calendars.push_back(std::move(cal));
    }
  }

  void workday(const Node& item, CalendarSpec& cal) {
    CalendarSpec::Workday w;
    const Node* date_node = &item;
    if (item.is_map()) {
      r_.check_keys(item, Keys(kWorkdayKeys), "workday");
      date_node = r_.require(item, "date", "workday");
      if (date_node == nullptr) return;
      if (const Node* h = item.find("hours")) w.hours = ranges(*h, "hours");
    } else {
      w.hours = cal.hours[0];  // plain dates work Monday's hours
    }
    const auto s = r_.string(*date_node, "workday");
    if (!s) return;
    const auto day = parse_day(*s);
    if (!day) {
      r_.error(*date_node, "'" + *s + "' is not a date (write 2026-10-10)");
      return;
    }
    w.day = *day;
    cal.workdays.push_back(std::move(w));
  }

  void directory(const Node& n, Config& c) {
    if (!r_.expect_map(n, "directory")) return;
    r_.check_keys(n, Keys(kDirectoryKeys), "directory");
    if (const Node* roles = n.find("roles")) {
      if (r_.expect_map(*roles, "roles")) {
        for (const auto& [key, value] : roles->entries) {
          Role role;
          role.name = key.value;
          role.pos = key.pos;
          r_.name(key, "role name");
          if (role.name == kAssigneeRole) {
            r_.error(key,
                     "'assignee' is not a role name: in a transition's roles: it means the "
                     "case's assignee");
          }
          if (value.is_map()) {
            r_.check_keys(value, Keys(kRoleKeys), "role '" + role.name + "'");
            if (const Node* t = value.find("title"))
              role.title = r_.string(*t, "title").value_or("");
          } else if (!value.is_null()) {
            r_.expect_map(value, "role '" + role.name + "'");
          }
          c.roles.push_back(std::move(role));
        }
      }
    }
    std::vector<SourcePos> manager_pos;
    std::vector<std::vector<SourcePos>> role_pos;
    if (const Node* people = n.find("people")) {
      if (r_.expect_map(*people, "people")) {
        for (const auto& [key, value] : people->entries) {
          Person p;
          p.id = key.value;
          p.pos = key.pos;
          const std::string context = "person '" + p.id + "'";
          manager_pos.emplace_back();
          role_pos.emplace_back();
          if (!r_.expect_map(value, context)) {
            c.people.push_back(std::move(p));
            continue;
          }
          r_.check_keys(value, Keys(kPersonKeys), context);
          if (const Node* v = value.find("name")) p.name = r_.string(*v, "name").value_or("");
          if (const Node* v = value.find("roles"))
            p.roles = r_.string_list(*v, "roles", &role_pos.back());
          if (const Node* v = value.find("manager")) {
            p.manager = r_.string(*v, "manager").value_or("");
            manager_pos.back() = v->pos;
          }
          if (const Node* v = value.find("skills")) p.skills = r_.string_list(*v, "skills");
          if (const Node* v = value.find("capacity")) {
            const auto cap = r_.integer(*v, "capacity");
            if (cap && (*cap < 0 || *cap > 100000)) {
              r_.error(*v, "capacity must be between 0 (no limit) and 100000");
            } else if (cap) {
              p.capacity = static_cast<int>(*cap);
            }
          }
          if (const Node* v = value.find("email")) p.email = r_.string(*v, "email").value_or("");
          if (const Node* v = value.find("phone")) p.phone = r_.string(*v, "phone").value_or("");
          c.people.push_back(std::move(p));
        }
      }
    }
    std::vector<std::string> ids;
    std::vector<std::string> role_names;
    for (const auto& p : c.people) ids.push_back(p.id);
    for (const auto& r : c.roles) role_names.push_back(r.name);
    for (std::size_t i = 0; i < c.people.size(); ++i) {
      const Person& p = c.people[i];
      if (!p.manager.empty() && c.find_person(p.manager) == nullptr) {
        r_.error(manager_pos[i],
                 "unknown manager '" + p.manager + "'" + did_you_mean(p.manager, ids));
      }
      for (std::size_t k = 0; k < p.roles.size(); ++k) {
        if (c.find_role(p.roles[k]) == nullptr) {
          r_.error(role_pos[i][k], "unknown role '" + p.roles[k] + "'" +
                                       did_you_mean(p.roles[k], role_names) +
                                       "; declare it under directory.roles");
        }
      }
    }
    report_management_loops(c);
    if (const Node* queues = n.find("queues")) {
      if (r_.expect_map(*queues, "queues")) {
        for (const auto& [key, value] : queues->entries) {
          Queue q;
          q.name = key.value;
          q.pos = key.pos;
          r_.name(key, "queue name");
          const std::string context = "queue '" + q.name + "'";
          if (r_.expect_map(value, context)) {
            r_.check_keys(value, Keys(kQueueKeys), context);
            if (const Node* v = value.find("title")) q.title = r_.string(*v, "title").value_or("");
            std::vector<SourcePos> member_pos;
            std::vector<SourcePos> queue_role_pos;
            if (const Node* v = value.find("members"))
              q.members = r_.string_list(*v, "members", &member_pos);
            if (const Node* v = value.find("roles"))
              q.roles = r_.string_list(*v, "roles", &queue_role_pos);
            for (std::size_t k = 0; k < q.members.size(); ++k) {
              if (c.find_person(q.members[k]) == nullptr) {
                r_.error(member_pos[k],
                         "unknown person '" + q.members[k] + "'" + did_you_mean(q.members[k], ids));
              }
            }
            for (std::size_t k = 0; k < q.roles.size(); ++k) {
              if (c.find_role(q.roles[k]) == nullptr) {
                r_.error(queue_role_pos[k], "unknown role '" + q.roles[k] + "'" +
                                                did_you_mean(q.roles[k], role_names));
              }
            }
            if (q.members.empty() && q.roles.empty()) {
              r_.error(value, context + " has no members: give 'members' or 'roles'");
            }
          }
          c.queues.push_back(std::move(q));
        }
      }
    }
  }

  // A management chain that loops would send escalations round in circles. Each loop is one
  // error, at the person of the loop written first, naming everyone in it; people whose chain
  // only runs into the loop are not errors of their own.
  void report_management_loops(const Config& c) {
    std::set<std::string> reported;
    for (const Person& p : c.people) {
      std::set<std::string> seen{p.id};
      const Person* m = c.find_person(p.manager);
      while (m != nullptr && seen.insert(m->id).second) m = c.find_person(m->manager);
      if (m == nullptr || reported.count(m->id) != 0) continue;
      std::vector<const Person*> loop{m};
      for (const Person* n = c.find_person(m->manager); n != m; n = c.find_person(n->manager)) {
        loop.push_back(n);
      }
      const Person* first = *std::min_element(loop.begin(), loop.end(), [](auto* a, auto* b) {
        return std::pair(a->pos.line, a->pos.column) < std::pair(b->pos.line, b->pos.column);
      });
      const auto at = std::find(loop.begin(), loop.end(), first) - loop.begin();
      std::string chain;
      for (std::size_t k = 0; k <= loop.size(); ++k) {
        const Person* n = loop[(static_cast<std::size_t>(at) + k) % loop.size()];
        chain += (k == 0 ? "" : " → ") + n->id;
        reported.insert(n->id);
      }
      r_.error(first->pos, "the management chain loops: " + chain);
    }
  }

  void templates(const Node& n, Config& c) {
    if (!r_.expect_map(n, "templates")) return;
    for (const auto& [key, value] : n.entries) {
      NotificationTemplate t;
      t.name = key.value;
      t.pos = key.pos;
      r_.name(key, "template name");
      const std::string context = "template '" + t.name + "'";
      if (r_.expect_map(value, context)) {
        r_.check_keys(value, Keys(kTemplateKeys), context);
        if (const Node* v = r_.require(value, "subject", context)) {
          t.subject = r_.string(*v, "subject").value_or("");
          placeholders(*v, t.subject, context + " subject");
        }
        if (const Node* v = value.find("body")) {
          t.body = r_.string(*v, "body").value_or("");
          placeholders(*v, t.body, context + " body");
        }
      }
      c.templates.push_back(std::move(t));
    }
  }

  // A placeholder that does not parse would be sent as `<error: …>` in every message.
  void placeholders(const Node& n, const std::string& text, const std::string& what) {
    for (const PlaceholderProblem& p : placeholder_problems(text))
      r_.error(n, what + ": " + p.message);
  }

  void retention(const Node& n, Retention& out) {
    if (!r_.expect_map(n, "retention")) return;
    r_.check_keys(n, Keys(kRetentionKeys), "retention");
    if (const Node* v = n.find("idempotency_keys")) {
      out.idempotency_keys = kept_for(*v, "retention.idempotency_keys");
    }
    if (const Node* v = n.find("delivered_messages")) {
      out.delivered_messages = kept_for(*v, "retention.delivered_messages");
    }
  }

  // `forever`, or a wall-clock duration in days, hours, minutes and seconds.
  std::optional<Millis> kept_for(const Node& n, std::string_view what) {
    if (!n.is_scalar()) {
      (void)r_.duration(n, what);  // reports "… must be a duration, got a map"
      return std::nullopt;
    }
    if (n.value == "forever") return Millis(0);
    const auto d = parse_duration(n.value);
    if (!d) {
      r_.error(n, std::string(what) + ": '" + n.value +
                      "' is not a duration (use 30m, 12h, 7d or combinations such as 1d12h, "
                      "or forever)");
    } else if (n.value.find('w') != std::string::npos) {
      r_.error(n, std::string(what) + ": write weeks as days ('" + n.value +
                      "' would be 5 days a week, as in business calendars), e.g. 7d");
    } else if (d->is_zero()) {
      r_.error(n, std::string(what) +
                      ": a zero duration would forget at once; write 'forever' "
                      "to keep for ever");
    } else {
      return d->wall_clock();
    }
    return std::nullopt;
  }

  // Webhook sources. Expressions are parsed and type-checked here, in a scope where only
  // `body` (the payload) and `now` exist, so a typo points at its column in this file.
  void hooks(const Node& n, Config& c) {
    if (!r_.expect_map(n, "hooks")) return;
    for (const auto& [key, value] : n.entries) {
      HookSource h;
      h.name = key.value;
      h.pos = key.pos;
      r_.name(key, "hook source name");
      const std::string context = "hook source '" + h.name + "'";
      if (r_.expect_map(value, context)) {
        r_.check_keys(value, Keys(kHookKeys), context);
        if (const Node* v = r_.require(value, "verify", context)) verify(*v, h.verify);
        if (const Node* v = value.find("dedup")) h.dedup = expression(*v, "dedup");
        if (const Node* v = r_.require(value, "routes", context)) {
          if (r_.expect_sequence(*v, "routes")) {
            for (const auto& item : v->items) h.routes.push_back(route(item));
          }
        }
      }
      c.hooks.push_back(std::move(h));
    }
  }

  // `secret_env` (an environment variable's name) or `secret`, at most one of them.
  void secret(const Node& n, std::string& env_name, std::string& inline_secret) {
    const Node* env = n.find("secret_env");
    const Node* text = n.find("secret");
    if (env != nullptr && text != nullptr) {
      r_.error(*text, "give either 'secret_env' or 'secret', not both");
    }
    if (env != nullptr) {
      env_name = r_.string(*env, "secret_env").value_or("");
      if (env->is_scalar() && !is_env_name(env_name)) {
        r_.error(*env, "'" + env_name +
                           "' is not an environment variable name (letters, digits and '_', "
                           "e.g. OMBUD_HOOK_PHONE_SECRET)");
      }
    }
    if (text != nullptr) {
      inline_secret = r_.string(*text, "secret").value_or("");
      if (text->is_scalar() && inline_secret.empty()) r_.error(*text, "secret is empty");
    }
  }

  // Where the outbox sends one kind of message (`notifications:`, a webhook target).
  DeliveryTarget delivery(const Node& n, std::string name, const std::string& context) {
    DeliveryTarget t;
    t.name = std::move(name);
    t.pos = n.pos;
    if (!r_.expect_map(n, context)) return t;
    r_.check_keys(n, Keys(kDeliveryKeys), context);
    if (const Node* d = n.find("deliver")) {
      const std::string how = r_.string(*d, "deliver").value_or("");
      if (how == "log") {
        t.deliver = DeliveryTarget::Deliver::log;
      } else if (how != "http" && d->is_scalar()) {
        r_.error(*d, context + ": deliver must be http or log, got '" + how + "'");
      }
    }
    const Node* url = n.find("url");
    if (url != nullptr) {
      t.url = r_.string(*url, "url").value_or("");
      if (url->is_scalar() && !t.url.starts_with("http://") && !t.url.starts_with("https://")) {
        r_.error(*url, context + ": url must begin with http:// or https://, got '" + t.url + "'");
      }
    }
    if (t.deliver == DeliveryTarget::Deliver::http && url == nullptr) {
      r_.error(n, context + " needs a url to post to (or deliver: log)");
    } else if (t.deliver == DeliveryTarget::Deliver::log && url != nullptr) {
      r_.error(*url, context + ": a url is for deliver: http; deliver: log writes to the log");
    }
    secret(n, t.secret_env, t.secret);
    if (const Node* v = n.find("timeout")) {
      if (auto d = r_.duration(*v, context + ".timeout")) {
        if (d->is_zero()) {
          r_.error(*v, context + ".timeout must be longer than zero");
        } else {
          t.timeout = d->wall_clock();
        }
      }
    }
    return t;
  }

  void webhook_targets(const Node& n, Config& c) {
    if (!r_.expect_map(n, "webhook_targets")) return;
    for (const auto& [key, value] : n.entries) {
      r_.name(key, "webhook target name");
      DeliveryTarget t = delivery(value, key.value, "webhook target '" + key.value + "'");
      t.pos = key.pos;
      c.webhook_targets.push_back(std::move(t));
    }
  }

  void verify(const Node& n, HookVerify& v) {
    v.pos = n.pos;
    if (!r_.expect_map(n, "verify")) return;
    r_.check_keys(n, Keys(kVerifyKeys), "verify");
    if (const Node* s = r_.require(n, "scheme", "verify")) {
      const std::string name = r_.string(*s, "scheme").value_or("");
      if (name == "ombud") {
        v.scheme = HookScheme::ombud;
      } else if (name == "twilio") {
        v.scheme = HookScheme::twilio;
      } else if (name == "token") {
        v.scheme = HookScheme::token;
      } else if (s->is_scalar()) {
        r_.error(*s, "unknown verification scheme '" + name + "'" +
                         did_you_mean(name, {kSchemeNames.begin(), kSchemeNames.end()}) +
                         "; use ombud, twilio or token");
      }
    }
    if (n.find("secret_env") == nullptr && n.find("secret") == nullptr) {
      r_.error(n,
               "verify is missing the secret: give 'secret_env' (the name of an environment "
               "variable that holds it) or 'secret'");
    }
    secret(n, v.secret_env, v.secret);
    if (const Node* h = n.find("header")) {
      v.header = r_.string(*h, "header").value_or("");
      if (v.scheme != HookScheme::token) {
        r_.error(*h, "'header' applies to the token scheme only");
      } else if (h->is_scalar() && !is_header_name(v.header)) {
        r_.error(*h, "'" + v.header + "' is not a header name");
      }
    }
  }

  HookRoute route(const Node& n) {
    HookRoute r;
    r.pos = n.pos;
    if (!r_.expect_map(n, "route")) return r;
    r_.check_keys(n, Keys(kRouteKeys), "route");
    if (const Node* v = n.find("when")) r.when = expression(*v, "when");
    const Node* start = n.find("start");
    const Node* event = n.find("event");
    if (start != nullptr && event != nullptr) {
      r_.error(*event,
               "a route either starts a workflow ('start') or sends an event ('event'), not both; "
               "use 'if_open' for the event sent when a case is already open");
    } else if (start == nullptr && event == nullptr) {
      r_.error(n, "route needs 'start' (a workflow to start) or 'event' (an event to send by key)");
    }
    if (start != nullptr) {
      r.start = r_.name(*start, "workflow name").value_or("");
      r.start_pos = start->pos;
      if (const Node* w = n.find("workflow")) {
        r_.error(*w, "a start route names its workflow in 'start'; remove 'workflow'");
      }
    }
    if (event != nullptr && start == nullptr) {
      r.event = r_.name(*event, "event name").value_or("");
      r.event_pos = event->pos;
      if (const Node* w = r_.require(n, "workflow", "route")) {
        r.workflow = r_.name(*w, "workflow name").value_or("");
        r.workflow_pos = w->pos;
      }
      if (const Node* o = n.find("if_open")) {
        r_.error(*o, "'if_open' applies to start routes only");
      }
    }
    if (const Node* v = n.find("key")) {
      r.key = expression(*v, "key");
    } else if (event != nullptr && start == nullptr) {
      r_.error(n, "route is missing required key 'key' (the business key of the case)");
    }
    if (const Node* v = n.find("data")) r.data = data(*v);
    if (const Node* o = n.find("if_open"); o != nullptr && start != nullptr) {
      HookRoute::IfOpen open;
      open.pos = o->pos;
      if (r_.expect_map(*o, "if_open")) {
        r_.check_keys(*o, Keys(kIfOpenKeys), "if_open");
        if (const Node* e = r_.require(*o, "event", "if_open")) {
          open.event = r_.name(*e, "event name").value_or("");
          r.if_open_event_pos = e->pos;
        }
        if (const Node* d = o->find("data")) open.data = data(*d);
      }
      if (!r.key) r_.error(*o, "'if_open' needs the route's 'key' to find the open case");
      r.if_open = std::move(open);
    }
    return r;
  }

  HookData data(const Node& n) {
    HookData out;
    if (!r_.expect_map(n, "data")) return out;
    for (const auto& [key, value] : n.entries) {
      r_.name(key, "field name");
      auto spec = r_.value(value);
      if (!spec) continue;
      check_expressions(*spec);
      out.emplace_back(key.value, std::move(*spec));
    }
    return out;
  }

  std::optional<Expr> expression(const Node& n, std::string_view what) {
    auto e = r_.expression(n, true, what);
    if (e) check_expression(*e);
    return e;
  }

  void check_expressions(const ValueSpec& spec) {
    if (spec.expression) check_expression(*spec.expression);
    for (const auto& [name, child] : spec.object) check_expressions(child);
    for (const auto& child : spec.array) check_expressions(child);
  }

  void check_expression(const Expr& e) {
    if (!e.ast) return;  // the syntax error is reported already
    expr::CheckScope scope;
    scope.body = true;
    std::vector<expr::Error> errors;
    (void)expr::check(*e.ast, scope, errors);
    for (const auto& err : errors) r_.error(e.pos_at(err.offset), err.message);
  }

  Reader r_;
};

}  // namespace

std::optional<Config> load_config(const std::string& file, const std::string& text,
                                  Diagnostics& diags) {
  Document doc = parse(file, text, diags);
  if (!doc.complete) return std::nullopt;
  if (!doc.root.is_map()) {
    diags.error(file, doc.root.pos.line > 0 ? doc.root.pos : SourcePos{1, 1},
                "a config file must be a map, got " + std::string(doc.root.describe()));
    return std::nullopt;
  }
  ConfigLoader loader(doc, diags);
  return loader.load(doc.root);
}

std::optional<Config> load_config_file(const std::string& path, Diagnostics& diags) {
  std::string text;
  if (!read_file(path, text)) {
    diags.error(path, {}, "cannot read file");
    return std::nullopt;
  }
  return load_config(path, text, diags);
}

}  // namespace ombud::yaml
