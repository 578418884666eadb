// DriftMonitor: a version's reference (golden set, else its first results), its sliding window and
// score, and the reference kept across a restart in a real SQLite file.
#include <inferwatch/models/drift_monitor.hpp>

#include <inferwatch/store/drift_references.hpp>

#include "support/ok.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>

using namespace inferwatch;
using models::DriftMonitor;
using models::DriftOptions;
using models::DriftReferenceSource;
using test::ok;
using test::TempDir;

namespace {

DriftOptions small() { return DriftOptions{.window = 4, .reference = 4}; }

// Two labels, evenly, with high scores: the population the versions start with.
void feed_even(DriftMonitor& m, const std::string& version, int n = 4) {
  for (int i = 0; i < n; ++i) m.observe("shapes", version, i % 2, 0.95);
}

void feed_one_label(DriftMonitor& m, const std::string& version, int label, int n = 4) {
  for (int i = 0; i < n; ++i) m.observe("shapes", version, label, 0.95);
}

}  // namespace

TEST_SUITE_BEGIN("models");

TEST_CASE("models::DriftMonitor::observe") {
  DriftMonitor monitor(small(), nullptr);
  SUBCASE("no score until the reference is complete and the window full") {
    feed_even(monitor, "v1", 3);
    const auto s = monitor.status("shapes", "v1");
    REQUIRE(s);
    CHECK(s->source == DriftReferenceSource::first_results);
    CHECK(s->reference_results == 3);
    CHECK_FALSE(s->reference_complete);
    CHECK(s->window_results == 3);
    CHECK_FALSE(s->score);
  }
  SUBCASE("the first results are the reference, and the same population scores 0") {
    feed_even(monitor, "v1", 8);
    const auto s = monitor.status("shapes", "v1");
    REQUIRE(s->score);
    CHECK(s->reference_complete);
    CHECK(s->reference_results == 4);
    CHECK(s->score->value() == doctest::Approx(0.0));
  }
  SUBCASE("a window of one label drifts from an even reference") {
    feed_even(monitor, "v1");
    feed_one_label(monitor, "v1", 0);
    const auto s = monitor.status("shapes", "v1");
    REQUIRE(s->score);
    // (2.5, 2.5)/5 against (4.5, 0.5)/5
    CHECK(s->score->labels == doctest::Approx(0.87889).epsilon(1e-4));
    CHECK(s->score->scores == doctest::Approx(0.0));
  }
  SUBCASE("versions are apart") {
    feed_even(monitor, "v1");
    feed_one_label(monitor, "v2", 1);
    CHECK(monitor.status("shapes", "v1")->score->value() == doctest::Approx(0.0));
    CHECK(monitor.status("shapes", "v2")->score->value() == doctest::Approx(0.0));
    CHECK(monitor.status().size() == 2);
    CHECK_FALSE(monitor.status("shapes", "v3"));
  }
}

TEST_CASE("models::DriftMonitor::set_golden_reference") {
  DriftMonitor monitor(small(), nullptr);
  models::DriftHistogram golden;
  for (int label = 0; label < 4; ++label) golden.add(models::drift_sample(label, 0.95));
  SUBCASE("the golden set is the reference at once") {
    monitor.set_golden_reference("shapes", "v1", golden);
    const auto s = monitor.status("shapes", "v1");
    CHECK(s->source == DriftReferenceSource::golden);
    CHECK(s->reference_complete);
    CHECK(s->reference_results == 4);
    feed_one_label(monitor, "v1", 3);
    // (1.5 ×4)/6 against (0.5, 0.5, 0.5, 4.5)/6: 3·(1/12−1/4)·ln(1/3) + (3/4−1/4)·ln 3
    CHECK(monitor.status("shapes", "v1")->score->labels == doctest::Approx(1.09861).epsilon(1e-4));
  }
  SUBCASE("results seen before it do not become the reference") {
    feed_one_label(monitor, "v1", 3, 2);
    monitor.set_golden_reference("shapes", "v1", golden);
    feed_one_label(monitor, "v1", 3, 2);
    CHECK(monitor.status("shapes", "v1")->reference_results == 4);
    CHECK(monitor.status("shapes", "v1")->source == DriftReferenceSource::golden);
  }
  SUBCASE("an empty golden set changes nothing") {
    monitor.set_golden_reference("shapes", "v1", models::DriftHistogram{});
    CHECK_FALSE(monitor.status("shapes", "v1"));
  }
}

TEST_CASE("models::DriftMonitor::restore") {
  TempDir dir;
  const auto db = dir.path() / "inferwatch.db";
  SUBCASE("a completed reference survives a restart and is not rebased on later results") {
    {
      auto refs = ok(store::DriftReferences::open(db));
      DriftMonitor monitor(small(), refs.get());
      feed_even(monitor, "v1");
      ok(monitor.flush());
    }
    auto refs = ok(store::DriftReferences::open(db));
    DriftMonitor monitor(small(), refs.get());
    CHECK(ok(monitor.restore()).empty());
    const auto restored = monitor.status("shapes", "v1");
    REQUIRE(restored);
    CHECK(restored->reference_complete);
    CHECK(restored->reference_results == 4);
    feed_one_label(monitor, "v1", 0);
    CHECK(monitor.status("shapes", "v1")->score->labels == doctest::Approx(0.87889).epsilon(1e-4));
  }
  SUBCASE("a golden reference is stored with its source") {
    {
      auto refs = ok(store::DriftReferences::open(db));
      DriftMonitor monitor(small(), refs.get());
      models::DriftHistogram golden;
      golden.add(models::drift_sample(2, 0.7));
      monitor.set_golden_reference("shapes", "v2", golden);
    }  // stop() writes what is pending
    auto refs = ok(store::DriftReferences::open(db));
    const auto rows = ok(refs->load_all());
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].source == "golden");
    CHECK(rows[0].histogram == R"({"total":1,"labels":{"2":1},"scores":[0,0,0,0,0,0,0,1,0,0]})");
  }
  SUBCASE("a reference still gathering is not stored") {
    {
      auto refs = ok(store::DriftReferences::open(db));
      DriftMonitor monitor(small(), refs.get());
      feed_even(monitor, "v1", 3);
    }
    auto refs = ok(store::DriftReferences::open(db));
    CHECK(ok(refs->load_all()).empty());
  }
  SUBCASE("a row that does not read back is skipped with a warning") {
    auto refs = ok(store::DriftReferences::open(db));
    ok(refs->save({"shapes", "v1", "golden", "{\"total\":3}", "2026-12-01T00:00:00.000Z"}));
    DriftMonitor monitor(small(), refs.get());
    const auto warnings = ok(monitor.restore());
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("shapes@v1") != std::string::npos);
    CHECK_FALSE(monitor.status("shapes", "v1"));
  }
}

TEST_CASE("models::to_json(DriftStatus)") {
  DriftMonitor monitor(small(), nullptr);
  feed_even(monitor, "v1", 2);
  SUBCASE("no score is null") {
    CHECK(boost::json::serialize(models::to_json(*monitor.status("shapes", "v1"))) ==
          R"({"reference":{"source":"first_results","results":2,"complete":false},)"
          R"("window":{"results":2,"capacity":4},"score":null})");
  }
}

TEST_SUITE_END();
