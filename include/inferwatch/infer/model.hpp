#pragma once

// The inference engine behind a small interface, so that nothing outside infer/ includes LibTorch.

#include <inferwatch/infer/input_tensor.hpp>
#include <inferwatch/infer/model_info.hpp>
#include <inferwatch/infer/model_output.hpp>
#include <inferwatch/util/result.hpp>

#include <span>
#include <vector>

namespace inferwatch::infer {

class Model {
 public:
  virtual ~Model() = default;

  virtual const ModelInfo& info() const = 0;

  // Run one batch (1 to max_batch_size inputs of the configured shape); one output per input.
  // Errors: `inference_failed`, `invalid_output`. Not thread-safe: one caller at a time.
  virtual util::Result<std::vector<ModelOutput>> forward(
      std::span<const InputTensor* const> batch) = 0;
};

// One all-zero input of the model's shape (mid-gray after the usual normalization), for warm-ups.
inline InputTensor zero_input(const ModelInfo& info) {
  InputTensor zeros;
  zeros.channels = info.channels;
  zeros.height = info.height;
  zeros.width = info.width;
  zeros.data.assign(static_cast<std::size_t>(info.channels) * info.height * info.width, 0.0f);
  return zeros;
}

}  // namespace inferwatch::infer
