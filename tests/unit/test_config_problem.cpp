#include <inferwatch/config/problem.hpp>

#include <doctest/doctest.h>

using inferwatch::config::Problem;

TEST_SUITE_BEGIN("config");

TEST_CASE("config::Problem::to_string") {
  SUBCASE("file, line, column, key and message") {
    CHECK(Problem{"/etc/inferwatch.toml", 12, 5, "watch.settle_ms", "out of range"}.to_string() ==
          "/etc/inferwatch.toml:12:5: watch.settle_ms: out of range");
  }
  SUBCASE("no column") {
    CHECK(Problem{"a.toml", 3, 0, "log.level", "bad"}.to_string() == "a.toml:3: log.level: bad");
  }
  SUBCASE("no line: the column alone is left out too") {
    CHECK(Problem{"command line", 0, 7, "watch.settle_ms", "bad"}.to_string() ==
          "command line: watch.settle_ms: bad");
  }
  SUBCASE("no key (file-level problems)") {
    CHECK(Problem{"a.toml", 2, 13, "", "TOML syntax error: x"}.to_string() ==
          "a.toml:2:13: TOML syntax error: x");
    CHECK(Problem{"a.toml", 0, 0, "", "cannot open a.toml"}.to_string() ==
          "a.toml: cannot open a.toml");
  }
  SUBCASE("no file") {
    CHECK(Problem{"", 0, 0, "model.device", "bad"}.to_string() == "model.device: bad");
  }
  SUBCASE("only a message") {
    CHECK(Problem{"", 0, 0, "", "something is wrong"}.to_string() == "something is wrong");
  }
}

TEST_SUITE_END();
