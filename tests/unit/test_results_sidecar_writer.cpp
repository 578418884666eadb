// Sidecars appear whole or not at all, only through files the writer created itself, never
// through a symlink or onto something that is not a regular file; failures are values naming the
// file, and crash leftovers are recognisable and removed (only ours).
#include <inferwatch/results/sidecar_writer.hpp>

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>
#include <fstream>
#include <sstream>

using inferwatch::results::is_temp_name;
using inferwatch::results::remove_stale_temp_files;
using inferwatch::results::SidecarWrite;
using inferwatch::results::write_sidecars;
using inferwatch::test::TempDir;
using inferwatch::util::Resolver;
using inferwatch::util::RootDir;

namespace {
std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t entries(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}
}  // namespace

TEST_SUITE_BEGIN("results");

TEST_CASE("results::write_sidecars") {
  for (const auto resolver : {Resolver::openat2, Resolver::walk}) {
    CAPTURE(static_cast<int>(resolver));
    TempDir dir;  // each resolver's pass starts empty
    auto root = RootDir::open(dir.path(), resolver);
    REQUIRE(root.ok());
    SUBCASE("writes each target and leaves no temp file") {
      const std::vector<SidecarWrite> writes{{&*root, "a.png.result.json", R"({"a":1})"},
                                             {&*root, "b.png.result.json", R"({"b":2})"}};
      const auto results = write_sidecars(writes);
      REQUIRE(results.size() == 2);
      CHECK(results[0].ok());
      CHECK(results[1].ok());
      CHECK(slurp(dir.path() / "a.png.result.json") == R"({"a":1})");
      CHECK(slurp(dir.path() / "b.png.result.json") == R"({"b":2})");
      CHECK(entries(dir.path()) == 2);
    }
    SUBCASE("replaces an existing sidecar; another hard link to it keeps the old content") {
      dir.write("a.png.result.json", "old");
      std::filesystem::create_hard_link(dir.path() / "a.png.result.json", dir.path() / "other");
      const std::vector<SidecarWrite> writes{{&*root, "a.png.result.json", "new"}};
      CHECK(write_sidecars(writes)[0].ok());
      CHECK(slurp(dir.path() / "a.png.result.json") == "new");
      CHECK(slurp(dir.path() / "other") == "old");
    }
    SUBCASE("a symlink at the target is left alone and nothing is written through it") {
      const auto victim = dir.write("victim.db", "precious");
      std::filesystem::create_symlink(victim, dir.path() / "a.png.result.json");
      std::filesystem::create_symlink(dir.path() / "nowhere", dir.path() / "b.png.result.json");
      const std::vector<SidecarWrite> writes{{&*root, "a.png.result.json", "evil"},
                                             {&*root, "b.png.result.json", "evil"}};
      const auto results = write_sidecars(writes);
      REQUIRE_FALSE(results[0].ok());
      CHECK(results[0].error().code == "sidecar_failed");
      CHECK(results[0].error().message.find("symbolic link") != std::string::npos);
      REQUIRE_FALSE(results[1].ok());
      CHECK(slurp(victim) == "precious");
      CHECK_FALSE(std::filesystem::exists(dir.path() / "nowhere"));
      CHECK(std::filesystem::is_symlink(dir.path() / "a.png.result.json"));
    }
    SUBCASE("a directory or FIFO at the target is left alone") {
      std::filesystem::create_directory(dir.path() / "a.png.result.json");
      REQUIRE(::mkfifo((dir.path() / "b.png.result.json").c_str(), 0644) == 0);
      const std::vector<SidecarWrite> writes{{&*root, "a.png.result.json", "x"},
                                             {&*root, "b.png.result.json", "x"}};
      const auto results = write_sidecars(writes);
      CHECK_FALSE(results[0].ok());
      CHECK_FALSE(results[1].ok());
      CHECK(std::filesystem::is_directory(dir.path() / "a.png.result.json"));
      CHECK(std::filesystem::is_fifo(dir.path() / "b.png.result.json"));
      CHECK(entries(dir.path()) == 2);  // no temp file left behind
    }
    SUBCASE("a symlinked directory on the way is not followed") {
      TempDir outside;
      std::filesystem::create_directory_symlink(outside.path(), dir.path() / "sub");
      const std::vector<SidecarWrite> writes{{&*root, "sub/a.png.result.json", "x"}};
      const auto results = write_sidecars(writes);
      REQUIRE_FALSE(results[0].ok());
      CHECK(results[0].error().code == "sidecar_failed");
      CHECK(entries(outside.path()) == 0);
    }
    SUBCASE("a missing directory gives an error naming the file; others still work") {
      const std::vector<SidecarWrite> writes{{&*root, "missing-dir/a.png.result.json", "x"},
                                             {&*root, "b.png.result.json", "y"}};
      const auto results = write_sidecars(writes);
      REQUIRE_FALSE(results[0].ok());
      CHECK(results[0].error().code == "sidecar_failed");
      CHECK(results[0].error().message.find("missing-dir/a.png.result.json") != std::string::npos);
      CHECK(results[1].ok());
    }
  }
}

TEST_CASE("results::is_temp_name") {
  CHECK(is_temp_name(".iw-0123456789abcdef.inferwatch-tmp"));
  CHECK_FALSE(is_temp_name(".iw-0123456789abcdeg.inferwatch-tmp"));
  CHECK_FALSE(is_temp_name(".part.png.result.json.inferwatch-tmp"));
  CHECK_FALSE(is_temp_name("part.png"));
}

TEST_CASE("results::remove_stale_temp_files") {
  TempDir dir;
  TempDir outside;
  dir.write(".iw-0123456789abcdef.inferwatch-tmp", "half");
  dir.write("sub/.iw-fedcba9876543210.inferwatch-tmp", "half");
  dir.write("sub/keep.png", "image");
  dir.write(".other-hidden-file", "keep");
  dir.write(".users-own.inferwatch-tmp", "keep: not a name the writer gives");
  outside.write(".iw-00000000000000aa.inferwatch-tmp", "not in the tree");
  std::filesystem::create_directory_symlink(outside.path(), dir.path() / "link");
  auto root = RootDir::open(dir.path());
  REQUIRE(root.ok());
  CHECK(remove_stale_temp_files(*root) == 2);
  CHECK(std::filesystem::exists(dir.path() / "sub/keep.png"));
  CHECK(std::filesystem::exists(dir.path() / ".other-hidden-file"));
  CHECK(std::filesystem::exists(dir.path() / ".users-own.inferwatch-tmp"));
  CHECK(std::filesystem::exists(outside.path() / ".iw-00000000000000aa.inferwatch-tmp"));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "sub/.iw-fedcba9876543210.inferwatch-tmp"));
}

TEST_SUITE_END();
