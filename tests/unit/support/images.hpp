#pragma once

// Test images made in the test itself: OpenCV's encoders for ordinary files, and a tiny PNG
// writer for byte layouts OpenCV cannot produce (gray+alpha, chunks with corrupt contents).

#include <doctest/doctest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace inferwatch::test {

// `image` encoded by OpenCV as `ext` (".png", ".jpg", ...); fails the test if OpenCV cannot.
inline std::string encode(const cv::Mat& image, const std::string& ext,
                          const std::vector<int>& params = {}) {
  std::vector<std::uint8_t> buffer;
  const bool ok = cv::imencode(ext, image, buffer, params);
  INFO("cv::imencode(" << ext << ")");
  REQUIRE(ok);
  REQUIRE(!buffer.empty());
  return std::string(buffer.begin(), buffer.end());
}

// Overwrite 4 bytes at `offset` with `value`, big-endian (PNG) or little-endian (TIFF, BMP).
inline void put_be32(std::string& bytes, std::size_t offset, std::uint32_t value) {
  for (int i = 0; i < 4; ++i)
    bytes.at(offset + i) = static_cast<char>((value >> (24 - 8 * i)) & 0xFF);
}
inline void put_le32(std::string& bytes, std::size_t offset, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes.at(offset + i) = static_cast<char>((value >> (8 * i)) & 0xFF);
}
inline void put_le16(std::string& bytes, std::size_t offset, std::uint32_t value) {
  bytes.at(offset) = static_cast<char>(value & 0xFF);
  bytes.at(offset + 1) = static_cast<char>((value >> 8) & 0xFF);
}
inline void append_le16(std::string& out, std::uint32_t v) {
  out.append(2, '\0');
  put_le16(out, out.size() - 2, v);
}
inline void append_le32(std::string& out, std::uint32_t v) {
  out.append(4, '\0');
  put_le32(out, out.size() - 4, v);
}
inline void append_be32(std::string& out, std::uint32_t v) {
  out.append(4, '\0');
  put_be32(out, out.size() - 4, v);
}

// CRC-32 as PNG chunks use it (ISO 3309, reflected 0xEDB88320).
inline std::uint32_t crc32(std::string_view bytes) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t n = 0; n < 256; ++n) {
      std::uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFu;
  for (const char ch : bytes) c = table[(c ^ static_cast<std::uint8_t>(ch)) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

// One PNG chunk: length, type, data, CRC over type and data.
inline std::string png_chunk(std::string_view type, std::string_view data) {
  std::string out;
  append_be32(out, static_cast<std::uint32_t>(data.size()));
  std::string body(type);
  body += data;
  out += body;
  append_be32(out, crc32(body));
  return out;
}

// A zlib stream holding `raw` in stored (uncompressed) deflate blocks.
inline std::string zlib_stored(std::string_view raw) {
  std::string out("\x78\x01", 2);
  std::size_t at = 0;
  do {
    const std::size_t n = std::min<std::size_t>(raw.size() - at, 65535);
    const bool last = at + n == raw.size();
    out.push_back(last ? '\x01' : '\x00');
    append_le16(out, static_cast<std::uint32_t>(n));
    append_le16(out, static_cast<std::uint32_t>(~n & 0xFFFF));
    out.append(raw.substr(at, n));
    at += n;
  } while (at < raw.size());
  std::uint32_t a = 1, b = 0;
  for (const char ch : raw) {
    a = (a + static_cast<std::uint8_t>(ch)) % 65521;
    b = (b + a) % 65521;
  }
  append_be32(out, (b << 16) | a);
  return out;
}

// A PNG with the given IHDR fields and `idat` as the IDAT chunk's contents.
inline std::string png_with_idat(std::uint32_t width, std::uint32_t height, int bit_depth,
                                 int colour_type, std::string_view idat) {
  std::string ihdr;
  append_be32(ihdr, width);
  append_be32(ihdr, height);
  ihdr.push_back(static_cast<char>(bit_depth));
  ihdr.push_back(static_cast<char>(colour_type));
  ihdr.append(3, '\0');  // deflate, adaptive filtering, no interlace
  return std::string("\x89PNG\r\n\x1A\n", 8) + png_chunk("IHDR", ihdr) + png_chunk("IDAT", idat) +
         png_chunk("IEND", "");
}

// A valid 8-bit PNG from unfiltered `rows` (each exactly width × samples bytes).
inline std::string png_from_rows(std::uint32_t width, int colour_type,
                                 const std::vector<std::string>& rows) {
  std::string raw;
  for (const auto& row : rows) raw += '\0' + row;  // filter type 0 (None) per scanline
  return png_with_idat(width, static_cast<std::uint32_t>(rows.size()), 8, colour_type,
                       zlib_stored(raw));
}

// A minimal TIFF: the header and one IFD per page holding `entries` (tag, type, value, count),
// nothing else. Type 3 is SHORT, 4 is LONG; enough for the header reader, not a decodable image.
// `last_points_to` makes the last IFD's next-IFD offset point at that page's IFD (a loop).
struct TiffEntry {
  std::uint16_t tag;
  std::uint16_t type;
  std::uint32_t value;
  std::uint32_t count = 1;
};
inline std::string tiff_pages(bool little_endian, const std::vector<std::vector<TiffEntry>>& pages,
                              int last_points_to = -1) {
  std::string out;
  const auto u16 = [&](std::uint32_t v) {
    if (little_endian)
      append_le16(out, v);
    else
      out += {static_cast<char>((v >> 8) & 0xFF), static_cast<char>(v & 0xFF)};
  };
  const auto u32 = [&](std::uint32_t v) {
    if (little_endian)
      append_le32(out, v);
    else
      append_be32(out, v);
  };
  out += little_endian ? std::string("II*\0", 4) : std::string("MM\0*", 4);
  u32(8);
  std::vector<std::uint32_t> offsets;
  for (std::size_t page = 0; page < pages.size(); ++page) {
    offsets.push_back(static_cast<std::uint32_t>(out.size()));
    const auto& entries = pages[page];
    u16(static_cast<std::uint32_t>(entries.size()));
    for (const auto& e : entries) {
      u16(e.tag);
      u16(e.type);
      u32(e.count);
      if (e.type == 3) {
        u16(e.value);
        u16(0);
      } else {
        u32(e.value);
      }
    }
    const bool last = page + 1 == pages.size();
    // The next IFD follows this one: 2 + 12 × entries + 4 bytes on.
    u32(!last                 ? static_cast<std::uint32_t>(out.size() + 4)
        : last_points_to >= 0 ? offsets.at(static_cast<std::size_t>(last_points_to))
                              : 0);
  }
  return out;
}
inline std::string tiff_ifd_only(bool little_endian, const std::vector<TiffEntry>& entries) {
  return tiff_pages(little_endian, {entries});
}

// A RIFF chunk: four-character type, little-endian size, data, a pad byte when the size is odd.
inline std::string riff_chunk(std::string_view type, std::string_view data) {
  std::string out(type);
  append_le32(out, static_cast<std::uint32_t>(data.size()));
  out += data;
  if (data.size() % 2 == 1) out.push_back('\0');
  return out;
}

// An extended WebP: a VP8X chunk declaring a `width`×`height` canvas and `flags` (0x02
// animation, 0x10 alpha), then `chunks` as they are.
inline std::string webp_extended(std::uint32_t width, std::uint32_t height, std::uint8_t flags,
                                 std::string_view chunks) {
  std::string vp8x(4, '\0');
  vp8x[0] = static_cast<char>(flags);
  for (const std::uint32_t v : {width - 1, height - 1})
    for (int i = 0; i < 3; ++i) vp8x.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  std::string body = "WEBP" + riff_chunk("VP8X", vp8x) + std::string(chunks);
  std::string out = "RIFF";
  append_le32(out, static_cast<std::uint32_t>(body.size()));
  return out + body;
}

// A BGR image of three vertical stripes, red, green and blue from left to right.
inline cv::Mat rgb_stripes(int width, int height) {
  cv::Mat image(height, width, CV_8UC3, cv::Scalar(0, 0, 255));
  image.colRange(width / 3, 2 * width / 3).setTo(cv::Scalar(0, 255, 0));
  image.colRange(2 * width / 3, width).setTo(cv::Scalar(255, 0, 0));
  return image;
}

// A gray image whose value at column x is (x * 5) % 256, the same on every row.
inline cv::Mat gray_ramp(int width, int height) {
  cv::Mat image(height, width, CV_8UC1);
  for (int x = 0; x < width; ++x) image.col(x).setTo(cv::Scalar((x * 5) % 256));
  return image;
}

}  // namespace inferwatch::test
