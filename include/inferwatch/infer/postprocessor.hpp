#pragma once

// Class scores → top-k predictions. Thread-safe: const after construction.

#include <inferwatch/config/config.hpp>
#include <inferwatch/infer/prediction.hpp>

#include <span>
#include <string>
#include <vector>

namespace inferwatch::infer {

class Postprocessor {
 public:
  Postprocessor(config::Postprocess options, std::vector<std::string> labels);

  // Top-k classes, highest score first (ties: lower index first). Scores are softmaxed unless
  // configured off, or (`auto`) unless they already are probabilities (in [0, 1], summing to 1).
  std::vector<Prediction> classify(std::span<const float> scores) const;

 private:
  config::Postprocess m_options;
  std::vector<std::string> m_labels;
};

// True when `scores` already look like a probability distribution.
bool is_probability_distribution(std::span<const float> scores);

}  // namespace inferwatch::infer
