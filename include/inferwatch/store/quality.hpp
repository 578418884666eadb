#pragma once

// A model version's quality on feedback (SPEC §11): each result's current feedback label against
// the label the version predicted. Pure computation over (predicted, given) pairs; the
// FeedbackStore gathers the pairs.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace inferwatch::store {

// One result with feedback: its top-1 label and the label its current feedback gives.
struct LabelPair {
  std::string predicted;
  std::string given;

  bool operator==(const LabelPair&) const = default;
};

// One label's numbers. Precision = correct / predicted, recall = correct / support; each is empty
// while there is nothing to divide by.
struct LabelQuality {
  std::string label;
  std::int64_t support = 0;    // results whose feedback gives this label
  std::int64_t predicted = 0;  // results the version gave this label
  std::int64_t correct = 0;    // both
  std::optional<double> precision;
  std::optional<double> recall;
};

struct Quality {
  std::int64_t count = 0;          // results with feedback
  std::int64_t correct = 0;        // those whose feedback confirms the prediction
  std::optional<double> accuracy;  // correct / count; empty without feedback
  // The order of per_label and of the confusion matrix's rows and columns.
  std::vector<std::string> labels;
  std::vector<LabelQuality> per_label;
  // confusion[p][g]: results predicted labels[p] whose feedback gives labels[g].
  std::vector<std::vector<std::int64_t>> confusion;
};

// The quality of `pairs`. Labels come in `label_order` (the model's labels), then any label of a
// pair that is not in it (an older version's), sorted; every label of `label_order` has its row
// and column even without feedback.
Quality compute_quality(std::span<const LabelPair> pairs, std::span<const std::string> label_order);

}  // namespace inferwatch::store
