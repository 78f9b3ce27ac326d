#include "engine/assignment.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>

namespace ombud {

namespace {

bool has_skills(const Person& person, const std::vector<std::string>& skills) {
  return std::ranges::all_of(skills, [&](const std::string& skill) {
    return std::ranges::find(person.skills, skill) != person.skills.end();
  });
}

bool below_capacity(const Person& person, int load) {
  return person.capacity == 0 || load < person.capacity;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string skills_phrase(const std::vector<std::string>& skills) {
  return (skills.size() == 1 ? "skill " : "skills ") + join(skills);
}

// "li.na 20/20, wang.fang 15/15": the loads a supervisor needs to see to decide whom to relieve.
std::string loads_phrase(const std::vector<const Person*>& people, const Workload& workload) {
  std::string out;
  for (const Person* p : people) {
    if (!out.empty()) out += ", ";
    out += p->id + " " + std::to_string(workload.open_cases(p->id)) + "/" +
           std::to_string(p->capacity);
  }
  return out;
}

AssignmentChoice nobody(std::string reason, std::int64_t cursor = 0) {
  AssignmentChoice choice;
  choice.reason = std::move(reason);
  choice.next_cursor = cursor;
  return choice;
}

AssignmentChoice picked(const Person& person, std::int64_t next_cursor = 0) {
  AssignmentChoice choice;
  choice.person = person.id;
  choice.next_cursor = next_cursor;
  return choice;
}

// The candidate with the fewest open cases among those below capacity, ties broken by id (not
// by position, so the answer does not depend on the order the directory lists people in).
const Person* least_loaded(const std::vector<const Person*>& candidates, const Workload& workload) {
  const Person* best = nullptr;
  int best_load = 0;
  for (const Person* p : candidates) {
    const int load = workload.open_cases(p->id);
    if (!below_capacity(*p, load)) continue;
    if (best == nullptr || load < best_load || (load == best_load && p->id < best->id)) {
      best = p;
      best_load = load;
    }
  }
  return best;
}

}  // namespace

AssignmentChoice choose_from_queue(const Directory& directory, const Workload& workload,
                                   std::string_view queue, AssignStrategy strategy,
                                   const std::vector<std::string>& skills, std::int64_t cursor) {
  std::vector<const Person*> members = directory.queue_members(queue);
  // The port promises id order; sorting again costs little for a queue and keeps the cursor
  // meaning the same person even with a careless adapter.
  std::ranges::sort(members, {}, &Person::id);
  const std::string quoted = "queue '" + std::string(queue) + "'";
  // The directory cannot tell an unknown queue from an empty one; the definition checker
  // already rejects unknown queue names, so "no members" is the case that reaches here.
  if (members.empty()) return nobody(quoted + " has no members", cursor);

  std::vector<const Person*> skilled;
  for (const Person* p : members) {
    if (has_skills(*p, skills)) skilled.push_back(p);
  }
  if (skilled.empty()) {
    return nobody("nobody in " + quoted + " has " + skills_phrase(skills), cursor);
  }

  if (strategy == AssignStrategy::round_robin) {
    const auto n = static_cast<std::int64_t>(members.size());
    // The cursor may come from a time when the queue had more members, or be negative if
    // stored carelessly: any integer maps onto a position.
    const std::int64_t start = ((cursor % n) + n) % n;
    for (std::int64_t step = 0; step < n; ++step) {
      const std::int64_t pos = (start + step) % n;
      const Person& p = *members[static_cast<std::size_t>(pos)];
      if (has_skills(p, skills) && below_capacity(p, workload.open_cases(p.id))) {
        return picked(p, (pos + 1) % n);
      }
    }
  } else if (const Person* p = least_loaded(skilled, workload)) {
    return picked(*p, cursor);
  }

  const std::string who = skills.empty() ? quoted : quoted + " with " + skills_phrase(skills);
  return nobody("everyone in " + who + " is at capacity (" + loads_phrase(skilled, workload) + ")",
                cursor);
}

AssignmentChoice choose_by_role(const Directory& directory, const Workload& workload,
                                std::string_view role) {
  const std::vector<const Person*> holders = directory.people_with_role(role);
  const std::string quoted = "role '" + std::string(role) + "'";
  if (holders.empty()) return nobody("nobody has " + quoted);
  if (const Person* p = least_loaded(holders, workload)) return picked(*p);
  return nobody("everyone with " + quoted + " is at capacity (" + loads_phrase(holders, workload) +
                ")");
}

AssignmentChoice choose_manager_of(const Directory& directory, std::string_view person) {
  const Person* p = directory.person(person);
  if (p == nullptr) return nobody("unknown person '" + std::string(person) + "'");
  if (p->manager.empty()) return nobody(p->id + " has no manager");
  const Person* manager = directory.person(p->manager);
  // The config checker rejects unknown managers; a directory from elsewhere might not.
  if (manager == nullptr) {
    return nobody(p->id + "'s manager '" + p->manager + "' is not in the directory");
  }
  return picked(*manager);
}

AssignmentChoice choose_person(const Directory& directory, std::string_view person) {
  const Person* p = directory.person(person);
  if (p == nullptr) return nobody("unknown person '" + std::string(person) + "'");
  return picked(*p);
}

}  // namespace ombud
