#pragma once

// What the systemd watchdog judges the pipeline by: the store thread must keep turning, and no
// model forward may run for longer than the watchdog's limit. Each side stamps its moments; the
// main thread asks stalled(). Thread-safe (atomics).

#include <atomic>
#include <chrono>
#include <optional>
#include <string>

namespace inferwatch::pipeline {

class Liveness {
 public:
  using Clock = std::chrono::steady_clock;

  // The store thread turned at `now`.
  void store_turned(Clock::time_point now) { m_store_turn = ticks(now); }
  // A forward started at `now` / ended.
  void forward_started(Clock::time_point now) { m_forward_started = ticks(now); }
  void forward_ended() { m_forward_started = 0; }
  bool forward_running() const { return m_forward_started.load() != 0; }

  // Why the pipeline looks stuck at `now` (a forward running, or the store thread not turning,
  // for longer than `limit`), or nothing. `store_running`: the store thread has started.
  std::optional<std::string> stalled(Clock::time_point now, Clock::duration limit,
                                     bool store_running) const {
    const auto forward = m_forward_started.load();
    if (forward != 0 && ticks(now) - forward > limit.count()) {
      const auto running = Clock::duration(ticks(now) - forward);
      return "a model forward has been running for " +
             std::to_string(std::chrono::duration_cast<std::chrono::seconds>(running).count()) +
             " s";
    }
    if (store_running && ticks(now) - m_store_turn.load() > limit.count()) {
      return std::string("the store thread has not turned for longer than the watchdog limit");
    }
    return std::nullopt;
  }

 private:
  static Clock::rep ticks(Clock::time_point t) { return t.time_since_epoch().count(); }

  std::atomic<Clock::rep> m_store_turn{0};
  std::atomic<Clock::rep> m_forward_started{0};  // 0: no forward running
};

}  // namespace inferwatch::pipeline
