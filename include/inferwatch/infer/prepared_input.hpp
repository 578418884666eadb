#pragma once

// Everything one file needs before the model runs: hash, decode, preprocess, timed. This is the
// CPU-heavy step that runs on the worker pool, so it is free of shared state.

#include <inferwatch/infer/input_tensor.hpp>
#include <inferwatch/infer/preprocessor.hpp>
#include <inferwatch/util/result.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace inferwatch::infer {

struct PreparedInput {
  util::Result<InputTensor> input = util::Error{"not_prepared", ""};
  std::string sha256;
  std::optional<std::pair<int, int>> size;  // width, height, once the header was read
  double decode_ms = 0;                     // decode + preprocess
};

PreparedInput prepare_input(std::string_view bytes, const Preprocessor& preprocessor);

}  // namespace inferwatch::infer
