#include <inferwatch/util/thread_name.hpp>
#include <inferwatch/watch/watcher.hpp>

#include <inferwatch/util/root_dir.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <uv.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

namespace inferwatch::watch {
namespace {

constexpr std::uint32_t k_dir_mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
                                     IN_DELETE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK;
constexpr std::size_t k_sink_chunk = 1024;              // candidates handed on per sink call
constexpr std::chrono::milliseconds k_heartbeat{1000};  // the loop's liveness timer
constexpr auto k_backoff_min = std::chrono::milliseconds(500);
constexpr auto k_backoff_max = std::chrono::seconds(60);

std::string join(const std::string& dir, std::string_view name) {
  return dir.empty() ? std::string(name) : dir + "/" + std::string(name);
}

std::uint64_t read_max_user_watches() {
  std::ifstream in("/proc/sys/fs/inotify/max_user_watches");
  std::uint64_t n = 0;
  in >> n;
  return n;
}

}  // namespace

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

    full_scan("startup");
    const std::uint64_t limit = read_max_user_watches();
    if (limit > 0 && m_dirs.size() * 10 > limit * 9) {
      spdlog::warn(
          "watching {} directories, close to fs.inotify.max_user_watches = {}; raise it with "
          "sysctl -w fs.inotify.max_user_watches={}",
          m_dirs.size(), limit, m_dirs.size() * 4);
    }
    uv_poll_start(&m_poll, UV_READABLE, &Impl::on_poll);
    arm_periodic();
    beat();
    uv_timer_start(
        &m_heartbeat_timer, [](uv_timer_t* t) { self(reinterpret_cast<uv_handle_t*>(t)).beat(); },
        k_heartbeat.count(), k_heartbeat.count());
    m_thread = std::thread([this] {
      util::name_this_thread("iw-watch");
      uv_run(&m_loop, UV_RUN_DEFAULT);
      uv_loop_close(&m_loop);
    });
    return {};
  }

  void stop() {
    if (!m_thread.joinable()) {
      if (m_fd >= 0) ::close(m_fd);
      m_fd = -1;
      return;
    }
    {
      std::lock_guard lock(m_mutex);
      m_stopping = true;
    }
    uv_async_send(&m_async);
    m_thread.join();
    ::close(m_fd);
    m_fd = -1;
  }

  void request_rescan(std::string reason) {
    {
      std::lock_guard lock(m_mutex);
      m_requested.push_back(std::move(reason));
    }
    uv_async_send(&m_async);
  }

  std::chrono::steady_clock::duration overdue() const {
    const auto late = std::chrono::steady_clock::now().time_since_epoch() -
                      std::chrono::steady_clock::duration(m_last_turn.load()) - k_heartbeat;
    return std::max(late, std::chrono::steady_clock::duration::zero());
  }

  WatcherStats stats() const {
    return WatcherStats{m_watches.load(), m_overflows.load(), m_rescans.load(),
                        m_failed_watches.load(), m_unknown_watches.load()};
  }

 private:
  struct Dir {
    std::size_t root;
    std::string path;  // relative to the root, "" for the root itself
  };

  static Impl& self(uv_handle_t* h) { return *static_cast<Impl*>(h->data); }

  std::array<uv_handle_t*, 5> handles() {
    return {reinterpret_cast<uv_handle_t*>(&m_poll), reinterpret_cast<uv_handle_t*>(&m_async),
            reinterpret_cast<uv_handle_t*>(&m_rescan_timer),
            reinterpret_cast<uv_handle_t*>(&m_periodic_timer),
            reinterpret_cast<uv_handle_t*>(&m_heartbeat_timer)};
  }

  // The loop is alive: it ran this timer (a rescan of a huge tree may delay it; that is seen).
  void beat() { m_last_turn = std::chrono::steady_clock::now().time_since_epoch().count(); }

  static void on_poll(uv_poll_t* h, int status, int) {
    if (status < 0) {
      spdlog::error("inotify poll failed: {}", uv_strerror(status));
      return;
    }
    self(reinterpret_cast<uv_handle_t*>(h)).read_events();
  }

  static void on_async(uv_async_t* h) {
    Impl& me = self(reinterpret_cast<uv_handle_t*>(h));
    std::vector<std::string> requested;
    bool stopping = false;
    {
      std::lock_guard lock(me.m_mutex);
      requested.swap(me.m_requested);
      stopping = me.m_stopping;
    }
    if (stopping) {
      for (auto* handle : me.handles()) {
        if (!uv_is_closing(handle)) uv_close(handle, nullptr);
      }
      return;
    }
    if (!requested.empty()) me.full_scan(requested.front());
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
        handle(*event, out);
        at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      }
    }
    flush(out);
    if (!m_rescan_reason.empty()) schedule_rescan();
  }

  void handle(const inotify_event& e, std::vector<Candidate>& out) {
    if (e.mask & IN_Q_OVERFLOW) {
      ++m_overflows;
      if (m_options.metrics) m_options.metrics->inotify_overflow();
      spdlog::warn(
          "inotify queue overflowed: events were lost, rescanning (raise "
          "fs.inotify.max_queued_events if this repeats)");
      m_rescan_reason = "overflow";
      return;
    }
    const auto it = m_dirs.find(e.wd);
    if (it == m_dirs.end()) {
      if (!(e.mask & IN_IGNORED)) {
        ++m_unknown_watches;
        m_rescan_reason = "unknown_watch";
      }
      return;
    }
    if (e.mask & IN_IGNORED) {  // the directory is gone or no longer watched
      m_dirs.erase(it);
      m_watches = m_dirs.size();
      return;
    }
    const Dir dir = it->second;
    if (e.len == 0) return;  // events about the directory itself (IN_DELETE_SELF)
    const std::string path = join(dir.path, e.name);
    if (e.mask & IN_ISDIR) {
      if (!m_options.recursive) return;
      if (e.mask & IN_MOVED_FROM) forget_subtree(dir.root, path);
      if (e.mask & (IN_CREATE | IN_MOVED_TO)) add_tree(dir.root, path, out);
      return;
    }
    if (!m_options.filter.accepts(path)) return;
    if (e.mask & IN_CREATE) {
      // A symlink, FIFO or socket made at an image's name is never written and closed: hand it
      // on now so it gets its error result. A regular file waits for its IN_CLOSE_WRITE.
      const auto entry = m_root_dirs[dir.root].entry(path);
      if (entry && entry->type != util::EntryType::regular &&
          entry->type != util::EntryType::directory) {
        out.push_back(Candidate{dir.root, path, Origin::moved_in});
      }
      return;
    }
    if (!(e.mask & (IN_CLOSE_WRITE | IN_MOVED_TO))) return;
    out.push_back(Candidate{
        dir.root, path, (e.mask & IN_MOVED_TO) ? Origin::moved_in : Origin::closed_after_write});
    if (out.size() >= k_sink_chunk) flush(out);
  }

  // Watch `path` (relative to the root), then list it: files become candidates, directories are
  // added the same way. Watching first means a file created meanwhile is seen one way or the other.
  // The directory is reached beneath the root with no symlink on the way, and the watch and the
  // listing are both made through that one descriptor, so a directory swapped for a symlink is
  // never watched or listed.
  void add_tree(std::size_t root, const std::string& path, std::vector<Candidate>& out) {
    auto dir = m_root_dirs[root].open_dir(path);
    if (!dir) {
      if (dir.error().code == "not_found") return;  // gone already
      spdlog::warn("not watching {}: {}", path, dir.error().message);
      return;
    }
    // The magic link names the very directory we opened (so no IN_DONT_FOLLOW on this call).
    const std::string proc = fmt::format("/proc/self/fd/{}", dir->get());
    const int wd = ::inotify_add_watch(m_fd, proc.c_str(), k_dir_mask & ~IN_DONT_FOLLOW);
    if (wd < 0) {
      ++m_failed_watches;
      const auto full = path.empty() ? m_options.roots[root] : m_options.roots[root] / path;
      spdlog::warn("cannot watch {}: {}{}; files there are found by rescans only", full.string(),
                   std::strerror(errno),
                   errno == ENOSPC ? " (raise fs.inotify.max_user_watches with sysctl)" : "");
      m_rescan_reason = "watch_failed";
    } else {
      m_dirs[wd] = Dir{root, path};  // the same directory again keeps its wd: update the path
      m_watches = m_dirs.size();
    }
    const int own = ::dup(dir->get());
    DIR* listing = own >= 0 ? ::fdopendir(own) : nullptr;
    if (!listing) {
      if (own >= 0) ::close(own);
      return;
    }
    std::vector<std::string> subdirs;
    while (const dirent* e = ::readdir(listing)) {
      const std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      struct stat st {};
      if (::fstatat(dir->get(), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      const std::string child = join(path, name);
      if (S_ISDIR(st.st_mode)) {
        if (m_options.recursive) subdirs.push_back(child);
      } else if (m_options.filter.accepts(child)) {
        // Symlinks, FIFOs and sockets too: each gets its error result once.
        out.push_back(Candidate{root, child, Origin::scan});
        ++m_found;
        if (out.size() >= k_sink_chunk) flush(out);
      }
    }
    ::closedir(listing);
    for (const auto& sub : subdirs) add_tree(root, sub, out);
  }

  // A directory moved away: its watches would report stale paths, so drop them.
  void forget_subtree(std::size_t root, const std::string& path) {
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

  void full_scan(const std::string& reason) {
    ++m_rescans;
    if (m_options.metrics) m_options.metrics->rescan(reason);
    m_rescan_reason.clear();
    const auto started = std::chrono::steady_clock::now();
    std::vector<Candidate> out;
    const std::uint64_t found_before = m_found;
    for (std::size_t root = 0; root < m_options.roots.size(); ++root) {
      add_tree(root, "", out);
      flush(out);
    }
    const std::uint64_t found = m_found - found_before;
    spdlog::info(
        "full scan ({}): {} directories watched, {} candidate files, {:.0f} ms", reason,
        m_dirs.size(), found,
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count());
    m_last_rescan = std::chrono::steady_clock::now();
  }

  // Rescans triggered by trouble back off exponentially while the trouble repeats.
  void schedule_rescan() {
    if (uv_is_active(reinterpret_cast<uv_handle_t*>(&m_rescan_timer))) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - m_last_rescan > 2 * k_backoff_max) m_backoff = k_backoff_min;
    const auto wait = m_backoff;
    m_backoff = std::min<std::chrono::milliseconds>(m_backoff * 2, k_backoff_max);
    uv_timer_start(
        &m_rescan_timer,
        [](uv_timer_t* t) {
          Impl& me = self(reinterpret_cast<uv_handle_t*>(t));
          me.full_scan(me.m_rescan_reason.empty() ? "retry" : me.m_rescan_reason);
        },
        static_cast<std::uint64_t>(wait.count()), 0);
  }

  void arm_periodic() {
    if (m_options.rescan_interval.count() <= 0) return;
    std::uniform_real_distribution<double> jitter(0.75, 1.25);
    const auto ms =
        static_cast<std::uint64_t>(m_options.rescan_interval.count() * jitter(m_random));
    uv_timer_start(
        &m_periodic_timer,
        [](uv_timer_t* t) {
          Impl& me = self(reinterpret_cast<uv_handle_t*>(t));
          me.full_scan("periodic");
          me.arm_periodic();
        },
        ms, 0);
  }

  void flush(std::vector<Candidate>& out) {
    if (out.empty()) return;
    m_sink(std::move(out));
    out.clear();
  }

  WatcherOptions m_options;
  Sink m_sink;
  int m_fd = -1;
  uv_loop_t m_loop{};
  uv_poll_t m_poll{};
  uv_async_t m_async{};
  uv_timer_t m_rescan_timer{};
  uv_timer_t m_periodic_timer{};
  uv_timer_t m_heartbeat_timer{};
  std::thread m_thread;

  // Loop thread only.
  std::vector<util::RootDir> m_root_dirs;  // one per watch root, held open
  std::unordered_map<int, Dir> m_dirs;
  std::string m_rescan_reason;  // non-empty: a rescan is needed
  std::chrono::milliseconds m_backoff = k_backoff_min;
  std::chrono::steady_clock::time_point m_last_rescan{};
  std::mt19937 m_random{std::random_device{}()};
  std::uint64_t m_found = 0;  // candidate files listed by scans so far

  std::mutex m_mutex;  // guards m_stopping and m_requested
  bool m_stopping = false;
  std::vector<std::string> m_requested;

  std::atomic<std::chrono::steady_clock::rep> m_last_turn{0};
  std::atomic<std::uint64_t> m_watches{0}, m_overflows{0}, m_rescans{0}, m_failed_watches{0},
      m_unknown_watches{0};
};

Watcher::Watcher(WatcherOptions options, Sink sink)
    : m_impl(std::make_unique<Impl>(std::move(options), std::move(sink))) {}
Watcher::~Watcher() = default;
util::Result<void> Watcher::start() { return m_impl->start(); }
void Watcher::stop() { m_impl->stop(); }
void Watcher::request_rescan(std::string reason) { m_impl->request_rescan(std::move(reason)); }
WatcherStats Watcher::stats() const { return m_impl->stats(); }
std::chrono::steady_clock::duration Watcher::overdue() const { return m_impl->overdue(); }

}  // namespace inferwatch::watch
