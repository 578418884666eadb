#include <inferwatch/metrics/metrics.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>

using inferwatch::metrics::Metrics;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_SUITE_BEGIN("metrics");

TEST_CASE("metrics::Metrics model lifecycle") {
  Metrics m;

  SUBCASE("model_result counts by model, version, arm and status") {
    m.model_result("shapes", "v1", "live", true, 0.002);
    m.model_result("shapes", "v2", "shadow", false);
    m.model_result("shapes", "v2", "sideways", true);  // not an arm: counted as live
    const auto text = m.scrape();
    CHECK(has_line(
        text,
        R"(inferwatch_model_results_total{arm="live",model="shapes",status="ok",version="v1"} 1)"));
    CHECK(has_line(
        text,
        R"(inferwatch_model_results_total{arm="shadow",model="shapes",status="error",version="v2"} 1)"));
    CHECK(has_line(
        text,
        R"(inferwatch_model_results_total{arm="live",model="shapes",status="ok",version="v2"} 1)"));
    CHECK(has_line(
        text,
        R"(inferwatch_model_inference_seconds_count{arm="live",model="shapes",version="v1"} 1)"));
  }
  SUBCASE("verdicts, promotions and rollbacks; an unknown rollback reason is other") {
    m.model_gate_verdict("shapes", true);
    m.model_gate_verdict("shapes", false);
    m.model_promotion("shapes");
    m.model_rollback("shapes", "error_rate");
    m.model_rollback("shapes", "something new");
    const auto text = m.scrape();
    CHECK(has_line(text,
                   R"(inferwatch_model_gate_verdicts_total{model="shapes",result="passed"} 1)"));
    CHECK(has_line(text,
                   R"(inferwatch_model_gate_verdicts_total{model="shapes",result="refused"} 1)"));
    CHECK(has_line(text, R"(inferwatch_model_promotions_total{model="shapes"} 1)"));
    CHECK(has_line(text,
                   R"(inferwatch_model_rollbacks_total{model="shapes",reason="error_rate"} 1)"));
    CHECK(has_line(text, R"(inferwatch_model_rollbacks_total{model="shapes",reason="other"} 1)"));
  }
  SUBCASE("model_rollout: one state is 1, the agreement series exists only while measured") {
    m.model_rollout("shapes", "shadow", std::chrono::system_clock::from_time_t(1700000000), 40,
                    0.95);
    auto text = m.scrape();
    CHECK(has_line(text, R"(inferwatch_model_rollout_state{model="shapes",state="shadow"} 1)"));
    CHECK(has_line(text, R"(inferwatch_model_rollout_state{model="shapes",state="stable"} 0)"));
    CHECK(has_line(text, R"(inferwatch_model_rollout_files{model="shapes"} 40)"));
    CHECK(has_line(text, R"(inferwatch_model_rollout_agreement_ratio{model="shapes"} 0.95)"));
    CHECK(has_line(
        text, R"(inferwatch_model_rollout_started_timestamp_seconds{model="shapes"} 1700000000)"));
    m.model_rollout("shapes", "promoted", {}, 0, std::nullopt);
    text = m.scrape();
    CHECK(has_line(text, R"(inferwatch_model_rollout_state{model="shapes",state="shadow"} 0)"));
    CHECK(has_line(text, R"(inferwatch_model_rollout_state{model="shapes",state="promoted"} 1)"));
    CHECK(text.find("inferwatch_model_rollout_agreement_ratio{") == std::string::npos);
  }
  SUBCASE("model_versions replaces the model's version series") {
    m.model_versions("shapes", {{"v1", "live"}, {"v2", "candidate"}});
    m.model_versions("shapes", {{"v1", "retired"}, {"v2", "live"}});
    const auto text = m.scrape();
    CHECK(has_line(
        text, R"(inferwatch_model_version_info{model="shapes",state="retired",version="v1"} 1)"));
    CHECK(has_line(text,
                   R"(inferwatch_model_version_info{model="shapes",state="live",version="v2"} 1)"));
    CHECK(text.find(R"(state="candidate")") == std::string::npos);
    CHECK(text.find(R"(state="live",version="v1")") == std::string::npos);
    // The model's counters exist from now on, at 0, so increase() sees their first event.
    CHECK(has_line(text, R"(inferwatch_model_rollbacks_total{model="shapes",reason="manual"} 0)"));
    CHECK(has_line(text,
                   R"(inferwatch_model_gate_verdicts_total{model="shapes",result="refused"} 0)"));
    CHECK(has_line(text, R"(inferwatch_model_promotions_total{model="shapes"} 0)"));
  }
  SUBCASE("before_scrape refreshes run on every scrape") {
    int runs = 0;
    m.before_scrape([&] {
      ++runs;
      m.model_rollout("shapes", "canary", {}, runs, std::nullopt);
    });
    m.scrape();
    const auto text = m.scrape();
    CHECK(runs == 2);
    CHECK(has_line(text, R"(inferwatch_model_rollout_files{model="shapes"} 2)"));
  }
}

TEST_SUITE_END();
