// The feedback metrics (SPEC §11): counters per model version and outcome, the quality gauges
// replaced per version, and feedback_accuracy as a rollback reason of its own.
#include <inferwatch/metrics/metrics.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using inferwatch::metrics::Metrics;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_SUITE_BEGIN("metrics");

TEST_CASE("metrics::Metrics feedback") {
  Metrics m;

  SUBCASE("feedback_recorded counts by model, version and outcome") {
    m.feedback_recorded("shapes", "v2", true);
    m.feedback_recorded("shapes", "v2", true);
    m.feedback_recorded("shapes", "v2", false);
    const auto text = m.scrape();
    CHECK(has_line(
        text, R"(inferwatch_feedback_total{model="shapes",outcome="confirmed",version="v2"} 2)"));
    CHECK(has_line(
        text, R"(inferwatch_feedback_total{model="shapes",outcome="corrected",version="v2"} 1)"));
  }
  SUBCASE("feedback_quality sets results, accuracy and per-label ratios, and both counters") {
    m.feedback_quality("shapes", "v2", 6, 2, {{"circle", 0.75, 1.0}, {"square", 2.0 / 3, {}}});
    const auto text = m.scrape();
    CHECK(has_line(
        text, R"(inferwatch_feedback_results{model="shapes",outcome="confirmed",version="v2"} 6)"));
    CHECK(has_line(
        text, R"(inferwatch_feedback_results{model="shapes",outcome="corrected",version="v2"} 2)"));
    CHECK(
        has_line(text, R"(inferwatch_feedback_accuracy_ratio{model="shapes",version="v2"} 0.75)"));
    CHECK(has_line(
        text,
        R"(inferwatch_feedback_label_precision_ratio{label="circle",model="shapes",version="v2"} 0.75)"));
    CHECK(has_line(
        text,
        R"(inferwatch_feedback_label_recall_ratio{label="circle",model="shapes",version="v2"} 1)"));
    CHECK(text.find(R"(inferwatch_feedback_label_recall_ratio{label="square")") ==
          std::string::npos);
    CHECK(has_line(
        text, R"(inferwatch_feedback_total{model="shapes",outcome="corrected",version="v2"} 0)"));
  }
  SUBCASE("a later feedback_quality replaces the version's ratios, leaving other versions") {
    m.feedback_quality("shapes", "v1", 1, 1, {{"circle", 0.5, 0.5}});
    m.feedback_quality("shapes", "v2", 1, 0, {{"circle", 1.0, 1.0}});
    m.feedback_quality("shapes", "v2", 0, 0, {});
    const auto text = m.scrape();
    CHECK(text.find(R"(inferwatch_feedback_accuracy_ratio{model="shapes",version="v2"})") ==
          std::string::npos);
    CHECK(text.find(R"(label="circle",model="shapes",version="v2")") == std::string::npos);
    CHECK(has_line(text, R"(inferwatch_feedback_accuracy_ratio{model="shapes",version="v1"} 0.5)"));
  }
  SUBCASE("feedback_accuracy is a rollback reason of its own") {
    m.model_rollback("shapes", "feedback_accuracy");
    CHECK(has_line(
        m.scrape(),
        R"(inferwatch_model_rollbacks_total{model="shapes",reason="feedback_accuracy"} 1)"));
  }
}

TEST_SUITE_END();
