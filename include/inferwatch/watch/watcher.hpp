#pragma once

// Watches directory trees with a raw inotify fd driven by a libuv loop (uv_poll_t) on its own
// thread (SPEC §4). Not uv_fs_event: that drops IN_Q_OVERFLOW and has no IN_CLOSE_WRITE.
//
// - One watch per directory, recursive, including directories created or moved in later: the
//   watch is armed before the directory is listed, so nothing slips between the two.
// - Candidates on IN_CLOSE_WRITE and IN_MOVED_TO, filtered by NameFilter.
// - IN_Q_OVERFLOW, an unknown watch descriptor or a failed inotify_add_watch (e.g. ENOSPC) →
//   a full rescan, with exponential backoff when they repeat; counted in stats().
// - A full scan at start and a periodic, jittered one (±25 %) for what events cannot see
//   (e.g. writes by NFS/CIFS clients on a client mount).
//
// Threading: start()/stop()/request_rescan()/stats() may be called from any thread; the sink
// runs on the watcher thread and must hand work on quickly.

#include <inferwatch/metrics/metrics.hpp>
#include <inferwatch/util/result.hpp>
#include <inferwatch/watch/candidate.hpp>
#include <inferwatch/watch/name_filter.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace inferwatch::watch {

struct WatcherOptions {
  std::vector<std::filesystem::path> roots;  // absolute, existing directories
  bool recursive = true;
  NameFilter filter{{"*"}, {}, ".result.json"};
  std::chrono::milliseconds rescan_interval{0};  // 0: no periodic rescans
  metrics::Metrics* metrics = nullptr;           // optional: overflows and rescans
};

struct WatcherStats {
  std::uint64_t watches = 0;          // directories watched now
  std::uint64_t overflows = 0;        // IN_Q_OVERFLOW seen
  std::uint64_t rescans = 0;          // full scans run (startup included)
  std::uint64_t failed_watches = 0;   // inotify_add_watch failures
  std::uint64_t unknown_watches = 0;  // events for a descriptor we did not know
};

class Watcher {
 public:
  using Sink = std::function<void(std::vector<Candidate>)>;

  Watcher(WatcherOptions options, Sink sink);
  ~Watcher();  // stops the thread

  // Arm the watches, run the initial full scan, then watch on a new thread.
  // Error: `watch_failed` when inotify cannot be set up or a root is unusable.
  util::Result<void> start();
  void stop();

  // Ask for a full rescan (thread-safe); `reason` is logged and counted.
  void request_rescan(std::string reason);

  WatcherStats stats() const;

  // How late the loop thread is with its 1 s heartbeat timer (zero while it keeps time): a stuck
  // loop shows here, and the timer's own period does not (for the systemd watchdog). Thread-safe.
  std::chrono::steady_clock::duration overdue() const;

 private:
  class Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace inferwatch::watch
