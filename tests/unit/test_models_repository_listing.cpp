// What the registry's poll sees of a repository folder: complete versions only, in the order
// their model.toml files were written, and nothing hidden, temporary or oddly named.
#include <inferwatch/models/repository_listing.hpp>

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

using inferwatch::models::list_repository;
using inferwatch::models::valid_repository_name;
using inferwatch::test::TempDir;
namespace fs = std::filesystem;

TEST_SUITE_BEGIN("models");

TEST_CASE("models::valid_repository_name") {
  for (const char* good : {"shapes", "v2", "2024-06-01", "resnet_18.v3", "A"}) {
    CHECK_MESSAGE(valid_repository_name(good), good);
  }
  for (const char* bad : {"", ".hidden", "..", "-v2", "_v2", "v2.tmp", "a b", "a/b", "é", "v2\n"}) {
    CHECK_FALSE_MESSAGE(valid_repository_name(bad), bad);
  }
  CHECK(valid_repository_name(std::string(64, 'a')));
  CHECK_FALSE(valid_repository_name(std::string(65, 'a')));
}

TEST_CASE("models::list_repository") {
  TempDir dir;
  const fs::path repo = dir / "models";

  SUBCASE("a version without model.toml is not listed") {
    dir.write("models/shapes/v1/model.pt", "x");
    dir.write("models/shapes/v2/model.pt", "x");
    dir.write("models/shapes/v2/model.toml", "");
    const auto listing = list_repository(repo);
    REQUIRE(listing.versions.size() == 1);
    CHECK(listing.versions[0].model == "shapes");
    CHECK(listing.versions[0].version == "v2");
    CHECK(listing.versions[0].directory == repo / "shapes" / "v2");
  }

  SUBCASE("versions come by model, then in the order their model.toml was written") {
    const auto b = dir.write("models/shapes/b/model.toml", "");
    const auto a = dir.write("models/shapes/a/model.toml", "");
    dir.write("models/crops/z/model.toml", "");
    fs::last_write_time(a, fs::last_write_time(b) + std::chrono::seconds(5));
    const auto listing = list_repository(repo);
    REQUIRE(listing.versions.size() == 3);
    CHECK(listing.versions[0].model == "crops");
    CHECK(listing.versions[1].version == "b");
    CHECK(listing.versions[2].version == "a");
  }

  SUBCASE("hidden folders are skipped silently, invalid names are reported") {
    dir.write("models/.staging/v1/model.toml", "");
    dir.write("models/shapes/.v2.partial/model.toml", "");
    dir.write("models/shapes/v 3/model.toml", "");
    dir.write("models/shapes/model.toml", "");  // a file at the version level
    const auto listing = list_repository(repo);
    CHECK(listing.versions.empty());
    REQUIRE(listing.invalid.size() == 1);
    CHECK(listing.invalid[0] == repo / "shapes" / "v 3");
  }

  SUBCASE("a symbolic link is not a version") {
    dir.write("elsewhere/model.toml", "");
    fs::create_directories(repo / "shapes");
    fs::create_directory_symlink(dir / "elsewhere", repo / "shapes" / "v1");
    CHECK(list_repository(repo).versions.empty());
  }

  SUBCASE("a missing repository is an error, not an exception") {
    const auto listing = list_repository(dir / "absent");
    CHECK(listing.versions.empty());
    CHECK_FALSE(listing.error.empty());
  }
}

TEST_SUITE_END();
