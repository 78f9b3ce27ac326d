// The Clock port: the only way the runtime learns what time it is. The server uses the system
// clock; `ombud simulate` and tests use a ManualClock that moves only when told to.
#pragma once

#include "engine/time.h"

namespace ombud {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp now() const = 0;
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start) : now_(start) {}
  Timestamp now() const override { return now_; }
  // Moves the clock; it never goes backwards (an earlier instant is ignored).
  void set(Timestamp t) {
    if (t > now_) now_ = t;
  }

 private:
  Timestamp now_;
};

}  // namespace ombud
