#pragma once

// Format and dimensions read from an image's first bytes, before any pixel is decoded, so the
// pixel limit holds even for a 100000×100000 PNG of a few kilobytes.

#include <inferwatch/util/result.hpp>

#include <cstdint>
#include <string_view>

namespace inferwatch::infer {

enum class ImageFormat { png, jpeg, bmp, tiff, webp };

struct ImageHeader {
  ImageFormat format;
  std::int64_t width = 0;
  std::int64_t height = 0;
};

// Errors: `empty_file`, `unsupported_format` (not PNG, JPEG, BMP, TIFF or WebP),
// `truncated` (the data ends before the format's end marker), `decode_failed` (malformed header).
util::Result<ImageHeader> read_image_header(std::string_view bytes);

std::string_view to_string(ImageFormat format);

}  // namespace inferwatch::infer
