// load_string's reading errors: TOML syntax, sections, keys, types and enum values, each with
// the file, line, column and key a person needs to find the mistake.
#include <inferwatch/config/loader.hpp>

#include "support/config.hpp"

#include <doctest/doctest.h>

#include <vector>

using inferwatch::config::load_string;
using inferwatch::test::at;
using inferwatch::test::k_config_file;
using inferwatch::test::Located;
using inferwatch::test::problems_of;
using Problems = std::vector<Located>;

TEST_SUITE_BEGIN("config");

TEST_CASE("config::load_string syntax errors") {
  SUBCASE("a malformed value: line and column of the error, no key") {
    CHECK(problems_of("[watch]\nsettle_ms = = 5\n") ==
          Problems{
              at(2, 13, "",
                 "TOML syntax error: Error while parsing value: could not determine value type")});
  }
  SUBCASE("a key set twice") {
    CHECK(problems_of("[watch]\nsettle_ms = 5\nsettle_ms = 6\n") ==
          Problems{at(3, 13, "",
                      "TOML syntax error: Error while parsing key-value pair: "
                      "cannot redefine existing integer 'settle_ms'")});
  }
  SUBCASE("an unclosed table header") {
    const auto problems = problems_of("\n\n[watch\nsettle_ms = 5\n");
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].file == k_config_file);
    CHECK(problems[0].line == 3);
    CHECK(problems[0].column > 0);
    CHECK(problems[0].key == "");
    CHECK(problems[0].message.starts_with("TOML syntax error: "));
  }
  SUBCASE("the embedded defaults stay in place") {
    const auto loaded = load_string("[watch]\nsettle_ms = = 5\n", k_config_file);
    CHECK(loaded.config.watch.settle_ms == 100);
    CHECK(loaded.config.source == k_config_file);
  }
}

TEST_CASE("config::load_string sections") {
  SUBCASE("an unknown section close to a known one gets a \"did you mean\"") {
    CHECK(problems_of("[modle]\npath = \"x.pt\"\n") ==
          Problems{at(1, 2, "modle", "unknown section [modle] (did you mean [model]?)")});
    CHECK(problems_of("[watch]\n[logging]\nlevel = \"debug\"\n") ==
          Problems{at(2, 2, "logging", "unknown section [logging] (did you mean [log]?)")});
  }
  SUBCASE("an unknown section far from all known ones lists the sections") {
    CHECK(problems_of("[frobnicator]\nx = 1\n") ==
          Problems{at(
              1, 2, "frobnicator",
              "unknown section [frobnicator] (sections are watch, model, preprocess, postprocess, "
              "batching, results, database, server, drift, log, route)")});
  }
  SUBCASE("a top-level key that is no section is an unknown section") {
    CHECK(problems_of("verbose = true\n") ==
          Problems{
              at(1, 1, "verbose",
                 "unknown section [verbose] (sections are watch, model, preprocess, postprocess, "
                 "batching, results, database, server, drift, log, route)")});
  }
  SUBCASE("a known section that is not a table") {
    CHECK(problems_of("watch = 3\n") == Problems{at(1, 1, "watch", "[watch] must be a table")});
    CHECK(problems_of("[[log]]\nlevel = \"info\"\n") ==
          Problems{at(1, 3, "log", "[log] must be a table")});
  }
  SUBCASE("dotted keys at the top level are the same as a section") {
    const auto loaded = load_string("watch.settle_ms = 7\n", k_config_file);
    CHECK(loaded.problems.empty());
    CHECK(loaded.config.watch.settle_ms == 7);
  }
}

TEST_CASE("config::load_string unknown keys") {
  SUBCASE("a shortened key gets a \"did you mean\"") {
    CHECK(problems_of("[watch]\nsettle = 5\n") ==
          Problems{at(2, 1, "watch.settle", "unknown key (did you mean \"settle_ms\"?)")});
  }
  SUBCASE("a misspelt key gets a \"did you mean\"") {
    CHECK(problems_of("[preprocess]\n  collor = \"rgb\"\n") ==
          Problems{at(2, 3, "preprocess.collor", "unknown key (did you mean \"colour\"?)")});
  }
  SUBCASE("a key like none of the section's is just unknown") {
    CHECK(problems_of("[watch]\nfrobnicate = 1\n") ==
          Problems{at(2, 1, "watch.frobnicate", "unknown key")});
  }
  SUBCASE("a key of another section is unknown here") {
    CHECK(problems_of("[batching]\nlisten = \"127.0.0.1:1\"\n") ==
          Problems{at(2, 1, "batching.listen", "unknown key")});
  }
  SUBCASE("a sub-table is an unknown key of its section") {
    CHECK(problems_of("[server]\n[server.tls]\ncert = \"x\"\n") ==
          Problems{at(2, 9, "server.tls", "unknown key")});
  }
}

TEST_CASE("config::load_string wrong types") {
  SUBCASE("bool") {
    CHECK(
        problems_of("[watch]\nrecursive = \"yes\"\n") ==
        Problems{at(2, 13, "watch.recursive", "expected a boolean (true or false), got a string")});
    CHECK(problems_of("[results]\nsidecar = 1\n") ==
          Problems{
              at(2, 11, "results.sidecar", "expected a boolean (true or false), got an integer")});
  }
  SUBCASE("64-bit integer") {
    CHECK(problems_of("[watch]\nsettle_ms = 1.5\n") ==
          Problems{at(2, 13, "watch.settle_ms", "expected an integer, got a float")});
    CHECK(problems_of("[watch]\nsettle_ms = 1979-05-27\n") ==
          Problems{at(2, 13, "watch.settle_ms", "expected an integer, got a date")});
  }
  SUBCASE("32-bit integer") {
    CHECK(problems_of("[model]\nthreads = \"4\"\n") ==
          Problems{at(2, 11, "model.threads", "expected an integer, got a string")});
  }
  SUBCASE("32-bit integer out of range") {
    CHECK(problems_of("[model]\nthreads = 3000000000\n") ==
          Problems{at(2, 11, "model.threads", "3000000000 is out of range")});
    CHECK(problems_of("[batching]\nmax_batch_size = -3000000000\n") ==
          Problems{at(2, 18, "batching.max_batch_size", "-3000000000 is out of range")});
  }
  SUBCASE("float") {
    CHECK(problems_of("[preprocess]\nletterbox_fill = \"white\"\n") ==
          Problems{at(2, 18, "preprocess.letterbox_fill", "expected a number, got a string")});
    CHECK(problems_of("[preprocess]\nletterbox_fill = true\n") ==
          Problems{at(2, 18, "preprocess.letterbox_fill", "expected a number, got a boolean")});
  }
  SUBCASE("string") {
    CHECK(problems_of("[model]\nname = 5\n") ==
          Problems{at(2, 8, "model.name", "expected a string, got an integer")});
    CHECK(problems_of("[server]\nlisten = [\"a:1\"]\n") ==
          Problems{at(2, 10, "server.listen", "expected a string, got an array")});
  }
  SUBCASE("path") {
    const auto loaded = load_string("[model]\npath = 5\n", k_config_file);
    CHECK(inferwatch::test::located(loaded.problems) ==
          Problems{at(2, 8, "model.path", "expected a string, got an integer")});
    CHECK(loaded.config.model.path.empty());
  }
  SUBCASE("array of strings that is no array") {
    CHECK(problems_of("[watch]\ninclude = \"*.png\"\n") ==
          Problems{at(2, 11, "watch.include", "expected an array of strings, got a string")});
    CHECK(problems_of("[watch]\npaths = \"/srv\"\n") ==
          Problems{at(2, 9, "watch.paths", "expected an array of strings, got a string")});
  }
  SUBCASE("array of strings with a non-string element: located at the element") {
    CHECK(problems_of("[watch]\ninclude = [\"*.png\", 3]\n") ==
          Problems{at(2, 21, "watch.include", "element 2 should be a string, got an integer")});
    CHECK(problems_of("[watch]\npaths = [\n  \"/a\",\n  false,\n]\n") ==
          Problems{at(4, 3, "watch.paths", "element 2 should be a string, got a boolean")});
  }
  SUBCASE("array of numbers that is no array") {
    CHECK(problems_of("[preprocess]\nmean = 0.5\n") ==
          Problems{at(2, 8, "preprocess.mean", "expected an array of numbers, got a float")});
  }
  SUBCASE("array of numbers with a non-number element: located at the element") {
    CHECK(problems_of("[preprocess]\nmean = [0.5, \"x\"]\n") ==
          Problems{at(2, 14, "preprocess.mean", "element 2 should be a number, got a string")});
    CHECK(problems_of("[preprocess]\nstd = [true]\n") ==
          Problems{at(2, 8, "preprocess.std", "element 1 should be a number, got a boolean")});
  }
  SUBCASE("size that is neither one integer nor two") {
    for (const char* value : {"\"64\"", "[64, 64, 3]", "[64]", "[64.0, 64]", "64.0", "[]"}) {
      CAPTURE(value);
      CHECK(problems_of(std::string("[preprocess]\nsize = ") + value + "\n") ==
            Problems{at(2, 8, "preprocess.size",
                        "expected [height, width] (two integers) or one integer")});
    }
  }
  SUBCASE("softmax that is neither \"auto\" nor a boolean") {
    for (const char* value : {"\"yes\"", "1", "\"Auto\""}) {
      CAPTURE(value);
      CHECK(problems_of(std::string("[postprocess]\nsoftmax = ") + value + "\n") ==
            Problems{at(2, 11, "postprocess.softmax", "expected \"auto\", true or false")});
    }
  }
  SUBCASE("labels that are neither an array nor a file name") {
    CHECK(problems_of("[model]\nlabels = 5\n") ==
          Problems{at(2, 10, "model.labels",
                      "expected an array of strings or a file name, got an integer")});
  }
  SUBCASE("labels with a non-string element: located at the element") {
    CHECK(problems_of("[model]\nlabels = [\"circle\", 2]\n") ==
          Problems{at(2, 21, "model.labels", "every label must be a string")});
  }
  SUBCASE("an enum given as something other than a string") {
    CHECK(problems_of("[preprocess]\nresize = 3\n") ==
          Problems{at(2, 10, "preprocess.resize", "expected a string, got an integer")});
    CHECK(problems_of("[log]\nformat = true\n") ==
          Problems{at(2, 10, "log.format", "expected a string, got a boolean")});
  }
}

TEST_CASE("config::load_string enum values") {
  SUBCASE("resize") {
    CHECK(problems_of("[preprocess]\nresize = \"crop\"\n") ==
          Problems{at(2, 10, "preprocess.resize",
                      "\"crop\" is not one of stretch, letterbox, shorter-side+center-crop")});
  }
  SUBCASE("colour") {
    CHECK(problems_of("[preprocess]\ncolour = \"grey\"\n") ==
          Problems{at(2, 10, "preprocess.colour", "\"grey\" is not one of rgb, gray")});
  }
  SUBCASE("precision") {
    CHECK(problems_of("[model]\nprecision = \"fp64\"\n") ==
          Problems{at(2, 13, "model.precision", "\"fp64\" is not one of fp32, fp16, bf16")});
  }
  SUBCASE("postprocess mode") {
    CHECK(
        problems_of("[postprocess]\nmode = \"regression\"\n") ==
        Problems{at(2, 8, "postprocess.mode", "\"regression\" is not one of classification, raw")});
  }
  SUBCASE("log format") {
    CHECK(problems_of("[log]\nformat = \"xml\"\n") ==
          Problems{at(2, 10, "log.format", "\"xml\" is not one of auto, text, json, journal")});
  }
  SUBCASE("values are case-sensitive") {
    CHECK(problems_of("[preprocess]\ncolour = \"RGB\"\n") ==
          Problems{at(2, 10, "preprocess.colour", "\"RGB\" is not one of rgb, gray")});
  }
}

TEST_CASE("config::load_string reports all problems at once") {
  SUBCASE("seven mistakes of different kinds, each on its own line") {
    const char* text = R"([watch]
settle = 5
recursive = "yes"
[modle]
path = "x.pt"
[preprocess]
resize = "crop"
letterbox_fill = 2.0
[server]
listen = "::1:8080"
[log]
level = "verbose"
)";
    CHECK(
        problems_of(text) ==
        Problems{
            at(2, 1, "watch.settle", "unknown key (did you mean \"settle_ms\"?)"),
            at(3, 13, "watch.recursive", "expected a boolean (true or false), got a string"),
            at(4, 2, "modle", "unknown section [modle] (did you mean [model]?)"),
            at(7, 10, "preprocess.resize",
               "\"crop\" is not one of stretch, letterbox, shorter-side+center-crop"),
            at(8, 18, "preprocess.letterbox_fill", "2 is out of range; allowed: 0 to 1"),
            at(10, 10, "server.listen",
               "\"::1:8080\" is not HOST:PORT: write IPv6 addresses in brackets, e.g. [::1]:8080"),
            at(12, 9, "log.level",
               "\"verbose\" is not one of trace, debug, info, warn, error, critical, off"),
        });
  }
  SUBCASE("a key with a type error gets no second, value problem") {
    // `mean` keeps its default [0.5], which does not fit rgb: only the type error is reported for
    // it, while `std` (read cleanly, also one value) gets the value problem.
    CHECK(problems_of("[preprocess]\ncolour = \"rgb\"\nmean = \"x\"\nstd = [0.5]\n") ==
          Problems{at(3, 8, "preprocess.mean", "expected an array of numbers, got a string"),
                   at(4, 7, "preprocess.std", "needs 3 value(s) for colour \"rgb\", got 1")});
  }
}

TEST_SUITE_END();
