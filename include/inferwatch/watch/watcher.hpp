#pragma once

// Watches directory trees with a raw inotify fd driven by a libuv loop (uv_poll_t) on its own
// thread (SPEC §4). Not uv_fs_event: that drops IN_Q_OVERFLOW and has no IN_CLOSE_WRITE.
//
// - One watch per directory, recursive, including directories created or moved in later: the
//   watch is armed before the directory is listed, so nothing slips between the two.
// - Candidates on IN_CLOSE_WRITE and IN_MOVED_TO, filtered by NameFilter.
// - IN_Q_OVERFLOW, an unknown watch descriptor or a failed inotify_add_watch (e.g. ENOSPC) →
//   a full rescan, with exponential backoff when they repeat; counted in stats(). Directories
//   that cannot be watched are still listed by every scan; running out of watches is logged
//   once per episode with the count and the sysctl to raise.
// - A full scan at start and a periodic, jittered one (±25 %) for what events cannot see
//   (e.g. writes by NFS/CIFS clients on a client mount).
//
// Every directory listing (full scans, directories created or moved in) runs on a scan thread,
// never on the loop: a scan of a huge or slow (network) tree may take minutes, and meanwhile the
// loop keeps reading events and beating. One scan at a time; requests made while one runs
// coalesce into a single follow-up scan. Directories created or moved in are listed ahead of
// the rest of a running scan.
//
// Threading: start()/stop()/request_rescan()/stats()/overdue()/scan_stalled() may be called from
// any thread; the sink runs on the loop thread (events) and on the scan thread (listings),
// possibly at the same time, and must hand work on quickly.

#include <inferwatch/metrics/metrics.hpp>
#include <inferwatch/util/result.hpp>
#include <inferwatch/watch/candidate.hpp>
#include <inferwatch/watch/name_filter.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace inferwatch::watch {

// Hooks for tests only; production code leaves them empty. `dir` is relative to its root ("" is
// the root itself).
struct WatcherTestHooks {
  // Called on the scan thread before each directory is opened: lets a test hold a scan still.
  std::function<void(std::string_view dir)> on_scan_dir;
  // Called on the scan thread after a directory's watch is armed and before the loop knows it:
  // lets a test make an event arrive for a watch descriptor the loop has not been told about.
  std::function<void(std::string_view dir)> on_watch_armed;
  // Non-zero: inotify_add_watch is not called for `dir` and fails with this errno (e.g. ENOSPC,
  // which a test cannot cause without changing a global sysctl).
  std::function<int(std::string_view dir)> watch_error;
};

struct WatcherOptions {
  std::vector<std::filesystem::path> roots;  // absolute, existing directories
  bool recursive = true;
  NameFilter filter{{"*"}, {}, ".result.json"};
  std::chrono::milliseconds rescan_interval{0};  // 0: no periodic rescans
  metrics::Metrics* metrics = nullptr;           // optional: overflows and rescans
  WatcherTestHooks test_hooks;
};

struct WatcherStats {
  std::uint64_t watches = 0;          // directories watched now
  std::uint64_t overflows = 0;        // IN_Q_OVERFLOW seen
  std::uint64_t rescans = 0;          // full scans started (startup included)
  std::uint64_t scans_done = 0;       // full scans finished
  bool scanning = false;              // a full scan is running now
  std::uint64_t failed_watches = 0;   // inotify_add_watch failures, all scans together
  std::uint64_t unwatched = 0;        // directories the last full scan could not watch
  std::uint64_t unknown_watches = 0;  // events for a descriptor we did not know
};

class Watcher {
 public:
  using Sink = std::function<void(std::vector<Candidate>)>;

  Watcher(WatcherOptions options, Sink sink);
  ~Watcher();  // stops the threads

  // Open the roots and start watching; the startup full scan runs in the background (see
  // stats().scanning), so this returns at once even for a huge tree.
  // Error: `watch_failed` when inotify cannot be set up or a root is unusable.
  util::Result<void> start();
  // Stop both threads. A running scan stops at its next directory, not at its end.
  void stop();

  // Ask for a full rescan (thread-safe); `reason` is logged and counted.
  void request_rescan(std::string reason);

  WatcherStats stats() const;

  // How late the loop thread is with its 1 s heartbeat timer (zero while it keeps time): a stuck
  // loop shows here, and the timer's own period does not (for the systemd watchdog). Scans run
  // elsewhere, so a long scan does not make the loop late. Thread-safe.
  std::chrono::steady_clock::duration overdue() const;

  // A reason when a scan is running and has not moved on for longer than `limit` (e.g. a
  // listing hanging on an unresponsive network mount), for /readyz. Deliberately not a watchdog
  // matter: events keep flowing meanwhile, and a restart would only start the same scan again.
  std::optional<std::string> scan_stalled(std::chrono::steady_clock::duration limit) const;

 private:
  class Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace inferwatch::watch
