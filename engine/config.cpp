#include "engine/config.h"

namespace ombud {

namespace {

template <typename T, typename Key>
const T* find_by(const std::vector<T>& items, std::string_view key, Key member) {
  for (const auto& item : items) {
    if (item.*member == key) return &item;
  }
  return nullptr;
}

}  // namespace

const CalendarSpec* Config::find_calendar(std::string_view name) const {
  return find_by(calendars, name, &CalendarSpec::name);
}
const Person* Config::find_person(std::string_view id) const {
  return find_by(people, id, &Person::id);
}
const Queue* Config::find_queue(std::string_view name) const {
  return find_by(queues, name, &Queue::name);
}
const Role* Config::find_role(std::string_view name) const {
  return find_by(roles, name, &Role::name);
}
const DeliveryTarget* Config::find_webhook_target(std::string_view name) const {
  return find_by(webhook_targets, name, &DeliveryTarget::name);
}

const NotificationTemplate* Config::find_template(std::string_view name) const {
  return find_by(templates, name, &NotificationTemplate::name);
}
const HookSource* Config::find_hook(std::string_view name) const {
  return find_by(hooks, name, &HookSource::name);
}

std::string_view hook_scheme_name(HookScheme scheme) {
  switch (scheme) {
    case HookScheme::ombud:
      return "ombud";
    case HookScheme::twilio:
      return "twilio";
    case HookScheme::token:
      return "token";
  }
  return "ombud";
}

}  // namespace ombud
