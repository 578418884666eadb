// The SQLite store: file versions become pending exactly once, results commit atomically with the
// file's "done" state, ids are never reused, and everything survives reopening.
#include <inferwatch/store/database.hpp>

#include <inferwatch/store/reader.hpp>
#include <inferwatch/util/utf8.hpp>

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

using inferwatch::store::Database;
using inferwatch::store::FileSighting;
using inferwatch::store::FileVersion;
using inferwatch::store::Job;
using inferwatch::store::StoredResult;
using inferwatch::test::TempDir;

namespace {

// The value of a store call that must succeed (the test stops here with the error otherwise).
template <typename T>
T ok(inferwatch::util::Result<T> r) {
  if (!r.ok()) FAIL(r.error().code << ": " << r.error().message);
  return std::move(r).value();
}
void ok(const inferwatch::util::Result<void>& r) {
  if (!r.ok()) FAIL(r.error().code << ": " << r.error().message);
}

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

std::vector<Job> all_pending(Database& db) { return ok(db.pending(1000)); }

// Run `sql` on the database file directly (what another client or an older version would do).
void exec_raw(const std::filesystem::path& path, const std::string& sql) {
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &error);
  INFO((error ? error : ""));
  sqlite3_free(error);
  sqlite3_close(raw);
  REQUIRE(rc == SQLITE_OK);
}

// Each row of `sql`'s first column, as bytes.
std::vector<std::string> column_raw(const std::filesystem::path& path, const std::string& sql) {
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  REQUIRE(sqlite3_prepare_v2(raw, sql.c_str(), -1, &q, nullptr) == SQLITE_OK);
  std::vector<std::string> out;
  while (sqlite3_step(q) == SQLITE_ROW) {
    const auto* data = static_cast<const char*>(sqlite3_column_blob(q, 0));
    out.emplace_back(data ? data : "", static_cast<std::size_t>(sqlite3_column_bytes(q, 0)));
  }
  sqlite3_finalize(q);
  sqlite3_close(raw);
  return out;
}

// Record `path`, commit a result whose JSON is `json`, return the job.
Job process(Database& db, const std::string& path, const std::string& json) {
  const std::vector<FileSighting> seen{sighting(path, 10)};
  ok(db.record(seen));
  for (const Job& job : all_pending(db)) {
    if (job.path != path) continue;
    StoredResult r = result_for(job, ok(db.reserve_ids(1)));
    r.json = json;
    ok(db.commit(std::vector<StoredResult>{r}));
    return job;
  }
  FAIL("no pending job for the path");
  return {};
}

// Another connection (another process, say) holding the database's write lock until released.
class WriteLock {
 public:
  explicit WriteLock(const std::filesystem::path& path) {
    REQUIRE(sqlite3_open(path.c_str(), &m_db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(m_db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  }
  WriteLock(const WriteLock&) = delete;
  WriteLock& operator=(const WriteLock&) = delete;
  ~WriteLock() { release(); }

  void release() {
    if (m_db == nullptr) return;
    sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(m_db);
    m_db = nullptr;
  }

 private:
  sqlite3* m_db = nullptr;
};

bool mentions(const inferwatch::util::Error& e, const std::string& text) {
  return e.message.find(text) != std::string::npos;
}

const std::string k_bad = "alice/bad\xFF\xFE.png";                        // not UTF-8
const std::string k_bad_shown = "alice/bad\xEF\xBF\xBD\xEF\xBF\xBD.png";  // U+FFFD per bad byte
const std::string k_bad_json = R"({"path":"alice/bad\ufffd\ufffd.png","path_bytes":"x"})";

}  // namespace

TEST_SUITE_BEGIN("store");

TEST_CASE("store::Database::open") {
  TempDir dir;
  SUBCASE("creates the schema and reports its version") {
    auto db = Database::open(dir.path() / "x.db");
    REQUIRE(db.ok());
    CHECK(ok((*db)->pending_count()) == 0);
    CHECK(ok((*db)->result_count()) == 0);
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
    CHECK(ok(db->record(seen)) == 2);
    CHECK(ok(db->record(seen)) == 0);
    CHECK(ok(db->pending_count()) == 2);
    const auto jobs = all_pending(*db);
    REQUIRE(jobs.size() == 2);
    CHECK(jobs[0].path == "a.png");
    CHECK(jobs[1].path == "b.png");
    CHECK(jobs[0].generation == 1);
  }
  SUBCASE("a done file seen again unchanged stays done; a changed one is pending again") {
    const std::vector<FileSighting> first{sighting("a.png", 10)};
    ok(db->record(first));
    const auto jobs = all_pending(*db);
    const std::int64_t id = ok(db->reserve_ids(1));
    const std::vector<StoredResult> results{result_for(jobs[0], id)};
    ok(db->commit(results));
    CHECK(ok(db->record(first)) == 0);
    CHECK(ok(db->pending_count()) == 0);

    const std::vector<FileSighting> changed{sighting("a.png", 11)};
    CHECK(ok(db->record(changed)) == 1);
    const auto again = all_pending(*db);
    REQUIRE(again.size() == 1);
    CHECK(again[0].generation == 2);
    CHECK(again[0].version.size == 11);
  }
  SUBCASE("the backlog comes in the order files became pending, at most `limit`") {
    std::vector<FileSighting> many;
    for (int i = 0; i < 25; ++i) many.push_back(sighting("f" + std::to_string(i) + ".png", i + 1));
    ok(db->record(many));
    const auto first = ok(db->pending(10));
    REQUIRE(first.size() == 10);
    CHECK(first.front().path == "f0.png");
    CHECK(first.back().path == "f9.png");
    const auto order = all_pending(*db);
    REQUIRE(order.size() == 25);
    CHECK(order.front().path == "f0.png");
    CHECK(order.back().path == "f24.png");
    const std::vector<FileSighting> changed{sighting("f0.png", 99)};
    ok(db->record(changed));  // a new version goes to the back
    CHECK(all_pending(*db).back().path == "f0.png");
  }
}

TEST_CASE("store::Database::commit") {
  TempDir dir;
  const auto path = dir.path() / "x.db";
  auto db = std::move(*Database::open(path));
  const std::vector<FileSighting> seen{sighting("a.png", 10)};
  ok(db->record(seen));
  const Job job = all_pending(*db).at(0);

  SUBCASE("the result becomes the file's current one and survives reopening") {
    const std::int64_t id = ok(db->reserve_ids(1));
    const std::vector<StoredResult> results{result_for(job, id)};
    ok(db->commit(results));
    db.reset();
    auto reopened = std::move(*Database::open(path));
    CHECK(ok(reopened->pending_count()) == 0);
    CHECK(ok(reopened->current_result("/srv/crops", "a.png")) ==
          R"({"id":)" + std::to_string(id) + "}");
    const auto state = ok(reopened->file_state("/srv/crops", "a.png"));
    REQUIRE(state);
    CHECK(state->done);
    CHECK(state->result_id == id);
  }
  SUBCASE("a result for an older version is history, not current") {
    const std::vector<FileSighting> changed{sighting("a.png", 99)};
    ok(db->record(changed));  // the file changed while `job` was being processed
    const std::vector<StoredResult> stale{result_for(job, ok(db->reserve_ids(1)))};
    ok(db->commit(stale));
    CHECK(ok(db->result_count()) == 1);
    CHECK(ok(db->pending_count()) == 1);
    CHECK_FALSE(ok(db->current_result("/srv/crops", "a.png")).has_value());
  }
  SUBCASE("an error result also ends the work for that version (no retry loop)") {
    const std::vector<StoredResult> failed{result_for(job, ok(db->reserve_ids(1)), "error")};
    ok(db->commit(failed));
    CHECK(ok(db->pending_count()) == 0);
    CHECK(ok(db->record(seen)) == 0);
  }
}

TEST_CASE("store::Database::delete_results_before") {
  TempDir dir;
  auto db = std::move(*Database::open(dir.path() / "x.db"));
  const std::vector<FileSighting> v1{sighting("a.png", 10)};
  ok(db->record(v1));
  auto old = result_for(all_pending(*db).at(0), ok(db->reserve_ids(1)));
  old.created_at = "2026-01-01T00:00:00.000Z";
  ok(db->commit(std::vector<StoredResult>{old}));
  const std::vector<FileSighting> v2{sighting("a.png", 11)};
  ok(db->record(v2));
  auto newer = result_for(all_pending(*db).at(0), ok(db->reserve_ids(1)));
  newer.created_at = "2026-02-01T00:00:00.000Z";
  ok(db->commit(std::vector<StoredResult>{newer}));

  SUBCASE("old history goes") {
    CHECK(ok(db->delete_results_before("2026-01-15T00:00:00.000Z")) == 1);
    CHECK(ok(db->result_count()) == 1);
  }
  SUBCASE("a file's current result stays however old it is") {
    CHECK(ok(db->delete_results_before("2027-01-01T00:00:00.000Z")) == 1);
    CHECK(ok(db->result_count()) == 1);
    CHECK(ok(db->current_result("/srv/crops", "a.png")).has_value());
  }
  SUBCASE("a result with feedback stays: it is a labelled example") {
    exec_raw(dir.path() / "x.db",
             "INSERT INTO feedback (result_id, label, predicted_label, user, created_at) VALUES (" +
                 std::to_string(old.id) + ", 'circle', 'square', 'alice', '2026-01-02')");
    CHECK(ok(db->delete_results_before("2026-01-15T00:00:00.000Z")) == 0);
    CHECK(ok(db->result_count()) == 2);
  }
}

// SPEC §5: names are bytes. The API takes and returns raw names; the rows hold the display form.
TEST_CASE("store::Database names that are not UTF-8") {
  TempDir dir;
  const auto path = dir.path() / "x.db";
  auto db = std::move(*Database::open(path));

  SUBCASE("the raw name comes back exactly from pending, file_state and current_result") {
    const std::vector<FileSighting> seen{sighting(k_bad, 10)};
    CHECK(ok(db->record(seen)) == 1);
    const auto jobs = all_pending(*db);
    REQUIRE(jobs.size() == 1);
    CHECK(jobs[0].path == k_bad);
    ok(db->commit(std::vector<StoredResult>{result_for(jobs[0], ok(db->reserve_ids(1)))}));
    CHECK(ok(db->record(seen)) == 0);
    const auto state = ok(db->file_state("/srv/crops", k_bad));
    REQUIRE(state);
    CHECK(state->done);
    CHECK(ok(db->current_result("/srv/crops", k_bad)).has_value());
    CHECK_FALSE(ok(db->file_state("/srv/crops", k_bad_shown)).has_value());
  }
  SUBCASE("text columns hold the valid display form, path_bytes the raw name") {
    process(*db, k_bad, k_bad_json);
    CHECK(column_raw(path, "SELECT path FROM files") == std::vector<std::string>{k_bad_shown});
    CHECK(column_raw(path, "SELECT path_bytes FROM files") == std::vector<std::string>{k_bad});
    CHECK(column_raw(path, "SELECT path FROM results") == std::vector<std::string>{k_bad_shown});
    CHECK(column_raw(path, "SELECT path_bytes FROM results") == std::vector<std::string>{k_bad});
  }
  SUBCASE("a valid name has an empty path_bytes") {
    process(*db, "caf\xC3\xA9\n.png", "{}");
    CHECK(column_raw(path, "SELECT path FROM files") ==
          std::vector<std::string>{"caf\xC3\xA9\n.png"});
    CHECK(column_raw(path, "SELECT length(path_bytes) FROM files") ==
          std::vector<std::string>{"0"});
  }
  SUBCASE("two names with one display form are two files with their own results") {
    process(*db, "x\xFF.png", R"({"n":1})");
    process(*db, "x\xFE.png", R"({"n":2})");
    CHECK(ok(db->pending_count()) == 0);
    CHECK(ok(db->current_result("/srv/crops", "x\xFF.png")) == R"({"n":1})");
    CHECK(ok(db->current_result("/srv/crops", "x\xFE.png")) == R"({"n":2})");
  }
  SUBCASE("stored JSON is valid UTF-8 even when the caller's is not") {
    process(*db, "a.png", "{\"message\":\"no \xFF\"}");
    CHECK(ok(db->current_result("/srv/crops", "a.png")) == "{\"message\":\"no \xEF\xBF\xBD\"}");
  }
}

TEST_CASE("store::Database::count_attempts") {
  TempDir dir;
  const auto path = dir.path() / "x.db";
  auto db = std::move(*Database::open(path));
  const std::vector<FileSighting> seen{sighting("a.png", 10), sighting("b.png", 20)};
  ok(db->record(seen));
  const auto jobs = all_pending(*db);
  const auto attempts_of = [&](const std::string& name) {
    for (const Job& job : all_pending(*db)) {
      if (job.path == name) return job.attempts;
    }
    return -1;
  };

  SUBCASE("a new file has no attempts") {
    CHECK(jobs.at(0).attempts == 0);
    CHECK(jobs.at(1).attempts == 0);
  }
  SUBCASE("each call counts one attempt of the named files only, and survives reopening") {
    const std::vector<std::int64_t> a{jobs.at(0).file_id};
    ok(db->count_attempts(a));
    ok(db->count_attempts(a));
    db.reset();
    db = std::move(*Database::open(path));
    CHECK(attempts_of("a.png") == 2);
    CHECK(attempts_of("b.png") == 0);
  }
  SUBCASE("seeing the same version again keeps the count (a restart after a crash)") {
    ok(db->count_attempts(std::vector<std::int64_t>{jobs.at(0).file_id}));
    CHECK(ok(db->record(seen)) == 0);
    CHECK(attempts_of("a.png") == 1);
  }
  SUBCASE("a new version starts from 0") {
    ok(db->count_attempts(std::vector<std::int64_t>{jobs.at(0).file_id}));
    const std::vector<FileSighting> changed{sighting("a.png", 11)};
    CHECK(ok(db->record(changed)) == 1);
    CHECK(attempts_of("a.png") == 0);
  }
  SUBCASE("a committed result sets the count back to 0") {
    ok(db->count_attempts(std::vector<std::int64_t>{jobs.at(0).file_id, jobs.at(1).file_id}));
    ok(db->commit(std::vector<StoredResult>{result_for(jobs.at(0), ok(db->reserve_ids(1)))}));
    CHECK(column_raw(path, "SELECT attempts FROM files ORDER BY id") ==
          std::vector<std::string>{"0", "1"});
  }
}

// A database written by version 1 (the schema below is its migration 1, verbatim), with names
// stored as raw bytes in TEXT columns and in the JSON.
TEST_CASE("store::Database migrates a version-1 database") {
  TempDir dir;
  const auto path = dir.path() / "v1.db";
  exec_raw(path, R"sql(
CREATE TABLE files (
  id INTEGER PRIMARY KEY, root TEXT NOT NULL, path TEXT NOT NULL, dev INTEGER NOT NULL,
  inode INTEGER NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
  generation INTEGER NOT NULL, done INTEGER NOT NULL, queue_seq INTEGER NOT NULL,
  result_id INTEGER, UNIQUE (root, path)) STRICT;
CREATE INDEX files_pending ON files (queue_seq) WHERE done = 0;
CREATE TABLE results (
  id INTEGER PRIMARY KEY AUTOINCREMENT, file_id INTEGER NOT NULL, root TEXT NOT NULL,
  path TEXT NOT NULL, dev INTEGER NOT NULL, inode INTEGER NOT NULL, size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL, status TEXT NOT NULL, error_code TEXT, model_version TEXT NOT NULL,
  created_at TEXT NOT NULL, json TEXT NOT NULL) STRICT;
CREATE INDEX results_path ON results (path, id);
CREATE INDEX results_created ON results (created_at);
CREATE INDEX files_result ON files (result_id);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;
INSERT INTO counters VALUES ('next_result_id', 3);
INSERT INTO files VALUES (1, '/srv/crops', CAST(x'616c6963652f626164fffe2e706e67' AS TEXT),
                          1, 110, 10, 1000, 1, 1, 1, 1);
INSERT INTO files VALUES (2, '/srv/crops', 'ok.png', 1, 120, 20, 1000, 1, 0, 2, NULL);
INSERT INTO results VALUES (1, 1, '/srv/crops', CAST(x'616c6963652f626164fffe2e706e67' AS TEXT),
  1, 110, 10, 1000, 'error', 'decode_failed', 'v', '2026-01-01T00:00:00.000Z',
  CAST(x'7b22736368656d61223a2278222c2270617468223a22616c6963652f626164fffe2e706e67222c22657272'
       || x'6f72223a7b226d657373616765223a22626164fffe227d7d' AS TEXT));
PRAGMA user_version = 1;
)sql");
  REQUIRE(column_raw(path, "SELECT path FROM files WHERE id = 1") ==
          std::vector<std::string>{k_bad});  // the fixture really holds raw bytes

  auto opened = Database::open(path);
  REQUIRE(opened.ok());
  auto db = std::move(*opened);

  SUBCASE("the schema version is the current one") {
    CHECK(column_raw(path, "PRAGMA user_version") ==
          std::vector<std::string>{std::to_string(Database::k_schema_version)});
  }
  SUBCASE("old rows are found by their raw names, with their state") {
    const auto state = ok(db->file_state("/srv/crops", k_bad));
    REQUIRE(state);
    CHECK(state->done);
    CHECK(state->result_id == 1);
    const auto jobs = all_pending(*db);
    REQUIRE(jobs.size() == 1);
    CHECK(jobs[0].path == "ok.png");
    CHECK(jobs[0].attempts == 0);
  }
  SUBCASE("names and JSON become valid UTF-8, the raw name moves to path_bytes") {
    CHECK(column_raw(path, "SELECT path FROM files ORDER BY id") ==
          std::vector<std::string>{k_bad_shown, "ok.png"});
    CHECK(column_raw(path, "SELECT path_bytes FROM files ORDER BY id") ==
          std::vector<std::string>{k_bad, ""});
    CHECK(column_raw(path, "SELECT path FROM results") == std::vector<std::string>{k_bad_shown});
    CHECK(ok(db->current_result("/srv/crops", k_bad)) ==
          R"({"schema":"x","path":")" + k_bad_shown +
              R"(","path_bytes":"YWxpY2UvYmFk//4ucG5n","error":{"message":"bad)" +
              "\xEF\xBF\xBD\xEF\xBF\xBD\"}}");
  }
  SUBCASE("the indexes are kept") {
    const auto indexes = column_raw(path, "SELECT name FROM sqlite_master WHERE type = 'index'");
    for (const char* name : {"files_pending", "files_result", "results_created", "results_path"}) {
      CHECK_MESSAGE(std::find(indexes.begin(), indexes.end(), name) != indexes.end(), name);
    }
  }
  SUBCASE("the migrated file keeps working: a new version becomes pending") {
    const std::vector<FileSighting> changed{sighting(k_bad, 11)};
    CHECK(ok(db->record(changed)) == 1);
    CHECK(ok(db->pending_count()) == 2);
  }
}

// The REST side's reads (SPEC §5: every lookup by path accepts the display form or the raw name).
TEST_CASE("store::Reader and names") {
  TempDir dir;
  const auto path = dir.path() / "x.db";
  auto db = std::move(*Database::open(path));
  process(*db, k_bad, R"({"n":"bad"})");
  process(*db, "alice/bad\xEF\xBF\xBD\xEF\xBF\xBD.png", R"({"n":"valid"})");
  process(*db, "x\xFF.png", R"({"n":"ff"})");
  auto reader = std::move(*inferwatch::store::Reader::open(path));

  SUBCASE("latest by the raw bytes finds exactly that file") {
    CHECK(ok(reader->latest(k_bad))->json == R"({"n":"bad"})");
    CHECK(ok(reader->latest("x\xFF.png"))->json == R"({"n":"ff"})");
    CHECK_FALSE(ok(reader->latest("x\xFE.png")).has_value());
  }
  SUBCASE("latest by the display form finds the file; a file named exactly that wins") {
    CHECK(ok(reader->latest("x\xEF\xBF\xBD.png"))->json == R"({"n":"ff"})");
    CHECK(ok(reader->latest(k_bad_shown))->json == R"({"n":"valid"})");
  }
  SUBCASE("latest_by_bytes takes only the exact raw name") {
    CHECK(ok(reader->latest_by_bytes(k_bad))->json == R"({"n":"bad"})");
    CHECK(ok(reader->latest_by_bytes(k_bad_shown))->json == R"({"n":"valid"})");
    CHECK_FALSE(ok(reader->latest_by_bytes("x\xEF\xBF\xBD.png")).has_value());
  }
  SUBCASE("path_prefix compares with the display path, raw bytes or not") {
    inferwatch::store::ResultQuery q;
    q.path_prefix = "alice/bad\xEF\xBF\xBD";
    CHECK(ok(reader->results(q)).size() == 2);
    q.path_prefix = "x\xFF";
    const auto rows = ok(reader->results(q));
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].path == "x\xEF\xBF\xBD.png");
  }
}

TEST_CASE("store::Reader failures are values") {
  TempDir dir;
  const auto path = dir.path() / "x.db";
  { auto db = ok(Database::open(path)); }
  auto reader = ok(inferwatch::store::Reader::open(path));
  // What a damaged or foreign database looks like to the API: its tables are not there.
  exec_raw(path, "DROP TABLE results");
  const auto listed = reader->results({});
  REQUIRE_FALSE(listed.ok());
  CHECK(listed.error().code == "store_failed");
  CHECK(listed.error().message.find("listing results") != std::string::npos);
  CHECK_FALSE(reader->result(1).ok());
  CHECK_FALSE(reader->counts().ok());
}

TEST_CASE("store::Database::reserve_ids") {
  TempDir dir;
  const auto path = dir.path() / "x.db";
  std::int64_t last = 0;
  {
    auto db = std::move(*Database::open(path));
    const std::int64_t a = ok(db->reserve_ids(100));
    const std::int64_t b = ok(db->reserve_ids(5));
    CHECK(a >= 1);
    CHECK(b == a + 100);
    last = b + 5;
  }
  SUBCASE("ids reserved before a restart are never handed out again") {
    auto db = std::move(*Database::open(path));
    CHECK(ok(db->reserve_ids(1)) == last);
  }
  SUBCASE("a released tail is handed out again, the ids before it never") {
    auto db = std::move(*Database::open(path));
    ok(db->release_ids(last - 3, last));  // ids last-5 and last-4 were used
    db.reset();
    db = std::move(*Database::open(path));
    CHECK(ok(db->reserve_ids(1)) == last - 3);
  }
  SUBCASE("a release after another reservation changes nothing") {
    auto db = std::move(*Database::open(path));
    auto other = std::move(*Database::open(path));  // e.g. a second process
    CHECK(ok(other->reserve_ids(10)) == last);
    ok(db->release_ids(last - 3, last));
    CHECK(ok(db->reserve_ids(1)) == last + 10);
  }
}

// Issue #13: a locked database is an error value the caller can retry, and the failed call
// changed nothing.
TEST_CASE("store::Database calls while another connection holds the write lock") {
  TempDir dir;
  const auto path = dir.path() / "x.db";
  Database::Options options;
  options.busy_timeout = std::chrono::milliseconds(50);
  auto db = std::move(*Database::open(path, options));
  const std::vector<FileSighting> a{sighting("a.png", 10)};
  ok(db->record(a));
  const Job job = all_pending(*db).at(0);
  WriteLock lock(path);

  SUBCASE("record fails store_busy, records nothing, and succeeds once the lock is gone") {
    const std::vector<FileSighting> b{sighting("b.png", 20), sighting("c.png", 30)};
    const auto busy = db->record(b);
    REQUIRE_FALSE(busy.ok());
    CHECK(busy.error().code == "store_busy");
    CHECK(mentions(busy.error(), "recording 2 file sightings"));
    CHECK(column_raw(path, "SELECT path FROM files") == std::vector<std::string>{"a.png"});
    lock.release();
    CHECK(ok(db->record(b)) == 2);
    CHECK(ok(db->pending_count()) == 3);
  }
  SUBCASE("commit fails store_busy, the file stays pending, and the same commit succeeds later") {
    lock.release();
    const std::int64_t id = ok(db->reserve_ids(1));
    const std::vector<StoredResult> results{result_for(job, id)};
    WriteLock again(path);
    const auto busy = db->commit(results);
    REQUIRE_FALSE(busy.ok());
    CHECK(busy.error().code == "store_busy");
    CHECK(mentions(busy.error(), "committing 1 results"));
    CHECK(ok(db->pending_count()) == 1);
    CHECK(ok(db->result_count()) == 0);
    again.release();
    ok(db->commit(results));
    CHECK(ok(db->pending_count()) == 0);
    CHECK(ok(db->current_result("/srv/crops", "a.png")) == R"({"id":)" + std::to_string(id) + "}");
  }
  SUBCASE("reserve_ids fails store_busy and hands out no id") {
    lock.release();
    const std::int64_t first = ok(db->reserve_ids(1));
    WriteLock again(path);
    const auto busy = db->reserve_ids(10);
    REQUIRE_FALSE(busy.ok());
    CHECK(busy.error().code == "store_busy");
    again.release();
    CHECK(ok(db->reserve_ids(1)) == first + 1);
  }
  SUBCASE("count_attempts fails store_busy and counts nothing") {
    const auto busy = db->count_attempts(std::vector<std::int64_t>{job.file_id});
    REQUIRE_FALSE(busy.ok());
    CHECK(busy.error().code == "store_busy");
    lock.release();
    CHECK(all_pending(*db).at(0).attempts == 0);
  }
  SUBCASE("reads still answer (WAL: the lock holder blocks writers only)") {
    CHECK(ok(db->pending_count()) == 1);
    CHECK(ok(db->file_state("/srv/crops", "a.png")).has_value());
  }
}

// Any other SQLite failure is `store_failed`, named after the call, and rolls the call back.
TEST_CASE("store::Database calls the database refuses") {
  TempDir dir;
  const auto path = dir.path() / "x.db";
  auto db = std::move(*Database::open(path));
  const std::vector<FileSighting> a{sighting("a.png", 10)};
  ok(db->record(a));
  const Job job = all_pending(*db).at(0);
  const std::vector<StoredResult> results{result_for(job, ok(db->reserve_ids(1)))};

  SUBCASE("a commit failing halfway fails store_failed and leaves no result behind") {
    // The results row goes in first, then the file's update fails: both must be undone.
    exec_raw(path,
             "CREATE TRIGGER refuse BEFORE UPDATE OF done ON files "
             "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
    const auto failed = db->commit(results);
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.error().code == "store_failed");
    CHECK(mentions(failed.error(), "committing 1 results"));
    CHECK(mentions(failed.error(), "refused by the test"));
    CHECK(ok(db->result_count()) == 0);
    CHECK(ok(db->pending_count()) == 1);
    exec_raw(path, "DROP TRIGGER refuse");
    ok(db->commit(results));
    CHECK(ok(db->pending_count()) == 0);
  }
  SUBCASE("a read-only database file fails store_failed, naming the call") {
    // Root writes whatever the mode says, so the file is only read-only for other users.
    if (::geteuid() == 0) {
      MESSAGE("skipped: running as root, a file mode cannot make the database read-only");
      return;
    }
    db.reset();
    std::filesystem::permissions(path, std::filesystem::perms::owner_read |
                                           std::filesystem::perms::group_read |
                                           std::filesystem::perms::others_read);
    auto read_only = Database::open(path);
    REQUIRE(read_only.ok());
    const std::vector<FileSighting> b{sighting("b.png", 20)};
    const auto failed = (*read_only)->record(b);
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.error().code == "store_failed");
    CHECK(mentions(failed.error(), "recording 1 file sightings"));
  }
}

TEST_SUITE_END();
