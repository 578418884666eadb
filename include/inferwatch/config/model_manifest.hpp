#pragma once

// A model version's `model.toml` (docs/models.md) → plain structs. A version directory
// `<repository>/<name>/<version>/` holds the TorchScript file, model.toml, and optionally
// labels.txt and golden/. Its [preprocess], [postprocess] and the model keys are read by the
// daemon config's own readers and checked by its validation, so they mean exactly the same.
// Loading never throws: every problem is reported with file, line and key, like the loader.

#include <inferwatch/config/config.hpp>
#include <inferwatch/config/loader.hpp>
#include <inferwatch/config/problem.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace inferwatch::config {

// The file whose presence marks a version directory complete (written last, by rename).
inline constexpr std::string_view k_manifest_file = "model.toml";

// [io] — the model's contract per image, without the batch dimension.
struct ModelIo {
  std::vector<std::int64_t> input{};   // e.g. [1, 64, 64]; empty: taken from [preprocess]
  std::vector<std::int64_t> output{};  // e.g. [8]; empty: [number of labels] when known
  // The output tensor's element type: float32, float16, bfloat16, float64, int64, int32, bool.
  std::string dtype = "float32";
};

// [gate] — what a version must show on this machine before it may serve (0 = not checked).
struct GatePolicy {
  // Top-1 accuracy on the golden set at least this.
  double min_accuracy = 0.0;
  // And at most this far below the live version's accuracy, when one is known.
  double max_accuracy_drop = 0.02;
  // Each expected output value reproduced within this absolute difference.
  double output_tolerance = 1e-3;
  // Latency budget of a one-image forward.
  double max_p50_ms = 0.0;
  double max_p99_ms = 0.0;
};

enum class RolloutMode { immediate, shadow, canary };

// [rollout] — how a version that passed the gate takes over from the live one.
struct RolloutPolicy {
  RolloutMode mode = RolloutMode::immediate;
  // canary: the share of files (by path hash) the candidate answers for.
  double canary_fraction = 0.1;
  // Files the candidate must have seen before it is judged.
  std::int64_t min_files = 200;
  // Top-1 agreement with the live version at least this.
  double min_agreement = 0.9;
  // Share of the candidate's files that end in an error at most this.
  double max_error_rate = 0.05;
  // Candidate's mean latency at most this many times the live version's.
  double max_latency_ratio = 2.0;
  // Promote as soon as the numbers are met (false: wait for a person).
  bool auto_promote = true;
  // canary: roll back when the accuracy of the candidate's results on their feedback (current
  // feedback confirming the prediction) falls below this, once min_feedback_count of its results
  // have feedback. 0: feedback is not judged.
  double min_feedback_accuracy = 0.0;
  std::int64_t min_feedback_count = 20;
};

std::string_view to_string(RolloutMode mode);

struct ModelManifest {
  std::filesystem::path directory{};  // the version directory, absolute
  std::string name{};                 // <name>: the directory above it
  std::string version{};              // <version>: its own directory name
  // `path` = the TorchScript file (`file`, in `directory`), `name` = <name>, labels, device,
  // precision, threads, optimize.
  Model model{};
  Preprocess preprocess{};
  Postprocess postprocess{};
  Batching batching{};
  ModelIo io{};
  GatePolicy gate{};
  RolloutPolicy rollout{};
};

struct LoadedManifest {
  ModelManifest manifest;
  SourceMap sources;
  std::vector<Problem> problems;  // empty when the version is usable
};

// Parse `text` as the model.toml of `version_dir`, and validate it.
LoadedManifest load_manifest_string(std::string_view text,
                                    const std::filesystem::path& version_dir);

// Read and load `version_dir`/model.toml; a missing or unreadable file is a problem.
LoadedManifest load_manifest(const std::filesystem::path& version_dir);

// The configuration that runs this version: `base` with the manifest's [model], [preprocess],
// [postprocess] and [batching] in place of its own.
Config to_config(const ModelManifest& manifest, Config base = {});

}  // namespace inferwatch::config
