#include "engine/directory.h"

#include <algorithm>

namespace ombud {

namespace {

bool holds_any(const Person& person, const std::vector<std::string>& roles) {
  return std::ranges::any_of(person.roles, [&](const std::string& role) {
    return std::ranges::find(roles, role) != roles.end();
  });
}

// Sorted by id, each person once. The config loader rejects duplicate ids, so equal ids mean the
// same person reached twice (listed as a member and holding one of the queue's roles).
void sort_unique_by_id(std::vector<const Person*>& people) {
  std::ranges::sort(people, {}, &Person::id);
  const auto same_id = [](const Person* a, const Person* b) { return a->id == b->id; };
  people.erase(std::unique(people.begin(), people.end(), same_id), people.end());
}

}  // namespace

const Person* ConfigDirectory::person(std::string_view id) const { return config_.find_person(id); }

std::vector<const Person*> ConfigDirectory::queue_members(std::string_view queue) const {
  const Queue* q = config_.find_queue(queue);
  if (q == nullptr) return {};
  std::vector<const Person*> members;
  for (const std::string& id : q->members) {
    // A member id the config does not know is reported when the config is checked; here it
    // simply cannot take a case.
    if (const Person* p = config_.find_person(id)) members.push_back(p);
  }
  if (!q->roles.empty()) {
    for (const Person& p : config_.people) {
      if (holds_any(p, q->roles)) members.push_back(&p);
    }
  }
  sort_unique_by_id(members);
  return members;
}

std::vector<const Person*> ConfigDirectory::people_with_role(std::string_view role) const {
  std::vector<const Person*> holders;
  for (const Person& p : config_.people) {
    if (std::ranges::find(p.roles, role) != p.roles.end()) holders.push_back(&p);
  }
  sort_unique_by_id(holders);
  return holders;
}

}  // namespace ombud
