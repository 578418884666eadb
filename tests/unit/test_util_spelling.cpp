#include <inferwatch/util/spelling.hpp>

#include <doctest/doctest.h>

#include <array>
#include <string_view>

using inferwatch::util::closest_match;
using inferwatch::util::edit_distance;

TEST_SUITE_BEGIN("util");

TEST_CASE("util::edit_distance") {
  SUBCASE("identical strings are 0 apart") {
    CHECK(edit_distance("settle_ms", "settle_ms") == 0);
    CHECK(edit_distance("", "") == 0);
  }
  SUBCASE("against the empty string it is the other string's length") {
    CHECK(edit_distance("", "abc") == 3);
    CHECK(edit_distance("abcd", "") == 4);
  }
  SUBCASE("insertions, deletions and substitutions each cost 1") {
    CHECK(edit_distance("kitten", "sitting") == 3);
    CHECK(edit_distance("flaw", "lawn") == 2);
    CHECK(edit_distance("path", "paths") == 1);
    CHECK(edit_distance("paths", "path") == 1);
  }
  SUBCASE("a swap of two letters is two edits") { CHECK(edit_distance("modle", "model") == 2); }
  SUBCASE("it is symmetric") {
    CHECK(edit_distance("recursive", "recusrive") == edit_distance("recusrive", "recursive"));
  }
}

TEST_CASE("util::closest_match") {
  constexpr std::array<std::string_view, 5> keys = {"paths", "recursive", "include", "exclude",
                                                    "settle_ms"};

  SUBCASE("a typo finds the intended word") {
    CHECK(closest_match("recusive", keys) == "recursive");
    CHECK(closest_match("path", keys) == "paths");
    CHECK(closest_match("exlude", keys) == "exclude");
  }
  SUBCASE("a shortened name finds the full name") {
    CHECK(closest_match("settle", keys) == "settle_ms");
  }
  SUBCASE("an unrelated word finds nothing") {
    CHECK(closest_match("frobnicate", keys) == "");
    CHECK(closest_match("zz", keys) == "");
  }
  SUBCASE("no candidates, no match") {
    CHECK(closest_match("paths", std::span<const std::string_view>{}) == "");
  }
  SUBCASE("an exact match is returned as is") {
    CHECK(closest_match("include", keys) == "include");
  }
  SUBCASE("of equally close candidates the first wins") {
    constexpr std::array<std::string_view, 2> words = {"bat", "cut"};
    CHECK(closest_match("cat", words) == "bat");
  }
}

TEST_SUITE_END();
