#include <inferwatch/util/lines.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using inferwatch::util::non_empty_lines;
using Lines = std::vector<std::string>;

TEST_SUITE_BEGIN("util");

TEST_CASE("util::non_empty_lines") {
  SUBCASE("LF-separated lines") {
    CHECK(non_empty_lines("circle\nsquare\ntriangle") == Lines{"circle", "square", "triangle"});
  }
  SUBCASE("CRLF line ends leave no CR behind") {
    CHECK(non_empty_lines("circle\r\nsquare\r\n") == Lines{"circle", "square"});
  }
  SUBCASE("blank and whitespace-only lines are skipped") {
    CHECK(non_empty_lines("\n\ncircle\n \t \r\n\nsquare\n\n") == Lines{"circle", "square"});
  }
  SUBCASE("trailing spaces and tabs are removed, inner and leading ones kept") {
    CHECK(non_empty_lines("big circle  \t\n  square \r\n") == Lines{"big circle", "  square"});
  }
  SUBCASE("empty text has no lines") {
    CHECK(non_empty_lines("").empty());
    CHECK(non_empty_lines("\r\n\n").empty());
  }
}

TEST_SUITE_END();
