#pragma once

// The steady clock behind an interface, so that tests can move time by hand: a part that asks a
// Clock for "now" can be driven through backoffs and deadlines without sleeping.

#include <chrono>

namespace inferwatch::util {

class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point now() const = 0;
};

// std::chrono::steady_clock. Thread-safe.
class SteadyClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::steady_clock::now(); }
};

// The process-wide steady clock.
const Clock& steady_clock();

}  // namespace inferwatch::util
