#pragma once

#include <boost/json/value.hpp>

#include <vector>

namespace inferwatch::infer {

// One item's share of a batch's output: class scores for `classification`, or the whole output
// as JSON for `raw` (tensors as {"shape": [...], "dtype": "...", "data": nested lists}).
struct ModelOutput {
  std::vector<float> scores;
  boost::json::value raw;
};

}  // namespace inferwatch::infer
