// Choosing who takes a case: fair assignment from a queue, or straight to a role, a manager or a
// named person. Pure functions of the directory, the workload and a round-robin cursor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/definition.h"
#include "engine/directory.h"

namespace ombud {

struct AssignmentChoice {
  std::optional<std::string> person;  // nullopt: nobody eligible
  std::string reason;                 // why nobody was eligible (for the incident), or ""
  std::int64_t next_cursor = 0;       // round_robin: the cursor to store for the next pick
};

// Picks from `queue`:
//   - eligible: members who have every skill in `skills` and are below their capacity
//     (capacity 0 = no limit) per `workload`;
//   - round_robin: the first eligible member at or after position `cursor` (mod the member
//     count, members sorted by id), so the cursor — kept by the caller across restarts — walks
//     the queue fairly; next_cursor is the position after the one picked;
//   - least_loaded: the eligible member with the fewest open cases, ties broken by person id.
// No eligible member → person is nullopt and `reason` says why (unknown/empty queue, nobody
// with the skills, everyone at capacity).
AssignmentChoice choose_from_queue(const Directory& directory, const Workload& workload,
                                   std::string_view queue, AssignStrategy strategy,
                                   const std::vector<std::string>& skills, std::int64_t cursor);

// Picks a holder of `role`: the least loaded below capacity, ties by person id.
AssignmentChoice choose_by_role(const Directory& directory, const Workload& workload,
                                std::string_view role);

// The manager of `person` (who must exist and have one).
AssignmentChoice choose_manager_of(const Directory& directory, std::string_view person);

// `person` itself, if the directory knows them.
AssignmentChoice choose_person(const Directory& directory, std::string_view person);

}  // namespace ombud
