// Retention passes: at start, then hourly (time passed in), a failed pass tried again next call,
// and a file's current result kept whatever its age.
#include <inferwatch/pipeline/retention.hpp>

#include "support/pipeline_rig.hpp"

#include <doctest/doctest.h>

using namespace inferwatch;
using namespace std::chrono_literals;
using inferwatch::test::ok;
using pipeline::Retention;

TEST_SUITE_BEGIN("pipeline");

TEST_CASE("pipeline::Retention") {
  test::StoreRig rig;
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  const auto wall = std::chrono::system_clock::now();
  // Two results for one file (created 2026-12-02): the older is history, the newer current.
  for (int i = 0; i < 2; ++i) {
    const auto job = rig.job("a.png", "version " + std::to_string(i));
    store::StoredResult row;
    row.id = ok(rig.db->reserve_ids(1));
    row.file_id = job.file_id;
    row.generation = job.generation;
    row.root = job.root;
    row.path = job.path;
    row.version = job.version;
    row.status = "ok";
    row.created_at = "2026-12-02T00:00:00.000Z";
    row.json = "{}";
    ok(rig.db->commit(std::span(&row, 1)));
  }
  Retention retention(*rig.store, 1);
  const auto later = std::chrono::system_clock::time_point(
      std::chrono::sys_days{std::chrono::year{2026} / 12 / 10});

  SUBCASE("old history goes, the current result stays") {
    CHECK(ok(retention.apply(t0, later)) == 1);
    CHECK(ok(rig.db->result_count()) == 1);
    CHECK(rig.current("a.png").has_value());
  }
  SUBCASE("then not again within the hour") {
    ok(retention.apply(t0, wall));
    rig.store->set(test::Fault::everything);  // a pass now would fail
    CHECK(ok(retention.apply(t0 + 59min, later)) == 0);
    rig.store->set(test::Fault::none);
    CHECK(ok(retention.apply(t0 + 1h, later)) == 1);
  }
  SUBCASE("a failed pass is tried again on the next call") {
    rig.store->set(test::Fault::everything);
    CHECK_FALSE(retention.apply(t0, later).ok());
    rig.store->set(test::Fault::none);
    CHECK(ok(retention.apply(t0 + 1s, later)) == 1);
  }
  SUBCASE("zero days keeps everything") {
    Retention keep(*rig.store, 0);
    CHECK(ok(keep.apply(t0, later)) == 0);
    CHECK(ok(rig.db->result_count()) == 2);
  }
}

TEST_SUITE_END();
