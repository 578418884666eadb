#pragma once

// The arithmetic of the gate (gate.hpp), apart from loading and running models.

#include <inferwatch/util/result.hpp>

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace inferwatch::models {

// One image's output tensor as the raw postprocess mode gives it ({"shape", "dtype", "data"}).
struct OutputTensor {
  std::vector<std::int64_t> shape;
  std::string dtype;           // LibTorch's name: "Float", "Half", "Long", ...
  std::vector<double> values;  // flattened; NaN where the model gave NaN or Inf
  std::size_t non_finite = 0;
};

// The first tensor of a raw output (a tensor, or a tuple/list whose first element is one).
// Error `not_a_tensor` otherwise.
util::Result<OutputTensor> output_tensor(const boost::json::value& raw);

// LibTorch's name of a model.toml [io] dtype ("float32" → "Float"); empty if unknown.
std::string torch_dtype(std::string_view io_dtype);

// The nearest-rank percentile `p` (0–100] of `samples`; 0 when there are none.
double percentile(std::vector<double> samples, double p);

// Index of the largest value (the first of equal ones); none for an empty or NaN-holding list.
std::optional<std::size_t> top1(const std::vector<double>& values);

// Largest |a[i] − b[i]|; none when the lengths differ.
std::optional<double> max_abs_diff(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace inferwatch::models
