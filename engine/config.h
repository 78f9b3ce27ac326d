// The server's configuration model (config/ombud.yaml), loaded by adapters/yaml/config_loader.
//
// Plain data: calendars, the directory of people, roles and queues, notification templates and
// where things live. Later components add their own sections (webhook sources, tokens); each
// section rejects keys it does not know.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include <date/date.h>

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

struct Config {
  std::string file;
  std::string store = "sqlite:var/ombud.db";
  std::string listen = "127.0.0.1:8080";
  std::string workflows_dir = "workflows";  // relative to the config file's directory
  std::vector<CalendarSpec> calendars;
  std::vector<Role> roles;
  std::vector<Person> people;
  std::vector<Queue> queues;
  std::vector<NotificationTemplate> templates;

  const CalendarSpec* find_calendar(std::string_view name) const;
  const Person* find_person(std::string_view id) const;
  const Queue* find_queue(std::string_view name) const;
  const Role* find_role(std::string_view name) const;
  const NotificationTemplate* find_template(std::string_view name) const;
};

}  // namespace ombud
