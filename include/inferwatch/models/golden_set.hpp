#pragma once

// A version's golden set (docs/models.md): labelled images in `golden/<label>/<image>` (the
// layout torchvision's ImageFolder reads), and optionally `golden/expected.jsonl`, one line per
// image: {"file": "<label>/<image>", "output": [...]}, the raw output the model gave for that
// image in Python at training time.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace inferwatch::models {

inline constexpr std::string_view k_golden_dir = "golden";
inline constexpr std::string_view k_expected_file = "expected.jsonl";

struct GoldenImage {
  std::filesystem::path file;                   // absolute
  std::string name;                             // "<label>/<image>", as expected.jsonl names it
  std::string label;                            // the folder it is in
  std::optional<std::vector<double>> expected;  // flattened, when expected.jsonl has it
};

struct GoldenSet {
  bool present = false;              // the version has a golden/ directory
  std::vector<GoldenImage> images;   // by label folder, then file name (bytewise)
  std::size_t expected_outputs = 0;  // images with an expected output
  // What is wrong with it (stray files, unreadable folders, bad expected.jsonl lines); each
  // names the file and, for expected.jsonl, the line.
  std::vector<std::string> problems;
};

// Read `version_dir`/golden (no image is decoded here). A version without golden/ has an empty,
// not-present set.
GoldenSet load_golden_set(const std::filesystem::path& version_dir);

}  // namespace inferwatch::models
