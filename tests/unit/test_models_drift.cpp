// Drift: samples, histograms, the population stability index, the sliding window and the stored
// form of a reference. Distributions small enough to check by hand.
#include <inferwatch/models/drift.hpp>

#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <cmath>
#include <vector>

using namespace inferwatch;
using models::drift_sample;
using models::DriftHistogram;
using models::DriftSample;
using models::DriftWindow;
using models::population_stability_index;

namespace {

double psi(const std::vector<std::uint64_t>& expected, const std::vector<std::uint64_t>& actual,
           double pseudo = models::k_drift_pseudo_count) {
  return population_stability_index(expected, actual, pseudo);
}

DriftHistogram histogram(const std::vector<DriftSample>& samples) {
  DriftHistogram h;
  for (const auto s : samples) h.add(s);
  return h;
}

}  // namespace

TEST_SUITE_BEGIN("models");

TEST_CASE("models::drift_sample") {
  SUBCASE("scores fall in tenths, 1.0 in the last bin") {
    CHECK(drift_sample(0, 0.0).score_bin == 0);
    CHECK(drift_sample(0, 0.0999).score_bin == 0);
    CHECK(drift_sample(0, 0.1).score_bin == 1);
    CHECK(drift_sample(0, 0.55).score_bin == 5);
    CHECK(drift_sample(0, 0.95).score_bin == 9);
    CHECK(drift_sample(0, 1.0).score_bin == 9);
  }
  SUBCASE("scores outside [0, 1] or not finite are clamped") {
    CHECK(drift_sample(0, 1.7).score_bin == 9);
    CHECK(drift_sample(0, -0.2).score_bin == 0);
    CHECK(drift_sample(0, std::nan("")).score_bin == 0);
  }
  SUBCASE("labels past the cap share the last bin") {
    CHECK(drift_sample(7, 0.5).label_bin == 7);
    CHECK(drift_sample(99, 0.5).label_bin == 99);
    CHECK(drift_sample(100, 0.5).label_bin == models::k_label_bins);
    CHECK(drift_sample(5000, 0.5).label_bin == models::k_label_bins);
  }
}

TEST_CASE("models::population_stability_index") {
  SUBCASE("equal proportions give 0, whatever the sizes") {
    CHECK(psi({10, 20, 30}, {100, 200, 300}, 0) == doctest::Approx(0.0));
    CHECK(psi({5, 5}, {5, 5}) == doctest::Approx(0.0));
  }
  SUBCASE("50/50 against 90/10 without smoothing") {
    // 0.4·ln(0.9/0.5) + (−0.4)·ln(0.1/0.5) = 0.2351 + 0.6438
    CHECK(psi({50, 50}, {90, 10}, 0) == doctest::Approx(0.87889).epsilon(1e-4));
  }
  SUBCASE("it is symmetric") {
    CHECK(psi({50, 50}, {90, 10}) == doctest::Approx(psi({90, 10}, {50, 50})));
  }
  SUBCASE("an empty bin on one side weighs by the pseudo count") {
    // expected (10.5, 0.5)/11, actual (5.5, 5.5)/11:
    // (0.5 − 0.95455)·ln(0.5/0.95455) + (0.5 − 0.04545)·ln(0.5/0.04545) = 0.29392 + 1.08995
    CHECK(psi({10, 0}, {5, 5}) == doctest::Approx(1.38387).epsilon(1e-4));
  }
  SUBCASE("bins empty on both sides are left out") {
    CHECK(psi({10, 0, 0, 0}, {5, 5, 0, 0}) == doctest::Approx(psi({10, 0}, {5, 5})));
    CHECK(psi({0, 50, 0, 50}, {0, 50, 0, 50}) == doctest::Approx(0.0));
  }
  SUBCASE("an empty side compares nothing") {
    CHECK(psi({0, 0}, {3, 4}) == 0.0);
    CHECK(psi({3, 4}, {0, 0}) == 0.0);
  }
  SUBCASE("a small shift stays under 0.1, a class taking over goes past 0.25") {
    CHECK(psi({25, 25, 25, 25}, {28, 24, 24, 24}) < 0.1);
    CHECK(psi({25, 25, 25, 25}, {100, 0, 0, 0}) > 0.25);
  }
}

TEST_CASE("models::drift_score") {
  const DriftHistogram reference = histogram(
      {drift_sample(0, 0.95), drift_sample(1, 0.95), drift_sample(0, 0.85), drift_sample(1, 0.85)});
  SUBCASE("the same population scores 0") {
    const auto score = models::drift_score(reference, reference);
    CHECK(score.labels == doctest::Approx(0.0));
    CHECK(score.scores == doctest::Approx(0.0));
    CHECK(score.value() == doctest::Approx(0.0));
  }
  SUBCASE("the same labels with lower scores drift on scores only") {
    const DriftHistogram window = histogram({drift_sample(0, 0.45), drift_sample(1, 0.45),
                                             drift_sample(0, 0.35), drift_sample(1, 0.35)});
    const auto score = models::drift_score(reference, window);
    CHECK(score.labels == doctest::Approx(0.0));
    CHECK(score.scores > 1.0);
    CHECK(score.value() == doctest::Approx(score.scores));
  }
  SUBCASE("one label only drifts on labels") {
    const DriftHistogram window = histogram({drift_sample(0, 0.95), drift_sample(0, 0.95),
                                             drift_sample(0, 0.85), drift_sample(0, 0.85)});
    const auto score = models::drift_score(reference, window);
    // labels (2.5, 2.5)/5 against (4.5, 0.5)/5: 0.4·ln(1.8) + 0.4·ln(5) = 0.23512 + 0.64378
    CHECK(score.labels == doctest::Approx(0.87889).epsilon(1e-4));
    CHECK(score.scores == doctest::Approx(0.0));
  }
}

TEST_CASE("models::DriftWindow") {
  DriftWindow window(3);
  SUBCASE("it counts what it holds until full") {
    window.add(drift_sample(1, 0.5));
    window.add(drift_sample(2, 0.5));
    CHECK(window.size() == 2);
    CHECK_FALSE(window.full());
    CHECK(window.histogram().labels[1] == 1);
    CHECK(window.histogram().scores[5] == 2);
  }
  SUBCASE("past its capacity the oldest sample leaves") {
    for (int label = 0; label < 5; ++label) window.add(drift_sample(label, 0.1 * label));
    CHECK(window.size() == 3);
    CHECK(window.full());
    const DriftHistogram expected =
        histogram({drift_sample(2, 0.2), drift_sample(3, 0.3), drift_sample(4, 0.4)});
    CHECK(window.histogram() == expected);
  }
}

TEST_CASE("models::drift_histogram_from_json") {
  const DriftHistogram h = histogram(
      {drift_sample(0, 0.95), drift_sample(3, 0.42), drift_sample(3, 0.95), drift_sample(140, 1)});
  SUBCASE("what to_json writes reads back equal") {
    const auto back = models::drift_histogram_from_json(models::to_json(h));
    REQUIRE(back.ok());
    CHECK(*back == h);
  }
  SUBCASE("it stores the label bins that counted something, and ten score bins") {
    CHECK(boost::json::serialize(models::to_json(h)) ==
          R"({"total":4,"labels":{"0":1,"3":2,"100":1},"scores":[0,0,0,0,1,0,0,0,0,3]})");
  }
  SUBCASE("counts that do not add up are refused") {
    const auto bad = boost::json::parse(
        R"({"total":5,"labels":{"0":1,"3":2,"100":1},"scores":[0,0,0,0,1,0,0,0,0,3]})");
    const auto back = models::drift_histogram_from_json(bad);
    REQUIRE_FALSE(back.ok());
    CHECK(back.error().code == "invalid_drift_histogram");
  }
  SUBCASE("a label bin past the cap, a negative count or nine score bins are refused") {
    for (const char* text :
         {R"({"total":1,"labels":{"101":1},"scores":[0,0,0,0,0,0,0,0,0,1]})",
          R"({"total":1,"labels":{"0":-1},"scores":[0,0,0,0,0,0,0,0,0,1]})",
          R"({"total":1,"labels":{"0":1},"scores":[0,0,0,0,0,0,0,0,1]})",
          R"({"total":1,"labels":{"x":1},"scores":[0,0,0,0,0,0,0,0,0,1]})", R"([1,2])"}) {
      CAPTURE(text);
      CHECK_FALSE(models::drift_histogram_from_json(boost::json::parse(text)).ok());
    }
  }
}

TEST_SUITE_END();
