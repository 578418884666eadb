#include <inferwatch/util/file.hpp>

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include <unistd.h>

using inferwatch::test::TempDir;
using inferwatch::util::read_file;

TEST_SUITE_BEGIN("util");

TEST_CASE("util::read_file") {
  TempDir dir;

  SUBCASE("reads all bytes, binary included") {
    const std::string bytes("a\0b\r\n\xFF", 6);
    const auto text = read_file(dir.write("data.bin", bytes));
    REQUIRE(text.ok());
    CHECK(*text == bytes);
  }
  SUBCASE("an empty file is an empty string, not an error") {
    const auto text = read_file(dir.write("empty", ""));
    REQUIRE(text.ok());
    CHECK(text->empty());
  }
  SUBCASE("a file bigger than 64 KiB is read whole") {
    const std::string bytes(200'000, 'x');
    const auto text = read_file(dir.write("big", bytes));
    REQUIRE(text.ok());
    CHECK(text->size() == bytes.size());
  }
  SUBCASE("a missing file is not_found, naming the file") {
    const auto path = dir / "missing.png";
    const auto text = read_file(path);
    REQUIRE_FALSE(text.ok());
    CHECK(text.error().code == "not_found");
    CHECK(text.error().message == "cannot open " + path.string() + ": No such file or directory");
  }
  SUBCASE("a path through a regular file is not_found") {
    const auto file = dir.write("plain", "x");
    const auto text = read_file(file / "child");
    REQUIRE_FALSE(text.ok());
    CHECK(text.error().code == "not_found");
  }
  SUBCASE("an unreadable file is permission_denied") {
    if (::geteuid() == 0) {
      MESSAGE("skipped: root reads files whatever their permissions");
    } else {
      const auto path = dir.write("secret", "x");
      std::filesystem::permissions(path, std::filesystem::perms::none);
      const auto text = read_file(path);
      REQUIRE_FALSE(text.ok());
      CHECK(text.error().code == "permission_denied");
      CHECK(text.error().message == "cannot open " + path.string() + ": Permission denied");
    }
  }
  SUBCASE("a file over the limit is file_too_large, refused before reading") {
    const auto path = dir.write("eleven", "hello world");
    const auto text = read_file(path, 10);
    REQUIRE_FALSE(text.ok());
    CHECK(text.error().code == "file_too_large");
    CHECK(text.error().message == path.string() + " is 11 bytes, over the limit of 10 bytes");
  }
  SUBCASE("a file exactly at the limit is read") {
    const auto text = read_file(dir.write("ten", "0123456789"), 10);
    REQUIRE(text.ok());
    CHECK(*text == "0123456789");
  }
  SUBCASE("a directory is an error naming it") {
    const auto text = read_file(dir.path());
    REQUIRE_FALSE(text.ok());
    CHECK(text.error().code == "read_failed");
    CHECK(text.error().message == dir.path().string() + " is a directory");
  }
}

TEST_SUITE_END();
