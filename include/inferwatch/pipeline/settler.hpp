#pragma once

// Holds files found by scans until their size and mtime have stayed unchanged for the settle
// time (SPEC §4): a scan may meet a file mid-write, and only stability says it is finished.
// Files reported by IN_CLOSE_WRITE/IN_MOVED_TO do not pass through here: their writer is done.
// Thread-safety: none (the store thread owns it).

#include <inferwatch/store/file_version.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace inferwatch::pipeline {

class Settler {
 public:
  using Clock = std::chrono::steady_clock;
  using Key = std::pair<std::size_t, std::string>;  // root index, relative path
  using Restat = std::function<std::optional<store::FileVersion>(const Key&)>;

  explicit Settler(std::chrono::milliseconds settle) : m_settle(settle) {}

  // Start (or restart) the stability clock for `key` at `version`.
  void hold(Key key, store::FileVersion version, Clock::time_point now);

  struct Ready {
    Key key;
    store::FileVersion version;
    Clock::duration waited;  // since first held (restarts included)
  };

  // Files whose version is unchanged since they were held at least the settle time ago.
  // Changed files are held again from now; vanished ones are dropped.
  std::vector<Ready> due(Clock::time_point now, const Restat& restat);

  // When the next held file is due, if any.
  std::optional<Clock::time_point> next_due() const;
  std::size_t size() const { return m_held.size(); }

 private:
  struct Held {
    store::FileVersion version;
    Clock::time_point since;       // when this version was first seen
    Clock::time_point first_held;  // when the file was first held
  };
  std::chrono::milliseconds m_settle;
  std::map<Key, Held> m_held;
};

}  // namespace inferwatch::pipeline
