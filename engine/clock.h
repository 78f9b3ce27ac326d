// The Clock port: the only way the runtime learns what time it is. The server uses the system
// clock; `ombud simulate` and tests use a ManualClock that moves only when told to.
#pragma once

#include <atomic>
#include <chrono>

#include "engine/time.h"

namespace ombud {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp now() const = 0;
};

// The wall clock, in milliseconds.
class SystemClock final : public Clock {
 public:
  Timestamp now() const override {
    return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
  }
};

// A clock that moves only when told to. Safe to read from one thread while another sets it.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start) : now_(start.time_since_epoch().count()) {}
  Timestamp now() const override { return Timestamp(Millis(now_.load())); }
  // Moves the clock; it never goes backwards (an earlier instant is ignored).
  void set(Timestamp t) {
    const auto ms = t.time_since_epoch().count();
    auto current = now_.load();
    while (ms > current && !now_.compare_exchange_weak(current, ms)) {
    }
  }

 private:
  std::atomic<Millis::rep> now_;
};

}  // namespace ombud
