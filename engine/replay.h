// Replaying history: rebuilds an instance from what caused each of its steps (the inputs kept
// with its history) by running start()/step() again, and compares the result with the stored
// instance. `ombud verify` runs it over a whole store; the crash tests run it after every kill.
//
// What depends on the world rather than on the instance — who was least loaded, the next
// round-robin cursor or serial number — cannot be recomputed from the instance alone: the replay
// compares the engine's own bookkeeping (state, data, timers, SLA clocks, incidents, priority),
// not the assignee, and counters start from 0. A workflow whose data depends on those decisions
// reports them as differences.
#pragma once

#include <string>
#include <vector>

#include "engine/store.h"

namespace ombud {

struct ReplayResult {
  bool ok = false;
  std::size_t steps = 0;                 // inputs replayed
  std::vector<std::string> differences;  // "state: stored 'closed', replayed 'open'", ...
  Instance replayed;
};

ReplayResult replay(const Definition& def, const Instance& stored,
                    const std::vector<StoredHistory>& history, const StepContext& context);

}  // namespace ombud
