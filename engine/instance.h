// A running case: everything step() needs to decide what happens next, and nothing else.
//
// An Instance is plain data and round-trips through JSON (to_json / instance_from_json), so the
// same value lives in memory, in the database and in `ombud simulate` output. SLA clocks and
// pending timers are part of it: after a restart the engine continues exactly where it was.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/data.h"
#include "engine/definition.h"
#include "engine/time.h"

namespace ombud {

// Per escalation level of an SLA, how often the level fired in the clock's current cycle. Up to
// kInline levels are kept inside the clock (the shipped workflows have at most four); a clock
// with more levels keeps them in one heap block. The interface is the part of std::vector<int>
// the engine uses.
class FiredCounts {
 public:
  static constexpr std::size_t kInline = 4;

  FiredCounts() noexcept : inline_{} {}
  FiredCounts(std::initializer_list<int> counts);
  FiredCounts(const FiredCounts& other);
  FiredCounts(FiredCounts&& other) noexcept;
  FiredCounts& operator=(const FiredCounts& other);
  FiredCounts& operator=(FiredCounts&& other) noexcept;
  ~FiredCounts();

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  int* begin() noexcept { return data(); }
  int* end() noexcept { return data() + size_; }
  const int* begin() const noexcept { return data(); }
  const int* end() const noexcept { return data() + size_; }
  int& operator[](std::size_t i) noexcept { return data()[i]; }
  const int& operator[](std::size_t i) const noexcept { return data()[i]; }

  void push_back(int count);
  void resize(std::size_t n, int count = 0);  // new levels get `count`
  void assign(std::size_t n, int count);

  friend bool operator==(const FiredCounts& a, const FiredCounts& b) noexcept;

 private:
  bool on_heap() const noexcept { return capacity_ > kInline; }
  int* data() noexcept { return on_heap() ? heap_ : inline_; }
  const int* data() const noexcept { return on_heap() ? heap_ : inline_; }
  void reserve(std::size_t n);

  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = kInline;
  union {
    int inline_[kInline];
    int* heap_;
  };
};

// One cycle of an SLA clock. A clock starts a cycle when the instance enters one of the SLA's
// start states, pauses in its pause states and stops (met or breached) in its stop states.
struct SlaClock {
  enum class Status : std::uint8_t { idle, running, paused, met, breached };

  InternedName name;
  Status status = Status::idle;
  bool breached = false;      // the goal was exceeded in this cycle (also while still running)
  int cycle = 0;              // 1 for the first cycle; 0 before any
  Timestamp started_at{};     // when the current (or last) cycle started
  Timestamp due_at{};         // the goal's deadline if the clock ran without pausing from now
  Millis budget{0};           // the goal as working time in the SLA's calendar
  Millis elapsed{0};          // working time counted up to `running_since` (or the stop)
  Timestamp running_since{};  // start of the current running stretch (status running)
  Millis paused_total{0};     // wall-clock time spent paused in this cycle
  Timestamp paused_since{};   // status paused
  Timestamp stopped_at{};     // status met / breached
  FiredCounts fired;          // per escalation level: how often it fired in this cycle

  friend bool operator==(const SlaClock&, const SlaClock&) = default;
};

std::string_view sla_status_name(SlaClock::Status s);

// A timer the instance is waiting for. Its id is unique within the instance and never reused,
// so a timer that fires after it was cancelled (a race the runtime may lose) is recognised.
struct PendingTimer {
  enum class Kind : std::uint8_t { state, escalation };

  std::uint64_t id = 0;
  Timestamp due{};
  InternedName state;  // Kind::state: the state that armed it
  InternedName sla;    // Kind::escalation
  Kind kind = Kind::state;
  int index = 0;  // Kind::state: position in State::timers; escalation: level index
  int cycle = 0;  // Kind::escalation: the clock cycle it belongs to

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
  // Ordered to pack: idle instances are most of the engine's memory. The workflow, state and
  // queue names are interned (a workflow's few names, shared by all of its instances).
  std::string id;
  InternedName workflow;
  InternedName state;
  InternedName queue;    // the queue it waits in while unassigned
  std::string key;       // business key, "" when the workflow has none
  std::string assignee;  // person id, "" when unassigned
  Data data;
  int version = 1;
  Priority priority = Priority::normal;
  bool ended = false;  // reached a final state
  Timestamp created_at{};
  Timestamp updated_at{};
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
