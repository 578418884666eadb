// The model registry's table: rows round-trip, survive reopening, keep their first-stored order and
// created_at, share the file with the store's own connection, and report a locked database as a
// value.
#include <inferwatch/store/model_catalog.hpp>

#include <inferwatch/store/database.hpp>

#include "support/ok.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

using inferwatch::store::Database;
using inferwatch::store::ModelCatalog;
using inferwatch::store::ModelVersionRow;
using inferwatch::store::ModelVersionState;
using inferwatch::test::ok;
using inferwatch::test::TempDir;

namespace {

ModelVersionRow row(std::string model, std::string version, ModelVersionState state) {
  ModelVersionRow r;
  r.model = std::move(model);
  r.version = std::move(version);
  r.directory = "/srv/models/" + r.model + "/" + r.version;
  r.state = state;
  r.gate_json = R"({"passed":true})";
  r.rollout_json = R"({"state":"shadow"})";
  return r;
}

}  // namespace

TEST_SUITE_BEGIN("store");

TEST_CASE("store::ModelCatalog") {
  TempDir dir;
  const auto path = dir / "inferwatch.db";

  SUBCASE("put then versions returns every field, in the order first stored") {
    auto catalog = ok(ModelCatalog::open(path));
    const std::vector<ModelVersionRow> rows = {row("shapes", "v2", ModelVersionState::candidate),
                                               row("shapes", "v1", ModelVersionState::live),
                                               row("crops", "a", ModelVersionState::refused)};
    ok(catalog->put(rows, "2026-01-01T00:00:00.000Z"));
    const auto got = ok(catalog->versions());
    REQUIRE(got.size() == 3);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      CHECK(got[i].model == rows[i].model);
      CHECK(got[i].version == rows[i].version);
      CHECK(got[i].directory == rows[i].directory);
      CHECK(got[i].state == rows[i].state);
      CHECK(got[i].gate_json == rows[i].gate_json);
      CHECK(got[i].rollout_json == rows[i].rollout_json);
      CHECK(got[i].created_at == "2026-01-01T00:00:00.000Z");
      CHECK(got[i].updated_at == "2026-01-01T00:00:00.000Z");
    }
  }

  SUBCASE("put of a stored version updates it in place and keeps created_at") {
    auto catalog = ok(ModelCatalog::open(path));
    ok(catalog->put(std::vector{row("shapes", "v1", ModelVersionState::live),
                                row("shapes", "v2", ModelVersionState::candidate)},
                    "2026-01-01T00:00:00.000Z"));
    ModelVersionRow promoted = row("shapes", "v1", ModelVersionState::retired);
    promoted.rollout_json = R"({"state":"promoted"})";
    ok(catalog->put(std::vector{promoted}, "2026-01-02T00:00:00.000Z"));
    const auto got = ok(catalog->versions());
    REQUIRE(got.size() == 2);
    CHECK(got[0].version == "v1");
    CHECK(got[0].state == ModelVersionState::retired);
    CHECK(got[0].rollout_json == R"({"state":"promoted"})");
    CHECK(got[0].created_at == "2026-01-01T00:00:00.000Z");
    CHECK(got[0].updated_at == "2026-01-02T00:00:00.000Z");
    CHECK(got[1].state == ModelVersionState::candidate);
  }

  SUBCASE("rows survive reopening, beside the store's own connection") {
    auto store = ok(Database::open(path));
    {
      auto catalog = ok(ModelCatalog::open(path));
      ok(catalog->put(std::vector{row("shapes", "v1", ModelVersionState::live)}, "t"));
    }
    auto catalog = ok(ModelCatalog::open(path));
    const auto got = ok(catalog->versions());
    REQUIRE(got.size() == 1);
    CHECK(got[0].state == ModelVersionState::live);
    CHECK(ok(store->result_count()) == 0);  // the store's connection still works
  }

  SUBCASE(
      "put fails store_busy while another connection holds the write lock, and stores "
      "nothing") {
    auto catalog = ok(ModelCatalog::open(path, {std::chrono::milliseconds(50)}));
    sqlite3* other = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &other) == SQLITE_OK);
    REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
    const auto busy = catalog->put(std::vector{row("shapes", "v1", ModelVersionState::live)}, "t");
    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(other);
    REQUIRE_FALSE(busy.ok());
    CHECK(busy.error().code == "store_busy");
    CHECK(ok(catalog->versions()).empty());
  }

  SUBCASE("open of a file that is not a database fails database_unusable") {
    const auto file = dir.write("junk.db", std::string(4096, 'x'));
    const auto opened = ModelCatalog::open(file);
    REQUIRE_FALSE(opened.ok());
    CHECK(opened.error().code == "database_unusable");
  }
}

TEST_CASE("store::ModelCatalog::open locks") {
  TempDir dir;
  const auto path = dir.path() / "inferwatch.db";
  using inferwatch::store::CatalogLock;
  const auto with = [](CatalogLock lock, int wait_ms = 0) {
    ModelCatalog::Options o;
    o.lock = lock;
    o.lock_wait = std::chrono::milliseconds(wait_ms);
    return o;
  };

  SUBCASE("daemons share the lock") {
    auto first = ok(ModelCatalog::open(path, with(CatalogLock::shared)));
    CHECK(ModelCatalog::open(path, with(CatalogLock::shared)).ok());
    CHECK(std::filesystem::exists(inferwatch::store::catalog_lock_path(path)));
  }
  SUBCASE("an exclusive open is refused catalog_locked while a daemon holds it") {
    auto daemon = ok(ModelCatalog::open(path, with(CatalogLock::shared)));
    const auto offline = ModelCatalog::open(path, with(CatalogLock::exclusive));
    REQUIRE_FALSE(offline.ok());
    CHECK(offline.error().code == "catalog_locked");
    CHECK(offline.error().message.find("stop it first") != std::string::npos);
  }
  SUBCASE("the lock goes with the catalog") {
    ok(ModelCatalog::open(path, with(CatalogLock::shared)));
    CHECK(ModelCatalog::open(path, with(CatalogLock::exclusive)).ok());
  }
  SUBCASE("a daemon waits lock_wait for the offline holder, then fails catalog_locked") {
    auto offline = ok(ModelCatalog::open(path, with(CatalogLock::exclusive)));
    const auto daemon = ModelCatalog::open(path, with(CatalogLock::shared, 200));
    REQUIRE_FALSE(daemon.ok());
    CHECK(daemon.error().code == "catalog_locked");
  }
  SUBCASE("none takes no lock") {
    auto offline = ok(ModelCatalog::open(path, with(CatalogLock::exclusive)));
    CHECK(ModelCatalog::open(path, with(CatalogLock::none)).ok());
  }
}

TEST_CASE("store::model_version_state_from") {
  for (const auto state :
       {ModelVersionState::candidate, ModelVersionState::live, ModelVersionState::retired,
        ModelVersionState::refused, ModelVersionState::rolled_back, ModelVersionState::waiting,
        ModelVersionState::removed}) {
    CHECK(inferwatch::store::model_version_state_from(to_string(state)) == state);
  }
  CHECK_FALSE(inferwatch::store::model_version_state_from("promoted").has_value());
}

TEST_SUITE_END();
