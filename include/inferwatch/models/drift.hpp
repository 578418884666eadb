#pragma once

// Drift of a model version's predictions (SPEC §11, docs/models.md "Drift"): the predicted
// top-1 labels and binned top-1 scores of a recent window of results, compared with a reference
// population by the population stability index (PSI). Pure computation: no clocks, no I/O, no
// locks; callers serialize access to a DriftWindow.

#include <inferwatch/util/result.hpp>

#include <boost/json/value.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace inferwatch::models {

// Top-1 scores are binned in 10 fixed bins of width 0.1 ([0, 0.1), …, [0.9, 1]), never bins
// inferred from data, so every version and every reference bins alike.
inline constexpr std::size_t k_score_bins = 10;
// Labels with an index at or above this share one bin (and the metric label `other`), so a model
// with thousands of classes cannot make thousands of series.
inline constexpr std::size_t k_label_bins = 100;
// Added to every compared bin's count before the proportions are taken (Jeffreys' prior): a bin
// empty on one side then weighs by the size of that side instead of by an arbitrary epsilon.
inline constexpr double k_drift_pseudo_count = 0.5;

// One result as drift sees it: its top-1 label's bin and its top-1 score's bin.
struct DriftSample {
  std::size_t label_bin = 0;  // the label index, or k_label_bins for every index past it
  std::size_t score_bin = 0;  // 0 … k_score_bins − 1

  bool operator==(const DriftSample&) const = default;
};

// The sample of a top-1 prediction: label index `label_index` (≥ 0) with probability `score`
// (clamped to [0, 1]; 1.0 falls in the last bin).
DriftSample drift_sample(int label_index, double score);

// Counts of samples per label bin and per score bin.
struct DriftHistogram {
  std::array<std::uint64_t, k_label_bins + 1> labels{};
  std::array<std::uint64_t, k_score_bins> scores{};
  std::uint64_t total = 0;

  void add(DriftSample sample);
  // `sample` must have been added before.
  void remove(DriftSample sample);

  bool operator==(const DriftHistogram&) const = default;
};

// The population stability index of `actual` against `expected` (equal-length count vectors):
// Σ (a − e) · ln(a / e) over the bins where either side counted something, a and e being each
// side's proportions after adding `pseudo` to each such bin's count. Symmetric; 0 for equal
// proportions; 0 when either side is empty (nothing to compare).
double population_stability_index(std::span<const std::uint64_t> expected,
                                  std::span<const std::uint64_t> actual,
                                  double pseudo = k_drift_pseudo_count);

// A window's drift from a reference: the PSI of the label distribution and of the binned top-1
// scores; the version's drift score is the larger of the two.
struct DriftScore {
  double labels = 0;
  double scores = 0;
  double value() const { return labels > scores ? labels : scores; }
};

DriftScore drift_score(const DriftHistogram& reference, const DriftHistogram& window);

// The latest `capacity` samples of a stream and their histogram. add() is O(1): the oldest
// sample leaves the histogram as the new one enters. Not thread-safe.
class DriftWindow {
 public:
  explicit DriftWindow(std::size_t capacity);

  void add(DriftSample sample);
  const DriftHistogram& histogram() const { return m_histogram; }
  std::size_t size() const { return static_cast<std::size_t>(m_histogram.total); }
  std::size_t capacity() const { return m_ring.size(); }
  bool full() const { return size() == capacity(); }

 private:
  std::vector<DriftSample> m_ring;
  std::size_t m_next = 0;  // where the next sample goes (the oldest one once full)
  DriftHistogram m_histogram;
};

// A histogram as stored: {"total": N, "labels": {"<bin>": count, …}, "scores": [10 counts]}
// (label bins with a count only).
boost::json::value to_json(const DriftHistogram& histogram);
// Error `invalid_drift_histogram` when `json` is not what to_json writes (or its counts do not
// add up to its total).
util::Result<DriftHistogram> drift_histogram_from_json(const boost::json::value& json);

}  // namespace inferwatch::models
