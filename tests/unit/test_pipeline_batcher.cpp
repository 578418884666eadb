// Batch formation: full batches go at once, a lone item goes after max_delay from its arrival,
// interactive items go first, stop() runs what is queued, and on_start runs first on the batcher
// thread.
#include <inferwatch/pipeline/batcher.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>

using inferwatch::pipeline::Batcher;
using inferwatch::pipeline::Lane;
using namespace std::chrono_literals;

namespace {

struct Recorder {
  std::mutex mutex;
  std::vector<std::vector<int>> batches;
  std::vector<std::chrono::steady_clock::time_point> at;
  void add(std::vector<int> b) {
    std::lock_guard lock(mutex);
    batches.push_back(std::move(b));
    at.push_back(std::chrono::steady_clock::now());
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return batches.size();
  }
  bool wait_for_batches(std::size_t n) {
    for (int i = 0; i < 500 && count() < n; ++i) std::this_thread::sleep_for(2ms);
    return count() >= n;
  }
};

}  // namespace

TEST_SUITE_BEGIN("pipeline");

TEST_CASE("pipeline::Batcher") {
  Recorder rec;

  SUBCASE("queued items form full batches of max_batch, in order") {
    Batcher<int> batcher(4, 10s, [&](std::vector<int> b) { rec.add(std::move(b)); });
    batcher.hold();
    for (int i = 0; i < 10; ++i) batcher.submit(i, Lane::backlog);
    batcher.release();
    REQUIRE(rec.wait_for_batches(2));
    CHECK(rec.batches[0] == std::vector<int>{0, 1, 2, 3});
    CHECK(rec.batches[1] == std::vector<int>{4, 5, 6, 7});
    batcher.stop();  // the last two go on stop, without waiting 10 s
    CHECK(rec.batches.size() == 3);
    CHECK(rec.batches[2] == std::vector<int>{8, 9});
  }
  SUBCASE("a partial batch goes at once when nothing more is coming, and waits while more is") {
    std::atomic<int> coming{1};
    Batcher<int> batcher(
        8, 10s, [&](std::vector<int> b) { rec.add(std::move(b)); }, [&] { return coming > 0; });
    batcher.submit(1, Lane::backlog);
    batcher.submit(2, Lane::backlog);
    std::this_thread::sleep_for(50ms);
    CHECK(rec.count() == 0);  // more is coming: it waits (up to max_delay)
    coming = 0;
    batcher.poke();
    REQUIRE(rec.wait_for_batches(1));  // long before the 10 s delay
    CHECK(rec.batches[0] == std::vector<int>{1, 2});
    batcher.submit(3, Lane::backlog);  // nothing coming: no wait at all
    REQUIRE(rec.wait_for_batches(2));
    CHECK(rec.batches[1] == std::vector<int>{3});
  }
  SUBCASE("a lone item goes after max_delay counted from its arrival") {
    Batcher<int> batcher(8, 50ms, [&](std::vector<int> b) { rec.add(std::move(b)); });
    const auto sent = std::chrono::steady_clock::now();
    batcher.submit(1, Lane::backlog);
    REQUIRE(rec.wait_for_batches(1));
    const auto waited = rec.at[0] - sent;
    CHECK(waited >= 50ms);
    CHECK(waited < 1s);
    CHECK(rec.batches[0] == std::vector<int>{1});
  }
  SUBCASE("a later item does not restart the oldest item's clock") {
    Batcher<int> batcher(8, 400ms, [&](std::vector<int> b) { rec.add(std::move(b)); });
    const auto sent = std::chrono::steady_clock::now();
    batcher.submit(1, Lane::backlog);
    std::this_thread::sleep_for(250ms);
    batcher.submit(2, Lane::backlog);
    REQUIRE(rec.wait_for_batches(1));
    CHECK(rec.at[0] - sent >= 400ms);
    CHECK(rec.at[0] - sent < 600ms);  // at ~400 ms, not 250 + 400 ms
    CHECK(rec.batches[0] == std::vector<int>{1, 2});
  }
  SUBCASE("interactive items go ahead of the backlog") {
    Batcher<int> batcher(3, 10s, [&](std::vector<int> b) { rec.add(std::move(b)); });
    batcher.hold();
    for (int i = 0; i < 4; ++i) batcher.submit(i, Lane::backlog);
    batcher.submit(100, Lane::interactive);
    batcher.release();
    REQUIRE(rec.wait_for_batches(1));
    CHECK(rec.batches[0] == std::vector<int>{100, 0, 1});
  }
  SUBCASE("on_start runs on the batcher thread, and before the first batch") {
    std::thread::id started_on, ran_on;
    std::atomic<bool> started{false};
    bool started_before_batch = false;
    Batcher<int> batcher(
        1, 10s,
        [&](std::vector<int> b) {
          ran_on = std::this_thread::get_id();
          started_before_batch = started;
          rec.add(std::move(b));
        },
        {},
        [&] {
          std::this_thread::sleep_for(50ms);  // a slow warm-up: the first batch must wait for it
          started_on = std::this_thread::get_id();
          started = true;
        });
    batcher.submit(1, Lane::backlog);
    REQUIRE(rec.wait_for_batches(1));
    CHECK(started_before_batch);
    CHECK(started_on == ran_on);
    CHECK(started_on != std::this_thread::get_id());
  }
}

TEST_SUITE_END();
