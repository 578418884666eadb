#pragma once

// Bytes → DecodedImage with OpenCV, for PNG, JPEG, BMP, TIFF and WebP; 8- and 16-bit; gray,
// gray+alpha, RGB and RGBA. Thread-safe (no state).

#include <inferwatch/infer/decoded_image.hpp>
#include <inferwatch/util/result.hpp>

#include <cstdint>
#include <string_view>

namespace inferwatch::infer {

// What one decode may cost, both checked from the header before any pixel is decoded.
struct DecodeLimits {
  std::int64_t max_pixels = 100'000'000;                     // preprocess.max_pixels
  std::int64_t max_decode_bytes = 1LL * 1024 * 1024 * 1024;  // preprocess.max_decode_bytes
  // The caller's peak after decoding, while it still holds the float image (preprocessing:
  // Preprocessor::peak_bytes); the budget covers the larger of it and the decode's own.
  std::int64_t preprocess_bytes = 0;
};

// Peak bytes that decoding the image `header` describes and preparing it for the model take on
// one worker: the codec's own buffers, the decoded samples, the float image and preprocessing's
// temporaries. An upper bound for the files the header reader accepts (measured; see the .cpp).
// Saturates at INT64_MAX.
std::int64_t estimate_decode_bytes(const ImageHeader& header);

// Errors: those of read_image_header, `too_large` (more than `max_pixels`, or an estimate above
// `max_decode_bytes`, checked from the header before decoding) and `decode_failed`.
util::Result<DecodedImage> decode_image(std::string_view bytes, const DecodeLimits& limits);

// The same, for a caller that already read the header.
util::Result<DecodedImage> decode_image(std::string_view bytes, const ImageHeader& header,
                                        const DecodeLimits& limits);

}  // namespace inferwatch::infer
