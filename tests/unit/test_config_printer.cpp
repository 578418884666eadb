// to_toml: the effective configuration printed as TOML that loads back to the same Config.
#include <inferwatch/config/printer.hpp>

#include <inferwatch/config/loader.hpp>

#include "support/config.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace inferwatch::config;
using inferwatch::test::k_config_file;
using inferwatch::test::k_full_config;
using inferwatch::test::k_full_config_labels;
using inferwatch::test::Located;
using inferwatch::test::located;
using inferwatch::test::TempDir;
using Problems = std::vector<Located>;

namespace {

// Print `config`, load the text back (as if from `file`) and return the result.
Config reprinted(const Config& config, const std::filesystem::path& file) {
  const std::string text = to_toml(config);
  INFO("printed:\n" << text);
  const auto loaded = load_string(text, file);
  REQUIRE(located(loaded.problems) == Problems{});
  return loaded.config;
}

void check_same(const Config& a, const Config& b) {
  CHECK(a.watch.paths == b.watch.paths);
  CHECK(a.watch.recursive == b.watch.recursive);
  CHECK(a.watch.include == b.watch.include);
  CHECK(a.watch.exclude == b.watch.exclude);
  CHECK(a.watch.settle_ms == b.watch.settle_ms);
  CHECK(a.watch.rescan_interval_s == b.watch.rescan_interval_s);
  CHECK(a.watch.max_file_bytes == b.watch.max_file_bytes);
  CHECK(a.model.path == b.model.path);
  CHECK(a.model.name == b.model.name);
  CHECK(a.model.labels == b.model.labels);
  CHECK(a.model.labels_file == b.model.labels_file);
  CHECK(a.model.device == b.model.device);
  CHECK(a.model.precision == b.model.precision);
  CHECK(a.model.threads == b.model.threads);
  CHECK(a.model.optimize == b.model.optimize);
  CHECK(a.preprocess.height == b.preprocess.height);
  CHECK(a.preprocess.width == b.preprocess.width);
  CHECK(a.preprocess.resize == b.preprocess.resize);
  CHECK(a.preprocess.shorter_side == b.preprocess.shorter_side);
  CHECK(a.preprocess.letterbox_fill == b.preprocess.letterbox_fill);
  CHECK(a.preprocess.colour == b.preprocess.colour);
  CHECK(a.preprocess.mean == b.preprocess.mean);
  CHECK(a.preprocess.std == b.preprocess.std);
  CHECK(a.preprocess.max_pixels == b.preprocess.max_pixels);
  CHECK(a.postprocess.mode == b.postprocess.mode);
  CHECK(a.postprocess.top_k == b.postprocess.top_k);
  CHECK(a.postprocess.softmax == b.postprocess.softmax);
  CHECK(a.batching.max_batch_size == b.batching.max_batch_size);
  CHECK(a.batching.max_delay_ms == b.batching.max_delay_ms);
  CHECK(a.results.sidecar == b.results.sidecar);
  CHECK(a.results.sidecar_suffix == b.results.sidecar_suffix);
  CHECK(a.database.path == b.database.path);
  CHECK(a.database.retention_days == b.database.retention_days);
  CHECK(a.drift.window == b.drift.window);
  CHECK(a.drift.reference == b.drift.reference);
  CHECK(a.drift.golden_reference == b.drift.golden_reference);
  CHECK(a.server.listen == b.server.listen);
  CHECK(a.server.token_file == b.server.token_file);
  CHECK(a.server.threads == b.server.threads);
  CHECK(a.server.max_body_bytes == b.server.max_body_bytes);
  CHECK(a.server.max_header_bytes == b.server.max_header_bytes);
  CHECK(a.server.max_connections == b.server.max_connections);
  CHECK(a.server.idle_timeout_s == b.server.idle_timeout_s);
  CHECK(a.server.header_timeout_s == b.server.header_timeout_s);
  CHECK(a.server.max_ws_clients == b.server.max_ws_clients);
  CHECK(a.server.ws_queue_messages == b.server.ws_queue_messages);
  CHECK(a.server.ws_queue_bytes == b.server.ws_queue_bytes);
  CHECK(a.log.level == b.log.level);
  CHECK(a.log.format == b.log.format);
}

}  // namespace

TEST_SUITE_BEGIN("config");

TEST_CASE("config::to_toml") {
  TempDir dir;

  SUBCASE("a config with every key changed loads back equal") {
    dir.write("labels.txt", k_full_config_labels);
    const auto loaded = load_string(k_full_config, dir / "inferwatch.toml");
    REQUIRE(located(loaded.problems) == Problems{});
    const Config back = reprinted(loaded.config, dir / "printed/effective.toml");
    check_same(loaded.config, back);
    CHECK(to_toml(back) == to_toml(loaded.config));
  }
  SUBCASE("the defaults load back equal") {
    const Config defaults = load_defaults().config;
    check_same(defaults, reprinted(defaults, dir / "effective.toml"));
  }
  SUBCASE("inline labels with quotes, backslashes and non-ASCII load back equal") {
    Config c = load_defaults().config;
    c.model.labels = {"circle \"big\"", "it's", "back\\slash", "carré", "tab\there"};
    c.model.name = "a 'quoted' \"name\"";
    check_same(c, reprinted(c, k_config_file));
  }
  SUBCASE("every enum value loads back equal") {
    Config c = load_defaults().config;
    c.model.device = "cuda";
    for (const auto resize :
         {ResizeMode::stretch, ResizeMode::letterbox, ResizeMode::shorter_side_center_crop}) {
      c.preprocess.resize = resize;
      CHECK(reprinted(c, k_config_file).preprocess.resize == resize);
    }
    for (const auto precision : {Precision::fp32, Precision::fp16, Precision::bf16}) {
      c.model.precision = precision;
      CHECK(reprinted(c, k_config_file).model.precision == precision);
    }
    for (const auto softmax : {Softmax::auto_detect, Softmax::yes, Softmax::no}) {
      c.postprocess.softmax = softmax;
      CHECK(reprinted(c, k_config_file).postprocess.softmax == softmax);
    }
    for (const auto mode : {PostprocessMode::classification, PostprocessMode::raw}) {
      c.postprocess.mode = mode;
      CHECK(reprinted(c, k_config_file).postprocess.mode == mode);
    }
    for (const auto format :
         {LogFormat::auto_detect, LogFormat::text, LogFormat::json, LogFormat::journal}) {
      c.log.format = format;
      CHECK(reprinted(c, k_config_file).log.format == format);
    }
    c.preprocess.colour = Colour::rgb;
    c.preprocess.mean = {0.1, 0.2, 0.3};
    c.preprocess.std = {0.4, 0.5, 0.6};
    CHECK(reprinted(c, k_config_file).preprocess.colour == Colour::rgb);
  }
  SUBCASE("doubles keep their exact value") {
    Config c = load_defaults().config;
    c.preprocess.mean = {1.0 / 3.0};
    c.preprocess.std = {0.1 + 0.2};
    c.preprocess.letterbox_fill = 0.1;
    check_same(c, reprinted(c, k_config_file));
  }
}

TEST_CASE("config::to_string") {
  SUBCASE("enum values are spelt as in TOML") {
    CHECK(to_string(ResizeMode::stretch) == "stretch");
    CHECK(to_string(ResizeMode::letterbox) == "letterbox");
    CHECK(to_string(ResizeMode::shorter_side_center_crop) == "shorter-side+center-crop");
    CHECK(to_string(Colour::rgb) == "rgb");
    CHECK(to_string(Colour::gray) == "gray");
    CHECK(to_string(PostprocessMode::classification) == "classification");
    CHECK(to_string(PostprocessMode::raw) == "raw");
    CHECK(to_string(Softmax::auto_detect) == "auto");
    CHECK(to_string(Softmax::yes) == "true");
    CHECK(to_string(Softmax::no) == "false");
    CHECK(to_string(Precision::fp32) == "fp32");
    CHECK(to_string(Precision::fp16) == "fp16");
    CHECK(to_string(Precision::bf16) == "bf16");
    CHECK(to_string(LogFormat::auto_detect) == "auto");
    CHECK(to_string(LogFormat::text) == "text");
    CHECK(to_string(LogFormat::json) == "json");
    CHECK(to_string(LogFormat::journal) == "journal");
  }
}

TEST_SUITE_END();
