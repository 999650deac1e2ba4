// The hub's notion of "now", injectable so that tests can move time (deadlines, timers,
// escalations) without sleeping. Production code takes a `const Clock&`; SystemClock is the real
// one, ManualClock the tests' one.
#pragma once

#include <atomic>
#include <chrono>

namespace tsunagu {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
  static const SystemClock& instance() {
    static const SystemClock clock;
    return clock;
  }
};

// A clock that stands still until told; safe to read from other threads while a test moves it.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint{}) : now_(start.time_since_epoch().count()) {}
  TimePoint now() const override { return TimePoint(TimePoint::duration(now_.load())); }
  void set(TimePoint t) { now_.store(t.time_since_epoch().count()); }
  void advance(TimePoint::duration d) { now_.fetch_add(d.count()); }

 private:
  std::atomic<TimePoint::duration::rep> now_;
};

}  // namespace tsunagu
