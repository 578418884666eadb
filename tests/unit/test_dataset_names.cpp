// Names in an exported training set: label folders and example files are always one safe,
// valid UTF-8 path component, two labels never share a folder, and the extension survives.
#include <inferwatch/dataset/names.hpp>

#include <inferwatch/util/utf8.hpp>

#include <doctest/doctest.h>

#include <set>
#include <string>

using inferwatch::dataset::example_file_name;
using inferwatch::dataset::is_temp_name;
using inferwatch::dataset::k_max_file_name_bytes;
using inferwatch::dataset::label_folder;
using inferwatch::dataset::temp_name;

TEST_SUITE_BEGIN("dataset");

TEST_CASE("dataset::label_folder") {
  SUBCASE("a plain label is its own folder, UTF-8 included") {
    CHECK(*label_folder("circle") == "circle");
    CHECK(*label_folder("hatched area") == "hatched area");
    CHECK(*label_folder("Schraube-M8 ø") == "Schraube-M8 ø");
  }
  SUBCASE("slashes, percent signs and control characters are escaped") {
    CHECK(*label_folder("a/b") == "a%2Fb");
    CHECK(*label_folder("50%") == "50%25");
    CHECK(*label_folder("tab\there") == "tab%09here");
  }
  SUBCASE("dot, dot-dot and hidden names are never the folder") {
    CHECK(*label_folder(".") == "%2E");
    CHECK(*label_folder("..") == "%2E.");
    CHECK(*label_folder(".hidden") == "%2Ehidden");
  }
  SUBCASE("bytes that are not UTF-8 are escaped, so the folder is valid UTF-8") {
    const auto folder = label_folder("caf\xe9");
    CHECK(*folder == "caf%E9");
    CHECK(inferwatch::util::is_valid_utf8(*folder));
  }
  SUBCASE("labels that look alike after escaping still get folders of their own") {
    std::set<std::string> folders;
    for (const char* label : {"a/b", "a%2Fb", "a%252Fb", ".x", "%2Ex", "..", "%2E."}) {
      folders.insert(*label_folder(label));
    }
    CHECK(folders.size() == 7);
  }
  SUBCASE("an empty label and one too long for a folder are refused") {
    CHECK(label_folder("").error().code == "unsafe_label");
    CHECK(label_folder(std::string(200, '/')).error().code == "unsafe_label");
    CHECK(label_folder(std::string(255, 'x')).ok());
  }
}

TEST_CASE("dataset::example_file_name") {
  SUBCASE("the result id, then the file's own name without its folders") {
    CHECK(example_file_name(42, "alice/parts/part-17.png") == "42-part-17.png");
    CHECK(example_file_name(7, "top.jpg") == "7-top.jpg");
  }
  SUBCASE("one name in two folders gives two files") {
    CHECK(example_file_name(1, "a/x.png") != example_file_name(2, "b/x.png"));
  }
  SUBCASE("bytes that are not UTF-8 become U+FFFD, control characters '_'") {
    const auto name = example_file_name(3, "caf\xe9\n.png");
    CHECK(name == "3-caf\xef\xbf\xbd_.png");
    CHECK(inferwatch::util::is_valid_utf8(name));
  }
  SUBCASE("a long name is cut at a character boundary and keeps its extension") {
    std::string stem;
    for (int i = 0; i < 200; ++i) stem += "ø";
    const auto name = example_file_name(123456, "dir/" + stem + ".tiff");
    CHECK(name.size() <= k_max_file_name_bytes);
    CHECK(name.starts_with("123456-"));
    CHECK(name.ends_with("ø.tiff"));
    CHECK(inferwatch::util::is_valid_utf8(name));
  }
  SUBCASE("an overlong extension is not kept whole at the expense of the name") {
    const auto name = example_file_name(1, std::string(300, 'x') + "." + std::string(40, 'e'));
    CHECK(name.size() <= k_max_file_name_bytes);
    CHECK(name.starts_with("1-xxxx"));
  }
}

TEST_CASE("dataset::temp_name") {
  SUBCASE("an example's temp name is recognized as one") {
    CHECK(is_temp_name(temp_name("12-part.png")));
  }
  SUBCASE("example files and other hidden files are not temp names") {
    CHECK_FALSE(is_temp_name("12-part.png"));
    CHECK_FALSE(is_temp_name(".DS_Store"));
    CHECK_FALSE(is_temp_name(".manifest.jsonl.tmp"));
  }
}

TEST_SUITE_END();
