// Failures come in episodes: the first one is reported, retries back off exponentially up to a
// ceiling, and a success ends the episode and says how long it lasted. Time is given, not read.
#include <inferwatch/pipeline/backoff.hpp>

#include <doctest/doctest.h>

using inferwatch::pipeline::Backoff;
using std::chrono::milliseconds;

TEST_SUITE_BEGIN("pipeline");

TEST_CASE("pipeline::Backoff") {
  Backoff backoff(milliseconds(100), milliseconds(500));
  const Backoff::Clock::time_point t0{};

  SUBCASE("only the first failure of an episode is reported") {
    CHECK(backoff.failed(t0));
    CHECK_FALSE(backoff.failed(t0 + milliseconds(100)));
    CHECK_FALSE(backoff.failed(t0 + milliseconds(300)));
    CHECK(backoff.failing());
  }
  SUBCASE("waits double up to the ceiling") {
    backoff.failed(t0);
    CHECK(backoff.retry_at() == t0 + milliseconds(100));
    CHECK(backoff.waiting(t0 + milliseconds(99)));
    CHECK_FALSE(backoff.waiting(t0 + milliseconds(100)));
    backoff.failed(t0 + milliseconds(100));
    CHECK(backoff.retry_at() == t0 + milliseconds(300));
    backoff.failed(t0 + milliseconds(300));
    CHECK(backoff.retry_at() == t0 + milliseconds(700));
    backoff.failed(t0 + milliseconds(700));
    CHECK(backoff.retry_at() == t0 + milliseconds(1200));  // capped at 500
  }
  SUBCASE("a success ends the episode, says how long it lasted, and resets the wait") {
    CHECK_FALSE(backoff.succeeded(t0).has_value());  // no episode: nothing to say
    backoff.failed(t0);
    backoff.failed(t0 + milliseconds(100));
    const auto lasted = backoff.succeeded(t0 + milliseconds(450));
    REQUIRE(lasted.has_value());
    CHECK(*lasted == milliseconds(450));
    CHECK_FALSE(backoff.failing());
    CHECK_FALSE(backoff.waiting(t0 + milliseconds(450)));
    CHECK(backoff.failed(t0 + milliseconds(500)));  // a new episode, from the shortest wait
    CHECK(backoff.retry_at() == t0 + milliseconds(600));
  }
}

TEST_SUITE_END();
