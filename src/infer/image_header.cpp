#include <inferwatch/infer/image_header.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace inferwatch::infer {
namespace {

using util::Error;

constexpr std::int64_t k_int64_max = std::numeric_limits<std::int64_t>::max();

// a × b for non-negative values, INT64_MAX when it does not fit (forged sizes reach 2^32 × 2^32).
std::int64_t saturating_mul(std::int64_t a, std::int64_t b) {
  if (a == 0 || b == 0) return 0;
  return a > k_int64_max / b ? k_int64_max : a * b;
}
std::int64_t saturating_mul(std::int64_t a, std::int64_t b, std::int64_t c) {
  return saturating_mul(saturating_mul(a, b), c);
}
std::int64_t round_up(std::int64_t v, std::int64_t to) { return (v + to - 1) / to * to; }

// Bounds-checked little/big-endian reads; nullopt past the end.
class Bytes {
 public:
  explicit Bytes(std::string_view data) : m_data(data) {}
  std::size_t size() const { return m_data.size(); }
  bool starts_with(std::string_view prefix) const {
    return m_data.substr(0, prefix.size()) == prefix;
  }
  // The `n` bytes at `at`, or empty when they are not all there.
  std::string_view at(std::size_t at, std::size_t n) const {
    if (at > m_data.size() || n > m_data.size() - at) return {};
    return m_data.substr(at, n);
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
    if (at > m_data.size() || n > m_data.size() - at) return std::nullopt;
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

// --- PNG -----------------------------------------------------------------------------------------

util::Result<ImageHeader> png(const Bytes& b) {
  const auto w = b.be32(16), h = b.be32(20), depth = b.u8(24), colour = b.u8(25);
  if (!w || !h || !depth || !colour) return truncated("PNG");
  if (b.view().substr(12, 4) != "IHDR") return malformed("PNG", "the first chunk is not IHDR");
  // The combinations the PNG specification allows; libpng refuses the others.
  const bool valid_depth = [&] {
    switch (*colour) {
      case 0:
        return *depth == 1 || *depth == 2 || *depth == 4 || *depth == 8 || *depth == 16;
      case 3:
        return *depth == 1 || *depth == 2 || *depth == 4 || *depth == 8;
      case 2:
      case 4:
      case 6:
        return *depth == 8 || *depth == 16;
      default:
        return false;
    }
  }();
  if (!valid_depth) {
    return malformed("PNG", fmt::format("bit depth {} with colour type {}", *depth, *colour));
  }
  // A complete PNG has every chunk whole up to IEND (data after IEND is ignored, as decoders do).
  bool transparency = false;
  for (std::size_t at = 8;;) {
    const auto length = b.be32(at);
    if (!length || at + 12 + std::size_t{*length} > b.size()) return truncated("PNG");
    const std::string_view type = b.view().substr(at + 4, 4);
    if (type == "IEND") break;
    if (type == "IHDR" && at != 8) return malformed("PNG", "a second IHDR chunk");
    if (type == "tRNS") transparency = true;
    at += 12 + std::size_t{*length};
  }
  ImageHeader header{ImageFormat::png, *w, *h};
  // OpenCV 4.6 hands back gray as 1 channel, RGB and palette as 3 (4 with tRNS), gray+alpha and
  // RGBA as 4. An APNG's other frames are never decoded (libpng reads the default image, whose
  // size is IHDR's; frames may not exceed it).
  header.channels = *colour == 0 ? 1 : (*colour == 4 || *colour == 6 || transparency) ? 4 : 3;
  header.bytes_per_sample = *depth == 16 ? 2 : 1;
  return header;
}

// --- JPEG ----------------------------------------------------------------------------------------

util::Result<ImageHeader> jpeg(const Bytes& b) {
  std::optional<ImageHeader> header;
  bool progressive = false;
  std::uint32_t components = 0;
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
    const auto length = b.be16(at);
    if (!length) return truncated("JPEG");
    if (*length < 2) return malformed("JPEG", fmt::format("segment length {}", *length));
    if (*marker == 0xDA) {
      // A first scan that holds fewer components than the frame means several scans, which
      // libjpeg buffers as whole-image coefficients, as it does for progressive files.
      const auto in_scan = b.u8(at + 2);
      if (!in_scan) return truncated("JPEG");
      if (progressive || *in_scan < components) {
        header->codec_bytes = saturating_mul(round_up(header->width, 32),
                                             round_up(header->height, 32), 2 * components);
      }
      at += *length;
      break;
    }
    const bool sof =
        *marker >= 0xC0 && *marker <= 0xCF && *marker != 0xC4 && *marker != 0xC8 && *marker != 0xCC;
    if (sof) {
      // libjpeg refuses a second frame header; so do we, instead of guessing which one counts.
      if (header) return malformed("JPEG", "several frame headers (SOF markers)");
      const auto precision = b.u8(at + 2), h = b.be16(at + 3), w = b.be16(at + 5), n = b.u8(at + 7);
      if (!precision || !h || !w || !n) return truncated("JPEG");
      if (*n == 0 || *length != 8 + 3 * *n) {
        return malformed("JPEG",
                         fmt::format("frame header of {} components in {} bytes", *n, *length));
      }
      header = ImageHeader{ImageFormat::jpeg, *w, *h};
      components = *n;
      header->channels = *n == 1 ? 1 : 3;  // OpenCV converts YCbCr, CMYK and YCCK to BGR
      header->bytes_per_sample = *precision > 8 ? 2 : 1;
      progressive = (*marker & 0x03) == 0x02;  // SOF2, SOF6, SOF10, SOF14
    }
    at += *length;
  }
  // Entropy-coded data never holds FF D9 (FF is stuffed as FF 00), so the first one after the
  // scan header is the end-of-image marker; anything after it (e.g. a motion photo) is ignored.
  if (b.view().find("\xFF\xD9", at) == std::string_view::npos) return truncated("JPEG");
  return *header;
}

// --- BMP -----------------------------------------------------------------------------------------

util::Result<ImageHeader> bmp(const Bytes& b) {
  const auto dib = b.le32(14);
  if (!dib) return truncated("BMP");
  if (*dib == 12) {  // OS/2 BITMAPCOREHEADER: unsigned 16-bit sizes
    const auto w = b.le16(18), h = b.le16(20), bits = b.le16(24);
    if (!w || !h || !bits) return truncated("BMP");
    ImageHeader header{ImageFormat::bmp, *w, *h};
    header.channels = *bits == 32 ? 4 : 3;
    return header;
  }
  // OpenCV reads any header of at least 36 bytes with BITMAPINFOHEADER's layout, and refuses
  // other sizes.
  if (*dib < 36) return malformed("BMP", fmt::format("header size {}", *dib));
  const auto w = b.le32(18), h = b.le32(22);
  if (!w || !h) return truncated("BMP");
  const auto width = static_cast<std::int32_t>(*w), height = static_cast<std::int32_t>(*h);
  if (width <= 0) return malformed("BMP", "width is not positive");
  // OpenCV takes std::abs of the height, which INT32_MIN overflows.
  if (height == std::numeric_limits<std::int32_t>::min()) {
    return malformed("BMP", "height is -2147483648");
  }
  const std::int64_t rows = height < 0 ? -static_cast<std::int64_t>(height) : height;
  const auto offset = b.le32(10), bits = b.le16(28), compression = b.le32(30);
  if (!offset || !bits || !compression || *offset > b.size()) return truncated("BMP");
  // Uncompressed pixel rows have a known size (padded to 4 bytes): check they are all there.
  const std::int64_t row_bytes = (static_cast<std::int64_t>(*bits) * width + 31) / 32 * 4;
  if (*compression == 0 && rows > 0 && row_bytes > 0 &&
      (static_cast<std::int64_t>(b.size()) - *offset) / row_bytes < rows) {
    return truncated("BMP");
  }
  ImageHeader header{ImageFormat::bmp, width, rows};
  // Palettes and 16/24-bit become BGR (gray when the palette is gray); 32-bit keeps its alpha.
  header.channels = *bits == 32 ? 4 : 3;
  return header;
}

// --- TIFF ----------------------------------------------------------------------------------------

// libtiff reads no more than this many directories for a page count; more is refused rather than
// walked (each costs a bounded read, but the walk itself is the attacker's loop otherwise).
constexpr int k_max_tiff_pages = 256;

// The tags that decide the decoded size and the codec's buffers.
enum TiffTag : std::uint32_t {
  image_width = 256,
  image_length = 257,
  bits_per_sample = 258,
  samples_per_pixel = 277,
  photometric = 262,
  orientation = 274,
  rows_per_strip = 278,
  tile_width = 322,
  tile_length = 323,
};

std::string_view tiff_tag_name(std::uint32_t tag) {
  switch (tag) {
    case image_width:
      return "ImageWidth";
    case image_length:
      return "ImageLength";
    case bits_per_sample:
      return "BitsPerSample";
    case photometric:
      return "PhotometricInterpretation";
    case orientation:
      return "Orientation";
    case samples_per_pixel:
      return "SamplesPerPixel";
    case rows_per_strip:
      return "RowsPerStrip";
    case tile_width:
      return "TileWidth";
    case tile_length:
      return "TileLength";
  }
  return "?";
}

struct TiffPage {
  std::optional<std::uint32_t> width, height, tile_width, tile_length;
  std::uint32_t samples = 1, bits = 1;
  std::optional<std::uint32_t> photometric;
  std::uint32_t orientation = 1;
  std::uint32_t rows_per_strip = 0xFFFFFFFFu;  // TIFF's default: one strip
};

class TiffReader {
 public:
  explicit TiffReader(const Bytes& b) : m_b(b), m_little(b.starts_with("II")) {}

  util::Result<ImageHeader> read() {
    auto ifd = m_b.u32(4, m_little);
    if (!ifd) return truncated("TIFF");
    ImageHeader header{ImageFormat::tiff};
    header.pages = 0;
    std::vector<std::uint32_t> seen;
    while (*ifd != 0) {
      if (std::find(seen.begin(), seen.end(), *ifd) != seen.end()) {
        return malformed("TIFF", "the directories form a loop");
      }
      if (seen.size() == k_max_tiff_pages) {
        return Error{
            "unsupported_format",
            fmt::format("TIFF files of more than {} pages are not supported", k_max_tiff_pages)};
      }
      seen.push_back(*ifd);
      auto page = read_page(*ifd, seen.size());
      if (!page) return page.error();
      add(header, *page);
      ifd = m_b.u32(*ifd + 2 + 12 * std::size_t{*m_b.u16(*ifd, m_little)}, m_little);
      if (!ifd) return truncated("TIFF");
    }
    if (header.pages == 0) return malformed("TIFF", "no image directory");
    return header;
  }

 private:
  util::Result<TiffPage> read_page(std::uint32_t ifd, std::size_t number) {
    const auto count = m_b.u16(ifd, m_little);
    if (!count) return truncated("TIFF");
    if (!m_b.u32(ifd + 2 + 12 * std::size_t{*count}, m_little)) return truncated("TIFF");
    TiffPage page;
    std::vector<std::uint32_t> tags_seen;
    for (std::uint32_t i = 0; i < *count; ++i) {
      const std::size_t entry = ifd + 2 + 12 * static_cast<std::size_t>(i);
      const std::uint32_t tag = *m_b.u16(entry, m_little);
      if (tiff_tag_name(tag) == "?") continue;
      // libtiff keeps the first of duplicate tags; a reader that kept the last would check a
      // size that is not the one decoded. Neither guess is safe: refuse the file.
      if (std::find(tags_seen.begin(), tags_seen.end(), tag) != tags_seen.end()) {
        return malformed("TIFF", fmt::format("duplicate {} tag", tiff_tag_name(tag)));
      }
      tags_seen.push_back(tag);
      const std::uint32_t type = *m_b.u16(entry + 2, m_little);
      const std::uint32_t n = *m_b.u32(entry + 4, m_little);
      if (tag == bits_per_sample) {
        // One value per sample; the largest decides the decoded depth.
        if (type != 3 || n == 0 || n > 0xFFFF) return bad_entry(tag, type, n, number);
        const std::size_t values = n <= 2 ? entry + 8 : *m_b.u32(entry + 8, m_little);
        for (std::uint32_t k = 0; k < n; ++k) {
          const auto v = m_b.u16(values + 2 * std::size_t{k}, m_little);
          if (!v) return truncated("TIFF");
          page.bits = std::max(page.bits, *v);
        }
        continue;
      }
      // The others are single SHORT or LONG values (libtiff refuses other counts for them).
      if ((type != 3 && type != 4) || n != 1) return bad_entry(tag, type, n, number);
      const std::uint32_t v =
          type == 3 ? *m_b.u16(entry + 8, m_little) : *m_b.u32(entry + 8, m_little);
      switch (tag) {
        case image_width:
          page.width = v;
          break;
        case image_length:
          page.height = v;
          break;
        case samples_per_pixel:
          page.samples = v;
          break;
        case photometric:
          page.photometric = v;
          break;
        case orientation:
          page.orientation = v;
          break;
        case rows_per_strip:
          page.rows_per_strip = v;
          break;
        case tile_width:
          page.tile_width = v;
          break;
        case tile_length:
          page.tile_length = v;
          break;
      }
    }
    if (!page.width || !page.height) {
      return malformed("TIFF", number == 1 ? std::string("no ImageWidth/ImageLength tags")
                                           : fmt::format("page {} has no ImageWidth/ImageLength "
                                                         "tags",
                                                         number));
    }
    if (*page.width == 0 || *page.height == 0) return malformed("TIFF", "zero width or height");
    if (page.samples == 0 || page.bits == 0 || page.bits > 64) {
      return malformed("TIFF", fmt::format("{} samples of {} bits", page.samples, page.bits));
    }
    return page;
  }

  // Fold one page into the worst case over all pages.
  static void add(ImageHeader& header, const TiffPage& page) {
    ++header.pages;
    // Orientations 5 to 8 are turned a quarter: OpenCV hands back the image transposed (found by
    // fuzz_decode: an 8×21 TIFF of orientation 8 decoded as 21×8), through one more copy.
    const bool transposed = page.orientation >= 5 && page.orientation <= 8;
    header.width = std::max<std::int64_t>(header.width, transposed ? *page.height : *page.width);
    header.height = std::max<std::int64_t>(header.height, transposed ? *page.width : *page.height);
    // OpenCV assumes 3 samples for a colour photometric without SamplesPerPixel, and reads 8-bit
    // colour as RGBA (found by fuzz_decode: an RGB TIFF without SamplesPerPixel decoded to 3
    // channels where the header said 1). A gray or missing photometric is taken at its word only
    // for gray (0 or 1).
    const bool gray = page.photometric && *page.photometric <= 1;
    header.channels =
        std::max<int>({header.channels, static_cast<int>(page.samples), gray ? 1 : 4});
    const int bytes = page.bits <= 8 ? 1 : page.bits <= 16 ? 2 : page.bits <= 32 ? 4 : 8;
    header.bytes_per_sample = std::max(header.bytes_per_sample, bytes);
    // OpenCV reads one strip or tile at a time into a buffer of that size, 8-bit images as RGBA
    // through libtiff's RGBA interface, which has a raster of its own. It takes RowsPerStrip as
    // it is, even past the image's height (found by fuzz_decode: an 8×8 TIFF claiming 14 million
    // rows a strip made it allocate 450 MB); only 0 and 2^32-1 mean the whole image.
    const bool tiled = page.tile_width && page.tile_length;
    const bool one_strip = page.rows_per_strip == 0 || page.rows_per_strip == 0xFFFFFFFFu;
    const std::int64_t w = tiled ? *page.tile_width : *page.width;
    const std::int64_t h = tiled       ? *page.tile_length
                           : one_strip ? *page.height
                                       : page.rows_per_strip;
    const std::int64_t sample_bytes = std::max<std::int64_t>(page.samples, 4) * bytes;
    std::int64_t codec = saturating_mul(saturating_mul(w, h, sample_bytes), 2);
    if (transposed) {
      const std::int64_t copy = saturating_mul(saturating_mul(*page.width, *page.height),
                                               std::max<std::int64_t>(page.samples, 4) * bytes);
      codec = codec > k_int64_max - copy ? k_int64_max : codec + copy;
    }
    header.codec_bytes = std::max(header.codec_bytes, codec);
  }

  static Error bad_entry(std::uint32_t tag, std::uint32_t type, std::uint32_t count,
                         std::size_t page) {
    return malformed("TIFF", fmt::format("{} tag of type {} with {} values (page {})",
                                         tiff_tag_name(tag), type, count, page));
  }

  const Bytes& m_b;
  bool m_little;
};

util::Result<ImageHeader> tiff(const Bytes& b) {
  const bool little = b.starts_with("II");
  if (b.u16(2, little) == 43u)
    return Error{"unsupported_format", "BigTIFF files are not supported"};
  return TiffReader(b).read();
}

// --- WebP ----------------------------------------------------------------------------------------

struct WebpFrame {
  std::uint32_t width = 0, height = 0;
  bool alpha = false;
  bool lossless = false;
};

// The VP8 or VP8L bitstream header in the chunk whose payload starts at `at`.
util::Result<WebpFrame> webp_frame(const Bytes& b, std::string_view chunk, std::size_t at) {
  if (chunk == "VP8L") {
    if (b.u8(at) != 0x2Fu) return malformed("WebP", "bad VP8L signature");
    const auto bits = b.le32(at + 1);
    if (!bits) return truncated("WebP");
    return WebpFrame{(*bits & 0x3FFF) + 1, ((*bits >> 14) & 0x3FFF) + 1, ((*bits >> 28) & 1) != 0,
                     true};
  }
  if (b.at(at + 3, 3) != "\x9D\x01\x2A") return malformed("WebP", "bad VP8 start code");
  const auto w = b.le16(at + 6), h = b.le16(at + 8);
  if (!w || !h) return truncated("WebP");
  return WebpFrame{*w & 0x3FFF, *h & 0x3FFF, false, false};
}

util::Result<ImageHeader> webp(const Bytes& b) {
  const auto riff_size = b.le32(4);
  if (!riff_size || b.size() < 30) return truncated("WebP");
  if (static_cast<std::uint64_t>(*riff_size) + 8 > b.size()) return truncated("WebP");
  const std::size_t end = std::size_t{*riff_size} + 8;
  const std::string_view first = b.view().substr(12, 4);
  util::Result<WebpFrame> frame = Error{"", ""};
  std::int64_t width = 0, height = 0;
  bool alpha = false;
  if (first == "VP8L" || first == "VP8 ") {
    frame = webp_frame(b, first, 20);
    if (!frame) return frame.error();
    width = frame->width;
    height = frame->height;
  } else if (first == "VP8X") {
    const auto flags = b.u8(20);
    width = std::int64_t{*b.le24(24)} + 1;
    height = std::int64_t{*b.le24(27)} + 1;
    if (*flags & 0x02) return Error{"unsupported_format", "animated WebP is not supported"};
    alpha = (*flags & 0x10) != 0;
    // The canvas is what OpenCV allocates, the frame what libwebp decodes: find the frame and
    // require they agree (libwebp refuses a still image whose frame differs from its canvas).
    std::size_t at = 12;
    for (;;) {
      const auto size = b.le32(at + 4);
      if (at + 8 > end || !size) return truncated("WebP");
      const std::string_view chunk = b.view().substr(at, 4);
      if (chunk == "ANIM" || chunk == "ANMF") {
        return Error{"unsupported_format", "animated WebP is not supported"};
      }
      if (chunk == "ALPH") alpha = true;
      if (chunk == "VP8 " || chunk == "VP8L") {
        frame = webp_frame(b, chunk, at + 8);
        if (!frame) return frame.error();
        break;
      }
      const std::uint64_t next = at + 8 + std::uint64_t{*size} + (*size & 1);
      if (next >= end) return malformed("WebP", "no VP8 or VP8L image data");
      at = static_cast<std::size_t>(next);
    }
    if (frame->width != width || frame->height != height) {
      return malformed("WebP", fmt::format("the canvas is {}×{} but the image is {}×{}", width,
                                           height, frame->width, frame->height));
    }
  } else {
    return malformed("WebP", "unknown first chunk");
  }
  ImageHeader header{ImageFormat::webp, width, height};
  header.channels = alpha || frame->alpha ? 4 : 3;
  // Lossless decoding goes through a whole-image ARGB buffer; an alpha plane is one more byte.
  if (frame->lossless) header.codec_bytes = saturating_mul(width, height, 4);
  if (alpha) header.codec_bytes = saturating_mul(width, height, 5);
  return header;
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
  else if (b.starts_with("RIFF") && b.at(8, 4) == "WEBP")
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
