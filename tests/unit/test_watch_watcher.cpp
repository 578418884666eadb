// The watcher against the real kernel: real inotify on a temp folder, real files and renames.
#include <inferwatch/watch/watcher.hpp>

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

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

 private:
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::multimap<std::string, Origin> m_seen;
};

WatcherOptions options_for(const TempDir& dir) {
  WatcherOptions o;
  o.roots = {dir.path() / "share"};
  o.filter = NameFilter({"*.png"}, {}, ".result.json");
  return o;
}

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
    for (int i = 0; i < 100 && watcher.stats().rescans < 2; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
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

TEST_SUITE_END();
