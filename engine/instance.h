// A running case: everything step() needs to decide what happens next, and nothing else.
//
// An Instance is plain data and round-trips through JSON (to_json / instance_from_json), so the
// same value lives in memory, in the database and in `ombud simulate` output. SLA clocks and
// pending timers are part of it: after a restart the engine continues exactly where it was.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/definition.h"
#include "engine/time.h"

namespace ombud {

// One cycle of an SLA clock. A clock starts a cycle when the instance enters one of the SLA's
// start states, pauses in its pause states and stops (met or breached) in its stop states.
struct SlaClock {
  enum class Status { idle, running, paused, met, breached };

  std::string name;
  Status status = Status::idle;
  int cycle = 0;              // 1 for the first cycle; 0 before any
  Timestamp started_at{};     // when the current (or last) cycle started
  Timestamp due_at{};         // the goal's deadline if the clock ran without pausing from now
  Millis budget{0};           // the goal as working time in the SLA's calendar
  Millis elapsed{0};          // working time counted up to `running_since` (or the stop)
  Timestamp running_since{};  // start of the current running stretch (status running)
  Millis paused_total{0};     // wall-clock time spent paused in this cycle
  Timestamp paused_since{};   // status paused
  Timestamp stopped_at{};     // status met / breached
  bool breached = false;      // the goal was exceeded in this cycle (also while still running)
  std::vector<int> fired;     // per escalation level: how often it fired in this cycle

  friend bool operator==(const SlaClock&, const SlaClock&) = default;
};

std::string_view sla_status_name(SlaClock::Status s);

// A timer the instance is waiting for. Its id is unique within the instance and never reused,
// so a timer that fires after it was cancelled (a race the runtime may lose) is recognised.
struct PendingTimer {
  enum class Kind { state, escalation };

  std::uint64_t id = 0;
  Kind kind = Kind::state;
  Timestamp due{};
  std::string state;  // Kind::state: the state that armed it
  int index = 0;      // Kind::state: position in State::timers; escalation: level index
  std::string sla;    // Kind::escalation
  int cycle = 0;      // Kind::escalation: the clock cycle it belongs to

  friend bool operator==(const PendingTimer&, const PendingTimer&) = default;
};

// Something went wrong that a person must look at: an expression failed at run time, nobody
// could be assigned, a raise loop was cut. The instance keeps going.
struct Incident {
  Timestamp at{};
  std::string message;
  bool resolved = false;

  friend bool operator==(const Incident&, const Incident&) = default;
};

struct Instance {
  std::string id;
  std::string workflow;
  int version = 1;
  std::string state;
  boost::json::object data;
  std::string key;       // business key, "" when the workflow has none
  std::string assignee;  // person id, "" when unassigned
  std::string queue;     // the queue it waits in while unassigned
  Priority priority = Priority::normal;
  Timestamp created_at{};
  Timestamp updated_at{};
  bool ended = false;  // reached a final state
  std::vector<SlaClock> slas;
  std::vector<PendingTimer> timers;
  std::vector<Incident> incidents;
  std::uint64_t next_timer_id = 1;
  std::uint64_t revision = 0;  // bumped by every step; optimistic concurrency in the store

  const SlaClock* sla(std::string_view name) const;
  friend bool operator==(const Instance&, const Instance&) = default;
};

boost::json::object to_json(const Instance& instance);
// Nullopt (with `error` set) when the JSON is not an instance written by to_json.
std::optional<Instance> instance_from_json(const boost::json::value& json, std::string* error);

}  // namespace ombud
