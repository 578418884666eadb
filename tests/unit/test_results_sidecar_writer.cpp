// Sidecars appear whole or not at all, failures are values naming the file, and crash leftovers
// are recognisable and removed.
#include <inferwatch/results/sidecar_writer.hpp>

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>
#include <fstream>
#include <sstream>

using inferwatch::results::remove_stale_temp_files;
using inferwatch::results::SidecarWrite;
using inferwatch::results::temp_path_for;
using inferwatch::results::write_sidecars;
using inferwatch::test::TempDir;

namespace {
std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

TEST_SUITE_BEGIN("results");

TEST_CASE("results::write_sidecars") {
  TempDir dir;
  SUBCASE("writes each target and leaves no temp file") {
    const std::vector<SidecarWrite> writes{{dir.path() / "a.png.result.json", R"({"a":1})"},
                                           {dir.path() / "b.png.result.json", R"({"b":2})"}};
    const auto results = write_sidecars(writes);
    REQUIRE(results.size() == 2);
    CHECK(results[0].ok());
    CHECK(results[1].ok());
    CHECK(slurp(dir.path() / "a.png.result.json") == R"({"a":1})");
    CHECK(slurp(dir.path() / "b.png.result.json") == R"({"b":2})");
    CHECK_FALSE(std::filesystem::exists(temp_path_for(dir.path() / "a.png.result.json")));
  }
  SUBCASE("replaces an existing sidecar") {
    dir.write("a.png.result.json", "old");
    const std::vector<SidecarWrite> writes{{dir.path() / "a.png.result.json", "new"}};
    CHECK(write_sidecars(writes)[0].ok());
    CHECK(slurp(dir.path() / "a.png.result.json") == "new");
  }
  SUBCASE("a directory that cannot be written gives an error naming the file; others still work") {
    const std::vector<SidecarWrite> writes{{dir.path() / "missing-dir/a.png.result.json", "x"},
                                           {dir.path() / "b.png.result.json", "y"}};
    const auto results = write_sidecars(writes);
    REQUIRE_FALSE(results[0].ok());
    CHECK(results[0].error().code == "sidecar_failed");
    CHECK(results[0].error().message.find("missing-dir/a.png.result.json") != std::string::npos);
    CHECK(results[1].ok());
  }
  SUBCASE("the temp name is hidden and recognisable") {
    CHECK(temp_path_for("/srv/x/part.png.result.json") ==
          "/srv/x/.part.png.result.json.inferwatch-tmp");
  }
}

TEST_CASE("results::remove_stale_temp_files") {
  TempDir dir;
  dir.write(".a.png.result.json.inferwatch-tmp", "half");
  dir.write("sub/.b.png.result.json.inferwatch-tmp", "half");
  dir.write("sub/keep.png", "image");
  dir.write(".other-hidden-file", "keep");
  CHECK(remove_stale_temp_files(dir.path()) == 2);
  CHECK(std::filesystem::exists(dir.path() / "sub/keep.png"));
  CHECK(std::filesystem::exists(dir.path() / ".other-hidden-file"));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "sub/.b.png.result.json.inferwatch-tmp"));
}

TEST_SUITE_END();
