// The export on real files: examples are hard links to the very files their results were made
// from (or copies), a second run adds only what is new, feedback that changed moves or updates
// an example, and a file that changed, went away or became a symlink is left out with a reason,
// with nothing written outside OUT.
#include <inferwatch/dataset/exporter.hpp>

#include <inferwatch/dataset/manifest.hpp>
#include <inferwatch/util/file.hpp>
#include <inferwatch/util/root_dir.hpp>
#include <inferwatch/util/sha256.hpp>

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using inferwatch::dataset::export_dataset;
using inferwatch::dataset::ExportOptions;
using inferwatch::dataset::Transfer;
using inferwatch::store::LabelledResult;
using inferwatch::test::TempDir;

namespace {

// A result with feedback for the file `path` under `share` as it is now.
LabelledResult labelled(const TempDir& share, std::int64_t id, const std::string& path,
                        const std::string& label, std::int64_t feedback_id = 0) {
  auto root = inferwatch::util::RootDir::open(share.path());
  LabelledResult r;
  r.result_id = id;
  r.root = share.path().string();
  r.path = r.raw_path = path;
  r.version = *root->stat(path);
  r.model_version = "demo-shapes@0123456789ab";
  r.sha256 = inferwatch::util::sha256_hex(*inferwatch::util::read_file(share / path));
  r.predicted_score = 0.9;
  r.current_result_id = id;
  r.feedback.id = feedback_id ? feedback_id : id * 10;
  r.feedback.result_id = id;
  r.feedback.label = label;
  r.feedback.predicted_label = "circle";
  r.feedback.user = "alice";
  r.feedback.created_at = "2026-11-23T10:00:00.000Z";
  return r;
}

inferwatch::dataset::Manifest manifest_of(const std::filesystem::path& out) {
  auto text = inferwatch::util::read_file(out / "manifest.jsonl");
  REQUIRE(text.ok());
  auto m = inferwatch::dataset::parse_manifest(*text);
  REQUIRE(m.ok());
  return *m;
}

ino_t inode_of(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_ino;
}

// Every file under `dir`, relative.
std::vector<std::string> files_under(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    out.push_back(std::filesystem::relative(e.path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_SUITE_BEGIN("dataset");

TEST_CASE("dataset::export_dataset") {
  TempDir share;
  TempDir out_parent;
  share.write("a/x.png", "first image");
  share.write("b/x.png", "second image");
  ExportOptions options;
  options.out = out_parent / "set";
  std::vector<LabelledResult> results{labelled(share, 1, "a/x.png", "circle"),
                                      labelled(share, 2, "b/x.png", "square")};

  SUBCASE("examples land in label folders as hard links, with a manifest") {
    const auto s = export_dataset(results, options);
    REQUIRE(s.ok());
    CHECK(s->added == 2);
    CHECK(s->hardlinked == 2);
    CHECK(s->examples == 2);
    CHECK(s->folders == 2);
    CHECK(inode_of(options.out / "circle/1-x.png") == inode_of(share / "a/x.png"));
    CHECK(inode_of(options.out / "square/2-x.png") == inode_of(share / "b/x.png"));
    const auto m = manifest_of(options.out);
    REQUIRE(m.size() == 2);
    CHECK(m.at(1).file == "circle/1-x.png");
    CHECK(m.at(1).sha256 == inferwatch::util::sha256_hex("first image"));
    CHECK(m.at(2).label == "square");
    CHECK(m.at(2).method == "hardlink");
  }
  SUBCASE("--copy copies the bytes into a file of its own") {
    options.transfer = Transfer::copy;
    const auto s = export_dataset(results, options);
    REQUIRE(s.ok());
    CHECK(s->copied == 2);
    CHECK(inode_of(options.out / "circle/1-x.png") != inode_of(share / "a/x.png"));
    CHECK(*inferwatch::util::read_file(options.out / "circle/1-x.png") == "first image");
    CHECK(manifest_of(options.out).at(1).method == "copy");
  }
  SUBCASE("a second run adds only what is new") {
    REQUIRE(export_dataset(results, options).ok());
    share.write("c/y.png", "third image");
    results.push_back(labelled(share, 3, "c/y.png", "circle"));
    const auto s = export_dataset(results, options);
    REQUIRE(s.ok());
    CHECK(s->added == 1);
    CHECK(s->already_present == 2);
    CHECK(s->examples == 3);
  }
  SUBCASE("feedback with another label moves the example; the manifest follows") {
    REQUIRE(export_dataset(results, options).ok());
    results[0].feedback.id = 99;
    results[0].feedback.label = "triangle";
    const auto s = export_dataset(results, options);
    REQUIRE(s.ok());
    CHECK(s->relabelled == 1);
    CHECK_FALSE(std::filesystem::exists(options.out / "circle/1-x.png"));
    CHECK(inode_of(options.out / "triangle/1-x.png") == inode_of(share / "a/x.png"));
    const auto m = manifest_of(options.out);
    CHECK(m.at(1).file == "triangle/1-x.png");
    CHECK(m.at(1).feedback_id == 99);
  }
  SUBCASE("feedback with the same label updates the manifest, the file stays") {
    REQUIRE(export_dataset(results, options).ok());
    results[0].feedback.id = 99;
    results[0].feedback.user = "bob";
    const auto s = export_dataset(results, options);
    REQUIRE(s.ok());
    CHECK(s->updated == 1);
    CHECK(manifest_of(options.out).at(1).user == "bob");
  }
  SUBCASE("an example removed from the set is exported again") {
    REQUIRE(export_dataset(results, options).ok());
    std::filesystem::remove(options.out / "circle/1-x.png");
    const auto s = export_dataset(results, options);
    REQUIRE(s.ok());
    CHECK(s->added == 1);
    CHECK(std::filesystem::exists(options.out / "circle/1-x.png"));
  }
  SUBCASE("a file changed since its result is left out as changed") {
    share.write("a/x.png", "rewritten, longer image");
    const auto s = export_dataset(results, options);
    REQUIRE(s.ok());
    CHECK(s->added == 1);
    REQUIRE(s->skipped.size() == 1);
    CHECK(s->skipped[0].result_id == 1);
    CHECK(s->skipped[0].reason == "changed");
    CHECK_FALSE(std::filesystem::exists(options.out / "circle"));
    const auto skipped = inferwatch::util::read_file(options.out / "skipped.jsonl");
    CHECK(skipped->find("\"reason\":\"changed\"") != std::string::npos);
  }
  SUBCASE("a file gone is left out as gone") {
    std::filesystem::remove(share / "a/x.png");
    const auto s = export_dataset(results, options);
    REQUIRE(s.ok());
    CHECK(s->skipped_by_reason.at("gone") == 1);
  }
  SUBCASE("a file swapped for a symlink is not followed: not_regular_file") {
    TempDir outside;
    const auto secret = outside.write("secret.png", "not yours");
    std::filesystem::remove(share / "a/x.png");
    std::filesystem::create_symlink(secret, share / "a/x.png");
    const auto s = export_dataset(results, options);
    REQUIRE(s.ok());
    CHECK(s->skipped_by_reason.at("not_regular_file") == 1);
    CHECK(files_under(options.out) == std::vector<std::string>{".inferwatch-export.lock",
                                                               "manifest.jsonl", "skipped.jsonl",
                                                               "square", "square/2-x.png"});
  }
  SUBCASE("a result superseded by a newer one of its file is left out") {
    results[0].current_result_id = 5;
    const auto s = export_dataset(results, options);
    REQUIRE(s.ok());
    CHECK(s->skipped_by_reason.at("superseded") == 1);
  }
  SUBCASE("a label folder swapped for a symlink stops the export; nothing lands outside") {
    TempDir outside;
    std::filesystem::create_directories(options.out);
    std::filesystem::create_directory_symlink(outside.path(), options.out / "circle");
    const auto s = export_dataset(results, options);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == "write_failed");
    CHECK(files_under(outside.path()).empty());
  }
  SUBCASE("temp files of an interrupted run are removed") {
    std::filesystem::create_directories(options.out / "circle");
    std::ofstream(options.out / "circle/.1-x.png.tmp") << "half";
    REQUIRE(export_dataset(results, options).ok());
    CHECK_FALSE(std::filesystem::exists(options.out / "circle/.1-x.png.tmp"));
  }
  SUBCASE("a second export into the same folder at once is refused") {
    std::filesystem::create_directories(options.out);
    const int lock = ::open((options.out / ".inferwatch-export.lock").c_str(),
                            O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(::flock(lock, LOCK_EX) == 0);
    const auto s = export_dataset(results, options);
    ::close(lock);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == "export_running");
  }
}

TEST_SUITE_END();
