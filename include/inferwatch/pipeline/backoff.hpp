#pragma once

// Exponential backoff over an episode of failures: the first failure starts an episode (the one
// moment to report it), each further one doubles the wait up to `max`, a success ends it (the
// moment to say it is over). Time comes in as arguments, so tests need no clock.
//
// Thread-safety: none.

#include <algorithm>
#include <chrono>
#include <optional>

namespace inferwatch::pipeline {

class Backoff {
 public:
  using Clock = std::chrono::steady_clock;

  Backoff(Clock::duration min, Clock::duration max) : m_min(min), m_max(max), m_wait(min) {}

  // A failure at `now`. True when it starts an episode.
  bool failed(Clock::time_point now) {
    const bool first = !m_since;
    if (first) {
      m_since = now;
      m_wait = m_min;
    } else {
      m_wait = std::min(m_wait * 2, m_max);
    }
    m_retry_at = now + m_wait;
    return first;
  }

  // A success at `now`: how long the episode lasted, if one just ended.
  std::optional<Clock::duration> succeeded(Clock::time_point now) {
    if (!m_since) return std::nullopt;
    const auto lasted = now - *m_since;
    m_since.reset();
    m_wait = m_min;
    m_retry_at = {};
    return lasted;
  }

  // In an episode and the next try is not due yet.
  bool waiting(Clock::time_point now) const { return now < m_retry_at; }
  bool failing() const { return m_since.has_value(); }
  Clock::time_point retry_at() const { return m_retry_at; }

 private:
  Clock::duration m_min, m_max, m_wait;
  std::optional<Clock::time_point> m_since;
  Clock::time_point m_retry_at{};
};

}  // namespace inferwatch::pipeline
