// Result ids in commit order from durable blocks: never reused, dense across clean restarts,
// and a store that refuses a reservation hands out nothing.
#include <inferwatch/pipeline/result_ids.hpp>

#include <inferwatch/store/database.hpp>

#include "support/faulty_store.hpp"
#include "support/ok.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

using namespace inferwatch;
using inferwatch::test::ok;
using pipeline::ResultIds;

TEST_SUITE_BEGIN("pipeline");

TEST_CASE("pipeline::ResultIds") {
  test::TempDir dir;
  auto db = ok(store::Database::open(dir.path() / "db.sqlite"));
  test::FaultyStore store(*db);

  SUBCASE("ids follow each other within and across blocks") {
    ResultIds ids(store, 4);
    ok(ids.reserve(3));
    CHECK(ids.next() == 1);
    CHECK(ids.next() == 2);
    CHECK(ids.next() == 3);
    ok(ids.reserve(3));  // one left in the block: a fresh block, the rest skipped
    CHECK(ids.next() == 5);
  }
  SUBCASE("after a clean stop the next run goes on right after the last id used") {
    {
      ResultIds ids(store, 100);
      ok(ids.reserve(2));
      (void)ids.next();
      (void)ids.next();
      ok(ids.release());
    }
    ResultIds next_run(store, 100);
    ok(next_run.reserve(1));
    CHECK(next_run.next() == 3);
  }
  SUBCASE("after a crash (no release) ids skip, never repeat") {
    {
      ResultIds ids(store, 100);
      ok(ids.reserve(1));
      (void)ids.next();
    }
    ResultIds next_run(store, 100);
    ok(next_run.reserve(1));
    CHECK(next_run.next() == 101);
  }
  SUBCASE("a failing store hands out nothing, and the next reservation works") {
    ResultIds ids(store, 10);
    store.set(test::Fault::everything);
    const auto failed = ids.reserve(1);
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.error().code == "store_failed");
    store.set(test::Fault::none);
    ok(ids.reserve(1));
    CHECK(ids.next() == 1);
  }
}

TEST_SUITE_END();
