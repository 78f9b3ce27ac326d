// The columns of an instance row that are derived from the instance for querying (the whole
// instance is stored as JSON beside them). Pure functions: no SOCI here.
#pragma once

#include <optional>

#include "engine/instance.h"

namespace ombud::sql {

struct SlaColumns {
  // The earliest deadline among running SLA clocks: what "about to breach" listings sort by.
  // Paused clocks have no deadline while paused; nullopt when no clock runs.
  std::optional<Timestamp> due_at;
  // Some clock has missed its goal in its current cycle (running, paused or stopped breached).
  bool breached = false;
};

SlaColumns sla_columns(const Instance& instance);

}  // namespace ombud::sql
