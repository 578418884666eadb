// Paths in a tree other people write are resolved beneath its root only: no symlink in any
// component, no "..", nothing but regular files read, nothing that blocks. Both resolvers (openat2
// and the per-component walk used where openat2 is missing) keep the same rules.
#include <inferwatch/util/root_dir.hpp>

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cstring>
#include <map>
#include <string>

using inferwatch::test::TempDir;
using inferwatch::util::DirEntry;
using inferwatch::util::EntryType;
using inferwatch::util::FileStat;
using inferwatch::util::for_each_entry;
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
    SUBCASE("open_file gives a read-only descriptor of the same file, with its version") {
      FileStat st;
      const auto fd = root->open_file("a/b/image.png", 1024, &st);
      REQUIRE(fd.ok());
      CHECK(st == *root->stat("a/b/image.png"));
      char buf[16] = {};
      CHECK(::read(fd->get(), buf, sizeof buf) == 6);
      CHECK(std::string(buf) == "pixels");
      CHECK((::fcntl(fd->get(), F_GETFL) & O_ACCMODE) == O_RDONLY);
    }
    SUBCASE("open_file refuses what read refuses, before opening it") {
      CHECK(root->open_file("link.png", 1024).error().code == "not_regular_file");
      CHECK(root->open_file("fifo.png", 1024).error().code == "not_regular_file");
      CHECK(root->open_file("linkdir/secret.png", 1024).error().code == "unsafe_path");
      CHECK(root->open_file("a/b/image.png", 3).error().code == "file_too_large");
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

// Each name in the directory `fd` with its type, as for_each_entry reports them.
static std::map<std::string, EntryType> listing(int fd) {
  std::map<std::string, EntryType> out;
  const auto listed =
      for_each_entry(fd, [&](const DirEntry& e) { out.emplace(std::string(e.name), e.type); });
  REQUIRE(listed.ok());
  return out;
}

TEST_CASE("util::for_each_entry") {
  TempDir dir;
  TempDir outside;
  const auto secret = outside.write("secret.png", "outside the tree");
  dir.write("image.png", "pixels");
  dir.write("sub/inner.png", "deeper");
  std::filesystem::create_symlink(secret, dir.path() / "link.png");
  std::filesystem::create_directory_symlink(outside.path(), dir.path() / "linkdir");
  std::filesystem::create_symlink(dir.path() / "gone", dir.path() / "dangling.png");
  REQUIRE(::mkfifo((dir.path() / "fifo.png").c_str(), 0644) == 0);
  auto root = RootDir::open(dir.path());
  REQUIRE(root.ok());
  auto fd = root->open_dir("");
  REQUIRE(fd.ok());

  SUBCASE("each entry comes with its own type, none followed, . and .. left out") {
    const std::map<std::string, EntryType> expected{
        {"image.png", EntryType::regular},    {"sub", EntryType::directory},
        {"link.png", EntryType::symlink},     {"linkdir", EntryType::symlink},
        {"dangling.png", EntryType::symlink}, {"fifo.png", EntryType::fifo}};
    CHECK(listing(fd->get()) == expected);
  }
  SUBCASE("a subdirectory is reported, not entered") {
    const auto names = listing(fd->get());
    CHECK(names.count("inner.png") == 0);
    CHECK(names.count("secret.png") == 0);
  }
  SUBCASE("a symlink's version is the link's own, not its target's") {
    struct stat own {};
    REQUIRE(::lstat((dir.path() / "link.png").c_str(), &own) == 0);
    struct stat target {};
    REQUIRE(::stat(secret.c_str(), &target) == 0);
    std::int64_t inode = 0;
    REQUIRE(for_each_entry(fd->get(), [&](const DirEntry& e) {
              if (e.name == "link.png") inode = e.version.inode;
            }).ok());
    CHECK(inode == static_cast<std::int64_t>(own.st_ino));
    CHECK(inode != static_cast<std::int64_t>(target.st_ino));
  }
  SUBCASE("a regular file has its size and owner") {
    DirEntry seen;
    REQUIRE(for_each_entry(fd->get(), [&](const DirEntry& e) {
              if (e.name == "image.png") seen = DirEntry{{}, e.type, e.version, e.owner};
            }).ok());
    CHECK(seen.version.size == 6);
    CHECK(seen.owner == ::geteuid());
  }
  SUBCASE("the same descriptor lists the whole directory again") {
    const auto first = listing(fd->get());
    CHECK(listing(fd->get()) == first);
  }
  SUBCASE("the visitor may remove the entry it is given") {
    REQUIRE(for_each_entry(fd->get(), [&](const DirEntry& e) {
              if (e.type == EntryType::fifo) ::unlinkat(fd->get(), std::string(e.name).c_str(), 0);
            }).ok());
    CHECK_FALSE(std::filesystem::exists(std::filesystem::symlink_status(dir.path() / "fifo.png")));
  }
  SUBCASE("an empty directory has no entries") {
    auto sub = root->open_dir("sub");
    REQUIRE(sub.ok());
    std::filesystem::remove(dir.path() / "sub" / "inner.png");
    CHECK(listing(sub->get()).empty());
  }
  SUBCASE("a descriptor that is not a directory cannot be listed") {
    const int file = ::open((dir.path() / "image.png").c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(file >= 0);
    const auto listed = for_each_entry(file, [](const DirEntry&) {});
    ::close(file);
    REQUIRE_FALSE(listed.ok());
    CHECK(listed.error().code == "read_failed");
  }
}

TEST_SUITE_END();
