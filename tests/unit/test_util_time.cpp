#include <inferwatch/util/time.hpp>

#include <doctest/doctest.h>

#include <chrono>

using inferwatch::util::format_utc;
using inferwatch::util::ms_between;
using inferwatch::util::parse_rfc3339;
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

TEST_CASE("util::parse_rfc3339") {
  SUBCASE("UTC with Z, as format_utc writes it") {
    CHECK(parse_rfc3339("2026-11-23T10:00:00.123Z") == k_fixed + 123ms);
  }
  SUBCASE("an offset is taken away to give UTC") {
    CHECK(parse_rfc3339("2026-11-23T11:30:00+01:30") == k_fixed);
    CHECK(parse_rfc3339("2026-11-23T09:00:00-01:00") == k_fixed);
  }
  SUBCASE("a lower-case t or a space separates date and time; z is Z") {
    CHECK(parse_rfc3339("2026-11-23t10:00:00z") == k_fixed);
    CHECK(parse_rfc3339("2026-11-23 10:00:00Z") == k_fixed);
  }
  SUBCASE("fractions of any length") {
    CHECK(parse_rfc3339("2026-11-23T10:00:00.5Z") == k_fixed + 500ms);
    CHECK(parse_rfc3339("2026-11-23T10:00:00.000001Z") == k_fixed + 1us);
  }
  SUBCASE("a date alone is its midnight UTC") {
    CHECK(parse_rfc3339("2026-11-23") == k_fixed - 10h);
  }
  SUBCASE("anything else is refused") {
    for (const char* bad :
         {"", "yesterday", "2026-11-23T10:00:00", "2026-13-01", "2026-02-30T00:00:00Z",
          "2026-11-23T24:00:00Z", "2026-11-23T10:00:00.Z", "2026-11-23T10:00:00Zx",
          "2026-11-23T10:00:00+0100", "2026-11-23T10:00Z", "2999-01-01T00:00:00Z"}) {
      CAPTURE(bad);
      CHECK_FALSE(parse_rfc3339(bad).has_value());
    }
  }
}

TEST_SUITE_END();
