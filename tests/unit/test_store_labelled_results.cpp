// The export's query: each result with feedback once, with its latest feedback, filtered by the
// feedback's time and the result's model, from a read-only connection.
#include <inferwatch/store/labelled_results.hpp>

#include <inferwatch/store/database.hpp>
#include <inferwatch/store/feedback_store.hpp>

#include "support/ok.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using inferwatch::store::Database;
using inferwatch::store::FeedbackRow;
using inferwatch::store::FeedbackStore;
using inferwatch::store::FileSighting;
using inferwatch::store::FileVersion;
using inferwatch::store::LabelledQuery;
using inferwatch::store::read_labelled_results;
using inferwatch::store::StoredResult;
using inferwatch::test::ok;
using inferwatch::test::TempDir;

namespace {

std::int64_t result_of(Database& db, const std::string& path, std::int64_t size,
                       const std::string& model_version) {
  ok(db.record(std::vector<FileSighting>{
      FileSighting{"/srv/crops", path, FileVersion{1, 100 + size, size, 1000}}}));
  for (const auto& job : ok(db.pending(100))) {
    if (job.path != path) continue;
    StoredResult r;
    r.id = ok(db.reserve_ids(1));
    r.file_id = job.file_id;
    r.generation = job.generation;
    r.root = job.root;
    r.path = job.path;
    r.version = job.version;
    r.status = "ok";
    r.model_version = model_version;
    r.created_at = "2026-11-23T10:00:00.000Z";
    r.json = R"({"id":)" + std::to_string(r.id) +
             R"(,"sha256":"abc","predictions":[{"label":"circle","index":0,"score":0.75}]})";
    ok(db.commit(std::vector<StoredResult>{r}));
    return r.id;
  }
  FAIL("no pending job for the path");
  return 0;
}

FeedbackRow feedback(std::int64_t result_id, std::string label, std::string at) {
  FeedbackRow row;
  row.result_id = result_id;
  row.label = std::move(label);
  row.predicted_label = "circle";
  row.user = "alice";
  row.created_at = std::move(at);
  return row;
}

}  // namespace

TEST_SUITE_BEGIN("store");

TEST_CASE("store::read_labelled_results") {
  TempDir dir;
  const auto path = dir / "inferwatch.db";
  auto db = ok(Database::open(path));
  const auto a = result_of(*db, "a.png", 10, "shapes@v1");
  const auto b = result_of(*db, "b.png", 20, "shapes@v2");
  const auto c = result_of(*db, "c.png", 30, "parts@v1");
  result_of(*db, "none.png", 40, "shapes@v1");  // no feedback: never exported
  auto store = ok(FeedbackStore::open(path));
  ok(store->record(feedback(a, "circle", "2026-11-23T10:00:00.000Z")));
  ok(store->record(feedback(a, "square", "2026-11-23T12:00:00.000Z")));
  ok(store->record(feedback(b, "circle", "2026-11-23T11:00:00.000Z")));
  ok(store->record(feedback(c, "bolt", "2026-11-23T09:00:00.000Z")));

  SUBCASE("each result with feedback once, with its latest feedback and its file") {
    const auto got = ok(read_labelled_results(path, {}));
    REQUIRE(got.size() == 3);
    CHECK(got[0].result_id == a);
    CHECK(got[0].feedback.label == "square");
    CHECK(got[0].root == "/srv/crops");
    CHECK(got[0].raw_path == "a.png");
    CHECK(got[0].version.size == 10);
    CHECK(got[0].sha256 == "abc");
    CHECK(got[0].predicted_score == doctest::Approx(0.75));
    CHECK(got[0].current_result_id == a);
  }
  SUBCASE("since filters on the current feedback's time") {
    LabelledQuery q;
    q.since = "2026-11-23T10:30:00.000Z";
    const auto got = ok(read_labelled_results(path, q));
    REQUIRE(got.size() == 2);
    CHECK(got[0].result_id == a);  // its latest feedback is newer, its first older
    CHECK(got[1].result_id == b);
  }
  SUBCASE("a model name takes all its versions, a version only that one") {
    LabelledQuery q;
    q.model = "shapes";
    CHECK(ok(read_labelled_results(path, q)).size() == 2);
    q.version = "v2";
    const auto got = ok(read_labelled_results(path, q));
    REQUIRE(got.size() == 1);
    CHECK(got[0].result_id == b);
    q.model = "shape";  // a prefix of a name is not the name
    q.version.reset();
    CHECK(ok(read_labelled_results(path, q)).empty());
  }
  SUBCASE("a missing database is not created") {
    const auto got = read_labelled_results(dir / "none.db", {});
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().code == "database_unusable");
    CHECK_FALSE(std::filesystem::exists(dir / "none.db"));
  }
}

TEST_SUITE_END();
