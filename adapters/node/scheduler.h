// Scheduled starts for a running node (a workflow's `schedule:`, docs/workflow-format.md,
// "Schedules"). Each pass starts what came due since the last one, through the worker, each
// under the idempotency key "schedule:<workflow>:<minute>": nodes sharing a store, and a node
// restarted in the middle of a pass, start it once.
//
// A node that was down when a start came due starts it late when it is back, if it came due at
// most `catch_up` ago and after the workflow's latest version was published; one due earlier is
// not made. A start the workflow refuses (key_policy one_open while the previous case is open)
// is reported, and not asked for again by this scheduler's later passes; it keeps no key, so a
// node starting within `catch_up` asks for it once more.
#pragma once

#include <map>
#include <stop_token>
#include <string>
#include <vector>

#include "adapters/node/node.h"

namespace ombud {

struct ScheduleOutcome {
  std::string workflow;
  Timestamp due{};
  enum class Kind { started, done_before, refused } kind = Kind::started;
  std::string instance_id;  // started, done_before
  std::string error;        // refused: why
};

class Scheduler {
 public:
  explicit Scheduler(Node& node, Millis catch_up = std::chrono::hours(24));

  // Starts every start due up to the node's clock's now, and waits for each commit, until
  // `stop` is requested. A store failure throws; the starts not made are asked for again by the
  // next pass.
  std::vector<ScheduleOutcome> run_due(std::stop_token stop = {});

 private:
  Node& node_;
  Millis catch_up_;
  std::map<std::string, Timestamp> done_until_;  // by workflow: due starts up to here are asked
};

}  // namespace ombud
