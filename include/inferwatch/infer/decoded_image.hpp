#pragma once

#include <inferwatch/infer/image_header.hpp>

#include <opencv2/core/mat.hpp>

namespace inferwatch::infer {

// Pixels as float in [0, 1], CV_32FC1 (gray) or CV_32FC3 in RGB order; alpha already
// composited onto white. `width`/`height` are the file's own dimensions.
struct DecodedImage {
  cv::Mat pixels;
  ImageFormat format = ImageFormat::png;
  int width = 0;
  int height = 0;
};

}  // namespace inferwatch::infer
