#pragma once

// Bytes → DecodedImage with OpenCV, for PNG, JPEG, BMP, TIFF and WebP; 8- and 16-bit; gray,
// gray+alpha, RGB and RGBA. Thread-safe (no state).

#include <inferwatch/infer/decoded_image.hpp>
#include <inferwatch/util/result.hpp>

#include <cstdint>
#include <string_view>

namespace inferwatch::infer {

// Errors: those of read_image_header, `too_large` (more than `max_pixels`, checked from the
// header before decoding) and `decode_failed`.
util::Result<DecodedImage> decode_image(std::string_view bytes, std::int64_t max_pixels);

// The same, for a caller that already read the header.
util::Result<DecodedImage> decode_image(std::string_view bytes, const ImageHeader& header,
                                        std::int64_t max_pixels);

}  // namespace inferwatch::infer
