// Feedback on results: rows append, the latest is current with the one before as `previous`, a
// result that does not exist or is no longer its file's current result is refused, and a page's
// feedback is read in one call.
#include <inferwatch/store/feedback_store.hpp>

#include <inferwatch/store/database.hpp>

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
using inferwatch::store::LabelPair;
using inferwatch::store::StoredResult;
using inferwatch::test::ok;
using inferwatch::test::TempDir;

namespace {

// Record a version of `path` (its size tells versions apart) and commit its result; return the
// result's id.
std::int64_t result_of(Database& db, const std::string& path, std::int64_t size,
                       const std::string& model_version = "demo-shapes@0123456789ab") {
  const std::vector<FileSighting> seen{
      FileSighting{"/srv/crops", path, FileVersion{1, 100, size, 1000}}};
  ok(db.record(seen));
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
    r.json = R"({"id":)" + std::to_string(r.id) + "}";
    ok(db.commit(std::vector<StoredResult>{r}));
    return r.id;
  }
  FAIL("no pending job for the path");
  return 0;
}

FeedbackRow feedback(std::int64_t result_id, std::string label, std::string user, std::string at,
                     std::string predicted = "circle") {
  FeedbackRow row;
  row.result_id = result_id;
  row.label = std::move(label);
  row.predicted_label = std::move(predicted);
  row.user = std::move(user);
  row.comment = "looked at it";
  row.created_at = std::move(at);
  return row;
}

}  // namespace

TEST_SUITE_BEGIN("store");

TEST_CASE("store::FeedbackStore::record") {
  TempDir dir;
  const auto path = dir / "inferwatch.db";
  auto db = ok(Database::open(path));
  const std::int64_t id = result_of(*db, "a.png", 10);
  auto store = ok(FeedbackStore::open(path));

  SUBCASE("the first feedback is current, with no previous and a history of one") {
    const auto got = ok(store->record(feedback(id, "circle", "alice", "2026-11-23T10:01:00.000Z")));
    CHECK(got.latest.result_id == id);
    CHECK(got.latest.label == "circle");
    CHECK(got.latest.predicted_label == "circle");
    CHECK(got.latest.user == "alice");
    CHECK(got.latest.comment == "looked at it");
    CHECK(got.latest.created_at == "2026-11-23T10:01:00.000Z");
    CHECK_FALSE(got.previous.has_value());
    CHECK(got.history_count == 1);
  }

  SUBCASE("a second feedback appends: it is current and the first is its previous") {
    ok(store->record(feedback(id, "circle", "alice", "2026-11-23T10:01:00.000Z")));
    const auto got = ok(store->record(feedback(id, "square", "bob", "2026-11-23T10:02:00.000Z")));
    CHECK(got.latest.label == "square");
    CHECK(got.latest.user == "bob");
    REQUIRE(got.previous.has_value());
    CHECK(got.previous->label == "circle");
    CHECK(got.previous->user == "alice");
    CHECK(got.history_count == 2);
  }

  SUBCASE("an unknown result is refused as unknown_result and stores nothing") {
    const auto got = store->record(feedback(id + 100, "circle", "alice", "t"));
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().code == "unknown_result");
    const std::vector<std::int64_t> ids{id + 100};
    CHECK(ok(store->current(ids)).empty());
  }

  SUBCASE("a result superseded by a newer version's result is refused, naming the current one") {
    const std::int64_t newer = result_of(*db, "a.png", 11);
    const auto got = store->record(feedback(id, "circle", "alice", "t"));
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().code == "superseded");
    CHECK(got.error().message.find("result " + std::to_string(newer)) != std::string::npos);
    ok(store->record(feedback(newer, "circle", "alice", "t")));  // the current one takes it
  }

  SUBCASE("feedback survives reopening the database") {
    ok(store->record(feedback(id, "square", "bob", "t")));
    store.reset();
    auto reopened = ok(FeedbackStore::open(path));
    const std::vector<std::int64_t> ids{id};
    const auto got = ok(reopened->current(ids));
    REQUIRE(got.count(id) == 1);
    CHECK(got.at(id).latest.label == "square");
  }
}

TEST_CASE("store::FeedbackStore::current") {
  TempDir dir;
  const auto path = dir / "inferwatch.db";
  auto db = ok(Database::open(path));
  const std::int64_t a = result_of(*db, "a.png", 10);
  const std::int64_t b = result_of(*db, "b.png", 10);
  const std::int64_t c = result_of(*db, "c.png", 10);
  auto store = ok(FeedbackStore::open(path));

  SUBCASE("each result with feedback gets its latest, previous and count; others are absent") {
    ok(store->record(feedback(a, "circle", "alice", "1")));
    ok(store->record(feedback(a, "square", "bob", "2")));
    ok(store->record(feedback(a, "triangle", "carol", "3")));
    ok(store->record(feedback(c, "circle", "dave", "4")));
    const std::vector<std::int64_t> ids{a, b, c};
    const auto got = ok(store->current(ids));
    CHECK(got.size() == 2);
    REQUIRE(got.count(a) == 1);
    CHECK(got.at(a).latest.label == "triangle");
    REQUIRE(got.at(a).previous.has_value());
    CHECK(got.at(a).previous->label == "square");
    CHECK(got.at(a).history_count == 3);
    CHECK(got.count(b) == 0);
    REQUIRE(got.count(c) == 1);
    CHECK(got.at(c).latest.user == "dave");
    CHECK_FALSE(got.at(c).previous.has_value());
    CHECK(got.at(c).history_count == 1);
  }

  SUBCASE("no ids, no query") { CHECK(ok(store->current({})).empty()); }
}

TEST_CASE("store::FeedbackStore::label_pairs") {
  TempDir dir;
  const auto path = dir / "inferwatch.db";
  auto db = ok(Database::open(path));
  const std::int64_t a = result_of(*db, "a.png", 10, "shapes@1");
  const std::int64_t b = result_of(*db, "b.png", 10, "shapes@1");
  const std::int64_t c = result_of(*db, "c.png", 10, "shapes@2");
  const std::int64_t d = result_of(*db, "d.png", 10, "shapes-old@1");
  result_of(*db, "e.png", 10, "shapes@1");  // no feedback
  auto store = ok(FeedbackStore::open(path));
  ok(store->record(feedback(a, "circle", "alice", "2026-11-23T10:00:00.000Z")));
  ok(store->record(feedback(a, "square", "bob", "2026-11-23T12:00:00.000Z")));  // a's current
  ok(store->record(feedback(b, "circle", "alice", "2026-11-23T11:00:00.000Z")));
  ok(store->record(feedback(c, "triangle", "alice", "2026-11-23T11:00:00.000Z", "square")));
  ok(store->record(feedback(d, "circle", "alice", "2026-11-23T11:00:00.000Z")));
  using Pairs = std::vector<LabelPair>;

  SUBCASE("a version's results each count once, with their current feedback") {
    CHECK(ok(store->label_pairs("shapes", "1", std::nullopt)) ==
          Pairs{{"circle", "square"}, {"circle", "circle"}});
  }

  SUBCASE("without a version, every version of the model and no other model") {
    CHECK(ok(store->label_pairs("shapes", std::nullopt, std::nullopt)) ==
          Pairs{{"circle", "square"}, {"circle", "circle"}, {"square", "triangle"}});
  }

  SUBCASE("since keeps the results whose current feedback is at or after it") {
    CHECK(ok(store->label_pairs("shapes", "1", "2026-11-23T11:00:00.000Z")) ==
          Pairs{{"circle", "square"}, {"circle", "circle"}});
    CHECK(ok(store->label_pairs("shapes", "1", "2026-11-23T11:00:00.001Z")) ==
          Pairs{{"circle", "square"}});
  }

  SUBCASE("a result superseded after its feedback still counts") {
    result_of(*db, "a.png", 11, "shapes@1");
    CHECK(ok(store->label_pairs("shapes", "1", std::nullopt)).size() == 2);
  }

  SUBCASE("an unknown version has no pairs") {
    CHECK(ok(store->label_pairs("shapes", "9", std::nullopt)).empty());
  }

  SUBCASE("versions_with_feedback lists each model version once, sorted") {
    CHECK(ok(store->versions_with_feedback()) ==
          std::vector<std::string>{"shapes-old@1", "shapes@1", "shapes@2"});
  }
}

TEST_SUITE_END();
