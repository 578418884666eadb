#include <inferwatch/util/path_within.hpp>

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <filesystem>

using inferwatch::test::TempDir;
using inferwatch::util::path_within;
namespace fs = std::filesystem;

TEST_CASE("util::path_within") {
  TempDir dir;
  const fs::path tree = dir.path() / "share";
  fs::create_directories(tree / "alice");
  fs::create_directories(dir.path() / "shared-too");

  SUBCASE("the tree itself and what lies beneath it, existing or not") {
    CHECK(path_within(tree, tree));
    CHECK(path_within(tree / "alice", tree));
    CHECK(path_within(tree / "alice" / "not-yet" / "x.db", tree));
  }
  SUBCASE("a sibling whose name starts like the tree is outside: folders compare, not text") {
    CHECK_FALSE(path_within(dir.path() / "shared-too", tree));
    CHECK_FALSE(path_within(dir.path(), tree));
  }
  SUBCASE("a symlink into the tree is judged where it leads") {
    fs::create_directory_symlink(tree / "alice", dir.path() / "link");
    CHECK(path_within(dir.path() / "link" / "x.db", tree));
  }
  SUBCASE("\"..\" is resolved before judging") {
    CHECK_FALSE(path_within(tree / ".." / "shared-too", tree));
  }
  SUBCASE("nothing is within a tree that does not exist") {
    CHECK_FALSE(path_within(dir.path() / "gone" / "x", dir.path() / "gone"));
  }
}
