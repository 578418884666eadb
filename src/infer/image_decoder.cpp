#include <inferwatch/infer/image_decoder.hpp>

#include <fmt/format.h>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>

#include <array>
#include <cstdint>
#include <limits>
#include <mutex>

namespace inferwatch::infer {
namespace {

using util::Error;

constexpr std::int64_t k_int64_max = std::numeric_limits<std::int64_t>::max();

std::int64_t saturating_mul(std::int64_t a, std::int64_t b) {
  if (a == 0 || b == 0) return 0;
  return a > k_int64_max / b ? k_int64_max : a * b;
}
std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  return a > k_int64_max - b ? k_int64_max : a + b;
}

// OpenCV's own warnings would go to stderr; every failure here becomes an error result instead.
void silence_opencv() {
  static std::once_flag once;
  std::call_once(once,
                 [] { cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT); });
}

// Sample value → [0, 1], divided as the Python reference does (float32 / 255 or / 65535).
template <typename T>
struct UnitScale {
  static float of(T v) {
    static const auto table = [] {
      std::array<float, std::size_t{std::numeric_limits<T>::max()} + 1> t{};
      const float max = static_cast<float>(std::numeric_limits<T>::max());
      for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<float>(i) / max;
      return t;
    }();
    return table[v];
  }
};
template <>
struct UnitScale<float> {
  static float of(float v) { return v; }
};

// One pass from the decoded BGR(A)/gray(+alpha) samples to float RGB or gray with alpha
// composited onto white, into `out` allocated once: the only other image alive is `raw`.
template <typename T, int C>
void to_unit_float(const cv::Mat& raw, cv::Mat& out) {
  const auto v = [](T s) { return UnitScale<T>::of(s); };
  for (int y = 0; y < raw.rows; ++y) {
    const T* in = raw.ptr<T>(y);
    float* o = out.ptr<float>(y);
    for (int x = 0; x < raw.cols; ++x, in += C) {
      if constexpr (C == 1) {
        *o++ = v(in[0]);
      } else if constexpr (C == 2) {
        const float a = v(in[1]), white = 1.0f - a;
        *o++ = v(in[0]) * a + white;
      } else if constexpr (C == 3) {
        *o++ = v(in[2]);
        *o++ = v(in[1]);
        *o++ = v(in[0]);
      } else {
        const float a = v(in[3]), white = 1.0f - a;
        *o++ = v(in[2]) * a + white;
        *o++ = v(in[1]) * a + white;
        *o++ = v(in[0]) * a + white;
      }
    }
  }
}

template <typename T>
void to_unit_float(const cv::Mat& raw, cv::Mat& out) {
  switch (raw.channels()) {
    case 1:
      return to_unit_float<T, 1>(raw, out);
    case 2:
      return to_unit_float<T, 2>(raw, out);
    case 3:
      return to_unit_float<T, 3>(raw, out);
    default:
      return to_unit_float<T, 4>(raw, out);
  }
}

// To float [0, 1] with 1 or 3 (RGB) channels, alpha composited onto white.
util::Result<cv::Mat> normalize_pixels(const cv::Mat& raw) {
  if (raw.channels() < 1 || raw.channels() > 4) {
    return Error{"unsupported_format", fmt::format("unsupported channel count {}", raw.channels())};
  }
  cv::Mat out(raw.rows, raw.cols, CV_MAKETYPE(CV_32F, raw.channels() <= 2 ? 1 : 3));
  switch (raw.depth()) {
    case CV_8U:
      to_unit_float<std::uint8_t>(raw, out);
      return out;
    case CV_16U:
      to_unit_float<std::uint16_t>(raw, out);
      return out;
    case CV_32F:
      to_unit_float<float>(raw, out);
      return out;
    default:
      return Error{"unsupported_format",
                   fmt::format("unsupported sample depth (OpenCV depth {})", raw.depth())};
  }
}

std::string mib(std::int64_t bytes) {
  return fmt::format("{:.0f} MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

}  // namespace

// The phases of a decode and what is alive in each (bytes per pixel for an RGBA 16-bit PNG):
//   1. cv::imdecode: the codec's buffers (ImageHeader::codec_bytes) + the decoded samples (8);
//   2. normalize_pixels: the decoded samples (8) + the float image (12), written in one pass;
// and preprocessing, estimated by Preprocessor::peak_bytes, which holds the float image too.
// The peak is the larger phase. Measured on a 7500×7500 RGBA 16-bit PNG of zeros (max RSS of
// read_image_header + decode_image minus the process's before it): 1083 MB, 19.3 bytes a pixel,
// estimate 20; the previous convertTo/split/mul/merge chain peaked at 3015 MB, 53.6 bytes a pixel.
std::int64_t estimate_decode_bytes(const ImageHeader& header) {
  const std::int64_t pixels = saturating_mul(header.width, header.height);
  const std::int64_t decoded =
      saturating_mul(pixels, std::int64_t{header.channels} * header.bytes_per_sample);
  const std::int64_t as_float = saturating_mul(pixels, header.channels <= 2 ? 4 : 12);
  return std::max(saturating_add(header.codec_bytes, decoded), saturating_add(decoded, as_float));
}

util::Result<DecodedImage> decode_image(std::string_view bytes, const DecodeLimits& limits) {
  auto header = read_image_header(bytes);
  if (!header) return header.error();
  return decode_image(bytes, *header, limits);
}

util::Result<DecodedImage> decode_image(std::string_view bytes, const ImageHeader& header,
                                        const DecodeLimits& limits) {
  silence_opencv();
  // Compare without multiplying: a forged header can claim 2^32 × 2^32.
  if (header.width <= 0 || header.height <= 0)
    return Error{"decode_failed", "zero width or height"};
  const std::string pages =
      header.pages > 1 ? fmt::format(" (the largest of {} TIFF pages)", header.pages) : "";
  if (header.height > limits.max_pixels / header.width) {
    const auto pixels = static_cast<double>(header.width) * static_cast<double>(header.height);
    return Error{
        "too_large",
        fmt::format("{}×{} = {:.0f} pixels{}, over the limit of {} (preprocess.max_pixels)",
                    header.width, header.height, pixels, pages, limits.max_pixels)};
  }
  // Decodes in flight are bounded by the decode pool (one worker per core), so the daemon's
  // decoding memory is at most cores × max_decode_bytes; systemd's MemoryMax= is sized from it.
  const std::int64_t estimate = std::max(estimate_decode_bytes(header), limits.preprocess_bytes);
  if (estimate > limits.max_decode_bytes) {
    return Error{
        "too_large",
        fmt::format("decoding and preprocessing {}×{}{} with {} channel(s) of {} byte(s) "
                    "would take about {} bytes ({}), over the limit of {} bytes "
                    "(preprocess.max_decode_bytes)",
                    header.width, header.height, pages, header.channels, header.bytes_per_sample,
                    estimate, mib(estimate), limits.max_decode_bytes)};
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
  // The header reader's worst case must cover what was decoded; if it ever does not, the
  // estimate was wrong for this file, so refuse it rather than go on with unbudgeted memory.
  if (raw.cols > header.width || raw.rows > header.height || raw.channels() > header.channels ||
      static_cast<int>(raw.elemSize1()) > header.bytes_per_sample) {
    return Error{
        "decode_failed",
        fmt::format("the {} decoder produced {}×{}×{} of {} byte(s), more than its header "
                    "says ({}×{}×{} of {})",
                    to_string(header.format), raw.cols, raw.rows, raw.channels(), raw.elemSize1(),
                    header.width, header.height, header.channels, header.bytes_per_sample)};
  }
  auto pixels_f = normalize_pixels(raw);
  if (!pixels_f) return pixels_f.error();
  return DecodedImage{std::move(*pixels_f), header.format, raw.cols, raw.rows};
}

}  // namespace inferwatch::infer
