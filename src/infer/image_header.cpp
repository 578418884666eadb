#include <inferwatch/infer/image_header.hpp>

#include <fmt/format.h>

#include <optional>

namespace inferwatch::infer {
namespace {

using util::Error;

// Bounds-checked little/big-endian reads; nullopt past the end.
class Bytes {
 public:
  explicit Bytes(std::string_view data) : m_data(data) {}
  std::size_t size() const { return m_data.size(); }
  bool starts_with(std::string_view prefix) const {
    return m_data.substr(0, prefix.size()) == prefix;
  }
  std::optional<std::uint32_t> u8(std::size_t at) const {
    if (at >= m_data.size()) return std::nullopt;
    return static_cast<unsigned char>(m_data[at]);
  }
  std::optional<std::uint32_t> be16(std::size_t at) const { return read(at, 2, false); }
  std::optional<std::uint32_t> be32(std::size_t at) const { return read(at, 4, false); }
  std::optional<std::uint32_t> le16(std::size_t at) const { return read(at, 2, true); }
  std::optional<std::uint32_t> le24(std::size_t at) const { return read(at, 3, true); }
  std::optional<std::uint32_t> le32(std::size_t at) const { return read(at, 4, true); }
  std::optional<std::uint32_t> u16(std::size_t at, bool little) const {
    return read(at, 2, little);
  }
  std::optional<std::uint32_t> u32(std::size_t at, bool little) const {
    return read(at, 4, little);
  }
  std::string_view view() const { return m_data; }

 private:
  std::optional<std::uint32_t> read(std::size_t at, std::size_t n, bool little) const {
    if (at + n > m_data.size() || at + n < at) return std::nullopt;
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t b = static_cast<unsigned char>(m_data[at + (little ? n - 1 - i : i)]);
      v = (v << 8) | b;
    }
    return v;
  }
  std::string_view m_data;
};

Error truncated(std::string_view format) {
  return Error{
      "truncated",
      fmt::format("the {} data ends early (file truncated or still being written)", format)};
}
Error malformed(std::string_view format, std::string_view what) {
  return Error{"decode_failed", fmt::format("malformed {} header: {}", format, what)};
}

util::Result<ImageHeader> png(const Bytes& b) {
  const auto w = b.be32(16), h = b.be32(20);
  if (!w || !h) return truncated("PNG");
  if (b.view().substr(12, 4) != "IHDR") return malformed("PNG", "the first chunk is not IHDR");
  // A complete PNG has every chunk whole up to IEND (data after IEND is ignored, as decoders do).
  for (std::size_t at = 8;;) {
    const auto length = b.be32(at);
    if (!length || at + 12 + std::size_t{*length} > b.size()) return truncated("PNG");
    if (b.view().substr(at + 4, 4) == "IEND") break;
    at += 12 + std::size_t{*length};
  }
  return ImageHeader{ImageFormat::png, *w, *h};
}

util::Result<ImageHeader> jpeg(const Bytes& b) {
  std::optional<ImageHeader> header;
  std::size_t at = 2;
  for (;;) {  // walk the segments before the first scan
    const auto marker_start = b.u8(at);
    if (!marker_start) return truncated("JPEG");
    if (*marker_start != 0xFF) return malformed("JPEG", fmt::format("no marker at byte {}", at));
    std::size_t m = at + 1;
    while (b.u8(m) == 0xFFu) ++m;  // fill bytes
    const auto marker = b.u8(m);
    if (!marker) return truncated("JPEG");
    at = m + 1;
    if (*marker == 0x01 || (*marker >= 0xD0 && *marker <= 0xD7)) continue;  // no length
    if (*marker == 0xD9 || (*marker == 0xDA && !header)) {
      return malformed("JPEG", "no frame header before the scan");
    }
    if (*marker == 0xDA) break;
    const auto length = b.be16(at);
    if (!length) return truncated("JPEG");
    const bool sof =
        *marker >= 0xC0 && *marker <= 0xCF && *marker != 0xC4 && *marker != 0xC8 && *marker != 0xCC;
    if (sof) {
      const auto h = b.be16(at + 3), w = b.be16(at + 5);
      if (!h || !w) return truncated("JPEG");
      header = ImageHeader{ImageFormat::jpeg, *w, *h};
    }
    at += *length;
  }
  // Entropy-coded data never holds FF D9 (FF is stuffed as FF 00), so the first one after the
  // scan header is the end-of-image marker; anything after it (e.g. a motion photo) is ignored.
  if (b.view().find("\xFF\xD9", at) == std::string_view::npos) return truncated("JPEG");
  return *header;
}

util::Result<ImageHeader> bmp(const Bytes& b) {
  const auto dib = b.le32(14);
  if (!dib) return truncated("BMP");
  if (*dib == 12) {
    const auto w = b.le16(18), h = b.le16(20);
    if (!w || !h) return truncated("BMP");
    return ImageHeader{ImageFormat::bmp, *w, *h};
  }
  const auto w = b.le32(18), h = b.le32(22);
  if (!w || !h) return truncated("BMP");
  const auto width = static_cast<std::int32_t>(*w), height = static_cast<std::int32_t>(*h);
  if (width <= 0) return malformed("BMP", "width is not positive");
  const std::int64_t rows = height < 0 ? -static_cast<std::int64_t>(height) : height;
  const auto offset = b.le32(10), bits = b.le16(28), compression = b.le32(30);
  if (!offset || !bits || !compression || *offset > b.size()) return truncated("BMP");
  // Uncompressed pixel rows have a known size (padded to 4 bytes): check they are all there.
  const std::int64_t row_bytes = (static_cast<std::int64_t>(*bits) * width + 31) / 32 * 4;
  if (*compression == 0 && rows > 0 && row_bytes > 0 &&
      (static_cast<std::int64_t>(b.size()) - *offset) / row_bytes < rows) {
    return truncated("BMP");
  }
  return ImageHeader{ImageFormat::bmp, width, rows};
}

util::Result<ImageHeader> tiff(const Bytes& b) {
  const bool little = b.starts_with("II");
  if (b.u16(2, little) == 43u)
    return Error{"unsupported_format", "BigTIFF files are not supported"};
  const auto ifd = b.u32(4, little);
  if (!ifd) return truncated("TIFF");
  const auto count = b.u16(*ifd, little);
  if (!count) return truncated("TIFF");
  std::optional<std::uint32_t> width, height;
  for (std::uint32_t i = 0; i < *count; ++i) {
    const std::size_t entry = *ifd + 2 + 12 * static_cast<std::size_t>(i);
    const auto tag = b.u16(entry, little), type = b.u16(entry + 2, little);
    if (!tag || !type) return truncated("TIFF");
    if (*tag != 256 && *tag != 257) continue;
    const auto value = *type == 3 ? b.u16(entry + 8, little) : b.u32(entry + 8, little);
    if (!value) return truncated("TIFF");
    (*tag == 256 ? width : height) = *value;
  }
  if (!width || !height) return malformed("TIFF", "no ImageWidth/ImageLength tags");
  return ImageHeader{ImageFormat::tiff, *width, *height};
}

util::Result<ImageHeader> webp(const Bytes& b) {
  const auto riff_size = b.le32(4);
  if (!riff_size || b.size() < 30) return truncated("WebP");
  if (static_cast<std::uint64_t>(*riff_size) + 8 > b.size()) return truncated("WebP");
  const std::string_view chunk = b.view().substr(12, 4);
  if (chunk == "VP8X") {
    return ImageHeader{ImageFormat::webp, *b.le24(24) + 1, *b.le24(27) + 1};
  }
  if (chunk == "VP8L") {
    if (b.u8(20) != 0x2Fu) return malformed("WebP", "bad VP8L signature");
    const std::uint32_t bits = *b.le32(21);
    return ImageHeader{ImageFormat::webp, (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1};
  }
  if (chunk == "VP8 ") {
    if (b.view().substr(23, 3) != "\x9D\x01\x2A") return malformed("WebP", "bad VP8 start code");
    return ImageHeader{ImageFormat::webp, *b.le16(26) & 0x3FFF, *b.le16(28) & 0x3FFF};
  }
  return malformed("WebP", "unknown first chunk");
}

}  // namespace

util::Result<ImageHeader> read_image_header(std::string_view data) {
  if (data.empty()) return Error{"empty_file", "the file is empty"};
  const Bytes b(data);
  util::Result<ImageHeader> header = Error{"unsupported_format", ""};
  if (b.starts_with("\x89PNG\r\n\x1A\n"))
    header = png(b);
  else if (b.starts_with("\xFF\xD8\xFF"))
    header = jpeg(b);
  else if (b.starts_with("BM"))
    header = bmp(b);
  else if (b.starts_with(std::string_view("II*\0", 4)) ||
           b.starts_with(std::string_view("MM\0*", 4)) ||
           b.starts_with(std::string_view("II+\0", 4)) ||
           b.starts_with(std::string_view("MM\0+", 4)))
    header = tiff(b);
  else if (b.starts_with("RIFF") && data.substr(8, 4) == "WEBP")
    header = webp(b);
  else
    return Error{"unsupported_format", "not a PNG, JPEG, BMP, TIFF or WebP image"};
  if (header && (header->width <= 0 || header->height <= 0)) {
    return malformed(to_string(header->format), "zero width or height");
  }
  return header;
}

std::string_view to_string(ImageFormat format) {
  switch (format) {
    case ImageFormat::png:
      return "PNG";
    case ImageFormat::jpeg:
      return "JPEG";
    case ImageFormat::bmp:
      return "BMP";
    case ImageFormat::tiff:
      return "TIFF";
    case ImageFormat::webp:
      return "WebP";
  }
  return "?";
}

}  // namespace inferwatch::infer
