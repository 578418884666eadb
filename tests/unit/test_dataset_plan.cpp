// The incremental export's rules: what a second run does with a result the set already holds,
// and a manifest that survives its own text.
#include <inferwatch/dataset/manifest.hpp>
#include <inferwatch/dataset/plan.hpp>

#include <doctest/doctest.h>

using inferwatch::dataset::ManifestEntry;
using inferwatch::dataset::parse_manifest;
using inferwatch::dataset::plan_step;
using inferwatch::dataset::Step;
using inferwatch::dataset::to_json_line;
using inferwatch::dataset::to_text;

namespace {

ManifestEntry entry(std::int64_t result_id, std::int64_t feedback_id, std::string file) {
  ManifestEntry e;
  e.result_id = result_id;
  e.feedback_id = feedback_id;
  e.file = std::move(file);
  e.label = e.file.substr(0, e.file.find('/'));
  e.root = "/srv/crops";
  e.path = "alice/part.png";
  e.sha256 = std::string(64, 'a');
  e.model_version = "demo-shapes@0123456789ab";
  e.predicted_label = "circle";
  e.predicted_score = 0.75;
  e.user = "alice";
  e.feedback_at = "2026-11-23T10:00:00.000Z";
  e.exported_at = "2026-11-23T11:00:00.000Z";
  e.method = "hardlink";
  return e;
}

}  // namespace

TEST_SUITE_BEGIN("dataset");

TEST_CASE("dataset::plan_step") {
  const ManifestEntry before = entry(5, 10, "circle/5-part.png");
  SUBCASE("a result the set does not hold is added") {
    CHECK(plan_step(nullptr, false, 10, "circle") == Step::add);
  }
  SUBCASE("the same feedback again is kept: nothing read, nothing written") {
    CHECK(plan_step(&before, true, 10, "circle") == Step::keep);
  }
  SUBCASE("newer feedback with the same label updates the manifest only") {
    CHECK(plan_step(&before, true, 11, "circle") == Step::update);
  }
  SUBCASE("newer feedback with another label moves the example") {
    CHECK(plan_step(&before, true, 11, "square") == Step::relabel);
  }
  SUBCASE("an example whose file was removed from the set is added again") {
    CHECK(plan_step(&before, false, 10, "circle") == Step::add);
    CHECK(plan_step(&before, false, 11, "square") == Step::add);
  }
}

TEST_CASE("dataset::parse_manifest") {
  SUBCASE("its own text reads back as the same entries") {
    inferwatch::dataset::Manifest m;
    m[5] = entry(5, 10, "circle/5-part.png");
    m[7] = entry(7, 12, "square/7-caf\xef\xbf\xbd.png");
    m[7].path_bytes = "Y2Fm6S5wbmc=";
    m[7].predicted_score.reset();
    const auto back = parse_manifest(to_text(m));
    REQUIRE(back.ok());
    CHECK(*back == m);
  }
  SUBCASE("one line per entry, by result id") {
    inferwatch::dataset::Manifest m;
    m[9] = entry(9, 1, "circle/9-a.png");
    m[2] = entry(2, 1, "circle/2-a.png");
    const std::string text = to_text(m);
    CHECK(text == to_json_line(m[2]) + "\n" + to_json_line(m[9]) + "\n");
  }
  SUBCASE("empty lines are ignored") { CHECK(parse_manifest("\n\n")->empty()); }
  SUBCASE("a line that is not an entry is refused with its number") {
    const std::string text = to_json_line(entry(1, 1, "circle/1-a.png")) + "\n{\"result_id\":2}\n";
    const auto bad = parse_manifest(text);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().code == "manifest_unreadable");
    CHECK(bad.error().message.find("line 2") != std::string::npos);
  }
}

TEST_SUITE_END();
