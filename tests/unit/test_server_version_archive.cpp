#include <inferwatch/server/version_archive.hpp>

#include <inferwatch/util/file.hpp>

#include "support/temp_dir.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

using inferwatch::server::ArchiveLimits;
using inferwatch::server::extract_archive;
using inferwatch::server::pack_directory;
using inferwatch::test::TempDir;
namespace fs = std::filesystem;

namespace {

// One entry of a hand-made archive; any type libarchive can write, hostile ones included.
struct Entry {
  std::string path;
  unsigned type = AE_IFREG;
  std::string content{};
  std::string link{};  // symlink target, or hardlink target when `hardlink`
  bool hardlink = false;
  unsigned perm = 0644;
};

la_ssize_t append(archive*, void* out, const void* data, size_t size) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(data), size);
  return static_cast<la_ssize_t>(size);
}

std::string tar(const std::vector<Entry>& entries, bool gzip = false) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gzip) archive_write_add_filter_gzip(a);
  archive_write_set_bytes_in_last_block(a, 1);
  REQUIRE(archive_write_open(a, &out, nullptr, append, nullptr) == ARCHIVE_OK);
  for (const auto& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.path.c_str());
    archive_entry_set_filetype(entry, e.type);
    archive_entry_set_perm(entry, e.perm);
    if (e.hardlink) archive_entry_set_hardlink(entry, e.link.c_str());
    if (e.type == AE_IFLNK) archive_entry_set_symlink(entry, e.link.c_str());
    if (e.type == AE_IFCHR) archive_entry_set_rdev(entry, makedev(1, 3));
    archive_entry_set_size(
        entry, e.type == AE_IFREG && !e.hardlink ? static_cast<la_int64_t>(e.content.size()) : 0);
    REQUIRE(archive_write_header(a, entry) == ARCHIVE_OK);
    if (!e.content.empty()) archive_write_data(a, e.content.data(), e.content.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// Every path under `dir`, relative, sorted; folders end in '/'.
std::vector<std::string> tree(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    auto relative = e.path().lexically_relative(dir).string();
    out.push_back(e.is_directory() ? relative + "/" : relative);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string read(const fs::path& file) { return inferwatch::util::read_file(file).value(); }

}  // namespace

TEST_SUITE_BEGIN("server");

TEST_CASE("server::extract_archive") {
  TempDir dir;
  const fs::path into = dir / "into";
  fs::create_directory(into);

  SUBCASE("a version directory is extracted exactly, plain or gzip") {
    for (const bool gzip : {false, true}) {
      CAPTURE(gzip);
      fs::remove_all(into);
      fs::create_directory(into);
      const auto bytes = tar({{"./", AE_IFDIR},
                              {"./model.pt", AE_IFREG, std::string("\0\x01pt", 4)},
                              {"./golden/circle/c0.png", AE_IFREG, "png"},
                              {"golden/expected.jsonl", AE_IFREG, "{}\n"},
                              {"golden/empty/", AE_IFDIR},
                              {"model.toml", AE_IFREG, "file = \"model.pt\"\n"}},
                             gzip);
      const auto done = extract_archive(bytes, into);
      REQUIRE(done.ok());
      CHECK(done->files == 4);
      CHECK(done->directories == 1);  // golden/empty/; "./" and implied folders are not counted
      CHECK(done->bytes == 4 + 3 + 3 + 18);
      CHECK(tree(into) == std::vector<std::string>{
                              "golden/", "golden/circle/", "golden/circle/c0.png", "golden/empty/",
                              "golden/expected.jsonl", "model.pt", "model.toml"});
      CHECK(read(into / "model.pt") == std::string("\0\x01pt", 4));
      CHECK(read(into / "model.toml") == "file = \"model.pt\"\n");
    }
  }
  SUBCASE("modes in the archive are not used (no setuid, no world-writable file)") {
    Entry file{"tool", AE_IFREG, "#!/bin/sh\n"};
    file.perm = 06777;
    REQUIRE(extract_archive(tar({file}), into).ok());
    const auto perms = fs::status(into / "tool").permissions();
    CHECK((perms & (fs::perms::set_uid | fs::perms::set_gid | fs::perms::others_write |
                    fs::perms::owner_exec)) == fs::perms::none);
  }
  SUBCASE("an empty archive extracts nothing") {
    const auto done = extract_archive(tar({}), into);
    REQUIRE(done.ok());
    CHECK(done->files == 0);
    CHECK(tree(into).empty());
  }
  SUBCASE("a \"..\" component is refused, and nothing lands outside") {
    const auto done = extract_archive(
        tar({{"ok.txt", AE_IFREG, "x"}, {"golden/../../escaped.txt", AE_IFREG, "x"}}), into);
    REQUIRE_FALSE(done.ok());
    CHECK(done.error().code == "unsafe_entry");
    CHECK(done.error().message.find("golden/../../escaped.txt") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "escaped.txt"));
  }
  SUBCASE("an absolute path is refused") {
    const auto done = extract_archive(tar({{"/tmp/inferwatch-absolute", AE_IFREG, "x"}}), into);
    REQUIRE_FALSE(done.ok());
    CHECK(done.error().code == "unsafe_entry");
    CHECK(done.error().message.find("absolute") != std::string::npos);
  }
  SUBCASE("a symbolic link is refused") {
    const auto done = extract_archive(tar({{"model.pt", AE_IFLNK, "", "/etc/passwd"}}), into);
    REQUIRE_FALSE(done.ok());
    CHECK(done.error().code == "unsafe_entry");
    CHECK(done.error().message.find("symbolic link") != std::string::npos);
    CHECK_FALSE(fs::exists(fs::symlink_status(into / "model.pt")));
  }
  SUBCASE("a hard link is refused") {
    const auto done = extract_archive(
        tar({{"a.txt", AE_IFREG, "x"}, {"b.txt", AE_IFREG, "", "a.txt", true}}), into);
    REQUIRE_FALSE(done.ok());
    CHECK(done.error().code == "unsafe_entry");
    CHECK(done.error().message.find("hard link") != std::string::npos);
  }
  SUBCASE("a device is refused") {
    const auto done = extract_archive(tar({{"null", AE_IFCHR}}), into);
    REQUIRE_FALSE(done.ok());
    CHECK(done.error().code == "unsafe_entry");
    CHECK(done.error().message.find("device") != std::string::npos);
    CHECK_FALSE(fs::exists(fs::symlink_status(into / "null")));
  }
  SUBCASE("a FIFO is refused") {
    const auto done = extract_archive(tar({{"pipe", AE_IFIFO}}), into);
    REQUIRE_FALSE(done.ok());
    CHECK(done.error().code == "unsafe_entry");
    CHECK(done.error().message.find("FIFO") != std::string::npos);
  }
  SUBCASE("the same path twice is refused (no overwrite)") {
    const auto done =
        extract_archive(tar({{"model.toml", AE_IFREG, "a"}, {"model.toml", AE_IFREG, "b"}}), into);
    REQUIRE_FALSE(done.ok());
    CHECK(done.error().code == "unsafe_entry");
    CHECK(read(into / "model.toml") == "a");
  }
  SUBCASE("a file beneath a file is refused") {
    const auto done =
        extract_archive(tar({{"golden", AE_IFREG, "a"}, {"golden/x.png", AE_IFREG, "b"}}), into);
    REQUIRE_FALSE(done.ok());
    CHECK(done.error().code == "unsafe_entry");
  }
  SUBCASE("too many entries are refused") {
    std::vector<Entry> entries;
    for (int i = 0; i < 11; ++i) entries.push_back({"f" + std::to_string(i), AE_IFREG, "x"});
    ArchiveLimits limits;
    limits.max_entries = 10;
    const auto done = extract_archive(tar(entries), into, limits);
    REQUIRE_FALSE(done.ok());
    CHECK(done.error().code == "archive_too_large");
    CHECK(done.error().message.find("more than 10 entries") != std::string::npos);
  }
  SUBCASE("a file over max_file_bytes is refused before it is written") {
    ArchiveLimits limits;
    limits.max_file_bytes = 1000;
    const auto done =
        extract_archive(tar({{"big", AE_IFREG, std::string(1001, 'x')}}), into, limits);
    REQUIRE_FALSE(done.ok());
    CHECK(done.error().code == "archive_too_large");
    CHECK_FALSE(fs::exists(into / "big"));
  }
  SUBCASE("files adding up to more than max_total_bytes are refused") {
    ArchiveLimits limits;
    limits.max_total_bytes = 1500;
    const auto done = extract_archive(
        tar({{"a", AE_IFREG, std::string(1000, 'x')}, {"b", AE_IFREG, std::string(1000, 'x')}},
            true),
        into, limits);
    REQUIRE_FALSE(done.ok());
    CHECK(done.error().code == "archive_too_large");
  }
  SUBCASE("paths deeper than max_depth are refused") {
    ArchiveLimits limits;
    limits.max_depth = 2;
    CHECK(extract_archive(tar({{"a/b/c.txt", AE_IFREG, "x"}}), into, limits).ok());
    const auto done = extract_archive(tar({{"a/b/c/d.txt", AE_IFREG, "x"}}), into, limits);
    REQUIRE_FALSE(done.ok());
    CHECK(done.error().code == "unsafe_entry");
  }
  SUBCASE("a body that is not a tar archive is archive_invalid") {
    for (const std::string& body :
         {std::string(), std::string("model.toml = 1"),
          tar({{"model.toml", AE_IFREG, std::string(5000, 'x')}}, true).substr(0, 40)}) {
      const auto done = extract_archive(body, into);
      REQUIRE_FALSE(done.ok());
      CHECK(done.error().code == "archive_invalid");
    }
  }
  SUBCASE("a truncated archive is archive_invalid") {
    const auto whole = tar({{"model.pt", AE_IFREG, std::string(20000, 'x')}});
    const auto done = extract_archive(std::string_view(whole).substr(0, 5000), into);
    REQUIRE_FALSE(done.ok());
    CHECK(done.error().code == "archive_invalid");
  }
}

TEST_CASE("server::pack_directory") {
  TempDir dir;
  const fs::path version = dir / "v2";
  dir.write("v2/model.toml", "file = \"model.pt\"\n");
  dir.write("v2/model.pt", std::string(100'000, 'w'));
  dir.write("v2/golden/circle/c0.png", "png");
  fs::create_directories(version / "golden" / "empty");

  SUBCASE("what is packed extracts to the same tree and bytes") {
    const auto packed = pack_directory(version);
    REQUIRE(packed.ok());
    CHECK(packed->size() < 10'000);  // gzip-compressed
    fs::create_directory(dir / "out");
    REQUIRE(extract_archive(*packed, dir / "out").ok());
    CHECK(tree(dir / "out") == tree(version));
    CHECK(read(dir / "out" / "model.pt") == read(version / "model.pt"));
  }
  SUBCASE("a symbolic link inside is not_packable, naming it") {
    fs::create_symlink("/etc/passwd", version / "labels.txt");
    const auto packed = pack_directory(version);
    REQUIRE_FALSE(packed.ok());
    CHECK(packed.error().code == "not_packable");
    CHECK(packed.error().message.find("labels.txt") != std::string::npos);
  }
  SUBCASE("a folder over the limits is archive_too_large") {
    ArchiveLimits limits;
    limits.max_total_bytes = 50'000;
    const auto packed = pack_directory(version, limits);
    REQUIRE_FALSE(packed.ok());
    CHECK(packed.error().code == "archive_too_large");
  }
}

TEST_SUITE_END();
