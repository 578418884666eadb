// The watcher against the real kernel: real inotify on a temp folder, real files and renames.
#include <inferwatch/watch/watcher.hpp>

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

using inferwatch::test::TempDir;
using inferwatch::watch::Candidate;
using inferwatch::watch::NameFilter;
using inferwatch::watch::Origin;
using inferwatch::watch::Watcher;
using inferwatch::watch::WatcherOptions;

namespace {

// Collects what the watcher hands on; waits (bounded) for a path to show up.
class Collector {
 public:
  void add(std::vector<Candidate> batch) {
    std::lock_guard lock(m_mutex);
    for (auto& c : batch) m_seen.emplace(c.path, c.origin);
    m_changed.notify_all();
  }
  // The origin of the first sighting of `path`, waiting up to 5 s for it.
  std::optional<Origin> wait_for(const std::string& path) {
    std::unique_lock lock(m_mutex);
    m_changed.wait_for(lock, std::chrono::seconds(5), [&] { return m_seen.count(path) > 0; });
    const auto it = m_seen.find(path);
    if (it == m_seen.end()) return std::nullopt;
    return it->second;
  }
  bool seen(const std::string& path) {
    std::lock_guard lock(m_mutex);
    return m_seen.count(path) > 0;
  }
  // True once `path` was handed on with `origin` (at any sighting), waiting up to 5 s.
  bool wait_for(const std::string& path, Origin origin) {
    std::unique_lock lock(m_mutex);
    return m_changed.wait_for(lock, std::chrono::seconds(5), [&] {
      const auto [from, to] = m_seen.equal_range(path);
      return std::any_of(from, to, [&](const auto& seen) { return seen.second == origin; });
    });
  }

 private:
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::multimap<std::string, Origin> m_seen;
};

std::string fmt_dir(int i) {
  return "share/d" + std::to_string(i / 100) + "/e" + std::to_string(i % 100);
}

WatcherOptions options_for(const TempDir& dir) {
  WatcherOptions o;
  o.roots = {dir.path() / "share"};
  o.filter = NameFilter({"*.png"}, {}, ".result.json");
  return o;
}

// True once `done()` holds, polling for up to 10 s.
template <class Done>
bool eventually(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// The startup scan runs in the background: wait for it so that tests about events see events.
void wait_for_startup_scan(const Watcher& watcher) {
  REQUIRE(eventually([&] { return watcher.stats().scans_done >= 1; }));
}

// Holds the scan thread at the first directory below a root (an on_scan_dir hook) until
// released; counts the directories the scans reached.
class ScanGate {
 public:
  void on_dir(std::string_view dir) {
    std::unique_lock lock(m_mutex);
    ++m_visited;
    if (dir.empty() || m_held) return;
    m_held = true;
    m_changed.notify_all();
    m_changed.wait(lock, [&] { return m_released; });
  }
  bool wait_held() {
    std::unique_lock lock(m_mutex);
    return m_changed.wait_for(lock, std::chrono::seconds(10), [&] { return m_held; });
  }
  void release() {
    std::lock_guard lock(m_mutex);
    m_released = true;
    m_changed.notify_all();
  }
  std::size_t visited() {
    std::lock_guard lock(m_mutex);
    return m_visited;
  }

 private:
  std::mutex m_mutex;
  std::condition_variable m_changed;
  bool m_held = false;
  bool m_released = false;
  std::size_t m_visited = 0;
};

// Keeps what spdlog's default logger logs while it lives, as "level message" lines.
class LogCapture {
 public:
  LogCapture() : m_previous(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>("capture", m_sink);
    logger->set_level(spdlog::level::debug);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(m_previous); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // How many logged lines contain `part`.
  std::size_t count(std::string_view part) const {
    std::size_t n = 0;
    for (const auto& line : m_sink->lines()) n += line.find(part) != std::string::npos;
    return n;
  }

 private:
  class Sink : public spdlog::sinks::base_sink<std::mutex> {
   public:
    std::vector<std::string> lines() {
      std::lock_guard lock(mutex_);
      return m_lines;
    }

   protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
      const auto level = spdlog::level::to_string_view(msg.level);
      m_lines.push_back(std::string(level.data(), level.size()) + " " +
                        std::string(msg.payload.data(), msg.payload.size()));
    }
    void flush_() override {}

   private:
    std::vector<std::string> m_lines;
  };

  std::shared_ptr<Sink> m_sink = std::make_shared<Sink>();
  std::shared_ptr<spdlog::logger> m_previous;
};

}  // namespace

TEST_SUITE_BEGIN("watch");

TEST_CASE("watch::Watcher") {
  TempDir dir;
  dir.write("share/old.png", "x");
  dir.write("share/alice/older.png", "x");
  dir.write("share/notes.txt", "x");
  Collector got;
  Watcher watcher(options_for(dir), [&](std::vector<Candidate> c) { got.add(std::move(c)); });
  REQUIRE(watcher.start().ok());
  wait_for_startup_scan(watcher);
  const auto share = dir.path() / "share";

  SUBCASE("the startup scan finds files already there, at any depth, filtered") {
    CHECK(got.wait_for("old.png") == Origin::scan);
    CHECK(got.wait_for("alice/older.png") == Origin::scan);
    CHECK_FALSE(got.seen("notes.txt"));
    CHECK(watcher.stats().watches == 2);
    CHECK(watcher.stats().rescans == 1);
  }
  SUBCASE("a file written in place is a candidate when closed") {
    dir.write("share/new.png", "data");
    CHECK(got.wait_for("new.png") == Origin::closed_after_write);
  }
  SUBCASE("temp file + rename: only the final name, as moved in") {
    dir.write("share/.upload.png.tmp", "data");
    std::filesystem::rename(share / ".upload.png.tmp", share / "renamed.png");
    CHECK(got.wait_for("renamed.png") == Origin::moved_in);
    CHECK_FALSE(got.seen(".upload.png.tmp"));
  }
  SUBCASE("directories created later are watched, nested ones too") {
    std::filesystem::create_directories(share / "bob/2026/11");
    dir.write("share/bob/2026/11/deep.png", "data");
    CHECK(got.wait_for("bob/2026/11/deep.png").has_value());
    dir.write("share/bob/2026/11/later.png", "data");
    CHECK(got.wait_for("bob/2026/11/later.png") == Origin::closed_after_write);
  }
  SUBCASE("a whole tree moved in is listed, and watched from then on") {
    dir.write("outside/tree/a.png", "x");
    dir.write("outside/tree/sub/b.png", "x");
    std::filesystem::rename(dir.path() / "outside/tree", share / "tree");
    CHECK(got.wait_for("tree/a.png") == Origin::scan);
    CHECK(got.wait_for("tree/sub/b.png") == Origin::scan);
    dir.write("share/tree/sub/c.png", "x");
    CHECK(got.wait_for("tree/sub/c.png") == Origin::closed_after_write);
  }
  SUBCASE("a directory moved within the tree reports its new paths") {
    std::filesystem::rename(share / "alice", share / "carol");
    dir.write("share/carol/after-move.png", "x");
    CHECK(got.wait_for("carol/after-move.png").has_value());
    CHECK_FALSE(got.seen("alice/after-move.png"));
  }
  SUBCASE("junk names are never candidates") {
    dir.write("share/Thumbs.db", "x");
    dir.write("share/.hidden.png", "x");
    dir.write("share/~$lock.png", "x");
    dir.write("share/old.png.result.json", "{}");
    dir.write("share/marker.png", "x");  // written last: once seen, the others had their chance
    REQUIRE(got.wait_for("marker.png"));
    CHECK_FALSE(got.seen(".hidden.png"));
    CHECK_FALSE(got.seen("~$lock.png"));
    CHECK_FALSE(got.seen("old.png.result.json"));
  }
  SUBCASE("a requested rescan lists everything again") {
    REQUIRE(got.wait_for("old.png"));
    watcher.request_rescan("test");
    CHECK(eventually([&] { return watcher.stats().scans_done == 2; }));
    CHECK(watcher.stats().rescans == 2);
  }
  watcher.stop();
}

TEST_CASE("watch::Watcher::start") {
  TempDir dir;
  SUBCASE("a missing root is an error naming it") {
    WatcherOptions o;
    o.roots = {dir.path() / "nope"};
    Watcher watcher(o, [](std::vector<Candidate>) {});
    const auto started = watcher.start();
    REQUIRE_FALSE(started.ok());
    CHECK(started.error().code == "watch_failed");
    CHECK(started.error().message.find("nope") != std::string::npos);
  }
}

TEST_CASE("watch::Watcher scans off the loop thread") {
  TempDir dir;
  dir.write("share/top.png", "x");
  dir.write("share/a/in-a.png", "x");
  dir.write("share/b/in-b.png", "x");
  const auto share = dir.path() / "share";
  ScanGate gate;
  Collector got;
  auto options = options_for(dir);
  options.test_hooks.on_scan_dir = [&](std::string_view d) { gate.on_dir(d); };
  Watcher watcher(options, [&](std::vector<Candidate> c) { got.add(std::move(c)); });
  REQUIRE(watcher.start().ok());  // returns at once: the startup scan runs in the background
  REQUIRE(gate.wait_held());      // the root is watched and listed, a subdirectory is held

  SUBCASE("the loop keeps beating and delivering events while a scan is held") {
    CHECK(got.wait_for("top.png") == Origin::scan);
    dir.write("share/during.png", "x");
    CHECK(got.wait_for("during.png") == Origin::closed_after_write);
    // Longer than two heartbeats: a loop busy with the scan would be over a second late by now.
    auto latest = std::chrono::steady_clock::duration::zero();
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2500);
    while (std::chrono::steady_clock::now() < until) {
      latest = std::max(latest, watcher.overdue());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK(latest < std::chrono::milliseconds(500));
    CHECK(watcher.stats().scanning);
    CHECK(watcher.stats().scans_done == 0);
    gate.release();
    REQUIRE(eventually([&] { return watcher.stats().scans_done == 1; }));
    CHECK(got.seen("a/in-a.png"));
    CHECK(got.seen("b/in-b.png"));
  }
  SUBCASE("a scan that does not move on is a reason for /readyz, and clears when it ends") {
    CHECK(eventually(
        [&] { return watcher.scan_stalled(std::chrono::milliseconds(100)).has_value(); }));
    CHECK(watcher.scan_stalled(std::chrono::hours(1)) == std::nullopt);
    gate.release();
    REQUIRE(eventually([&] { return watcher.stats().scans_done == 1; }));
    CHECK(watcher.scan_stalled(std::chrono::milliseconds(0)) == std::nullopt);
  }
  SUBCASE("requests during a scan coalesce into one follow-up scan") {
    watcher.request_rescan("one");
    watcher.request_rescan("two");
    watcher.request_rescan("three");
    gate.release();
    REQUIRE(eventually([&] { return watcher.stats().scans_done == 2; }));
    watcher.request_rescan("marker");  // the third scan: nothing else was waiting before it
    REQUIRE(eventually([&] { return watcher.stats().scans_done == 3; }));
    CHECK(watcher.stats().rescans == 3);
  }
  SUBCASE("a directory created during a scan is watched and listed") {
    std::filesystem::create_directories(share / "fresh/sub");
    dir.write("share/fresh/sub/f.png", "x");
    gate.release();
    CHECK(got.wait_for("fresh/sub/f.png") == Origin::scan);
    dir.write("share/fresh/sub/g.png", "x");
    CHECK(got.wait_for("fresh/sub/g.png") == Origin::closed_after_write);
  }
  gate.release();
  watcher.stop();
}

TEST_CASE("watch::Watcher::stop") {
  TempDir dir;
  for (int i = 0; i < 2000; ++i) std::filesystem::create_directories(dir / fmt_dir(i));
  ScanGate gate;
  auto options = options_for(dir);
  options.test_hooks.on_scan_dir = [&](std::string_view d) { gate.on_dir(d); };
  Watcher watcher(options, [](std::vector<Candidate>) {});
  REQUIRE(watcher.start().ok());
  REQUIRE(gate.wait_held());

  SUBCASE("a running scan stops at its next directory, not at its end") {
    std::atomic<bool> stopping{false};
    std::thread stopper([&] {
      stopping = true;
      watcher.stop();
    });
    REQUIRE(eventually([&] { return stopping.load(); }));
    gate.release();
    stopper.join();
    CHECK(gate.visited() < 1000);
    CHECK(watcher.stats().scans_done == 0);
  }
  gate.release();
  watcher.stop();
}

TEST_CASE("watch::Watcher events for a watch the loop does not know yet") {
  TempDir dir;
  dir.write("share/a/old.png", "x");
  Collector got;
  auto options = options_for(dir);
  options.test_hooks.on_watch_armed = [&](std::string_view d) {
    if (d != "a") return;
    dir.write("share/a/early.png", "x");  // an event for the watch just armed
    dir.write("share/marker.png", "x");   // then one on the root, which the loop knows
    got.wait_for("marker.png");           // inotify keeps order: early.png's came first
  };
  Watcher watcher(options, [&](std::vector<Candidate> c) { got.add(std::move(c)); });
  REQUIRE(watcher.start().ok());
  wait_for_startup_scan(watcher);

  SUBCASE("are held until the watch is known, not taken for an unknown watch") {
    CHECK(got.wait_for("a/early.png", Origin::closed_after_write));
    CHECK(watcher.stats().unknown_watches == 0);
    CHECK(watcher.stats().rescans == 1);
  }
  watcher.stop();
}

TEST_CASE("watch::Watcher when inotify watches run out") {
  TempDir dir;
  dir.write("share/ok/a.png", "x");
  dir.write("share/full1/b.png", "x");
  dir.write("share/full2/c.png", "x");
  dir.write("share/full3/sub/d.png", "x");
  LogCapture log;
  Collector got;
  auto options = options_for(dir);
  // What inotify_add_watch says past fs.inotify.max_user_watches, a global sysctl tests leave be.
  options.test_hooks.watch_error = [](std::string_view d) {
    return d.starts_with("full") ? ENOSPC : 0;
  };
  Watcher watcher(options, [&](std::vector<Candidate> c) { got.add(std::move(c)); });
  REQUIRE(watcher.start().ok());
  wait_for_startup_scan(watcher);

  SUBCASE("unwatched directories are still listed, and counted") {
    CHECK(got.wait_for("full1/b.png") == Origin::scan);
    CHECK(got.wait_for("full2/c.png") == Origin::scan);
    CHECK(got.wait_for("full3/sub/d.png") == Origin::scan);
    CHECK(watcher.stats().unwatched == 4);
    CHECK(watcher.stats().watches == 2);
    CHECK(watcher.stats().failed_watches >= 4);
  }
  SUBCASE("one warning for the episode, with the count and the sysctl to raise") {
    REQUIRE(eventually([&] { return watcher.stats().scans_done >= 3; }));  // retries failed too
    CHECK(log.count("inotify watches exhausted: 4 directories cannot be watched") == 1);
    CHECK(log.count("sysctl -w fs.inotify.max_user_watches=") == 1);
    CHECK(log.count("warning") == 1);
  }
  SUBCASE("a file written later in an unwatched directory is found by a retry scan") {
    dir.write("share/full1/later.png", "x");
    CHECK(got.wait_for("full1/later.png") == Origin::scan);
    CHECK(watcher.stats().rescans >= 2);
  }
  watcher.stop();
}

TEST_SUITE_END();
