// Paths in a tree other people write are resolved beneath its root only: no symlink in any
// component, no "..", nothing but regular files read, nothing that blocks. Both resolvers (openat2
// and the per-component walk used where openat2 is missing) keep the same rules.
#include <inferwatch/util/root_dir.hpp>

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cstring>

using inferwatch::test::TempDir;
using inferwatch::util::EntryType;
using inferwatch::util::FileStat;
using inferwatch::util::Resolver;
using inferwatch::util::RootDir;

TEST_SUITE_BEGIN("util");

TEST_CASE("util::RootDir") {
  TempDir dir;
  TempDir outside;
  const auto secret = outside.write("secret.png", "outside the tree");
  dir.write("a/b/image.png", "pixels");
  std::filesystem::create_symlink(secret, dir.path() / "link.png");
  std::filesystem::create_directory_symlink(outside.path(), dir.path() / "linkdir");
  REQUIRE(::mkfifo((dir.path() / "fifo.png").c_str(), 0644) == 0);

  for (const auto resolver : {Resolver::openat2, Resolver::walk}) {
    CAPTURE(static_cast<int>(resolver));
    auto root = RootDir::open(dir.path(), resolver);
    REQUIRE(root.ok());

    SUBCASE("reads a regular file beneath the root, with its version") {
      FileStat st;
      const auto bytes = root->read("a/b/image.png", 1024, &st);
      REQUIRE(bytes.ok());
      CHECK(*bytes == "pixels");
      CHECK(st.size == 6);
      const auto version = root->stat("a/b/image.png");
      REQUIRE(version.ok());
      CHECK(*version == st);
    }
    SUBCASE("a symlink as the file is refused, and not followed") {
      const auto bytes = root->read("link.png", 1024);
      REQUIRE_FALSE(bytes.ok());
      CHECK(bytes.error().code == "not_regular_file");
      CHECK(bytes.error().message.find("symbolic link") != std::string::npos);
      const auto entry = root->entry("link.png");
      REQUIRE(entry.ok());
      CHECK(entry->type == EntryType::symlink);
    }
    SUBCASE("a symlinked directory on the way is refused") {
      const auto bytes = root->read("linkdir/secret.png", 1024);
      REQUIRE_FALSE(bytes.ok());
      CHECK(bytes.error().code == "unsafe_path");
      CHECK_FALSE(root->open_dir("linkdir").ok());
    }
    SUBCASE("a FIFO is refused at once instead of blocking the reader") {
      const auto bytes = root->read("fifo.png", 1024);
      REQUIRE_FALSE(bytes.ok());
      CHECK(bytes.error().code == "not_regular_file");
      CHECK(bytes.error().message.find("FIFO") != std::string::npos);
    }
    SUBCASE("a socket is refused") {
      const auto path = dir.path() / "sock.png";
      ::unlink(path.c_str());  // bound by the other resolver's pass
      const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
      REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
      const auto bytes = root->read("sock.png", 1024);
      ::close(fd);
      REQUIRE_FALSE(bytes.ok());
      CHECK(bytes.error().code == "not_regular_file");
    }
    SUBCASE("a directory is not a regular file") {
      const auto version = root->stat("a");
      REQUIRE_FALSE(version.ok());
      CHECK(version.error().code == "not_regular_file");
    }
    SUBCASE("dot-dot, absolute and empty components never leave the root") {
      for (const char* path :
           {"../x.png", "a/../../x.png", "/etc/passwd", "a//b/image.png", "./a/b/image.png"}) {
        CAPTURE(path);
        const auto bytes = root->read(path, 1024);
        REQUIRE_FALSE(bytes.ok());
        CHECK(bytes.error().code == "unsafe_path");
      }
    }
    SUBCASE("a missing file is not_found") {
      const auto bytes = root->read("a/none.png", 1024);
      REQUIRE_FALSE(bytes.ok());
      CHECK(bytes.error().code == "not_found");
    }
    SUBCASE("a file over the limit is refused before reading") {
      const auto bytes = root->read("a/b/image.png", 3);
      REQUIRE_FALSE(bytes.ok());
      CHECK(bytes.error().code == "file_too_large");
    }
    SUBCASE("directories open beneath the root") {
      CHECK(root->open_dir("").ok());
      CHECK(root->open_dir("a/b").ok());
    }
  }
}

TEST_CASE("util::RootDir::open") {
  TempDir dir;
  SUBCASE("uses openat2 on a kernel that has it") {
    auto root = RootDir::open(dir.path());
    REQUIRE(root.ok());
    CHECK(root->resolver() == Resolver::openat2);
  }
  SUBCASE("a missing root is an error") { CHECK_FALSE(RootDir::open(dir.path() / "none").ok()); }
}

TEST_SUITE_END();
