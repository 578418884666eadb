#pragma once

#include <vector>

namespace inferwatch::infer {

// One preprocessed model input: float CHW, contiguous. Kept free of LibTorch types so that only
// the engine's translation units include <torch/…>.
struct InputTensor {
  std::vector<float> data;
  int channels = 0;
  int height = 0;
  int width = 0;
};

}  // namespace inferwatch::infer
