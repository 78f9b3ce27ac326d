#include "engine/config_calendars.h"

namespace ombud {

ConfigCalendars::ConfigCalendars(
    const Config& config, std::vector<std::pair<const CalendarSpec*, std::string>>& problems) {
  for (const auto& spec : config.calendars) {
    auto made = BusinessCalendar::make(spec);
    if (auto* error = std::get_if<std::string>(&made)) {
      problems.emplace_back(&spec, *error);
    } else {
      add(spec.name, std::get<BusinessCalendar>(std::move(made)));
    }
  }
}

}  // namespace ombud
