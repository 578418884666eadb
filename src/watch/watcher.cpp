#include <inferwatch/watch/watcher.hpp>

#include <inferwatch/util/root_dir.hpp>
#include <inferwatch/util/thread_name.hpp>
#include <inferwatch/util/utf8.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <uv.h>

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

namespace inferwatch::watch {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint32_t k_dir_mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
                                     IN_DELETE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK;
constexpr std::size_t k_sink_chunk = 1024;              // candidates handed on per sink call
constexpr std::chrono::milliseconds k_heartbeat{1000};  // the loop's liveness timer
constexpr auto k_backoff_min = std::chrono::milliseconds(500);
constexpr auto k_backoff_max = std::chrono::seconds(60);
constexpr std::size_t k_max_parked = 16384;  // events held for watches still being armed

std::string join(const std::string& dir, std::string_view name) {
  return dir.empty() ? std::string(name) : dir + "/" + std::string(name);
}

std::uint64_t read_max_user_watches() {
  std::ifstream in("/proc/sys/fs/inotify/max_user_watches");
  std::uint64_t n = 0;
  in >> n;
  return n;
}

// A directory to list: `path` relative to roots[root], "" for the root itself.
struct Dir {
  std::size_t root;
  std::string path;
};

// A watch the scan thread armed, for the loop's wd → directory map.
struct Armed {
  int wd;
  Dir dir;
};

// An event for a descriptor the loop does not know yet because the scan thread is arming it.
struct Parked {
  int wd;
  std::uint32_t mask;
  std::string name;
};

// What one run of the scan thread did, handed to the loop when it ends.
struct ScanReport {
  std::optional<std::string> reason;  // set for a full scan; unset for directories added later
  std::uint64_t dirs = 0;             // directories listed
  std::uint64_t found = 0;            // candidate files
  std::uint64_t failed = 0;           // directories listed but not watched
  std::uint64_t exhausted = 0;        // ... of them for lack of inotify watches (ENOSPC)
  std::string first_failed;           // the first of them, and why, for the log
  int first_errno = 0;
  std::uint64_t unlistable = 0;  // directories that could not be opened (permissions...)
  std::string first_unlistable;  // the first of them, and why, for the log
  Clock::duration took{};
};

}  // namespace

// Two threads. The loop thread owns the inotify fd's events, the wd → directory map and the
// timers; the scan thread opens, watches and lists directories. The scan thread arms each watch
// itself (inotify_add_watch is thread-safe on the fd) before listing, and hands the (wd,
// directory) pair to the loop through m_armed + m_async. An event can reach the loop before its
// pair does; while an arming is in progress such events are parked, not taken for an unknown
// watch (which would start a rescan, which arms watches, ...), and replayed once the pair is in.
// `m_arming` and `m_armed` change together under m_mutex, so "nothing being armed and nothing
// handed over" seen by the loop means the descriptor really is unknown.
class Watcher::Impl {
 public:
  Impl(WatcherOptions options, Sink sink)
      : m_options(std::move(options)), m_sink(std::move(sink)) {}

  ~Impl() { stop(); }

  util::Result<void> start() {
    for (const auto& root : m_options.roots) {
      auto dir = util::RootDir::open(root);
      if (!dir) {
        return util::Error{"watch_failed",
                           fmt::format("watch root {} is not a directory", root.string())};
      }
      m_root_dirs.push_back(std::move(*dir));
    }
    m_fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (m_fd < 0) {
      return util::Error{"watch_failed",
                         fmt::format("inotify_init1: {} (fs.inotify.max_user_instances "
                                     "may be too low)",
                                     std::strerror(errno))};
    }
    uv_loop_init(&m_loop);
    m_loop.data = this;
    uv_poll_init(&m_loop, &m_poll, m_fd);
    uv_async_init(&m_loop, &m_async, &Impl::on_async);
    uv_timer_init(&m_loop, &m_rescan_timer);
    uv_timer_init(&m_loop, &m_periodic_timer);
    uv_timer_init(&m_loop, &m_heartbeat_timer);
    for (auto* h : handles()) h->data = this;

    uv_poll_start(&m_poll, UV_READABLE, &Impl::on_poll);
    beat();
    uv_timer_start(
        &m_heartbeat_timer, [](uv_timer_t* t) { self(reinterpret_cast<uv_handle_t*>(t)).beat(); },
        k_heartbeat.count(), k_heartbeat.count());
    m_scan_wanted = "startup";
    spdlog::info("full scan (startup) of {} root(s) running in the background", m_root_dirs.size());
    m_thread = std::thread([this] {
      util::name_this_thread("iw-watch");
      uv_run(&m_loop, UV_RUN_DEFAULT);
      uv_loop_close(&m_loop);
    });
    m_scan_thread = std::thread([this] {
      util::name_this_thread("iw-scan");
      scan_main();
    });
    return {};
  }

  void stop() {
    // The scan thread first: it wakes the loop through m_async, which must outlive it.
    if (m_scan_thread.joinable()) {
      {
        std::lock_guard lock(m_mutex);
        m_scan_stop = true;
      }
      m_stop_flag = true;
      m_scan_wake.notify_all();
      m_scan_thread.join();
    }
    if (m_thread.joinable()) {
      {
        std::lock_guard lock(m_mutex);
        m_loop_stop = true;
      }
      uv_async_send(&m_async);
      m_thread.join();
    }
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
  }

  void request_rescan(std::string reason) { want_scan(std::move(reason)); }

  std::chrono::steady_clock::duration overdue() const {
    const auto late = Clock::now().time_since_epoch() - Clock::duration(m_last_turn.load()) -
                      std::chrono::duration_cast<Clock::duration>(k_heartbeat);
    return std::max(late, Clock::duration::zero());
  }

  std::optional<std::string> scan_stalled(Clock::duration limit) const {
    // Waiting for the sink (the pipeline holds a scan back while its queue is full) is not the
    // scan's own trouble: the pipeline reports what holds it.
    if (!m_busy || m_in_sink) return std::nullopt;
    const auto idle = Clock::now().time_since_epoch() - Clock::duration(m_progress.load());
    if (idle <= limit) return std::nullopt;
    return fmt::format(
        "the watcher's directory scan has not moved on for {} s (a listing may hang on an "
        "unresponsive network mount); events are still watched",
        std::chrono::duration_cast<std::chrono::seconds>(idle).count());
  }

  WatcherStats stats() const {
    WatcherStats s;
    s.watches = m_watches;
    s.overflows = m_overflows;
    s.rescans = m_rescans;
    s.scans_done = m_scans_done;
    s.scanning = m_scanning;
    s.failed_watches = m_failed_watches;
    s.unwatched = m_unwatched;
    s.unknown_watches = m_unknown_watches;
    return s;
  }

 private:
  static Impl& self(uv_handle_t* h) { return *static_cast<Impl*>(h->data); }

  std::array<uv_handle_t*, 5> handles() {
    return {reinterpret_cast<uv_handle_t*>(&m_poll), reinterpret_cast<uv_handle_t*>(&m_async),
            reinterpret_cast<uv_handle_t*>(&m_rescan_timer),
            reinterpret_cast<uv_handle_t*>(&m_periodic_timer),
            reinterpret_cast<uv_handle_t*>(&m_heartbeat_timer)};
  }

  // ---- loop thread ---------------------------------------------------------------------------

  // The loop is alive: it ran this timer. Only the loop is judged (the systemd watchdog reads
  // overdue()); a slow scan shows in scan_stalled() instead.
  void beat() { m_last_turn = Clock::now().time_since_epoch().count(); }

  static void on_poll(uv_poll_t* h, int status, int) {
    if (status < 0) {
      spdlog::error("inotify poll failed: {}", uv_strerror(status));
      return;
    }
    self(reinterpret_cast<uv_handle_t*>(h)).read_events();
  }

  // Watches armed and scans finished by the scan thread, or stop.
  static void on_async(uv_async_t* h) {
    Impl& me = self(reinterpret_cast<uv_handle_t*>(h));
    std::vector<ScanReport> reports;
    bool stopping = false;
    {
      std::lock_guard lock(me.m_mutex);
      reports.swap(me.m_reports);
      stopping = me.m_loop_stop;
    }
    if (stopping) {
      for (auto* handle : me.handles()) {
        if (!uv_is_closing(handle)) uv_close(handle, nullptr);
      }
      return;
    }
    std::vector<Candidate> out;
    me.replay_parked(out);  // takes the armed watches first
    me.flush(out);
    for (const auto& report : reports) me.on_scan_done(report);
    if (!me.m_rescan_reason.empty()) me.schedule_rescan();
  }

  // Move the watches the scan thread armed into m_dirs. True while it is arming one right now.
  bool take_armed() {
    std::vector<Armed> armed;
    bool arming = false;
    {
      std::lock_guard lock(m_mutex);
      armed.swap(m_armed);
      arming = m_arming > 0;
    }
    // The same directory again keeps its wd: the path is updated.
    for (auto& a : armed) m_dirs[a.wd] = std::move(a.dir);
    m_watches = m_dirs.size();
    return arming;
  }

  // Handle parked events whose watch is known now; the rest stay parked while an arming is in
  // progress, else their descriptor is unknown after all.
  void replay_parked(std::vector<Candidate>& out) {
    const bool arming = take_armed();
    if (m_parked.empty() || m_replaying) return;
    m_replaying = true;
    std::vector<Parked> parked;
    parked.swap(m_parked);
    for (const auto& p : parked) {
      if (m_dirs.count(p.wd) > 0) {
        handle(p.wd, p.mask, p.name, out);
      } else if (arming) {
        m_parked.push_back(p);
      } else if (!(p.mask & IN_IGNORED)) {
        unknown_watch();
      }
    }
    m_replaying = false;
  }

  void unknown_watch() {
    ++m_unknown_watches;
    m_rescan_reason = "unknown_watch";
  }

  // Drain the inotify fd: readiness can be spurious, and one wakeup may hold many events.
  void read_events() {
    alignas(inotify_event) char buffer[64 * 1024];
    std::vector<Candidate> out;
    for (;;) {
      const ssize_t n = ::read(m_fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // EAGAIN: drained
      for (ssize_t at = 0; at < n;) {
        const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
        handle(event->wd, event->mask, event->len > 0 ? std::string_view(event->name) : "", out);
        at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      }
    }
    flush(out);
    if (!m_rescan_reason.empty()) schedule_rescan();
  }

  void handle(int wd, std::uint32_t mask, std::string_view name, std::vector<Candidate>& out) {
    if (mask & IN_Q_OVERFLOW) {
      ++m_overflows;
      if (m_options.metrics) m_options.metrics->inotify_overflow();
      spdlog::warn(
          "inotify queue overflowed: events were lost, rescanning (raise "
          "fs.inotify.max_queued_events if this repeats)");
      m_rescan_reason = "overflow";
      return;
    }
    if (!m_parked.empty()) replay_parked(out);  // events held back go first, in their order
    auto it = m_dirs.find(wd);
    if (it == m_dirs.end()) {
      const bool arming = take_armed();
      it = m_dirs.find(wd);
      if (it == m_dirs.end()) {
        if (arming) {
          park(wd, mask, name);
        } else if (!(mask & IN_IGNORED)) {
          unknown_watch();
        }
        return;
      }
    }
    if (mask & IN_IGNORED) {  // the directory is gone or no longer watched
      m_dirs.erase(it);
      m_watches = m_dirs.size();
      return;
    }
    const Dir dir = it->second;
    if (name.empty()) return;  // events about the directory itself (IN_DELETE_SELF)
    const std::string path = join(dir.path, name);
    if (mask & IN_ISDIR) {
      if (!m_options.recursive) return;
      if (mask & IN_MOVED_FROM) forget_subtree(dir.root, path);
      if (mask & (IN_CREATE | IN_MOVED_TO)) want_listing(Dir{dir.root, path});
      return;
    }
    if (!m_options.filter.accepts(path)) return;
    if (mask & IN_CREATE) {
      // A symlink, FIFO or socket made at an image's name is never written and closed: hand it
      // on now so it gets its error result. A regular file waits for its IN_CLOSE_WRITE.
      const auto entry = m_root_dirs[dir.root].entry(path);
      if (entry && entry->type != util::EntryType::regular &&
          entry->type != util::EntryType::directory) {
        out.push_back(Candidate{dir.root, path, Origin::moved_in});
      }
      return;
    }
    if (!(mask & (IN_CLOSE_WRITE | IN_MOVED_TO))) return;
    out.push_back(Candidate{dir.root, path,
                            (mask & IN_MOVED_TO) ? Origin::moved_in : Origin::closed_after_write});
    if (out.size() >= k_sink_chunk) flush(out);
  }

  void park(int wd, std::uint32_t mask, std::string_view name) {
    if (m_parked.size() >= k_max_parked) {  // bounded: give up on them and rescan instead
      m_parked.clear();
      unknown_watch();
      return;
    }
    m_parked.push_back(Parked{wd, mask, std::string(name)});
  }

  // A directory moved away: its watches would report stale paths, so drop them. (A watch the
  // scan thread arms beneath it after this, because it was walking there at the moment of the
  // move, keeps the old path until a scan lists that directory again or it is deleted.)
  void forget_subtree(std::size_t root, const std::string& path) {
    take_armed();
    const std::string prefix = path + "/";
    for (auto it = m_dirs.begin(); it != m_dirs.end();) {
      if (it->second.root == root &&
          (it->second.path == path || it->second.path.starts_with(prefix))) {
        ::inotify_rm_watch(m_fd, it->first);
        it = m_dirs.erase(it);
      } else {
        ++it;
      }
    }
    m_watches = m_dirs.size();
  }

  void on_scan_done(const ScanReport& r) {
    const double ms = std::chrono::duration<double, std::milli>(r.took).count();
    if (r.reason) {
      ++m_scans_done;
      m_unwatched = r.failed;
      m_last_rescan = Clock::now();
      spdlog::info("full scan ({}): {} directories watched{}, {} candidate files, {:.0f} ms",
                   *r.reason, m_dirs.size(),
                   r.failed > 0 ? fmt::format(" ({} could not be)", r.failed) : "", r.found, ms);
      if (*r.reason == "startup") warn_near_limit();
      arm_periodic();  // any full scan restarts the periodic wait
    } else {
      spdlog::debug("listed {} directories created or moved in: {} candidate files, {:.0f} ms",
                    r.dirs, r.found, ms);
    }
    if (r.unlistable > 0) {
      spdlog::warn("cannot list {} directories (first: {}); files there are not seen", r.unlistable,
                   r.first_unlistable);
    }
    report_unwatched(r);
    // Unwatched directories are seen by scans only: keep scanning (backoff, at most every
    // k_backoff_max) even when no event ever comes, and whether periodic scans are on or not.
    if (r.failed > 0 && m_rescan_reason.empty()) m_rescan_reason = "watch_failed";
  }

  // One warning per episode of directories that cannot be watched, not one per directory per
  // scan: a tree past fs.inotify.max_user_watches would log every directory beyond the limit
  // at each scan.
  void report_unwatched(const ScanReport& r) {
    if (r.failed == 0) {
      if (r.reason && m_unwatched_episode) {
        m_unwatched_episode = false;
        spdlog::info("every directory is watched again ({} watches)", m_dirs.size());
      }
      return;
    }
    if (m_unwatched_episode) {
      spdlog::debug("still {} directories not watched", r.failed);
      return;
    }
    m_unwatched_episode = true;
    if (r.exhausted > 0) {
      const std::uint64_t limit = read_max_user_watches();
      spdlog::warn(
          "inotify watches exhausted: {} directories cannot be watched (this daemon watches {}, "
          "fs.inotify.max_user_watches = {} for all of this user's processes); raise it with "
          "sysctl -w fs.inotify.max_user_watches={} (and a file in /etc/sysctl.d/ to keep it). "
          "Until then files there are found by rescans only, every {} s at most",
          r.failed, m_dirs.size(), limit,
          std::max<std::uint64_t>(limit * 2, (m_dirs.size() + r.failed) * 2),
          std::chrono::duration_cast<std::chrono::seconds>(k_backoff_max).count());
    } else {
      spdlog::warn(
          "cannot watch {} directories (first: {}: {}); files there are found by rescans only",
          r.failed, r.first_failed, std::strerror(r.first_errno));
    }
  }

  void warn_near_limit() {
    const std::uint64_t limit = read_max_user_watches();
    if (limit > 0 && m_dirs.size() * 10 > limit * 9) {
      spdlog::warn(
          "watching {} directories, close to fs.inotify.max_user_watches = {}; raise it with "
          "sysctl -w fs.inotify.max_user_watches={}",
          m_dirs.size(), limit, m_dirs.size() * 4);
    }
  }

  // Rescans triggered by trouble back off exponentially while the trouble repeats.
  void schedule_rescan() {
    if (uv_is_active(reinterpret_cast<uv_handle_t*>(&m_rescan_timer))) return;
    const auto now = Clock::now();
    if (now - m_last_rescan > 2 * k_backoff_max) m_backoff = k_backoff_min;
    const auto wait = m_backoff;
    m_backoff = std::min<std::chrono::milliseconds>(m_backoff * 2, k_backoff_max);
    uv_timer_start(
        &m_rescan_timer,
        [](uv_timer_t* t) {
          Impl& me = self(reinterpret_cast<uv_handle_t*>(t));
          std::string reason = std::exchange(me.m_rescan_reason, {});
          me.want_scan(reason.empty() ? "retry" : std::move(reason));
        },
        static_cast<std::uint64_t>(wait.count()), 0);
  }

  // Re-armed when a full scan ends, so a scan longer than the interval is not followed at once
  // by the next one.
  void arm_periodic() {
    if (m_options.rescan_interval.count() <= 0) return;
    std::uniform_real_distribution<double> jitter(0.75, 1.25);
    const auto ms =
        static_cast<std::uint64_t>(m_options.rescan_interval.count() * jitter(m_random));
    uv_timer_start(
        &m_periodic_timer,
        [](uv_timer_t* t) { self(reinterpret_cast<uv_handle_t*>(t)).want_scan("periodic"); }, ms,
        0);
  }

  // ---- any thread ----------------------------------------------------------------------------

  // A full scan: the next one the scan thread starts. Requests while one is pending coalesce
  // (the first reason is the one logged and counted).
  void want_scan(std::string reason) {
    {
      std::lock_guard lock(m_mutex);
      if (!m_scan_wanted) m_scan_wanted = std::move(reason);
    }
    m_scan_wake.notify_one();
  }

  // A directory created or moved in: listed (and watched) ahead of the rest of a running scan.
  void want_listing(Dir dir) {
    {
      std::lock_guard lock(m_mutex);
      m_added.push_back(std::move(dir));
    }
    m_scan_wake.notify_one();
  }

  // ---- scan thread ---------------------------------------------------------------------------

  void scan_main() {
    for (;;) {
      std::optional<std::string> reason;
      {
        std::unique_lock lock(m_mutex);
        m_scan_wake.wait(lock, [&] { return m_scan_stop || m_scan_wanted || !m_added.empty(); });
        if (m_scan_stop) return;
        reason = std::exchange(m_scan_wanted, std::nullopt);
      }
      ScanReport report = run_scan(std::move(reason));
      {
        std::lock_guard lock(m_mutex);
        if (m_scan_stop) return;
        m_reports.push_back(std::move(report));
      }
      uv_async_send(&m_async);
    }
  }

  void progress() { m_progress = Clock::now().time_since_epoch().count(); }

  // A full scan of every root when `reason` is set; in any case every directory created or
  // moved in meanwhile. Checks the stop flag between directories.
  ScanReport run_scan(std::optional<std::string> reason) {
    ScanReport r;
    const auto started = Clock::now();
    progress();
    m_busy = true;
    std::vector<Dir> stack;  // directories still to list, depth first
    if (reason) {
      ++m_rescans;
      if (m_options.metrics) m_options.metrics->rescan(*reason);
      m_scanning = true;
      for (std::size_t root = m_root_dirs.size(); root-- > 0;) stack.push_back(Dir{root, ""});
      r.reason = std::move(reason);
    }
    std::vector<Candidate> out;
    while (!m_stop_flag) {
      Dir next;
      {
        std::lock_guard lock(m_mutex);
        if (!m_added.empty()) {
          next = std::move(m_added.front());
          m_added.pop_front();
        } else if (!stack.empty()) {
          next = std::move(stack.back());
          stack.pop_back();
        } else {
          break;
        }
      }
      list(next, stack, out, r);
      // Handed on after each directory: the next listing may hang (a network mount), and
      // what was found so far must not wait for it.
      hand_on(out);
    }
    if (m_stop_flag && r.reason) {
      spdlog::info("full scan ({}) stopped after {} directories: the watcher is stopping",
                   *r.reason, r.dirs);
    }
    m_scanning = false;
    m_busy = false;
    r.took = Clock::now() - started;
    return r;
  }

  std::string display(const Dir& d) const {
    const auto full = d.path.empty() ? m_options.roots[d.root] : m_options.roots[d.root] / d.path;
    return util::quote_for_log(full.string());
  }

  // Watch `d`, then list it: files become candidates, directories go on `stack`. Watching
  // first means a file created meanwhile is seen one way or the other. The directory is reached
  // beneath the root with no symlink on the way, and the watch and the listing are both made
  // through that one descriptor, so a directory swapped for a symlink is never watched or
  // listed.
  void list(const Dir& d, std::vector<Dir>& stack, std::vector<Candidate>& out, ScanReport& r) {
    if (m_options.test_hooks.on_scan_dir) m_options.test_hooks.on_scan_dir(d.path);
    progress();
    auto dir = m_root_dirs[d.root].open_dir(d.path);
    if (!dir) {
      if (dir.error().code == "not_found") return;  // gone already
      if (r.unlistable++ == 0) r.first_unlistable = display(d) + ": " + dir.error().message;
      return;
    }
    arm(d, dir->get(), r);
    std::vector<std::string> subdirs;
    std::size_t entries = 0;
    const auto listed = util::for_each_entry(dir->get(), [&](const util::DirEntry& e) {
      if (++entries % 256 == 0) progress();
      std::string child = join(d.path, e.name);
      if (e.type == util::EntryType::directory) {
        if (m_options.recursive) subdirs.push_back(std::move(child));
      } else if (m_options.filter.accepts(child)) {
        // Symlinks, FIFOs and sockets too: each gets its error result once.
        out.push_back(Candidate{d.root, std::move(child), Origin::scan});
        ++r.found;
        if (out.size() >= k_sink_chunk) hand_on(out);
      }
    });
    // A listing that fails midway keeps what it found (counted as listed, as before).
    if (listed || entries > 0) ++r.dirs;
    // Reversed, so the stack lists them in directory order.
    for (auto it = subdirs.rbegin(); it != subdirs.rend(); ++it) {
      stack.push_back(Dir{d.root, std::move(*it)});
    }
  }

  void arm(const Dir& d, int fd, ScanReport& r) {
    const int injected =
        m_options.test_hooks.watch_error ? m_options.test_hooks.watch_error(d.path) : 0;
    {
      std::lock_guard lock(m_mutex);
      ++m_arming;
    }
    int wd = -1;
    int error = injected;
    if (injected == 0) {
      // The magic link names the very directory we opened (so no IN_DONT_FOLLOW on this call).
      const std::string proc = fmt::format("/proc/self/fd/{}", fd);
      wd = ::inotify_add_watch(m_fd, proc.c_str(), k_dir_mask & ~IN_DONT_FOLLOW);
      error = errno;
    }
    if (wd >= 0 && m_options.test_hooks.on_watch_armed) m_options.test_hooks.on_watch_armed(d.path);
    {
      std::lock_guard lock(m_mutex);
      --m_arming;
      if (wd >= 0) m_armed.push_back(Armed{wd, d});
    }
    if (wd >= 0) {
      uv_async_send(&m_async);
      return;
    }
    ++m_failed_watches;
    if (error == ENOSPC) ++r.exhausted;
    if (r.failed++ == 0) {
      r.first_failed = display(d);
      r.first_errno = error;
    }
  }

  void flush(std::vector<Candidate>& out) {
    if (out.empty()) return;
    m_sink(std::move(out));
    out.clear();
  }

  // flush() from the scan thread, which the sink may hold back for a while.
  void hand_on(std::vector<Candidate>& out) {
    if (out.empty()) return;
    m_in_sink = true;
    flush(out);
    progress();
    m_in_sink = false;
  }

  WatcherOptions m_options;
  Sink m_sink;
  int m_fd = -1;
  std::vector<util::RootDir> m_root_dirs;  // one per watch root, held open; const once started
  uv_loop_t m_loop{};
  uv_poll_t m_poll{};
  uv_async_t m_async{};
  uv_timer_t m_rescan_timer{};
  uv_timer_t m_periodic_timer{};
  uv_timer_t m_heartbeat_timer{};
  std::thread m_thread;
  std::thread m_scan_thread;

  // Loop thread only.
  std::unordered_map<int, Dir> m_dirs;
  std::vector<Parked> m_parked;
  bool m_replaying = false;     // replay_parked() is running
  std::string m_rescan_reason;  // non-empty: a rescan is needed
  std::chrono::milliseconds m_backoff = k_backoff_min;
  Clock::time_point m_last_rescan{};
  std::mt19937 m_random{std::random_device{}()};
  bool m_unwatched_episode = false;  // directories could not be watched, and that was logged

  std::mutex m_mutex;  // guards what follows, up to the atomics
  std::condition_variable m_scan_wake;
  bool m_scan_stop = false;
  bool m_loop_stop = false;
  std::optional<std::string> m_scan_wanted;  // the next full scan's reason
  std::deque<Dir> m_added;                   // directories created or moved in, to list
  int m_arming = 0;                          // inotify_add_watch calls in progress
  std::vector<Armed> m_armed;                // armed, not yet in m_dirs
  std::vector<ScanReport> m_reports;         // finished runs, for the loop

  std::atomic<bool> m_stop_flag{false};  // read by the scan thread between directories
  std::atomic<bool> m_busy{false}, m_scanning{false}, m_in_sink{false};
  std::atomic<Clock::rep> m_last_turn{0}, m_progress{0};
  std::atomic<std::uint64_t> m_watches{0}, m_overflows{0}, m_rescans{0}, m_scans_done{0},
      m_failed_watches{0}, m_unwatched{0}, m_unknown_watches{0};
};

Watcher::Watcher(WatcherOptions options, Sink sink)
    : m_impl(std::make_unique<Impl>(std::move(options), std::move(sink))) {}
Watcher::~Watcher() = default;
util::Result<void> Watcher::start() { return m_impl->start(); }
void Watcher::stop() { m_impl->stop(); }
void Watcher::request_rescan(std::string reason) { m_impl->request_rescan(std::move(reason)); }
WatcherStats Watcher::stats() const { return m_impl->stats(); }
std::chrono::steady_clock::duration Watcher::overdue() const { return m_impl->overdue(); }
std::optional<std::string> Watcher::scan_stalled(std::chrono::steady_clock::duration limit) const {
  return m_impl->scan_stalled(limit);
}

}  // namespace inferwatch::watch
