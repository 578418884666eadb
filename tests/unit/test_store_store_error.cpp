// The store's exception boundary: which code each SQLite failure becomes (a full disk cannot be
// made on demand, so the codes are checked here on the thrown exceptions themselves).
#include "../../src/store/store_error.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <cerrno>
#include <stdexcept>

using inferwatch::store::guard;
using inferwatch::store::store_error;

namespace {

// The code `guard` gives a body that throws SQLite's result code `code`.
std::string code_for(int code) {
  const auto r = guard(nullptr, "doing something", [&] {
    throw SQLite::Exception("sqlite says no", code);
    return 1;
  });
  REQUIRE_FALSE(r.ok());
  return r.error().code;
}

}  // namespace

TEST_SUITE_BEGIN("store");

TEST_CASE("store::guard") {
  SUBCASE("a body that returns passes its value through") {
    const auto r = guard(nullptr, "adding", [] { return 41 + 1; });
    REQUIRE(r.ok());
    CHECK(*r == 42);
  }
  SUBCASE("a void body that returns is success") {
    bool ran = false;
    CHECK(guard(nullptr, "running", [&] { ran = true; }).ok());
    CHECK(ran);
  }
  SUBCASE("busy and locked, extended codes included, are store_busy") {
    CHECK(code_for(SQLITE_BUSY) == "store_busy");
    CHECK(code_for(SQLITE_BUSY_SNAPSHOT) == "store_busy");
    CHECK(code_for(SQLITE_LOCKED) == "store_busy");
    CHECK(code_for(SQLITE_LOCKED_SHAREDCACHE) == "store_busy");
  }
  SUBCASE("a full disk is store_full") { CHECK(code_for(SQLITE_FULL) == "store_full"); }
  SUBCASE("everything else is store_failed") {
    CHECK(code_for(SQLITE_IOERR_WRITE) == "store_failed");
    CHECK(code_for(SQLITE_CORRUPT) == "store_failed");
    CHECK(code_for(SQLITE_READONLY) == "store_failed");
    CHECK(code_for(SQLITE_CONSTRAINT) == "store_failed");
  }
  SUBCASE("a standard exception is store_failed with its message") {
    const auto r = guard(nullptr, "converting names",
                         []() -> int { throw std::runtime_error("out of luck"); });
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == "store_failed");
    CHECK(r.error().message == "converting names: out of luck");
  }
  SUBCASE("the message names what the call was doing, then SQLite's words") {
    const auto r = guard(nullptr, "recording 12 file sightings",
                         [] { throw SQLite::Exception("database is locked", SQLITE_BUSY); });
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "recording 12 file sightings: database is locked");
  }
}

TEST_CASE("store::store_error") {
  SUBCASE("an I/O error from a full disk or quota is store_full") {
    CHECK(store_error("w", SQLITE_IOERR_WRITE, ENOSPC, "disk I/O error").code == "store_full");
    CHECK(store_error("w", SQLITE_IOERR_WRITE, EDQUOT, "disk I/O error").code == "store_full");
  }
  SUBCASE("any other I/O error is store_failed") {
    CHECK(store_error("w", SQLITE_IOERR_WRITE, EIO, "disk I/O error").code == "store_failed");
    CHECK(store_error("w", SQLITE_IOERR_FSYNC, 0, "disk I/O error").code == "store_failed");
  }
}

TEST_SUITE_END();
