#pragma once

#include <string>
#include <vector>

namespace inferwatch::infer {

// What a loaded model is and how it was set up; immutable once loaded.
struct ModelInfo {
  std::string name;       // configured name, "demo-shapes", or the file's stem
  std::string version;    // name@<first 12 hex of sha256>, recorded in every result
  std::string sha256;     // of the TorchScript file's bytes
  std::string source;     // file path, or "built-in"
  std::string device;     // e.g. "cpu", "cuda:0"
  std::string precision;  // fp32, fp16 or bf16
  std::vector<std::string> labels;
  int channels = 0, height = 0, width = 0;  // expected input
  int max_batch_size = 1;
  int threads = 1;  // LibTorch intra-op threads
  bool optimized = false;
  double load_ms = 0;
  double warmup_ms = 0;
  // NaN or infinite values in the weights and buffers as loaded (before any optimization folds
  // them into constants): a broken checkpoint the gate refuses.
  long long non_finite_parameters = 0;
};

}  // namespace inferwatch::infer
