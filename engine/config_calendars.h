// The Calendars port over the calendars of a Config: what the server, `ombud pipe` and
// `ombud simulate` hand to step().
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/step.h"

namespace ombud {

class ConfigCalendars final : public Calendars {
 public:
  ConfigCalendars() = default;
  // Builds every calendar of `config`; a calendar that cannot be built is left out and its
  // problem appended to `problems` as (calendar spec, message).
  ConfigCalendars(const Config& config,
                  std::vector<std::pair<const CalendarSpec*, std::string>>& problems);

  const BusinessCalendar* find(std::string_view name) const override {
    if (name.empty() || name == "none") return &wall_clock_;
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &it->second;
  }
  void add(const std::string& name, BusinessCalendar cal) {
    by_name_.emplace(name, std::move(cal));
  }

 private:
  BusinessCalendar wall_clock_ = BusinessCalendar::wall_clock();
  std::map<std::string, BusinessCalendar, std::less<>> by_name_;
};

}  // namespace ombud
