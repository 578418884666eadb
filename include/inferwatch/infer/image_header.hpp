#pragma once

// Format, dimensions and sample layout read from an image's first bytes, before any pixel is
// decoded, so the pixel limit and the decode memory budget hold even for a 100000×100000 PNG of a
// few kilobytes. Wherever the file could say two things (duplicate TIFF tags, several JPEG frame
// headers, a WebP canvas and its frame, TIFF pages), the reader either refuses the file or reports
// the worst case, so the check can never be smaller than what the decoder really decodes.

#include <inferwatch/util/result.hpp>

#include <cstdint>
#include <string_view>

namespace inferwatch::infer {

enum class ImageFormat { png, jpeg, bmp, tiff, webp };

struct ImageHeader {
  ImageFormat format;
  // The size the decoder allocates. For a TIFF with several pages, the smallest box every page
  // fits in (OpenCV decodes the first page; nothing larger than any page is ever accepted).
  std::int64_t width = 0;
  std::int64_t height = 0;
  // Samples per pixel of the decoded pixels, worst case: what OpenCV hands back after expanding
  // palettes and gray+alpha (a PNG with tRNS or gray+alpha is 4, a 32-bit BMP 4, a WebP with alpha
  // 4), or the file's own count for TIFF.
  int channels = 1;
  // Bytes per decoded sample: 1 (up to 8 bits), 2 (9 to 16 bits), 4 or 8 (float TIFF).
  int bytes_per_sample = 1;
  // Working memory the codec allocates besides the decoded pixels, worst case: JPEG's
  // whole-image coefficient buffer (progressive or multi-scan files), TIFF's strip or tile buffer,
  // lossless WebP's ARGB buffer. Saturates at INT64_MAX.
  std::int64_t codec_bytes = 0;
  // Pages in the file (TIFF; 1 for the other formats).
  int pages = 1;
};

// Errors: `empty_file`, `unsupported_format` (not PNG, JPEG, BMP, TIFF or WebP; BigTIFF; animated
// WebP; a TIFF of more than 256 pages), `truncated` (the data ends before the format's end
// marker), `decode_failed` (malformed header, including duplicate TIFF size or sample tags, a TIFF
// directory loop, several JPEG frame headers, a WebP canvas that differs from its frame).
util::Result<ImageHeader> read_image_header(std::string_view bytes);

std::string_view to_string(ImageFormat format);

}  // namespace inferwatch::infer
