#include <inferwatch/infer/postprocessor.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

using inferwatch::config::Postprocess;
using inferwatch::config::PostprocessMode;
using inferwatch::config::Softmax;
using inferwatch::infer::is_probability_distribution;
using inferwatch::infer::Postprocessor;
using inferwatch::infer::Prediction;
using Scores = std::vector<float>;

namespace {

Postprocessor make(Softmax softmax, int top_k, std::vector<std::string> labels = {}) {
  return Postprocessor(Postprocess{PostprocessMode::classification, top_k, softmax},
                       std::move(labels));
}

std::vector<int> indices(const std::vector<Prediction>& predictions) {
  std::vector<int> out;
  for (const auto& p : predictions) out.push_back(p.index);
  return out;
}

std::vector<std::string> labels(const std::vector<Prediction>& predictions) {
  std::vector<std::string> out;
  for (const auto& p : predictions) out.push_back(p.label);
  return out;
}

}  // namespace

TEST_SUITE_BEGIN("infer");

TEST_CASE("infer::Postprocessor::classify") {
  SUBCASE("softmax turns logits into probabilities, highest first") {
    const auto top = make(Softmax::yes, 3).classify(Scores{1.0f, 2.0f, 3.0f});
    REQUIRE(top.size() == 3);
    CHECK(indices(top) == std::vector<int>{2, 1, 0});
    const double sum = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
    CHECK(top[0].score == doctest::Approx(std::exp(3.0) / sum));
    CHECK(top[1].score == doctest::Approx(std::exp(2.0) / sum));
    CHECK(top[2].score == doctest::Approx(std::exp(1.0) / sum));
    CHECK(top[0].score + top[1].score + top[2].score == doctest::Approx(1.0));
  }
  SUBCASE("softmax is stable for large logits") {
    const auto top = make(Softmax::yes, 2).classify(Scores{1000.0f, 999.0f});
    REQUIRE(top.size() == 2);
    CHECK(std::isfinite(top[0].score));
    CHECK(top[0].score + top[1].score == doctest::Approx(1.0));
    CHECK(top[0].score == doctest::Approx(1.0 / (1.0 + std::exp(-1.0))));
  }
  SUBCASE("softmax = yes applies it even to probabilities") {
    const auto top = make(Softmax::yes, 2).classify(Scores{0.0f, 1.0f});
    REQUIRE(top.size() == 2);
    CHECK(top[0].index == 1);
    CHECK(top[0].score == doctest::Approx(std::exp(1.0) / (1.0 + std::exp(1.0))));
  }
  SUBCASE("auto applies softmax to logits") {
    const auto top = make(Softmax::auto_detect, 3).classify(Scores{-1.0f, 2.0f, 0.5f});
    REQUIRE(top.size() == 3);
    CHECK(indices(top) == std::vector<int>{1, 2, 0});
    CHECK(top[0].score + top[1].score + top[2].score == doctest::Approx(1.0));
    const double sum = std::exp(-1.0) + std::exp(2.0) + std::exp(0.5);
    CHECK(top[0].score == doctest::Approx(std::exp(2.0) / sum));
  }
  SUBCASE("auto leaves probabilities untouched") {
    const auto top = make(Softmax::auto_detect, 3).classify(Scores{0.2f, 0.5f, 0.3f});
    REQUIRE(top.size() == 3);
    CHECK(indices(top) == std::vector<int>{1, 2, 0});
    CHECK(top[0].score == doctest::Approx(0.5));
    CHECK(top[1].score == doctest::Approx(0.3));
    CHECK(top[2].score == doctest::Approx(0.2));
  }
  SUBCASE("softmax = no keeps the raw values") {
    const auto top = make(Softmax::no, 3).classify(Scores{-1.5f, 5.0f, 2.25f});
    REQUIRE(top.size() == 3);
    CHECK(indices(top) == std::vector<int>{1, 2, 0});
    CHECK(top[0].score == 5.0);
    CHECK(top[1].score == 2.25);
    CHECK(top[2].score == -1.5);
  }
  SUBCASE("top_k keeps the k best") {
    const auto top = make(Softmax::no, 2).classify(Scores{0.1f, 0.4f, 0.3f, 0.2f});
    CHECK(indices(top) == std::vector<int>{1, 2});
  }
  SUBCASE("top_k larger than the number of classes gives every class") {
    const auto top = make(Softmax::auto_detect, 10).classify(Scores{0.25f, 0.75f});
    CHECK(indices(top) == std::vector<int>{1, 0});
  }
  SUBCASE("ties go to the lower index") {
    CHECK(indices(make(Softmax::auto_detect, 2).classify(Scores{0.5f, 0.5f})) ==
          std::vector<int>{0, 1});
    CHECK(indices(make(Softmax::yes, 3).classify(Scores{1.0f, 2.0f, 2.0f, 2.0f})) ==
          std::vector<int>{1, 2, 3});
    CHECK(indices(make(Softmax::no, 4).classify(Scores{3.0f, 7.0f, 3.0f, 7.0f})) ==
          std::vector<int>{1, 3, 0, 2});
  }
  SUBCASE("labels name the classes") {
    const auto top = make(Softmax::auto_detect, 3, {"circle", "square", "triangle"})
                         .classify(Scores{0.1f, 0.7f, 0.2f});
    CHECK(labels(top) == std::vector<std::string>{"square", "triangle", "circle"});
  }
  SUBCASE("without labels classes are class_<index>") {
    const auto top = make(Softmax::auto_detect, 3).classify(Scores{0.1f, 0.7f, 0.2f});
    CHECK(labels(top) == std::vector<std::string>{"class_1", "class_2", "class_0"});
  }
  SUBCASE("classes beyond the labels fall back to class_<index>") {
    const auto top = make(Softmax::auto_detect, 3, {"circle"}).classify(Scores{0.5f, 0.2f, 0.3f});
    CHECK(labels(top) == std::vector<std::string>{"circle", "class_2", "class_1"});
  }
  SUBCASE("no scores, no predictions") {
    CHECK(make(Softmax::yes, 3).classify(Scores{}).empty());
    CHECK(make(Softmax::auto_detect, 3).classify(Scores{}).empty());
  }
}

TEST_CASE("infer::is_probability_distribution") {
  SUBCASE("values in [0, 1] summing to 1") {
    CHECK(is_probability_distribution(Scores{0.2f, 0.8f}));
    CHECK(is_probability_distribution(Scores{1.0f}));
    CHECK(is_probability_distribution(Scores{0.0f, 1.0f, 0.0f}));
  }
  SUBCASE("float rounding within 1e-3 is tolerated") {
    CHECK(is_probability_distribution(Scores{0.3333f, 0.3333f, 0.3333f}));
  }
  SUBCASE("a sum other than 1") {
    CHECK_FALSE(is_probability_distribution(Scores{0.5f, 0.6f}));
    CHECK_FALSE(is_probability_distribution(Scores{0.1f, 0.1f}));
    CHECK_FALSE(is_probability_distribution(Scores{}));
  }
  SUBCASE("a value outside [0, 1] even if the sum is 1") {
    CHECK_FALSE(is_probability_distribution(Scores{-0.5f, 1.5f}));
  }
  SUBCASE("NaN") {
    CHECK_FALSE(is_probability_distribution(Scores{std::numeric_limits<float>::quiet_NaN(), 1.0f}));
  }
}

TEST_SUITE_END();
