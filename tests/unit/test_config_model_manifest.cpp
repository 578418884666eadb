// A model version's model.toml: the keys it shares with the daemon's config mean the same, its
// own tables ([io], [gate], [rollout]) are read and checked, and every problem names model.toml,
// the line and the key.
#include <inferwatch/config/model_manifest.hpp>

#include "support/config.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using inferwatch::config::load_manifest;
using inferwatch::config::load_manifest_string;
using inferwatch::config::LoadedManifest;
using inferwatch::test::Located;
using inferwatch::test::located;
using inferwatch::test::TempDir;
namespace config = inferwatch::config;
using Problems = std::vector<Located>;

namespace {

constexpr std::string_view k_full = R"(file = "shapes.pt"
labels = ["circle", "square"]
device = "cpu"
precision = "bf16"
threads = 2
optimize = false

[preprocess]
size = [32, 48]
resize = "stretch"
colour = "rgb"
mean = [0.5, 0.5, 0.5]
std = [0.25, 0.25, 0.25]

[postprocess]
top_k = 2
softmax = false

[batching]
max_batch_size = 4
max_delay_ms = 2

[io]
input = [3, 32, 48]
output = [2]
dtype = "float32"

[gate]
min_accuracy = 0.9
max_accuracy_drop = 0.05
output_tolerance = 0.01
max_p50_ms = 50
max_p99_ms = 200.5

[rollout]
mode = "canary"
canary_fraction = 0.25
min_files = 50
min_agreement = 0.8
max_error_rate = 0.1
max_latency_ratio = 1.5
auto_promote = false
)";

// The version directory tests pretend to read; nothing is touched unless a test writes files.
const std::filesystem::path k_dir = "/srv/models/shapes/v7";

Located at(int line, int column, std::string key, std::string message) {
  return Located{(k_dir / "model.toml").string(), line, column, std::move(key), std::move(message)};
}

Problems problems_of(std::string_view text) {
  return located(load_manifest_string(text, k_dir).problems);
}

}  // namespace

TEST_SUITE_BEGIN("config");

TEST_CASE("config::load_manifest_string") {
  SUBCASE("every key is read into the manifest") {
    const LoadedManifest loaded = load_manifest_string(k_full, k_dir);
    CHECK(located(loaded.problems) == Problems{});
    const config::ModelManifest& m = loaded.manifest;
    CHECK(m.directory == k_dir);
    CHECK(m.name == "shapes");
    CHECK(m.version == "v7");
    CHECK(m.model.name == "shapes");
    CHECK(m.model.path == k_dir / "shapes.pt");
    CHECK(m.model.labels == std::vector<std::string>{"circle", "square"});
    CHECK(m.model.device == "cpu");
    CHECK(m.model.precision == config::Precision::bf16);
    CHECK(m.model.threads == 2);
    CHECK_FALSE(m.model.optimize);
    CHECK(m.preprocess.height == 32);
    CHECK(m.preprocess.width == 48);
    CHECK(m.preprocess.resize == config::ResizeMode::stretch);
    CHECK(m.preprocess.colour == config::Colour::rgb);
    CHECK(m.postprocess.top_k == 2);
    CHECK(m.postprocess.softmax == config::Softmax::no);
    CHECK(m.batching.max_batch_size == 4);
    CHECK(m.batching.max_delay_ms == 2);
    CHECK(m.io.input == std::vector<std::int64_t>{3, 32, 48});
    CHECK(m.io.output == std::vector<std::int64_t>{2});
    CHECK(m.io.dtype == "float32");
    CHECK(m.gate.min_accuracy == 0.9);
    CHECK(m.gate.max_accuracy_drop == 0.05);
    CHECK(m.gate.output_tolerance == 0.01);
    CHECK(m.gate.max_p50_ms == 50.0);
    CHECK(m.gate.max_p99_ms == 200.5);
    CHECK(m.rollout.mode == config::RolloutMode::canary);
    CHECK(m.rollout.canary_fraction == 0.25);
    CHECK(m.rollout.min_files == 50);
    CHECK(m.rollout.min_agreement == 0.8);
    CHECK(m.rollout.max_error_rate == 0.1);
    CHECK(m.rollout.max_latency_ratio == 1.5);
    CHECK_FALSE(m.rollout.auto_promote);
  }
  SUBCASE("an empty model.toml is a model.pt with the daemon's defaults") {
    const LoadedManifest loaded = load_manifest_string("", k_dir);
    CHECK(located(loaded.problems) == Problems{});
    const config::Config defaults;
    CHECK(loaded.manifest.model.path == k_dir / "model.pt");
    CHECK(loaded.manifest.model.labels.empty());
    CHECK(loaded.manifest.preprocess.resize == defaults.preprocess.resize);
    CHECK(loaded.manifest.preprocess.mean == defaults.preprocess.mean);
    CHECK(loaded.manifest.gate.min_accuracy == 0.0);
    CHECK(loaded.manifest.rollout.mode == config::RolloutMode::immediate);
  }
  SUBCASE("to_config puts the version's tables into a daemon config") {
    const auto loaded = load_manifest_string(k_full, k_dir);
    config::Config base;
    base.server.threads = 7;
    const config::Config c = config::to_config(loaded.manifest, base);
    CHECK(c.server.threads == 7);
    CHECK(c.model.path == k_dir / "shapes.pt");
    CHECK(c.preprocess.colour == config::Colour::rgb);
    CHECK(c.postprocess.top_k == 2);
    CHECK(c.batching.max_batch_size == 4);
  }
}

TEST_CASE("config::load_manifest_string problems") {
  SUBCASE("a syntax error: line and column, no key") {
    const auto problems = problems_of("file = \n");
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].line == 1);
    CHECK(problems[0].message.starts_with("TOML syntax error: "));
  }
  SUBCASE("[preprocess] is checked as the daemon's is") {
    CHECK(problems_of("[preprocess]\ncolour = \"rgb\"\nmean = [0.5]\nstd = [1, 1, 1]\n") ==
          Problems{at(3, 8, "preprocess.mean", "needs 3 value(s) for colour \"rgb\", got 1")});
    CHECK(problems_of("[preprocess]\nresize = \"crop\"\n") ==
          Problems{at(2, 10, "preprocess.resize",
                      "\"crop\" is not one of stretch, letterbox, shorter-side+center-crop")});
  }
  SUBCASE("top-level keys are named as written, without the daemon's [model]") {
    CHECK(problems_of("device = \"tpu\"\n") ==
          Problems{at(1, 10, "device", "\"tpu\" is not auto, cpu, cuda or cuda:N")});
    CHECK(problems_of("devise = \"cpu\"\n") ==
          Problems{at(1, 1, "devise", "unknown key (did you mean \"device\"?)")});
  }
  SUBCASE("an unknown key in a table, with a hint") {
    CHECK(problems_of("[gate]\nmin_acuracy = 0.9\n") ==
          Problems{at(2, 1, "gate.min_acuracy", "unknown key (did you mean \"min_accuracy\"?)")});
  }
  SUBCASE("a table that is not one") {
    CHECK(problems_of("gate = 3\n") == Problems{at(1, 8, "gate", "[gate] must be a table")});
  }
  SUBCASE("the model file must be a name in the version directory") {
    CHECK(problems_of("file = \"../v1/model.pt\"\n") ==
          Problems{
              at(1, 8, "file", "\"../v1/model.pt\" must be a file name in the version directory")});
  }
  SUBCASE("[io] input must be what [preprocess] makes") {
    CHECK(problems_of("[io]\ninput = [3, 64, 64]\n") ==
          Problems{at(2, 9, "io.input",
                      "[3, 64, 64] is not what [preprocess] makes: [1, 64, 64] (colour \"gray\", "
                      "size [64, 64])")});
  }
  SUBCASE("[io] shapes are positive integers, dtype a known type") {
    CHECK(problems_of("[io]\noutput = [8, 0]\ndtype = \"float8\"\n") ==
          Problems{at(2, 14, "io.output", "every dimension must be a positive integer"),
                   at(3, 9, "io.dtype",
                      "\"float8\" is not one of float32, float16, bfloat16, float64, int64, "
                      "int32, bool")});
  }
  SUBCASE("a classification output has one score per label") {
    CHECK(problems_of("labels = [\"a\", \"b\"]\n[io]\noutput = [3]\n") ==
          Problems{at(3, 10, "io.output", "[3] scores but 2 labels")});
    CHECK(problems_of("[io]\noutput = [2, 4]\n") ==
          Problems{at(2, 10, "io.output",
                      "classification needs one score per label: [classes], got [2, 4]")});
  }
  SUBCASE("[gate] and [rollout] values out of range") {
    CHECK(problems_of("[gate]\nmin_accuracy = 1.5\nmax_p99_ms = -1\n[rollout]\nmode = \"blue\"\n"
                      "min_files = 0\nmax_latency_ratio = 0\n") ==
          Problems{at(2, 16, "gate.min_accuracy", "1.5 is out of range; allowed: 0 to 1"),
                   at(3, 14, "gate.max_p99_ms", "-1 ms must be a finite number ≥ 0"),
                   at(5, 8, "rollout.mode", "\"blue\" is not one of immediate, shadow, canary"),
                   at(6, 13, "rollout.min_files", "0 is out of range; allowed: 1 to 100000000"),
                   at(7, 21, "rollout.max_latency_ratio",
                      "0 is out of range; allowed: above 0 to 1000")});
  }
  SUBCASE("[rollout] feedback keys: read, and checked") {
    const LoadedManifest loaded = load_manifest_string(
        "[rollout]\nmin_feedback_accuracy = 0.85\nmin_feedback_count = 30\n", k_dir);
    CHECK(loaded.problems.empty());
    CHECK(loaded.manifest.rollout.min_feedback_accuracy == 0.85);
    CHECK(loaded.manifest.rollout.min_feedback_count == 30);
    CHECK(
        problems_of("[rollout]\nmin_feedback_accuracy = 1.5\nmin_feedback_count = 0\n") ==
        Problems{
            at(2, 25, "rollout.min_feedback_accuracy", "1.5 is out of range; allowed: 0 to 1"),
            at(3, 22, "rollout.min_feedback_count", "0 is out of range; allowed: 1 to 100000000")});
  }
}

TEST_CASE("config::load_manifest") {
  TempDir dir;
  const auto version = dir / "shapes/3";
  SUBCASE("a missing model.toml is one problem naming it") {
    std::filesystem::create_directories(version);
    const auto loaded = load_manifest(version);
    REQUIRE(loaded.problems.size() == 1);
    CHECK(loaded.problems[0].file == (version / "model.toml").string());
  }
  SUBCASE("labels from a named file in the directory") {
    dir.write("shapes/3/names.txt", "circle\nsquare\n");
    dir.write("shapes/3/model.toml", "labels = \"names.txt\"\n");
    const auto loaded = load_manifest(version);
    CHECK(located(loaded.problems) == Problems{});
    CHECK(loaded.manifest.model.labels == std::vector<std::string>{"circle", "square"});
  }
  SUBCASE("without a labels key, labels.txt beside the model") {
    dir.write("shapes/3/labels.txt", "a\nb\nc\n");
    dir.write("shapes/3/model.toml", "");
    const auto loaded = load_manifest(version);
    CHECK(loaded.manifest.model.labels == std::vector<std::string>{"a", "b", "c"});
  }
  SUBCASE("a labels file outside the version directory is refused") {
    dir.write("shapes/names.txt", "circle\n");
    dir.write("shapes/3/model.toml", "labels = \"../names.txt\"\n");
    const auto loaded = load_manifest(version);
    REQUIRE(loaded.problems.size() == 1);
    CHECK(loaded.problems[0].key == "labels");
    CHECK(loaded.problems[0].message == "a labels file must be in the version directory");
  }
}

TEST_SUITE_END();
