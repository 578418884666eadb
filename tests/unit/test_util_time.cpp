#include <inferwatch/util/time.hpp>

#include <doctest/doctest.h>

#include <chrono>

using inferwatch::util::format_utc;
using inferwatch::util::ms_between;
using namespace std::chrono_literals;

namespace {

// 2026-11-23T10:00:00Z as seconds since the epoch.
constexpr std::chrono::sys_seconds k_fixed{
    std::chrono::sys_days{std::chrono::year{2026} / 11 / 23} + 10h};

}  // namespace

TEST_SUITE_BEGIN("util");

TEST_CASE("util::format_utc") {
  SUBCASE("RFC 3339 in UTC with milliseconds and Z") {
    CHECK(format_utc(k_fixed + 123ms) == "2026-11-23T10:00:00.123Z");
  }
  SUBCASE("whole seconds still show three zeros") {
    CHECK(format_utc(k_fixed) == "2026-11-23T10:00:00.000Z");
  }
  SUBCASE("small fractions are zero-padded") {
    CHECK(format_utc(k_fixed + 7ms) == "2026-11-23T10:00:00.007Z");
  }
  SUBCASE("sub-millisecond parts are cut, not rounded up into the next second") {
    CHECK(format_utc(k_fixed + 999ms + 999us) == "2026-11-23T10:00:00.999Z");
  }
  SUBCASE("the epoch") {
    CHECK(format_utc(std::chrono::system_clock::time_point{}) == "1970-01-01T00:00:00.000Z");
  }
}

TEST_CASE("util::ms_between") {
  const std::chrono::steady_clock::time_point t0{};
  CHECK(ms_between(t0, t0 + 1500us) == doctest::Approx(1.5));
  CHECK(ms_between(t0 + 2ms, t0) == doctest::Approx(-2.0));
}

TEST_SUITE_END();
