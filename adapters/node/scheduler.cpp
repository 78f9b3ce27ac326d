#include "adapters/node/scheduler.h"

#include <algorithm>

namespace ombud {

Scheduler::Scheduler(Node& node, Millis catch_up) : node_(node), catch_up_(catch_up) {}

std::vector<ScheduleOutcome> Scheduler::run_due(std::stop_token stop) {
  std::vector<ScheduleOutcome> out;
  const Timestamp now = node_.clock().now();
  for (const PublishedDefinition& latest : node_.store().latest_definitions()) {
    const std::shared_ptr<const Definition> def = node_.definition(latest.name, latest.version);
    if (def == nullptr || !def->schedule) {
      done_until_.erase(latest.name);
      continue;
    }
    // The first pass for this schedule (a start-up, a new version): look back as far as the
    // version has stood, at most catch_up.
    auto cursor =
        done_until_.try_emplace(latest.name, std::max(latest.published_at, now - catch_up_)).first;
    for (ScheduledStart& s : scheduled_starts(*def, cursor->second, now)) {
      if (stop.stop_requested()) return out;  // the rest: by the next node to start
      ScheduleOutcome o;
      o.workflow = latest.name;
      o.due = s.due;
      if (!s.problem.empty()) {
        o.kind = ScheduleOutcome::Kind::refused;
        o.error = s.problem;
      } else {
        const RuntimeResult r = node_.worker().submit(std::move(s.request)).get();
        if (r.status == RuntimeResult::Status::unavailable) {
          // Not committed: this start and the rest are asked for again by the next pass.
          throw StoreFailure("scheduled start of '" + latest.name + "': " + r.error);
        }
        if (r.status == RuntimeResult::Status::ok) {
          o.kind = r.replayed ? ScheduleOutcome::Kind::done_before : ScheduleOutcome::Kind::started;
          if (r.instance) o.instance_id = r.instance->id;
        } else {
          o.kind = ScheduleOutcome::Kind::refused;
          o.error = r.error;
        }
      }
      cursor->second = o.due;
      out.push_back(std::move(o));
    }
    cursor->second = std::max(cursor->second, now);
  }
  return out;
}

}  // namespace ombud
