// A one-shot walk (`inferwatch scan`) lists what is in the tree and nothing outside it: symlinked
// directories are not descended, while a symlink or FIFO at an image's name is listed so that it
// gets its error result.
#include <inferwatch/watch/tree_walk.hpp>

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <algorithm>
#include <set>

using inferwatch::test::TempDir;
using inferwatch::watch::list_tree;
using inferwatch::watch::NameFilter;

namespace {
std::set<std::string> paths(const std::vector<inferwatch::watch::Candidate>& candidates) {
  std::set<std::string> out;
  for (const auto& c : candidates) out.insert(c.path);
  return out;
}
}  // namespace

TEST_SUITE_BEGIN("watch");

TEST_CASE("watch::list_tree") {
  TempDir dir;
  TempDir outside;
  dir.write("a.png", "x");
  dir.write("notes.txt", "x");
  dir.write("sub/deeper/b.png", "x");
  dir.write("sub/.hidden.png", "x");
  outside.write("secret.png", "x");
  std::filesystem::create_directory_symlink(outside.path(), dir.path() / "linked");
  std::filesystem::create_symlink(outside.path() / "secret.png", dir.path() / "link.png");
  REQUIRE(::mkfifo((dir.path() / "sub/fifo.png").c_str(), 0644) == 0);
  const NameFilter filter({"*.png"}, {}, ".result.json");

  SUBCASE("recursive: files, and special entries at accepted names, never what a link leads to") {
    CHECK(paths(list_tree(dir.path(), 3, true, filter)) ==
          std::set<std::string>{"a.png", "link.png", "sub/deeper/b.png", "sub/fifo.png"});
    const auto candidates = list_tree(dir.path(), 3, true, filter);
    CHECK(std::all_of(candidates.begin(), candidates.end(), [](const auto& c) {
      return c.root == 3 && c.origin == inferwatch::watch::Origin::scan;
    }));
  }
  SUBCASE("not recursive: the top folder only") {
    CHECK(paths(list_tree(dir.path(), 0, false, filter)) ==
          std::set<std::string>{"a.png", "link.png"});
  }
  SUBCASE("a missing root lists nothing") {
    CHECK(list_tree(dir.path() / "none", 0, true, filter).empty());
  }
}

TEST_SUITE_END();
