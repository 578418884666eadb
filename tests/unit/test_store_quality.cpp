// Quality on feedback: accuracy, per-label precision/recall/support and the confusion matrix,
// with numbers small enough to check by hand.
#include <inferwatch/store/quality.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using inferwatch::store::compute_quality;
using inferwatch::store::LabelPair;

namespace {

std::vector<LabelPair> repeat(const std::string& predicted, const std::string& given, int n) {
  return std::vector<LabelPair>(static_cast<std::size_t>(n), LabelPair{predicted, given});
}

std::vector<LabelPair> operator+(std::vector<LabelPair> a, const std::vector<LabelPair>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST_SUITE_BEGIN("store");

TEST_CASE("store::compute_quality") {
  const std::vector<std::string> order{"circle", "square", "triangle", "star"};
  // 8 results with feedback, 6 confirmed: circle→square once, square→triangle once.
  const auto pairs = repeat("circle", "circle", 3) + repeat("circle", "square", 1) +
                     repeat("square", "square", 2) + repeat("square", "triangle", 1) +
                     repeat("triangle", "triangle", 1);

  SUBCASE("accuracy is confirmed results over results with feedback") {
    const auto q = compute_quality(pairs, order);
    CHECK(q.count == 8);
    CHECK(q.correct == 6);
    REQUIRE(q.accuracy);
    CHECK(*q.accuracy == doctest::Approx(0.75));
  }

  SUBCASE("the confusion matrix is predicted (rows) by given (columns) in the model's order") {
    const auto q = compute_quality(pairs, order);
    CHECK(q.labels == order);
    const std::vector<std::vector<std::int64_t>> expected{
        {3, 1, 0, 0}, {0, 2, 1, 0}, {0, 0, 1, 0}, {0, 0, 0, 0}};
    CHECK(q.confusion == expected);
  }

  SUBCASE("precision is correct over predicted, recall correct over support") {
    const auto q = compute_quality(pairs, order);
    REQUIRE(q.per_label.size() == 4);
    const auto& circle = q.per_label[0];
    CHECK(circle.label == "circle");
    CHECK(circle.predicted == 4);
    CHECK(circle.support == 3);
    CHECK(circle.correct == 3);
    CHECK(*circle.precision == doctest::Approx(0.75));
    CHECK(*circle.recall == doctest::Approx(1.0));
    const auto& square = q.per_label[1];
    CHECK(*square.precision == doctest::Approx(2.0 / 3.0));
    CHECK(*square.recall == doctest::Approx(2.0 / 3.0));
    const auto& triangle = q.per_label[2];
    CHECK(*triangle.precision == doctest::Approx(1.0));
    CHECK(*triangle.recall == doctest::Approx(0.5));
  }

  SUBCASE("a label without predictions or feedback has no precision or recall") {
    const auto q = compute_quality(pairs, order);
    const auto& star = q.per_label[3];
    CHECK(star.support == 0);
    CHECK(star.predicted == 0);
    CHECK_FALSE(star.precision);
    CHECK_FALSE(star.recall);
  }

  SUBCASE("labels outside the model's order follow it, sorted") {
    const auto q = compute_quality(
        pairs + repeat("circle", "hexagon", 1) + repeat("blob", "circle", 1), order);
    CHECK(q.labels ==
          std::vector<std::string>{"circle", "square", "triangle", "star", "blob", "hexagon"});
    CHECK(q.confusion[0][5] == 1);  // predicted circle, given hexagon
    CHECK(q.confusion[4][0] == 1);  // predicted blob, given circle
    CHECK(q.count == 10);
    CHECK(*q.accuracy == doctest::Approx(0.6));
  }

  SUBCASE("no feedback: zero counts, no accuracy, every label listed") {
    const auto q = compute_quality({}, order);
    CHECK(q.count == 0);
    CHECK_FALSE(q.accuracy);
    CHECK(q.labels == order);
    CHECK(q.confusion == std::vector<std::vector<std::int64_t>>(4, std::vector<std::int64_t>(4)));
  }
}

TEST_SUITE_END();
