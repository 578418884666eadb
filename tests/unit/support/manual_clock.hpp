#pragma once

// A util::Clock that moves only when a test says so: backoffs, settle times and retry schedules
// are then driven step by step instead of slept through. Thread-safe.

#include <inferwatch/util/clock.hpp>

#include <atomic>

namespace inferwatch::test {

class ManualClock final : public util::Clock {
 public:
  // Starts at an arbitrary, non-zero point.
  ManualClock() : m_ticks(time_point(std::chrono::hours(1)).time_since_epoch().count()) {}

  time_point now() const override { return time_point(duration(m_ticks.load())); }
  void advance(std::chrono::steady_clock::duration by) { m_ticks += by.count(); }

 private:
  using duration = std::chrono::steady_clock::duration;
  std::atomic<duration::rep> m_ticks;
};

}  // namespace inferwatch::test
