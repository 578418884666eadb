#pragma once

// DecodedImage → model input, with the same ATen operations torchvision's tensor transforms use
// (Resize(antialias=True), CenterCrop, Pad, Normalize), so scores match the Python reference.
// Thread-safe: const after construction.

#include <inferwatch/config/config.hpp>
#include <inferwatch/infer/decoded_image.hpp>
#include <inferwatch/infer/input_tensor.hpp>
#include <inferwatch/util/result.hpp>

namespace inferwatch::infer {

class Preprocessor {
 public:
  explicit Preprocessor(config::Preprocess options);

  // Colour conversion, resize, normalize. Errors: `preprocess_failed`.
  util::Result<InputTensor> run(const DecodedImage& image) const;

  int channels() const { return m_options.colour == config::Colour::gray ? 1 : 3; }
  // Peak bytes run() holds for a decoded float image of this size and `channels` (1 or 3): the
  // image itself, the colour conversion's temporaries, the resized tensor (which for
  // shorter-side+center-crop grows with the aspect ratio). Saturates at INT64_MAX.
  std::int64_t peak_bytes(std::int64_t width, std::int64_t height, int channels) const;
  const config::Preprocess& options() const { return m_options; }

 private:
  config::Preprocess m_options;
};

}  // namespace inferwatch::infer
