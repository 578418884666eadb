// The SQLite store: file versions become pending exactly once, results commit atomically with the
// file's "done" state, ids are never reused, and everything survives reopening.
#include <inferwatch/store/database.hpp>

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

using inferwatch::store::Database;
using inferwatch::store::FileSighting;
using inferwatch::store::FileVersion;
using inferwatch::store::Job;
using inferwatch::store::StoredResult;
using inferwatch::test::TempDir;

namespace {

FileSighting sighting(const std::string& path, std::int64_t size, std::int64_t mtime = 1000) {
  return FileSighting{"/srv/crops", path, FileVersion{1, 100 + size, size, mtime}};
}

StoredResult result_for(const Job& job, std::int64_t id, const std::string& status = "ok") {
  StoredResult r;
  r.id = id;
  r.file_id = job.file_id;
  r.generation = job.generation;
  r.root = job.root;
  r.path = job.path;
  r.version = job.version;
  r.status = status;
  r.error_code = status == "ok" ? "" : "decode_failed";
  r.model_version = "demo-shapes@0123456789ab";
  r.created_at = "2026-11-23T10:00:00.000Z";
  r.json = R"({"id":)" + std::to_string(id) + "}";
  return r;
}

std::vector<Job> all_pending(Database& db) { return db.pending(1000); }

}  // namespace

TEST_SUITE_BEGIN("store");

TEST_CASE("store::Database::open") {
  TempDir dir;
  SUBCASE("creates the schema and reports its version") {
    auto db = Database::open(dir.path() / "x.db");
    REQUIRE(db.ok());
    CHECK((*db)->pending_count() == 0);
    CHECK((*db)->result_count() == 0);
  }
  SUBCASE("a file that is not a database is refused with the path") {
    std::ofstream(dir.path() / "junk.db") << "this is not an SQLite file, it is just text........";
    auto db = Database::open(dir.path() / "junk.db");
    REQUIRE_FALSE(db.ok());
    CHECK(db.error().code == "database_unusable");
    CHECK(db.error().message.find("junk.db") != std::string::npos);
  }
  SUBCASE("a database from a newer inferwatch is refused") {
    { REQUIRE(Database::open(dir.path() / "new.db").ok()); }
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open((dir.path() / "new.db").c_str(), &raw) == SQLITE_OK);
    sqlite3_exec(raw, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
    sqlite3_close(raw);
    auto db = Database::open(dir.path() / "new.db");
    REQUIRE_FALSE(db.ok());
    CHECK(db.error().message.find("newer inferwatch") != std::string::npos);
  }
}

TEST_CASE("store::Database::record") {
  TempDir dir;
  auto db = std::move(*Database::open(dir.path() / "x.db"));

  SUBCASE("a new file is pending once, however often it is seen") {
    const std::vector<FileSighting> seen{sighting("a.png", 10), sighting("b.png", 20)};
    CHECK(db->record(seen) == 2);
    CHECK(db->record(seen) == 0);
    CHECK(db->pending_count() == 2);
    const auto jobs = all_pending(*db);
    REQUIRE(jobs.size() == 2);
    CHECK(jobs[0].path == "a.png");
    CHECK(jobs[1].path == "b.png");
    CHECK(jobs[0].generation == 1);
  }
  SUBCASE("a done file seen again unchanged stays done; a changed one is pending again") {
    const std::vector<FileSighting> first{sighting("a.png", 10)};
    db->record(first);
    const auto jobs = all_pending(*db);
    const std::int64_t id = db->reserve_ids(1);
    const std::vector<StoredResult> results{result_for(jobs[0], id)};
    db->commit(results);
    CHECK(db->record(first) == 0);
    CHECK(db->pending_count() == 0);

    const std::vector<FileSighting> changed{sighting("a.png", 11)};
    CHECK(db->record(changed) == 1);
    const auto again = all_pending(*db);
    REQUIRE(again.size() == 1);
    CHECK(again[0].generation == 2);
    CHECK(again[0].version.size == 11);
  }
  SUBCASE("the backlog comes in the order files became pending, at most `limit`") {
    std::vector<FileSighting> many;
    for (int i = 0; i < 25; ++i) many.push_back(sighting("f" + std::to_string(i) + ".png", i + 1));
    db->record(many);
    const auto first = db->pending(10);
    REQUIRE(first.size() == 10);
    CHECK(first.front().path == "f0.png");
    CHECK(first.back().path == "f9.png");
    const auto order = all_pending(*db);
    REQUIRE(order.size() == 25);
    CHECK(order.front().path == "f0.png");
    CHECK(order.back().path == "f24.png");
    const std::vector<FileSighting> changed{sighting("f0.png", 99)};
    db->record(changed);  // a new version goes to the back
    CHECK(all_pending(*db).back().path == "f0.png");
  }
}

TEST_CASE("store::Database::commit") {
  TempDir dir;
  const auto path = dir.path() / "x.db";
  auto db = std::move(*Database::open(path));
  const std::vector<FileSighting> seen{sighting("a.png", 10)};
  db->record(seen);
  const Job job = all_pending(*db).at(0);

  SUBCASE("the result becomes the file's current one and survives reopening") {
    const std::int64_t id = db->reserve_ids(1);
    const std::vector<StoredResult> results{result_for(job, id)};
    db->commit(results);
    db.reset();
    auto reopened = std::move(*Database::open(path));
    CHECK(reopened->pending_count() == 0);
    CHECK(reopened->current_result("/srv/crops", "a.png") ==
          R"({"id":)" + std::to_string(id) + "}");
    const auto state = reopened->file_state("/srv/crops", "a.png");
    REQUIRE(state);
    CHECK(state->done);
    CHECK(state->result_id == id);
  }
  SUBCASE("a result for an older version is history, not current") {
    const std::vector<FileSighting> changed{sighting("a.png", 99)};
    db->record(changed);  // the file changed while `job` was being processed
    const std::vector<StoredResult> stale{result_for(job, db->reserve_ids(1))};
    db->commit(stale);
    CHECK(db->result_count() == 1);
    CHECK(db->pending_count() == 1);
    CHECK_FALSE(db->current_result("/srv/crops", "a.png").has_value());
  }
  SUBCASE("an error result also ends the work for that version (no retry loop)") {
    const std::vector<StoredResult> failed{result_for(job, db->reserve_ids(1), "error")};
    db->commit(failed);
    CHECK(db->pending_count() == 0);
    CHECK(db->record(seen) == 0);
  }
}

TEST_CASE("store::Database::delete_results_before") {
  TempDir dir;
  auto db = std::move(*Database::open(dir.path() / "x.db"));
  const std::vector<FileSighting> v1{sighting("a.png", 10)};
  db->record(v1);
  auto old = result_for(all_pending(*db).at(0), db->reserve_ids(1));
  old.created_at = "2026-01-01T00:00:00.000Z";
  db->commit(std::vector<StoredResult>{old});
  const std::vector<FileSighting> v2{sighting("a.png", 11)};
  db->record(v2);
  auto newer = result_for(all_pending(*db).at(0), db->reserve_ids(1));
  newer.created_at = "2026-02-01T00:00:00.000Z";
  db->commit(std::vector<StoredResult>{newer});

  SUBCASE("old history goes") {
    CHECK(db->delete_results_before("2026-01-15T00:00:00.000Z") == 1);
    CHECK(db->result_count() == 1);
  }
  SUBCASE("a file's current result stays however old it is") {
    CHECK(db->delete_results_before("2027-01-01T00:00:00.000Z") == 1);
    CHECK(db->result_count() == 1);
    CHECK(db->current_result("/srv/crops", "a.png").has_value());
  }
}

TEST_CASE("store::Database::reserve_ids") {
  TempDir dir;
  const auto path = dir.path() / "x.db";
  std::int64_t last = 0;
  {
    auto db = std::move(*Database::open(path));
    const std::int64_t a = db->reserve_ids(100);
    const std::int64_t b = db->reserve_ids(5);
    CHECK(a >= 1);
    CHECK(b == a + 100);
    last = b + 5;
  }
  SUBCASE("ids reserved before a restart are never handed out again") {
    auto db = std::move(*Database::open(path));
    CHECK(db->reserve_ids(1) == last);
  }
  SUBCASE("a released tail is handed out again, the ids before it never") {
    auto db = std::move(*Database::open(path));
    db->release_ids(last - 3, last);  // ids last-5 and last-4 were used
    db.reset();
    db = std::move(*Database::open(path));
    CHECK(db->reserve_ids(1) == last - 3);
  }
  SUBCASE("a release after another reservation changes nothing") {
    auto db = std::move(*Database::open(path));
    auto other = std::move(*Database::open(path));  // e.g. a second process
    CHECK(other->reserve_ids(10) == last);
    db->release_ids(last - 3, last);
    CHECK(db->reserve_ids(1) == last + 10);
  }
}

TEST_SUITE_END();
