// From candidates to recorded file versions, against a real SQLite store and real files, with
// time passed in: events are recorded at once, scan finds only once stable, known versions are
// skipped, and a failing store loses nothing.
#include <inferwatch/pipeline/recorder.hpp>

#include <inferwatch/store/database.hpp>

#include "support/faulty_store.hpp"
#include "support/ok.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

using namespace inferwatch;
using namespace std::chrono_literals;
using inferwatch::test::ok;
using pipeline::Recorder;
using watch::Candidate;
using watch::Origin;

namespace {

struct Rig {
  test::TempDir dir;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<test::FaultyStore> store;
  pipeline::WatchRoots roots;
  std::unique_ptr<Recorder> recorder;
  const Recorder::Clock::time_point t0 = Recorder::Clock::time_point{} + 1h;

  Rig() {
    std::filesystem::create_directories(dir.path() / "share");
    db = ok(store::Database::open(dir.path() / "db.sqlite"));
    store = std::make_unique<test::FaultyStore>(*db);
    roots = ok(pipeline::WatchRoots::open({dir.path() / "share"}));
    recorder = std::make_unique<Recorder>(roots, *store, 100ms);
  }
  std::int64_t pending() { return ok(db->pending_count()); }
};

}  // namespace

TEST_SUITE_BEGIN("pipeline");

TEST_CASE("pipeline::Recorder") {
  Rig rig;
  rig.dir.write("share/a.png", "a");
  rig.dir.write("share/b.png", "bb");

  SUBCASE("files reported by events are recorded at once") {
    const Candidate events[] = {{0, "a.png", Origin::closed_after_write},
                                {0, "b.png", Origin::moved_in}};
    ok(rig.recorder->take(events, rig.t0));
    CHECK(rig.pending() == 2);
  }
  SUBCASE("a file found by a scan is recorded only after the settle time") {
    const Candidate scan[] = {{0, "a.png", Origin::scan}};
    ok(rig.recorder->take(scan, rig.t0));
    CHECK(rig.pending() == 0);
    CHECK(rig.recorder->settling() == 1);
    CHECK(ok(rig.recorder->settle(rig.t0 + 99ms)).empty());
    CHECK(rig.recorder->next_due() == rig.t0 + 100ms);
    const auto waited = ok(rig.recorder->settle(rig.t0 + 100ms));
    REQUIRE(waited.size() == 1);
    CHECK(waited[0] == 100ms);
    CHECK(rig.pending() == 1);
  }
  SUBCASE("a scan passing a version the store has skips it, and asks for a missing sidecar") {
    const Candidate event[] = {{0, "a.png", Origin::closed_after_write}};
    ok(rig.recorder->take(event, rig.t0));
    const Candidate scan[] = {{0, "a.png", Origin::scan}};
    CHECK_FALSE(ok(rig.recorder->take(scan, rig.t0)).sidecar_due);
    CHECK(rig.recorder->settling() == 0);

    const auto job = ok(rig.db->pending(1)).at(0);
    store::StoredResult row;
    row.id = ok(rig.db->reserve_ids(1));
    row.file_id = job.file_id;
    row.generation = job.generation;
    row.root = job.root;
    row.path = job.path;
    row.version = job.version;
    row.status = "ok";
    row.json = "{}";
    row.sidecar_missing = true;
    ok(rig.db->commit(std::span(&row, 1)));
    CHECK(ok(rig.recorder->take(scan, rig.t0)).sidecar_due);
  }
  SUBCASE("directories and names that are gone are not recorded") {
    std::filesystem::create_directories(rig.dir.path() / "share/sub.png");
    const Candidate events[] = {{0, "sub.png", Origin::closed_after_write},
                                {0, "gone.png", Origin::closed_after_write}};
    ok(rig.recorder->take(events, rig.t0));
    CHECK(rig.pending() == 0);
  }
  SUBCASE("a failing store gets an error and loses no settled file") {
    const Candidate scan[] = {{0, "a.png", Origin::scan}, {0, "b.png", Origin::scan}};
    ok(rig.recorder->take(scan, rig.t0));
    rig.store->set(test::Fault::everything);
    const auto failed = rig.recorder->settle(rig.t0 + 100ms);
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.error().code == "store_failed");
    CHECK(rig.pending() == 0);
    rig.store->set(test::Fault::none);
    ok(rig.recorder->settle(rig.t0 + 200ms));  // the two settled before are recorded now
    CHECK(rig.pending() == 2);
  }
  SUBCASE("an event the failing store could not record is reported, not dropped silently") {
    rig.store->set(test::Fault::busy_everything);
    const Candidate event[] = {{0, "a.png", Origin::closed_after_write}};
    const auto failed = rig.recorder->take(event, rig.t0);
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.error().code == "store_busy");
  }
}

TEST_SUITE_END();
