// Drift metrics: top-1 predictions by label, the top-1 score histogram in tenths, and the drift
// score gauge that is absent until measured.
#include <inferwatch/metrics/metrics.hpp>

#include <doctest/doctest.h>

#include <string>

using inferwatch::metrics::Metrics;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_SUITE_BEGIN("metrics");

TEST_CASE("metrics::Metrics::model_prediction") {
  Metrics m;
  m.model_prediction("shapes", "v1", "circle", 0.97);
  m.model_prediction("shapes", "v1", "circle", 0.42);
  m.model_prediction("shapes", "v1", "arrow", 1.0);
  const auto text = m.scrape();
  SUBCASE("it counts by model, version and label") {
    CHECK(has_line(
        text,
        R"(inferwatch_model_predictions_total{label="circle",model="shapes",version="v1"} 2)"));
    CHECK(has_line(
        text,
        R"(inferwatch_model_predictions_total{label="arrow",model="shapes",version="v1"} 1)"));
  }
  SUBCASE("the top-1 score histogram has fixed buckets in tenths") {
    CHECK(has_line(
        text, R"(inferwatch_model_top1_score_bucket{model="shapes",version="v1",le="0.4"} 0)"));
    CHECK(has_line(
        text, R"(inferwatch_model_top1_score_bucket{model="shapes",version="v1",le="0.5"} 1)"));
    CHECK(has_line(text,
                   R"(inferwatch_model_top1_score_bucket{model="shapes",version="v1",le="1"} 3)"));
    CHECK(has_line(text, R"(inferwatch_model_top1_score_count{model="shapes",version="v1"} 3)"));
  }
}

TEST_CASE("metrics::Metrics::model_drift") {
  Metrics m;
  SUBCASE("a measured score is one gauge per signal") {
    m.model_drift("shapes", "v1", 0.31, 0.04);
    const auto text = m.scrape();
    CHECK(has_line(
        text, R"(inferwatch_model_drift_score{model="shapes",signal="labels",version="v1"} 0.31)"));
    CHECK(has_line(
        text, R"(inferwatch_model_drift_score{model="shapes",signal="scores",version="v1"} 0.04)"));
  }
  SUBCASE("a score no longer measured is removed") {
    m.model_drift("shapes", "v1", 0.31, 0.04);
    m.model_drift("shapes", "v1", std::nullopt, std::nullopt);
    CHECK(m.scrape().find("inferwatch_model_drift_score{") == std::string::npos);
  }
}

TEST_SUITE_END();
