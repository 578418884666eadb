#pragma once

#include <string>

namespace inferwatch::infer {

// One of the top-k classes of a classification result.
struct Prediction {
  std::string label;  // from the labels, or "class_<index>" when the model has none
  int index = 0;
  double score = 0;  // probability in [0, 1]
};

}  // namespace inferwatch::infer
