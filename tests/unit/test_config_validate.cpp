// Every value and combination check of src/config/validate.cpp, through load_string (so each
// problem is located at the line and column of the value) and through validate() directly.
#include <inferwatch/config/loader.hpp>

#include "support/config.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace inferwatch::config;
using inferwatch::test::at;
using inferwatch::test::Located;
using inferwatch::test::located;
using inferwatch::test::problems_of;
using Problems = std::vector<Located>;

namespace {

// The problems of `[section]\nline\n`, whose value line is line 2.
Problems problems_of(const std::string& section, const std::string& line) {
  return inferwatch::test::problems_of("[" + section + "]\n" + line + "\n");
}

}  // namespace

TEST_SUITE_BEGIN("config");

TEST_CASE("config::validate watch") {
  SUBCASE("paths must not be empty") {
    CHECK(problems_of("watch", "paths = []") ==
          Problems{at(2, 9, "watch.paths", "at least one directory to watch is needed")});
  }
  SUBCASE("a path must not be empty") {
    CHECK(problems_of("watch", "paths = [\"/srv\", \"\"]") ==
          Problems{at(2, 9, "watch.paths", "an empty path is not a directory")});
  }
  SUBCASE("include must not be empty") {
    CHECK(problems_of("watch", "include = []") ==
          Problems{at(2, 11, "watch.include",
                      "with no include pattern no file would ever be processed")});
  }
  SUBCASE("an include pattern must not be empty") {
    CHECK(problems_of("watch", "include = [\"*.png\", \"\"]") ==
          Problems{at(2, 11, "watch.include", "an empty pattern matches nothing")});
  }
  SUBCASE("an exclude pattern must not be empty, an empty exclude list is fine") {
    CHECK(problems_of("watch", "exclude = [\"\"]") ==
          Problems{at(2, 11, "watch.exclude", "an empty pattern matches nothing")});
    CHECK(problems_of("watch", "exclude = []") == Problems{});
  }
  SUBCASE("settle_ms from 0 to 600000") {
    CHECK(problems_of("watch", "settle_ms = -1") ==
          Problems{at(2, 13, "watch.settle_ms", "-1 ms is out of range; allowed: 0 to 600000 ms")});
    CHECK(problems_of("watch", "settle_ms = 600001") ==
          Problems{
              at(2, 13, "watch.settle_ms", "600001 ms is out of range; allowed: 0 to 600000 ms")});
    CHECK(problems_of("watch", "settle_ms = 0") == Problems{});
    CHECK(problems_of("watch", "settle_ms = 600000") == Problems{});
  }
  SUBCASE("rescan_interval_s is 0 (off) or from 10 s to a week") {
    CHECK(problems_of("watch", "rescan_interval_s = 9") ==
          Problems{at(2, 21, "watch.rescan_interval_s",
                      "9 s is out of range; allowed: 10 to 604800 s")});
    CHECK(problems_of("watch", "rescan_interval_s = 604801") ==
          Problems{at(2, 21, "watch.rescan_interval_s",
                      "604801 s is out of range; allowed: 10 to 604800 s")});
    CHECK(problems_of("watch", "rescan_interval_s = -1") ==
          Problems{at(2, 21, "watch.rescan_interval_s",
                      "-1 s is out of range; allowed: 10 to 604800 s")});
    CHECK(problems_of("watch", "rescan_interval_s = 0") == Problems{});
    CHECK(problems_of("watch", "rescan_interval_s = 10") == Problems{});
  }
  SUBCASE("max_file_bytes at least 1") {
    CHECK(problems_of("watch", "max_file_bytes = 0") ==
          Problems{at(2, 18, "watch.max_file_bytes",
                      "0 is out of range; allowed: 1 to 9223372036854775807")});
  }
}

TEST_CASE("config::validate model") {
  SUBCASE("device is auto, cpu, cuda or cuda:N") {
    for (const char* device : {"gpu", "CPU", "cuda:", "cuda:x", "cuda:123", "cuda0", " cpu"}) {
      CAPTURE(device);
      CHECK(problems_of("model", std::string("device = \"") + device + "\"") ==
            Problems{at(2, 10, "model.device",
                        std::string("\"") + device + "\" is not auto, cpu, cuda or cuda:N")});
    }
    for (const char* device : {"auto", "cpu", "cuda", "cuda:0", "cuda:15"}) {
      CAPTURE(device);
      CHECK(problems_of("model", std::string("device = \"") + device + "\"") == Problems{});
    }
  }
  SUBCASE("fp16 on the CPU is refused, located at the precision") {
    CHECK(problems_of("[model]\ndevice = \"cpu\"\nprecision = \"fp16\"\n") ==
          Problems{at(3, 13, "model.precision",
                      "fp16 needs a CUDA device; use fp32 or bf16 on the CPU")});
  }
  SUBCASE("fp16 on CUDA and bf16 on the CPU are fine") {
    CHECK(problems_of("[model]\ndevice = \"cuda\"\nprecision = \"fp16\"\n") == Problems{});
    CHECK(problems_of("[model]\ndevice = \"cpu\"\nprecision = \"bf16\"\n") == Problems{});
  }
  SUBCASE("threads from 0 to 1024") {
    CHECK(problems_of("model", "threads = -1") ==
          Problems{at(2, 11, "model.threads", "-1 is out of range; allowed: 0 to 1024")});
    CHECK(problems_of("model", "threads = 1025") ==
          Problems{at(2, 11, "model.threads", "1025 is out of range; allowed: 0 to 1024")});
    CHECK(problems_of("model", "threads = 1024") == Problems{});
  }
  SUBCASE("a label must not be empty") {
    CHECK(problems_of("model", "labels = [\"circle\", \"\", \"\"]") ==
          Problems{at(2, 10, "model.labels", "a label is empty")});
  }
}

TEST_CASE("config::validate preprocess") {
  SUBCASE("size from 1 to 8192 on each side") {
    CHECK(problems_of("preprocess", "size = 0") ==
          Problems{at(2, 8, "preprocess.size",
                      "0 px (height) is out of range; allowed: 1 to 8192 px (height)"),
                   at(2, 8, "preprocess.size",
                      "0 px (width) is out of range; allowed: 1 to 8192 px (width)")});
    CHECK(problems_of("preprocess", "size = [64, 8193]") ==
          Problems{at(2, 8, "preprocess.size",
                      "8193 px (width) is out of range; allowed: 1 to 8192 px (width)")});
    CHECK(problems_of("preprocess", "size = [-1, 64]") ==
          Problems{at(2, 8, "preprocess.size",
                      "-1 px (height) is out of range; allowed: 1 to 8192 px (height)")});
    CHECK(problems_of("preprocess", "size = 8192") == Problems{});
    CHECK(problems_of("preprocess", "size = [1, 1]") == Problems{});
  }
  SUBCASE("shorter_side must not be smaller than the crop") {
    CHECK(problems_of("preprocess", "shorter_side = 32") ==
          Problems{at(2, 16, "preprocess.shorter_side",
                      "32 must be 0 (= the larger of size) or from 64 (the crop) to 16384")});
    CHECK(problems_of("[preprocess]\nsize = [64, 128]\nshorter_side = 100\n") ==
          Problems{at(3, 16, "preprocess.shorter_side",
                      "100 must be 0 (= the larger of size) or from 128 (the crop) to 16384")});
    CHECK(problems_of("preprocess", "shorter_side = 64") == Problems{});
    CHECK(problems_of("preprocess", "shorter_side = 0") == Problems{});
  }
  SUBCASE("shorter_side at most 16384") {
    CHECK(problems_of("preprocess", "shorter_side = 16385") ==
          Problems{at(2, 16, "preprocess.shorter_side",
                      "16385 must be 0 (= the larger of size) or from 64 (the crop) to 16384")});
    CHECK(problems_of("preprocess", "shorter_side = 16384") == Problems{});
  }
  SUBCASE("letterbox_fill from 0 to 1") {
    CHECK(problems_of("preprocess", "letterbox_fill = 1.5") ==
          Problems{at(2, 18, "preprocess.letterbox_fill", "1.5 is out of range; allowed: 0 to 1")});
    CHECK(
        problems_of("preprocess", "letterbox_fill = -0.1") ==
        Problems{at(2, 18, "preprocess.letterbox_fill", "-0.1 is out of range; allowed: 0 to 1")});
    CHECK(problems_of("preprocess", "letterbox_fill = inf") ==
          Problems{at(2, 18, "preprocess.letterbox_fill", "inf is out of range; allowed: 0 to 1")});
    CHECK(problems_of("preprocess", "letterbox_fill = 0.0") == Problems{});
    CHECK(problems_of("preprocess", "letterbox_fill = 1.0") == Problems{});
  }
  SUBCASE("gray needs one mean and one std") {
    CHECK(problems_of(
              "[preprocess]\ncolour = \"gray\"\nmean = [0.1, 0.2, 0.3]\nstd = [0.5, 0.5]\n") ==
          Problems{at(3, 8, "preprocess.mean", "needs 1 value(s) for colour \"gray\", got 3"),
                   at(4, 7, "preprocess.std", "needs 1 value(s) for colour \"gray\", got 2")});
  }
  SUBCASE("rgb needs three means and three stds") {
    CHECK(
        problems_of("[preprocess]\ncolour = \"rgb\"\nmean = [0.5]\nstd = [0.5, 0.5, 0.5, 0.5]\n") ==
        Problems{at(3, 8, "preprocess.mean", "needs 3 value(s) for colour \"rgb\", got 1"),
                 at(4, 7, "preprocess.std", "needs 3 value(s) for colour \"rgb\", got 4")});
  }
  SUBCASE("switching to rgb without giving mean/std: the defaults do not fit, located nowhere") {
    CHECK(problems_of("preprocess", "colour = \"rgb\"") ==
          Problems{Located{std::string(inferwatch::test::k_config_file), 0, 0, "preprocess.mean",
                           "needs 3 value(s) for colour \"rgb\", got 1"},
                   Located{std::string(inferwatch::test::k_config_file), 0, 0, "preprocess.std",
                           "needs 3 value(s) for colour \"rgb\", got 1"}});
  }
  SUBCASE("rgb with three values each is fine") {
    CHECK(problems_of("[preprocess]\ncolour = \"rgb\"\nmean = [0.485, 0.456, 0.406]\nstd = [0.229, "
                      "0.224, 0.225]\n") == Problems{});
  }
  SUBCASE("std must be greater than 0") {
    CHECK(problems_of("preprocess", "std = [0]") ==
          Problems{at(2, 7, "preprocess.std",
                      "0 would divide by zero or flip the sign; every std must be > 0")});
    CHECK(problems_of("preprocess", "std = [-0.5]") ==
          Problems{at(2, 7, "preprocess.std",
                      "-0.5 would divide by zero or flip the sign; every std must be > 0")});
    CHECK(problems_of("preprocess", "std = [nan]") ==
          Problems{at(2, 7, "preprocess.std", "nan is not a finite number")});
    CHECK(problems_of("[preprocess]\ncolour = \"rgb\"\nmean = [0, 0, 0]\nstd = [0.2, 0, -1]\n") ==
          Problems{at(4, 7, "preprocess.std",
                      "0 would divide by zero or flip the sign; every std must be > 0")});
  }
  SUBCASE("max_pixels at least 1") {
    CHECK(problems_of("preprocess", "max_pixels = 0") ==
          Problems{at(2, 14, "preprocess.max_pixels",
                      "0 is out of range; allowed: 1 to 9223372036854775807")});
  }
}

TEST_CASE("config::validate postprocess, batching, results, database") {
  SUBCASE("top_k from 1 to 100000") {
    CHECK(problems_of("postprocess", "top_k = 0") ==
          Problems{at(2, 9, "postprocess.top_k", "0 is out of range; allowed: 1 to 100000")});
    CHECK(problems_of("postprocess", "top_k = 100001") ==
          Problems{at(2, 9, "postprocess.top_k", "100001 is out of range; allowed: 1 to 100000")});
  }
  SUBCASE("max_batch_size from 1 to 1024") {
    CHECK(problems_of("batching", "max_batch_size = 0") ==
          Problems{at(2, 18, "batching.max_batch_size", "0 is out of range; allowed: 1 to 1024")});
    CHECK(
        problems_of("batching", "max_batch_size = 1025") ==
        Problems{at(2, 18, "batching.max_batch_size", "1025 is out of range; allowed: 1 to 1024")});
  }
  SUBCASE("max_delay_ms from 0 to 10000") {
    CHECK(problems_of("batching", "max_delay_ms = -1") ==
          Problems{
              at(2, 16, "batching.max_delay_ms", "-1 ms is out of range; allowed: 0 to 10000 ms")});
    CHECK(problems_of("batching", "max_delay_ms = 10001") ==
          Problems{at(2, 16, "batching.max_delay_ms",
                      "10001 ms is out of range; allowed: 0 to 10000 ms")});
    CHECK(problems_of("batching", "max_delay_ms = 0") == Problems{});
  }
  SUBCASE("sidecar_suffix starts with '.', holds no '/' and is more than \".\"") {
    for (const char* suffix : {"json", ".", "", ".a/b", "/x"}) {
      CAPTURE(suffix);
      CHECK(problems_of("results", std::string("sidecar_suffix = \"") + suffix + "\"") ==
            Problems{at(2, 18, "results.sidecar_suffix",
                        std::string("\"") + suffix +
                            "\" must start with '.', hold no '/' and not be just \".\"")});
    }
    CHECK(problems_of("results", "sidecar_suffix = \".j\"") == Problems{});
  }
  SUBCASE("the database path must not be empty") {
    CHECK(problems_of("database", "path = \"\"") ==
          Problems{at(2, 8, "database.path", "must not be empty")});
  }
  SUBCASE("retention_days from 0 to 100 years") {
    CHECK(
        problems_of("database", "retention_days = -1") ==
        Problems{at(2, 18, "database.retention_days", "-1 is out of range; allowed: 0 to 36500")});
    CHECK(problems_of("database", "retention_days = 36501") ==
          Problems{
              at(2, 18, "database.retention_days", "36501 is out of range; allowed: 0 to 36500")});
  }
}

TEST_CASE("config::validate server, log") {
  SUBCASE("listen must be HOST:PORT") {
    CHECK(problems_of("server", "listen = \"localhost\"") ==
          Problems{at(2, 10, "server.listen", "\"localhost\" is not HOST:PORT: no port")});
    CHECK(problems_of("server", "listen = \"0.0.0.0:70000\"") ==
          Problems{
              at(2, 10, "server.listen",
                 "\"0.0.0.0:70000\" is not HOST:PORT: the port must be a number from 0 to 65535")});
  }
  SUBCASE("an IPv6 listen address needs brackets") {
    CHECK(problems_of("server", "listen = \"::1:8080\"") ==
          Problems{at(
              2, 10, "server.listen",
              "\"::1:8080\" is not HOST:PORT: write IPv6 addresses in brackets, e.g. [::1]:8080")});
    CHECK(problems_of("server", "listen = \"[::1]:8080\"") == Problems{});
    CHECK(problems_of("server", "listen = \"0.0.0.0:0\"") == Problems{});
  }
  SUBCASE("server limits") {
    CHECK(problems_of("server", "threads = 0") ==
          Problems{at(2, 11, "server.threads", "0 is out of range; allowed: 1 to 256")});
    CHECK(problems_of("server", "threads = 257") ==
          Problems{at(2, 11, "server.threads", "257 is out of range; allowed: 1 to 256")});
    CHECK(problems_of("server", "max_body_bytes = 0") ==
          Problems{
              at(2, 18, "server.max_body_bytes", "0 is out of range; allowed: 1 to 4294967296")});
    CHECK(problems_of("server", "max_body_bytes = 4294967297") ==
          Problems{at(2, 18, "server.max_body_bytes",
                      "4294967297 is out of range; allowed: 1 to 4294967296")});
    CHECK(problems_of("server", "max_header_bytes = 1023") ==
          Problems{at(2, 20, "server.max_header_bytes",
                      "1023 is out of range; allowed: 1024 to 1048576")});
    CHECK(problems_of("server", "max_header_bytes = 1048577") ==
          Problems{at(2, 20, "server.max_header_bytes",
                      "1048577 is out of range; allowed: 1024 to 1048576")});
    CHECK(
        problems_of("server", "max_connections = 0") ==
        Problems{at(2, 19, "server.max_connections", "0 is out of range; allowed: 1 to 1000000")});
    CHECK(
        problems_of("server", "idle_timeout_s = 0") ==
        Problems{at(2, 18, "server.idle_timeout_s", "0 s is out of range; allowed: 1 to 86400 s")});
    CHECK(problems_of("server", "idle_timeout_s = 86401") ==
          Problems{at(2, 18, "server.idle_timeout_s",
                      "86401 s is out of range; allowed: 1 to 86400 s")});
    CHECK(problems_of("server", "header_timeout_s = 0") ==
          Problems{at(2, 20, "server.header_timeout_s", "0 s is out of range; allowed: 1 to 3600 s")});
    CHECK(problems_of("server", "header_timeout_s = 3601") ==
          Problems{at(2, 20, "server.header_timeout_s",
                      "3601 s is out of range; allowed: 1 to 3600 s")});
    CHECK(
        problems_of("server", "max_ws_clients = -1") ==
        Problems{at(2, 18, "server.max_ws_clients", "-1 is out of range; allowed: 0 to 1000000")});
    CHECK(problems_of("server", "max_ws_clients = 0") == Problems{});
    CHECK(problems_of("server", "ws_queue_messages = 0") ==
          Problems{
              at(2, 21, "server.ws_queue_messages", "0 is out of range; allowed: 1 to 10000000")});
    CHECK(problems_of("server", "ws_queue_bytes = 1023") ==
          Problems{at(2, 18, "server.ws_queue_bytes",
                      "1023 is out of range; allowed: 1024 to 4294967296")});
  }
  SUBCASE("log level is one of spdlog's") {
    for (const char* level : {"verbose", "INFO", "warning", ""}) {
      CAPTURE(level);
      CHECK(problems_of("log", std::string("level = \"") + level + "\"") ==
            Problems{at(2, 9, "log.level",
                        std::string("\"") + level +
                            "\" is not one of trace, debug, info, warn, error, critical, off")});
    }
    for (const char* level : {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
      CAPTURE(level);
      CHECK(problems_of("log", std::string("level = \"") + level + "\"") == Problems{});
    }
  }
}

TEST_CASE("config::validate") {
  SUBCASE("a default Config is valid") {
    CHECK(validate(Config{}, SourceMap{"defaults", {}}).empty());
  }
  SUBCASE("a value set outside the file (command line) has no line") {
    Config c;
    c.watch.settle_ms = -5;
    c.log.level = "loud";
    CHECK(
        located(validate(c, SourceMap{"command line", {}})) ==
        Problems{Located{"command line", 0, 0, "watch.settle_ms",
                         "-5 ms is out of range; allowed: 0 to 600000 ms"},
                 Located{"command line", 0, 0, "log.level",
                         "\"loud\" is not one of trace, debug, info, warn, error, critical, off"}});
  }
  SUBCASE("a key's recorded position locates its problem") {
    Config c;
    c.batching.max_batch_size = 0;
    SourceMap sources{"x.toml", {}};
    sources.positions["batching.max_batch_size"] = {7, 3};
    CHECK(located(validate(c, sources)) ==
          Problems{Located{"x.toml", 7, 3, "batching.max_batch_size",
                           "0 is out of range; allowed: 1 to 1024"}});
  }
  SUBCASE("an empty database path") {
    Config c;
    c.database.path.clear();
    CHECK(located(validate(c, SourceMap{"defaults", {}})) ==
          Problems{Located{"defaults", 0, 0, "database.path", "must not be empty"}});
  }
}

// Non-finite and far out-of-range numbers.
TEST_CASE("config::validate non-finite letterbox_fill") {
  SUBCASE("letterbox_fill = nan is out of range") {
    CHECK(problems_of("preprocess", "letterbox_fill = nan") ==
          Problems{at(2, 18, "preprocess.letterbox_fill", "nan is out of range; allowed: 0 to 1")});
  }
}

TEST_CASE("config::validate non-finite mean and std") {
  SUBCASE("mean = [nan] or [inf] and std = [inf] are refused") {
    CHECK(problems_of("preprocess", "mean = [nan]").size() == 1);
    CHECK(problems_of("preprocess", "mean = [inf]").size() == 1);
    CHECK(problems_of("preprocess", "std = [inf]").size() == 1);
  }
}

TEST_CASE("config::validate drift") {
  SUBCASE("window and reference from 10 to 1000000 results") {
    CHECK(problems_of("drift", "window = 10").empty());
    CHECK(problems_of("drift", "reference = 1000000").empty());
    CHECK(problems_of("drift", "window = 9") ==
          Problems{at(2, 10, "drift.window", "9 is out of range; allowed: 10 to 1000000")});
    CHECK(problems_of("drift", "reference = 0").size() == 1);
  }
  SUBCASE("an unknown key is a problem") { CHECK(problems_of("drift", "windw = 50").size() == 1); }
}

TEST_CASE("config::load_string size out of range") {
  SUBCASE("the message names the size the user wrote") {
    CHECK(problems_of("preprocess", "size = [-3, 64]") ==
          Problems{at(2, 8, "preprocess.size",
                      "-3 px (height) is out of range; allowed: 1 to 8192 px (height)")});
    CHECK(problems_of("preprocess", "size = [64, 5000000]") ==
          Problems{at(2, 8, "preprocess.size",
                      "5000000 px (width) is out of range; allowed: 1 to 8192 px (width)")});
  }
}

TEST_SUITE_END();
