#include <inferwatch/server/connection_slots.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <vector>

using inferwatch::server::Connection;
using inferwatch::server::ConnectionPhase;
using inferwatch::server::ConnectionSlots;

namespace {

struct FakeConnection : Connection {
  void evict() override { ++evictions; }
  int evictions = 0;
};

// A clock that moves one second per reading, so every phase change has its own time.
struct Ticks {
  ConnectionSlots::Clock::time_point now{};
  ConnectionSlots::Clock::time_point operator()() { return now += std::chrono::seconds(1); }
};

}  // namespace

TEST_SUITE_BEGIN("server");

TEST_CASE("server::ConnectionSlots") {
  Ticks ticks;
  ConnectionSlots slots(3, [&ticks] { return ticks(); });
  std::vector<std::shared_ptr<FakeConnection>> c;
  for (int i = 0; i < 4; ++i) c.push_back(std::make_shared<FakeConnection>());

  SUBCASE("below the limit, every connection gets its own slot") {
    const auto a = slots.acquire(c[0]);
    const auto b = slots.acquire(c[1]);
    CHECK(a != 0);
    CHECK(b != 0);
    CHECK(a != b);
    CHECK(slots.size() == 2);
    slots.release(a);
    CHECK(slots.size() == 1);
  }
  SUBCASE("when full, the longest-idle keep-alive gives its slot to the new connection") {
    const auto a = slots.acquire(c[0]);
    const auto b = slots.acquire(c[1]);
    const auto d = slots.acquire(c[2]);
    REQUIRE(slots.enter(b, ConnectionPhase::idle));  // idle longest
    REQUIRE(slots.enter(d, ConnectionPhase::idle));
    REQUIRE(slots.enter(a, ConnectionPhase::busy));
    CHECK(slots.acquire(c[3]) != 0);
    CHECK(c[1]->evictions == 1);
    CHECK(c[2]->evictions == 0);
    CHECK(slots.size() == 3);
    CHECK_FALSE(slots.enter(b, ConnectionPhase::request));  // the evicted one must close
    CHECK(slots.enter(d, ConnectionPhase::request));
  }
  SUBCASE("an idle keep-alive goes before a connection still sending its request") {
    const auto a = slots.acquire(c[0]);  // sending its request for longest
    const auto b = slots.acquire(c[1]);
    slots.acquire(c[2]);
    REQUIRE(slots.enter(b, ConnectionPhase::idle));
    CHECK(slots.acquire(c[3]) != 0);
    CHECK(c[1]->evictions == 1);
    CHECK(c[0]->evictions == 0);
    CHECK(slots.enter(a, ConnectionPhase::busy));
  }
  SUBCASE("a closing connection goes first") {
    slots.acquire(c[0]);
    const auto b = slots.acquire(c[1]);
    const auto d = slots.acquire(c[2]);
    REQUIRE(slots.enter(b, ConnectionPhase::idle));
    REQUIRE(slots.enter(d, ConnectionPhase::closing));
    CHECK(slots.acquire(c[3]) != 0);
    CHECK(c[2]->evictions == 1);
    CHECK(c[1]->evictions == 0);
  }
  SUBCASE("without idle ones, the connection waiting longest for its request header goes") {
    slots.acquire(c[0]);
    slots.acquire(c[1]);
    slots.acquire(c[2]);
    CHECK(slots.acquire(c[3]) != 0);
    CHECK(c[0]->evictions == 1);
    CHECK(c[1]->evictions == 0);
  }
  SUBCASE("a busy connection is never taken back: when all are busy, the new one is refused") {
    for (int i = 0; i < 3; ++i) REQUIRE(slots.enter(slots.acquire(c[i]), ConnectionPhase::busy));
    CHECK(slots.acquire(c[3]) == 0);
    CHECK(slots.size() == 3);
    for (int i = 0; i < 3; ++i) CHECK(c[i]->evictions == 0);
  }
  SUBCASE("a connection already gone loses its slot without being called") {
    slots.acquire(c[0]);
    slots.acquire(c[1]);
    slots.acquire(c[2]);
    c[0].reset();
    CHECK(slots.acquire(c[3]) != 0);
    CHECK(slots.size() == 3);
  }
}

TEST_SUITE_END();
