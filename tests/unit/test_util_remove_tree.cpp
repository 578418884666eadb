// A tree is removed through descriptors only: symbolic links inside it are unlinked as links,
// never followed, so nothing outside the tree is touched.
#include <inferwatch/util/remove_tree.hpp>

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <filesystem>
#include <fstream>

using inferwatch::test::TempDir;
using inferwatch::util::remove_tree_at;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& path, const char* text = "x") {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

struct Opened {
  explicit Opened(const fs::path& p) : fd(::open(p.c_str(), O_RDONLY | O_DIRECTORY)) {}
  ~Opened() { ::close(fd); }
  int fd;
};

}  // namespace

TEST_SUITE_BEGIN("util");

TEST_CASE("util::remove_tree_at") {
  TempDir dir;
  const fs::path root = dir.path() / "repo";
  const fs::path outside = dir.path() / "outside";
  write(outside / "keep.txt");
  write(root / "v1" / "model.pt");
  write(root / "v1" / "golden" / "circle" / "a.png");
  Opened parent(root);

  SUBCASE("a nested tree is removed whole") {
    REQUIRE(remove_tree_at(parent.fd, "v1").ok());
    CHECK_FALSE(fs::exists(fs::symlink_status(root / "v1")));
    CHECK(fs::exists(root));
  }
  SUBCASE("symlinks inside are unlinked, their targets stay") {
    fs::create_directory_symlink(outside, root / "v1" / "golden" / "link");
    fs::create_symlink(outside / "keep.txt", root / "v1" / "file-link");
    REQUIRE(remove_tree_at(parent.fd, "v1").ok());
    CHECK_FALSE(fs::exists(fs::symlink_status(root / "v1")));
    CHECK(fs::exists(outside / "keep.txt"));
  }
  SUBCASE("the named entry itself being a symlink removes the link only") {
    fs::create_directory_symlink(outside, root / "v2");
    REQUIRE(remove_tree_at(parent.fd, "v2").ok());
    CHECK_FALSE(fs::exists(fs::symlink_status(root / "v2")));
    CHECK(fs::exists(outside / "keep.txt"));
  }
  SUBCASE("a FIFO is unlinked without being opened") {
    REQUIRE(::mkfifo((root / "v1" / "pipe").c_str(), 0600) == 0);
    REQUIRE(remove_tree_at(parent.fd, "v1").ok());
    CHECK_FALSE(fs::exists(fs::symlink_status(root / "v1")));
  }
  SUBCASE("a missing entry is success") { CHECK(remove_tree_at(parent.fd, "nope").ok()); }
  SUBCASE("an entry that cannot be removed is remove_failed, naming it") {
    fs::permissions(root / "v1" / "golden" / "circle",
                    fs::perms::owner_read | fs::perms::owner_exec);
    const auto removed = remove_tree_at(parent.fd, "v1");
    std::error_code ec;  // root removes it anyway; then there is nothing to restore
    fs::permissions(root / "v1" / "golden" / "circle", fs::perms::owner_all, ec);
    if (::geteuid() != 0) {
      REQUIRE_FALSE(removed.ok());
      CHECK(removed.error().code == "remove_failed");
      CHECK(removed.error().message.find("v1/golden/circle/a.png") != std::string::npos);
    }
  }
}

TEST_SUITE_END();
