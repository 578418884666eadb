#include <inferwatch/infer/image_decoder.hpp>

#include <fmt/format.h>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <mutex>

namespace inferwatch::infer {
namespace {

using util::Error;

// OpenCV's own warnings would go to stderr; every failure here becomes an error result instead.
void silence_opencv() {
  static std::once_flag once;
  std::call_once(once,
                 [] { cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT); });
}

// To float [0, 1] with 1 or 3 (RGB) channels, alpha composited onto white.
util::Result<cv::Mat> normalize_pixels(const cv::Mat& raw) {
  double scale = 1.0;
  switch (raw.depth()) {
    case CV_8U:
      scale = 1.0 / 255.0;
      break;
    case CV_16U:
      scale = 1.0 / 65535.0;
      break;
    case CV_32F:
      scale = 1.0;
      break;
    default:
      return Error{"unsupported_format",
                   fmt::format("unsupported sample depth (OpenCV depth {})", raw.depth())};
  }
  cv::Mat f;
  raw.convertTo(f, CV_MAKETYPE(CV_32F, raw.channels()), scale);

  cv::Mat out;
  switch (f.channels()) {
    case 1:
      return f;
    case 3:
      cv::cvtColor(f, out, cv::COLOR_BGR2RGB);
      return out;
    case 2:
    case 4: {
      std::vector<cv::Mat> planes;
      cv::split(f, planes);
      const cv::Mat alpha = planes.back();
      const cv::Mat white_part = 1.0 - alpha;
      planes.pop_back();
      for (auto& p : planes) p = p.mul(alpha) + white_part;
      if (planes.size() == 1) return planes[0];
      std::swap(planes[0], planes[2]);  // BGR → RGB
      cv::merge(planes, out);
      return out;
    }
    default:
      return Error{"unsupported_format", fmt::format("unsupported channel count {}", f.channels())};
  }
}

}  // namespace

util::Result<DecodedImage> decode_image(std::string_view bytes, std::int64_t max_pixels) {
  auto header = read_image_header(bytes);
  if (!header) return header.error();
  return decode_image(bytes, *header, max_pixels);
}

util::Result<DecodedImage> decode_image(std::string_view bytes, const ImageHeader& header,
                                        std::int64_t max_pixels) {
  silence_opencv();
  // Compare without multiplying: a forged header can claim 2^32 × 2^32.
  if (header.width <= 0 || header.height <= 0)
    return Error{"decode_failed", "zero width or height"};
  if (header.height > max_pixels / header.width) {
    const auto pixels = static_cast<double>(header.width) * static_cast<double>(header.height);
    return Error{"too_large",
                 fmt::format("{}×{} = {:.0f} pixels, over the limit of {} (preprocess.max_pixels)",
                             header.width, header.height, pixels, max_pixels)};
  }

  cv::Mat raw;
  try {
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1,
                         const_cast<char*>(bytes.data()));  // imdecode only reads
    raw = cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    return Error{"decode_failed",
                 fmt::format("{} decoder failed: {}", to_string(header.format), e.msg)};
  }
  if (raw.empty()) {
    return Error{"decode_failed",
                 fmt::format("the {} data could not be decoded (corrupt or unsupported variant)",
                             to_string(header.format))};
  }
  auto pixels_f = normalize_pixels(raw);
  if (!pixels_f) return pixels_f.error();
  return DecodedImage{std::move(*pixels_f), header.format, raw.cols, raw.rows};
}

}  // namespace inferwatch::infer
