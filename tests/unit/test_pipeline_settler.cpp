// Stability before processing, with an explicit clock: nothing here sleeps.
#include <inferwatch/pipeline/settler.hpp>

#include <doctest/doctest.h>

using inferwatch::pipeline::Settler;
using inferwatch::store::FileVersion;
using namespace std::chrono_literals;

TEST_SUITE_BEGIN("pipeline");

TEST_CASE("pipeline::Settler::due") {
  Settler settler(100ms);
  const auto t0 = Settler::Clock::time_point{} + 1h;
  const Settler::Key key{0, "a.png"};
  FileVersion on_disk{1, 2, 10, 1000};
  const auto restat = [&](const Settler::Key&) -> std::optional<FileVersion> { return on_disk; };
  settler.hold(key, on_disk, t0);

  SUBCASE("not before the settle time") {
    CHECK(settler.due(t0 + 99ms, restat).empty());
    CHECK(settler.next_due() == t0 + 100ms);
  }
  SUBCASE("an unchanged file goes after the settle time") {
    const auto ready = settler.due(t0 + 100ms, restat);
    REQUIRE(ready.size() == 1);
    CHECK(ready[0].key == key);
    CHECK(ready[0].version == on_disk);
    CHECK(ready[0].waited == 100ms);
    CHECK(settler.size() == 0);
  }
  SUBCASE("a file still growing is held again from the time it was seen changed") {
    on_disk.size = 20;
    CHECK(settler.due(t0 + 150ms, restat).empty());
    CHECK(settler.next_due() == t0 + 250ms);
    const auto ready = settler.due(t0 + 250ms, restat);
    REQUIRE(ready.size() == 1);
    CHECK(ready[0].waited == 250ms);
  }
  SUBCASE("seeing the same version again does not restart the clock") {
    settler.hold(key, on_disk, t0 + 90ms);
    CHECK(settler.due(t0 + 100ms, restat).size() == 1);
  }
  SUBCASE("a vanished file is dropped") {
    const auto gone = [](const Settler::Key&) -> std::optional<FileVersion> {
      return std::nullopt;
    };
    CHECK(settler.due(t0 + 100ms, gone).empty());
    CHECK(settler.size() == 0);
  }
}

TEST_SUITE_END();
