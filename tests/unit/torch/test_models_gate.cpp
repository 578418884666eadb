// The gate's judgement on a golden set, with a fake model whose outputs follow from the image
// (light images score class 0, dark ones class 1), and the arithmetic it rests on.
#include <inferwatch/models/gate.hpp>
#include <inferwatch/models/gate_checks.hpp>

#include "../support/images.hpp"
#include "../support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <cmath>
#include <limits>
#include <numeric>

namespace inferwatch {
namespace {

using models::Gate;
using models::GateVerdict;
using test::TempDir;

// Raw output [mean, -mean] of the input: a white crop gives [1, -1], a black one [-1, 1].
class FakeModel final : public infer::Model {
 public:
  FakeModel() {
    m_info.name = "fake";
    m_info.version = "fake@000000000000";
    m_info.device = "cpu";
    m_info.labels = {"light", "dark"};
    m_info.channels = 1;
    m_info.height = 8;
    m_info.width = 8;
    m_info.max_batch_size = 4;
  }
  const infer::ModelInfo& info() const override { return m_info; }
  util::Result<std::vector<infer::ModelOutput>> forward(
      std::span<const infer::InputTensor* const> batch) override {
    std::vector<infer::ModelOutput> out;
    for (const auto* input : batch) {
      const double mean = std::accumulate(input->data.begin(), input->data.end(), 0.0) /
                          static_cast<double>(input->data.size());
      boost::json::array data{mean, -mean};
      for (int i = 2; i < width; ++i) data.push_back(0.0);
      if (nan) data[1] = nullptr;
      boost::json::array shape{width};
      out.push_back(infer::ModelOutput{
          {}, boost::json::object{{"shape", shape}, {"dtype", dtype}, {"data", data}}});
    }
    return out;
  }
  infer::ModelInfo m_info;
  int width = 2;
  std::string dtype = "Float";
  bool nan = false;
};

struct Fixture {
  TempDir dir;
  config::ModelManifest manifest;
  FakeModel* model = nullptr;
  std::unique_ptr<models::Engine> engine;

  Fixture() {
    manifest.directory = dir.path();
    manifest.name = "fake";
    manifest.version = "1";
    manifest.preprocess.height = manifest.preprocess.width = 8;
    manifest.postprocess.mode = config::PostprocessMode::classification;
    auto fake = std::make_unique<FakeModel>();
    model = fake.get();
    config::Postprocess raw;
    raw.mode = config::PostprocessMode::raw;
    engine = std::make_unique<models::Engine>(std::move(fake), manifest.preprocess, raw);
  }

  void image(const std::string& name, int grey) {
    dir.write("golden/" + name, test::encode(cv::Mat(16, 16, CV_8UC1, cv::Scalar(grey)), ".png"));
  }

  GateVerdict judge(models::GateOptions options = {}) {
    const auto golden = models::load_golden_set(dir.path());
    return Gate(options).judge(*engine, manifest, golden, {});
  }
};

std::vector<std::string> codes(const GateVerdict& v) {
  std::vector<std::string> out;
  for (const auto& r : v.reasons) out.push_back(r.code);
  return out;
}

}  // namespace

TEST_SUITE_BEGIN("models");

TEST_CASE("models::Gate::judge") {
  Fixture f;
  f.image("light/a.png", 255);
  f.image("light/b.png", 250);
  f.image("dark/c.png", 0);
  SUBCASE("a model right on every golden image passes, with its numbers") {
    const auto v = f.judge();
    CHECK(v.passed);
    CHECK(codes(v).empty());
    CHECK(v.numbers.golden_images == 3);
    CHECK(v.numbers.accuracy == 1.0);
    CHECK(v.numbers.latency_samples == 3 * 3);
    CHECK(v.model_version == "fake@000000000000");
  }
  SUBCASE("accuracy below min_accuracy, and too far below the live version's") {
    f.image("dark/d.png", 255);  // a light image labelled dark: 3 of 4
    f.manifest.gate.min_accuracy = 0.9;
    f.manifest.gate.max_accuracy_drop = 0.1;
    models::GateOptions options;
    options.live_accuracy = 0.9;
    const auto v = f.judge(options);
    CHECK(v.numbers.accuracy == 0.75);
    CHECK(codes(v) == std::vector<std::string>{"accuracy_below_threshold", "accuracy_drop"});
  }
  SUBCASE("the golden predictions, postprocessed as when serving, are the drift reference") {
    // White [1, −1] and near-white [0.96, −0.96] are light, black [−1, 1] is dark; after the
    // softmax each top-1 score is 0.87-0.88, in the tenth [0.8, 0.9).
    const auto v = f.judge();
    CHECK(v.golden_predictions.total == 3);
    CHECK(v.golden_predictions.labels[0] == 2);
    CHECK(v.golden_predictions.labels[1] == 1);
    CHECK(v.golden_predictions.scores[8] == 3);
  }
  SUBCASE("an accuracy within max_accuracy_drop of the live one passes") {
    models::GateOptions options;
    options.live_accuracy = 1.0;
    CHECK(f.judge(options).passed);
  }
  SUBCASE("expected outputs reproduced within the tolerance") {
    f.dir.write("golden/expected.jsonl",
                "{\"file\": \"dark/c.png\", \"output\": [-1.0, 1.0005]}\n"
                "{\"file\": \"light/a.png\", \"output\": [[1.0, -1.0]]}\n");
    const auto v = f.judge();
    CHECK(v.passed);
    CHECK(v.numbers.expected_outputs == 2);
    CHECK(v.numbers.max_output_diff == doctest::Approx(0.0005));
    CHECK(v.numbers.worst_file == "dark/c.png");
  }
  SUBCASE("an expected output off by more than the tolerance names the file") {
    f.dir.write("golden/expected.jsonl", "{\"file\": \"light/b.png\", \"output\": [0.5, -1.0]}\n");
    const auto v = f.judge();
    REQUIRE(codes(v) == std::vector<std::string>{"expected_output_mismatch"});
    CHECK(v.numbers.worst_file == "light/b.png");
    CHECK(v.reasons[0].message.find("light/b.png") != std::string::npos);
  }
  SUBCASE("an expected output of another length") {
    f.dir.write("golden/expected.jsonl", "{\"file\": \"light/b.png\", \"output\": [1, -1, 0]}\n");
    CHECK(codes(f.judge()) == std::vector<std::string>{"expected_output_mismatch"});
  }
  SUBCASE("output shape and dtype against [io]") {
    f.model->width = 3;
    f.model->dtype = "Double";
    f.manifest.io.output = {2};
    const auto v = f.judge();
    CHECK(codes(v) == std::vector<std::string>{"shape_mismatch", "dtype_mismatch"});
    CHECK(v.reasons[0].message == "the output per image is [3], model.toml says [2] (and 2 more)");
  }
  SUBCASE("without [io] output, a classification model gives one score per label") {
    f.model->width = 3;
    CHECK(codes(f.judge()) == std::vector<std::string>{"shape_mismatch"});
  }
  SUBCASE("NaN in the weights and in the outputs") {
    f.model->m_info.non_finite_parameters = 1;
    f.model->nan = true;
    const auto v = f.judge();
    CHECK(codes(v) == std::vector<std::string>{"non_finite_weights", "non_finite_output"});
    CHECK(v.numbers.accuracy == 0.0);
  }
  SUBCASE("a golden folder that is not a label, and a stray file") {
    f.image("square/e.png", 0);
    f.dir.write("golden/notes.txt", "x");
    const auto v = f.judge();
    REQUIRE(codes(v) == std::vector<std::string>{"golden_set_invalid"});
    CHECK(v.reasons[0].message.find("notes.txt") != std::string::npos);
    CHECK(v.reasons[0].message.ends_with("(and 1 more)"));
  }
  SUBCASE("a golden image that does not decode") {
    f.dir.write("golden/dark/broken.png", "not a png");
    CHECK(codes(f.judge()) == std::vector<std::string>{"golden_set_invalid"});
  }
  SUBCASE("a bad expected.jsonl line names its line") {
    f.dir.write("golden/expected.jsonl", "{\"file\": \"light/a.png\", \"output\": [1, -1]}\n{\n");
    const auto v = f.judge();
    REQUIRE(codes(v) == std::vector<std::string>{"golden_set_invalid"});
    CHECK(v.reasons[0].message.find("expected.jsonl:2: ") != std::string::npos);
  }
  SUBCASE("latency over budget") {
    f.manifest.gate.max_p50_ms = 1e-9;
    CHECK(codes(f.judge()) == std::vector<std::string>{"latency_over_budget"});
  }
  SUBCASE("the JSON form") {
    const auto json = models::to_json(f.judge());
    CHECK(json.at("passed").as_bool());
    CHECK(json.at("reasons").as_array().empty());
    CHECK(json.at("numbers").at("golden_images").to_number<int>() == 3);
    CHECK(json.at("numbers").at("accuracy").as_double() == 1.0);
    CHECK(json.at("numbers").at("live_accuracy").is_null());
    CHECK(json.at("policy").at("output_tolerance").as_double() == 1e-3);
  }
}

TEST_CASE("models::Gate::judge without a golden set") {
  Fixture f;
  SUBCASE("still checks one output of a mid-gray input") {
    f.model->width = 3;
    const auto v = f.judge();
    CHECK(codes(v) == std::vector<std::string>{"shape_mismatch"});
    CHECK_FALSE(v.numbers.accuracy.has_value());
  }
  SUBCASE("min_accuracy cannot be met without one") {
    f.manifest.gate.min_accuracy = 0.5;
    CHECK(codes(f.judge()) == std::vector<std::string>{"golden_set_invalid"});
  }
}

TEST_CASE("models::percentile") {
  SUBCASE("nearest rank") {
    CHECK(models::percentile({5, 1, 4, 2, 3}, 50) == 3);
    CHECK(models::percentile({5, 1, 4, 2, 3}, 99) == 5);
    CHECK(models::percentile({5, 1, 4, 2, 3}, 20) == 1);
  }
  SUBCASE("no samples") { CHECK(models::percentile({}, 50) == 0); }
}

TEST_CASE("models::top1") {
  SUBCASE("the first of equal maxima") { CHECK(models::top1({0.1, 0.7, 0.7}) == 1u); }
  SUBCASE("none with a NaN") {
    CHECK_FALSE(models::top1({0.1, std::numeric_limits<double>::quiet_NaN()}).has_value());
  }
}

TEST_CASE("models::max_abs_diff") {
  SUBCASE("largest difference") { CHECK(models::max_abs_diff({1, 2, 3}, {1, 2.5, 2}) == 1.0); }
  SUBCASE("lengths differ") { CHECK_FALSE(models::max_abs_diff({1, 2}, {1}).has_value()); }
}

TEST_CASE("models::output_tensor") {
  SUBCASE("the first tensor of a tuple, nulls counted as non-finite") {
    const auto raw = boost::json::parse(
        R"([{"shape": [2, 2], "dtype": "Float", "data": [[1, null], [3, 4]]}, 7])");
    const auto t = models::output_tensor(raw);
    REQUIRE(t);
    CHECK(t->shape == std::vector<std::int64_t>{2, 2});
    CHECK(t->dtype == "Float");
    CHECK(t->values.size() == 4);
    CHECK(t->non_finite == 1);
  }
  SUBCASE("not a tensor") {
    CHECK(models::output_tensor(boost::json::parse(R"({"a": 1})")).error().code == "not_a_tensor");
  }
}

TEST_SUITE_END();

}  // namespace inferwatch
