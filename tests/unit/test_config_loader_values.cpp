// What a successful load yields: values applied, paths resolved against the config's directory,
// labels read from a file; and load_file / load_defaults.
#include <inferwatch/config/loader.hpp>

#include <inferwatch/config/printer.hpp>

#include "support/config.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

using namespace inferwatch::config;
using inferwatch::test::at;
using inferwatch::test::k_config_file;
using inferwatch::test::k_full_config;
using inferwatch::test::k_full_config_labels;
using inferwatch::test::Located;
using inferwatch::test::located;
using inferwatch::test::TempDir;
using Paths = std::vector<std::filesystem::path>;
using Strings = std::vector<std::string>;
using Problems = std::vector<Located>;

TEST_SUITE_BEGIN("config");

TEST_CASE("config::load_string values") {
  SUBCASE("every key of every section is applied") {
    TempDir dir;
    dir.write("labels.txt", k_full_config_labels);
    const auto file = dir / "inferwatch.toml";
    const auto loaded = load_string(k_full_config, file);
    REQUIRE(located(loaded.problems) == Problems{});
    const Config& c = loaded.config;
    CHECK(c.source == file);

    CHECK(c.watch.paths == Paths{dir / "inbox", "/srv/cad crops"});
    CHECK(c.watch.recursive == false);
    CHECK(c.watch.include == Strings{"*.png", "*.PNG"});
    CHECK(c.watch.exclude == Strings{"*_thumb.png"});
    CHECK(c.watch.settle_ms == 250);
    CHECK(c.watch.rescan_interval_s == 0);
    CHECK(c.watch.max_file_bytes == 1048576);

    CHECK(c.model.path == dir / "models/shapes.pt");
    CHECK(c.model.name == "shapes \"v2\" ünicode");
    CHECK(c.model.labels == Strings{"circle", "square", "triangle"});
    CHECK(c.model.labels_file == dir / "labels.txt");
    CHECK(c.model.device == "cuda:1");
    CHECK(c.model.precision == Precision::fp16);
    CHECK(c.model.threads == 4);
    CHECK(c.model.optimize == false);

    CHECK(c.preprocess.height == 224);
    CHECK(c.preprocess.width == 160);
    CHECK(c.preprocess.resize == ResizeMode::shorter_side_center_crop);
    CHECK(c.preprocess.shorter_side == 256);
    CHECK(c.preprocess.letterbox_fill == 0.25);
    CHECK(c.preprocess.colour == Colour::rgb);
    CHECK(c.preprocess.mean == std::vector<double>{0.485, 0.456, 0.406});
    CHECK(c.preprocess.std == std::vector<double>{0.229, 0.224, 0.225});
    CHECK(c.preprocess.max_pixels == 4000000);

    CHECK(c.postprocess.mode == PostprocessMode::raw);
    CHECK(c.postprocess.top_k == 5);
    CHECK(c.postprocess.softmax == Softmax::no);

    CHECK(c.batching.max_batch_size == 32);
    CHECK(c.batching.max_delay_ms == 0);

    CHECK(c.results.sidecar == false);
    CHECK(c.results.sidecar_suffix == ".inferwatch.json");

    CHECK(c.database.path == dir / "state/results.db");
    CHECK(c.database.retention_days == 30);

    CHECK(c.server.listen == "[::1]:0");
    CHECK(c.server.token_file == dir / "secrets/token");
    CHECK(c.server.threads == 4);
    CHECK(c.server.max_body_bytes == 1024);
    CHECK(c.server.max_header_bytes == 2048);
    CHECK(c.server.max_connections == 10);
    CHECK(c.server.idle_timeout_s == 5);
    CHECK(c.server.header_timeout_s == 3);
    CHECK(c.server.max_ws_clients == 0);
    CHECK(c.server.ws_queue_messages == 10);
    CHECK(c.server.ws_queue_bytes == 4096);

    CHECK(c.log.level == "debug");
    CHECK(c.log.format == LogFormat::json);
  }
  SUBCASE("keys not in the file keep their defaults") {
    const auto loaded = load_string("[watch]\nsettle_ms = 7\n", k_config_file);
    REQUIRE(loaded.problems.empty());
    CHECK(loaded.config.watch.settle_ms == 7);
    CHECK(loaded.config.watch.rescan_interval_s == 3600);
    CHECK(loaded.config.preprocess.height == 64);
    CHECK(loaded.config.server.listen == "127.0.0.1:8080");
  }
  SUBCASE("integers are accepted where a float is wanted") {
    const auto loaded =
        load_string("[preprocess]\nletterbox_fill = 1\nmean = [0]\nstd = [2]\n", k_config_file);
    REQUIRE(located(loaded.problems) == Problems{});
    CHECK(loaded.config.preprocess.letterbox_fill == 1.0);
    CHECK(loaded.config.preprocess.mean == std::vector<double>{0.0});
    CHECK(loaded.config.preprocess.std == std::vector<double>{2.0});
  }
  SUBCASE("size = N is an N×N square") {
    const auto loaded = load_string("[preprocess]\nsize = 224\n", k_config_file);
    REQUIRE(loaded.problems.empty());
    CHECK(loaded.config.preprocess.height == 224);
    CHECK(loaded.config.preprocess.width == 224);
  }
  SUBCASE("size = [H, W] is height first") {
    const auto loaded = load_string("[preprocess]\nsize = [32, 48]\n", k_config_file);
    REQUIRE(loaded.problems.empty());
    CHECK(loaded.config.preprocess.height == 32);
    CHECK(loaded.config.preprocess.width == 48);
  }
  SUBCASE("softmax = true, false or \"auto\"") {
    CHECK(
        load_string("[postprocess]\nsoftmax = true\n", k_config_file).config.postprocess.softmax ==
        Softmax::yes);
    CHECK(
        load_string("[postprocess]\nsoftmax = false\n", k_config_file).config.postprocess.softmax ==
        Softmax::no);
    CHECK(load_string("[postprocess]\nsoftmax = \"auto\"\n", k_config_file)
              .config.postprocess.softmax == Softmax::auto_detect);
  }
  SUBCASE("every spelling of every enum") {
    const auto resize = [](const char* v) {
      return load_string(std::string("[preprocess]\nresize = \"") + v + "\"\n", k_config_file)
          .config.preprocess.resize;
    };
    CHECK(resize("stretch") == ResizeMode::stretch);
    CHECK(resize("letterbox") == ResizeMode::letterbox);
    CHECK(resize("shorter-side+center-crop") == ResizeMode::shorter_side_center_crop);
    CHECK(
        load_string("[preprocess]\ncolour = \"gray\"\n", k_config_file).config.preprocess.colour ==
        Colour::gray);
    CHECK(load_string("[model]\nprecision = \"bf16\"\n", k_config_file).config.model.precision ==
          Precision::bf16);
    CHECK(load_string("[model]\nprecision = \"fp32\"\n", k_config_file).config.model.precision ==
          Precision::fp32);
    CHECK(load_string("[postprocess]\nmode = \"classification\"\n", k_config_file)
              .config.postprocess.mode == PostprocessMode::classification);
    const auto format = [](const char* v) {
      return load_string(std::string("[log]\nformat = \"") + v + "\"\n", k_config_file)
          .config.log.format;
    };
    CHECK(format("auto") == LogFormat::auto_detect);
    CHECK(format("text") == LogFormat::text);
    CHECK(format("json") == LogFormat::json);
    CHECK(format("journal") == LogFormat::journal);
  }
  SUBCASE("inline labels are taken as they are") {
    const auto loaded =
        load_string("[model]\nlabels = [\"circle\", \"big square\"]\n", k_config_file);
    REQUIRE(loaded.problems.empty());
    CHECK(loaded.config.model.labels == Strings{"circle", "big square"});
    CHECK(loaded.config.model.labels_file.empty());
  }
  SUBCASE("an empty file gives the defaults") {
    const auto loaded = load_string("", k_config_file);
    CHECK(loaded.problems.empty());
    CHECK(loaded.config.watch.settle_ms == 100);
    CHECK(loaded.sources.file == k_config_file);
  }
  SUBCASE("where each key was set is recorded") {
    const auto loaded = load_string(
        "[watch]\nsettle_ms = 5\n\n[server]\n  listen = \"127.0.0.1:1\"\n", k_config_file);
    REQUIRE(loaded.problems.empty());
    CHECK(loaded.sources.positions.at("watch.settle_ms") == std::pair{2, 13});
    CHECK(loaded.sources.positions.at("server.listen") == std::pair{5, 12});
    CHECK(loaded.sources.positions.count("watch.paths") == 0);
  }
}

TEST_CASE("config::load_string paths") {
  TempDir dir;
  const auto file = dir / "etc/inferwatch.toml";

  SUBCASE("relative paths are taken from the config file's directory") {
    const auto loaded = load_string(
        "[watch]\npaths = [\"inbox\", \"../shared/in\"]\n[model]\npath = "
        "\"m.pt\"\n[database]\npath = \"db/x.db\"\n"
        "[server]\ntoken_file = \"token\"\n",
        file);
    REQUIRE(located(loaded.problems) == Problems{});
    CHECK(loaded.config.watch.paths == Paths{dir / "etc/inbox", dir / "shared/in"});
    CHECK(loaded.config.model.path == dir / "etc/m.pt");
    CHECK(loaded.config.database.path == dir / "etc/db/x.db");
    CHECK(loaded.config.server.token_file == dir / "etc/token");
  }
  SUBCASE("absolute paths are kept") {
    const auto loaded =
        load_string("[watch]\npaths = [\"/srv/a\"]\n[database]\npath = \"/var/lib/x.db\"\n", file);
    REQUIRE(loaded.problems.empty());
    CHECK(loaded.config.watch.paths == Paths{"/srv/a"});
    CHECK(loaded.config.database.path == "/var/lib/x.db");
  }
  SUBCASE("empty optional paths stay empty") {
    const auto loaded = load_string("[model]\npath = \"\"\n[server]\ntoken_file = \"\"\n", file);
    REQUIRE(loaded.problems.empty());
    CHECK(loaded.config.model.path.empty());
    CHECK(loaded.config.server.token_file.empty());
  }
  SUBCASE("defaults not set in the file are made absolute from the working directory") {
    const auto loaded = load_string("", file);
    REQUIRE(loaded.problems.empty());
    const auto cwd = std::filesystem::current_path();
    CHECK(loaded.config.watch.paths == Paths{(cwd / "inbox").lexically_normal()});
    CHECK(loaded.config.database.path == (cwd / "inferwatch.db").lexically_normal());
  }
  SUBCASE("a config file named without a directory resolves against the working directory") {
    const auto loaded = load_string("[database]\npath = \"x.db\"\n", "inferwatch.toml");
    REQUIRE(loaded.problems.empty());
    CHECK(loaded.config.database.path ==
          (std::filesystem::current_path() / "x.db").lexically_normal());
  }
}

TEST_CASE("config::load_string labels file") {
  TempDir dir;
  const auto file = dir / "inferwatch.toml";

  SUBCASE("one label per line, read from next to the config") {
    dir.write("labels.txt", "circle\r\nsquare\n\n  \ntriangle  \n");
    const auto loaded = load_string("[model]\nlabels = \"labels.txt\"\n", file);
    REQUIRE(located(loaded.problems) == Problems{});
    CHECK(loaded.config.model.labels == Strings{"circle", "square", "triangle"});
    CHECK(loaded.config.model.labels_file == dir / "labels.txt");
  }
  SUBCASE("a relative name in a subfolder, and an absolute name") {
    const auto absolute = dir.write("meta/names.txt", "a\nb\n");
    const auto relative = load_string("[model]\nlabels = \"meta/names.txt\"\n", file);
    REQUIRE(relative.problems.empty());
    CHECK(relative.config.model.labels == Strings{"a", "b"});
    const auto full =
        load_string("[model]\nlabels = \"" + absolute.string() + "\"\n", k_config_file);
    REQUIRE(full.problems.empty());
    CHECK(full.config.model.labels == Strings{"a", "b"});
    CHECK(full.config.model.labels_file == absolute);
  }
  SUBCASE("a missing labels file is a problem naming the file") {
    const auto loaded = load_string("[model]\nlabels = \"nolabels.txt\"\n", file);
    CHECK(located(loaded.problems) ==
          Problems{Located{
              file.string(), 2, 10, "model.labels",
              "cannot open " + (dir / "nolabels.txt").string() + ": No such file or directory"}});
  }
  SUBCASE("a labels file with no labels is a problem naming the file") {
    dir.write("empty.txt", "\n \r\n");
    const auto loaded = load_string("[model]\nlabels = \"empty.txt\"\n", file);
    CHECK(located(loaded.problems) ==
          Problems{Located{file.string(), 2, 10, "model.labels",
                           (dir / "empty.txt").string() + " holds no labels"}});
  }
}

TEST_CASE("config::load_file") {
  TempDir dir;

  SUBCASE("reads the file and resolves paths against its directory") {
    dir.write("labels.txt", k_full_config_labels);
    const auto file = dir.write("inferwatch.toml", k_full_config);
    const auto loaded = load_file(file);
    REQUIRE(located(loaded.problems) == Problems{});
    CHECK(loaded.config.source == file);
    CHECK(loaded.sources.file == file.string());
    CHECK(loaded.config.watch.paths.front() == dir / "inbox");
    CHECK(loaded.config.model.labels == Strings{"circle", "square", "triangle"});
  }
  SUBCASE("problems name the file") {
    const auto file = dir.write("bad.toml", "[watch]\nsettle_ms = -1\n");
    CHECK(located(load_file(file).problems) ==
          Problems{Located{file.string(), 2, 13, "watch.settle_ms",
                           "-1 ms is out of range; allowed: 0 to 600000 ms"}});
  }
  SUBCASE("a missing file is one problem naming the file") {
    const auto file = dir / "missing.toml";
    const auto loaded = load_file(file);
    CHECK(located(loaded.problems) ==
          Problems{Located{file.string(), 0, 0, "",
                           "cannot open " + file.string() + ": No such file or directory"}});
  }
  SUBCASE("a directory is one problem naming it") {
    const auto loaded = load_file(dir.path());
    CHECK(located(loaded.problems) == Problems{Located{dir.path().string(), 0, 0, "",
                                                       dir.path().string() + " is a directory"}});
  }
}

TEST_CASE("config::load_file packaged config") {
  // config/inferwatch.toml documents every key with its built-in default, except the two paths.
  const auto file = std::filesystem::path(__FILE__).parent_path() / "../../config/inferwatch.toml";
  const auto loaded = load_file(file.lexically_normal());
  REQUIRE(located(loaded.problems) == Problems{});
  Config expected = load_defaults().config;
  expected.watch.paths = {"/srv/cad-crops"};
  expected.database.path = "/var/lib/inferwatch/inferwatch.db";
  CHECK(to_toml(loaded.config) == to_toml(expected));
}

TEST_CASE("config::load_defaults") {
  const auto loaded = load_defaults();
  const Config& c = loaded.config;
  const auto cwd = std::filesystem::current_path();

  SUBCASE("no problems, no source file") {
    CHECK(located(loaded.problems) == Problems{});
    CHECK(loaded.sources.file == "defaults");
    CHECK(c.source.empty());
  }
  SUBCASE("the documented defaults") {
    CHECK(c.watch.paths == Paths{(cwd / "inbox").lexically_normal()});
    CHECK(c.watch.recursive == true);
    CHECK(c.watch.include ==
          Strings{"*.png", "*.jpg", "*.jpeg", "*.bmp", "*.tif", "*.tiff", "*.webp"});
    CHECK(c.watch.exclude.empty());
    CHECK(c.watch.settle_ms == 100);
    CHECK(c.watch.rescan_interval_s == 3600);
    CHECK(c.watch.max_file_bytes == 268435456);

    CHECK(c.model.path.empty());
    CHECK(c.model.name.empty());
    CHECK(c.model.labels.empty());
    CHECK(c.model.labels_file.empty());
    CHECK(c.model.device == "auto");
    CHECK(c.model.precision == Precision::fp32);
    CHECK(c.model.threads == 0);
    CHECK(c.model.optimize == true);

    CHECK(c.preprocess.height == 64);
    CHECK(c.preprocess.width == 64);
    CHECK(c.preprocess.resize == ResizeMode::letterbox);
    CHECK(c.preprocess.shorter_side == 0);
    CHECK(c.preprocess.letterbox_fill == 1.0);
    CHECK(c.preprocess.colour == Colour::gray);
    CHECK(c.preprocess.mean == std::vector<double>{0.5});
    CHECK(c.preprocess.std == std::vector<double>{0.5});
    CHECK(c.preprocess.max_pixels == 100000000);

    CHECK(c.postprocess.mode == PostprocessMode::classification);
    CHECK(c.postprocess.top_k == 3);
    CHECK(c.postprocess.softmax == Softmax::auto_detect);

    CHECK(c.batching.max_batch_size == 16);
    CHECK(c.batching.max_delay_ms == 5);

    CHECK(c.results.sidecar == true);
    CHECK(c.results.sidecar_suffix == ".result.json");

    CHECK(c.database.path == (cwd / "inferwatch.db").lexically_normal());
    CHECK(c.database.retention_days == 0);

    CHECK(c.server.listen == "127.0.0.1:8080");
    CHECK(c.server.token_file.empty());
    CHECK(c.server.threads == 2);
    CHECK(c.server.max_body_bytes == 33554432);
    CHECK(c.server.max_header_bytes == 16384);
    CHECK(c.server.max_connections == 1024);
    CHECK(c.server.idle_timeout_s == 60);
    CHECK(c.server.header_timeout_s == 10);
    CHECK(c.server.max_ws_clients == 1000);
    CHECK(c.server.ws_queue_messages == 4096);
    CHECK(c.server.ws_queue_bytes == 16777216);

    CHECK(c.log.level == "info");
    CHECK(c.log.format == LogFormat::auto_detect);
  }
}

TEST_SUITE_END();
