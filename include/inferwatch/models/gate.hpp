#pragma once

// The deployment gate (SPEC §10, docs/models.md): what a model version must show on this machine
// before it may serve. Every check runs and reports, so one verdict lists every reason:
//
//   load_failed               the TorchScript file does not load
//   shape_mismatch            the model rejects its input, or its output per image is not [io]
//   output dtype_mismatch            its output's element type is not [io] dtype non_finite_weights
//   NaN or Inf in its weights or buffers non_finite_output         NaN or Inf in its output for a
//   golden image (or a mid-gray input) inference_failed          a forward failed on a golden image
//   golden_set_invalid        stray files, unknown labels, images that do not decode, bad
//                             expected.jsonl lines, or [gate] min_accuracy with no golden set
//   accuracy_below_threshold  golden-set top-1 accuracy below [gate] min_accuracy
//   accuracy_drop             more than [gate] max_accuracy_drop below the live version's
//   expected_output_mismatch  an expected output not reproduced within [gate] output_tolerance
//                             (training and serving preprocess differently)
//   latency_over_budget       p50 or p99 of one-image forwards over [gate] max_p50_ms / max_p99_ms

#include <inferwatch/config/model_manifest.hpp>
#include <inferwatch/models/drift.hpp>
#include <inferwatch/models/engine.hpp>
#include <inferwatch/models/golden_set.hpp>

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

namespace inferwatch::models {

struct GateReason {
  std::string code;  // stable, snake_case (above)
  std::string message;
};

struct GateNumbers {
  std::size_t golden_images = 0;
  std::size_t expected_outputs = 0;       // golden images with an expected output
  std::optional<double> accuracy;         // top-1 on the golden set (classification)
  std::optional<double> live_accuracy;    // what it was compared with
  std::optional<double> max_output_diff;  // largest |actual − expected| over all values
  std::string worst_file;                 // the golden image where that was
  std::optional<double> p50_ms, p99_ms;   // one-image forwards
  std::size_t latency_samples = 0;
  double load_ms = 0;
  double elapsed_ms = 0;  // the whole gate
};

struct GateVerdict {
  bool passed = false;
  std::string name;                 // <name>
  std::string version;              // <version> (its directory)
  std::string model_version;        // name@sha256 prefix, as results record it; empty if not loaded
  std::vector<GateReason> reasons;  // empty when passed
  GateNumbers numbers;
  config::GatePolicy policy;  // the thresholds it was judged by
  // The top-1 predictions (postprocessed as when serving) on the golden images with a finite
  // classification output: the version's drift reference. Not part of the verdict's JSON.
  DriftHistogram golden_predictions;

  bool has(std::string_view code) const;
};

// The verdict as the API and `inferwatch gate --json` show it.
boost::json::object to_json(const GateVerdict& verdict);

struct GateOptions {
  // The live version's golden-set accuracy, for [gate] max_accuracy_drop.
  std::optional<double> live_accuracy;
  // Passes of one-image forwards over the golden set for the latency percentiles.
  int latency_rounds = 3;
  std::int64_t max_file_bytes = 256LL * 1024 * 1024;  // per golden image
};

// Stateless; a Gate may judge many versions, one at a time per thread.
class Gate {
 public:
  explicit Gate(GateOptions options = {}) : m_options(options) {}

  // Load the version `manifest` describes (with `base` for everything a manifest does not set)
  // and judge it. Blocks for as long as loading and the golden set take.
  GateVerdict run(const config::ModelManifest& manifest, const config::Config& base = {}) const;

  // Judge a loaded engine whose postprocess mode is raw (so outputs arrive as the model gave
  // them). `verdict` carries what is known already (names, load time).
  GateVerdict judge(Engine& engine, const config::ModelManifest& manifest, const GoldenSet& golden,
                    GateVerdict verdict) const;

 private:
  GateOptions m_options;
};

}  // namespace inferwatch::models
