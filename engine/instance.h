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
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/data.h"
#include "engine/definition.h"
#include "engine/time.h"

namespace ombud {

// Per escalation level of an SLA, how often the level fired in the clock's current cycle. Up to
// kInline counts below 65,536 are kept inside the clock as 16-bit numbers (the shipped workflows
// have at most four levels, and a level fires a few times per cycle); a clock with more levels,
// or a larger count, keeps them all as ints in one heap block. 12 bytes either way.
class FiredCounts {
 public:
  static constexpr std::size_t kInline = 4;

  FiredCounts() noexcept = default;
  FiredCounts(std::initializer_list<int> counts);
  FiredCounts(const FiredCounts& other);
  FiredCounts(FiredCounts&& other) noexcept;
  FiredCounts& operator=(const FiredCounts& other);
  FiredCounts& operator=(FiredCounts&& other) noexcept;
  ~FiredCounts();

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  int operator[](std::size_t i) const noexcept;
  void set(std::size_t i, int count);
  int bump(std::size_t i) {  // one more firing of level i; returns the new count
    set(i, (*this)[i] + 1);
    return (*this)[i];
  }

  void push_back(int count);
  void resize(std::size_t n, int count = 0);  // new levels get `count`
  void assign(std::size_t n, int count);

  friend bool operator==(const FiredCounts& a, const FiredCounts& b) noexcept;

 private:
  static constexpr int kInlineMax = 0xFFFF;

  bool on_heap() const noexcept { return capacity_ != 0; }
  int* heap() const noexcept;
  void set_heap(int* block) noexcept;
  void reserve_heap(std::size_t n);  // moves every count to a heap block of at least n
  void release() noexcept;

  std::uint16_t size_ = 0;
  std::uint16_t capacity_ = 0;  // of the heap block; 0 while the counts are inline
  // Inline: kInline 16-bit counts. On the heap: the block's address. Bytes, not a union, so the
  // class needs no 8-byte alignment and packs into the clock.
  unsigned char bytes_[8] = {};
};

// One cycle of an SLA clock. A clock starts a cycle when the instance enters one of the SLA's
// start states, pauses in its pause states and stops (met or breached) in its stop states.
struct SlaClock {
  // cancelled: withdrawn by a state under the SLA's `cancel:`, neither met nor breached.
  enum class Status : std::uint8_t { idle, running, paused, met, breached, cancelled };

  InternedName name;
  int cycle = 0;  // 1 for the first cycle; 0 before any
  Status status = Status::idle;
  bool breached = false;   // the goal was exceeded in this cycle (also while still running)
  FiredCounts fired;       // per escalation level: how often it fired in this cycle
  Timestamp started_at{};  // when the current (or last) cycle started
  Timestamp due_at{};      // the goal's deadline if the clock ran without pausing from now
  Millis budget{0};        // the goal as working time in the SLA's calendar
  Millis elapsed{0};       // working time counted up to `since` (running) or the stop
  Millis paused_total{0};  // wall-clock time spent paused in this cycle
  // Depends on the status: running, when the current running stretch began; paused, when the
  // pause began; met, breached or cancelled, when the clock stopped. (JSON names each:
  // running_since, paused_since, stopped_at.)
  Timestamp since{};

  // The cycle is over: met, breached or cancelled.
  bool stopped() const {
    return status == Status::met || status == Status::breached || status == Status::cancelled;
  }

  friend bool operator==(const SlaClock&, const SlaClock&) = default;
};

std::string_view sla_status_name(SlaClock::Status s);
// Every status's name, in the order of SlaClock::Status.
std::span<const std::string_view> sla_status_names();

// A timer the instance is waiting for. Its id is unique within the instance and never reused,
// so a timer that fires after it was cancelled (a race the runtime may lose) is recognised.
struct PendingTimer {
  enum class Kind : std::uint8_t { state, escalation };

  std::uint64_t id = 0;
  Timestamp due{};
  InternedName owner;  // Kind::state: the state that armed it; Kind::escalation: its SLA
  Kind kind = Kind::state;
  int index = 0;  // Kind::state: position in State::timers; escalation: level index
  int cycle = 0;  // Kind::escalation: the clock cycle it belongs to

  friend bool operator==(const PendingTimer&, const PendingTimer&) = default;
};

// The pending timer that comes due first (on a tie, the lower id), or nullptr when there is
// none. The store keeps a row for this one of each instance (decision 0013).
const PendingTimer* earliest_timer(const std::vector<PendingTimer>& timers);

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
  std::string key;       // business key, "" when the workflow has none
  std::string assignee;  // person id, "" when unassigned
  InternedName workflow;
  InternedName state;
  InternedName queue;  // the queue it waits in while unassigned
  int version = 1;
  Data data;
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
