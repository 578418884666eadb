// Format and size from the first bytes of images made here with OpenCV (or by hand where OpenCV
// cannot write the variant), and the errors for files that are no image or end early.
#include <inferwatch/infer/image_header.hpp>

#include "support/images.hpp"

#include <doctest/doctest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <random>
#include <string>

using inferwatch::infer::ImageFormat;
using inferwatch::infer::read_image_header;
using inferwatch::test::encode;
using inferwatch::test::gray_ramp;
using inferwatch::test::rgb_stripes;
using inferwatch::test::tiff_ifd_only;
using inferwatch::test::TiffEntry;

namespace {

// Odd, non-square, so a swapped width and height would show.
constexpr int k_width = 37;
constexpr int k_height = 23;

void check_header(const std::string& bytes, ImageFormat format, std::int64_t width,
                  std::int64_t height) {
  const auto header = read_image_header(bytes);
  INFO("error: " << (header.ok() ? "" : header.error().code + ": " + header.error().message));
  REQUIRE(header.ok());
  CHECK(header->format == format);
  CHECK(header->width == width);
  CHECK(header->height == height);
}

void check_error(const std::string& bytes, const std::string& code, const std::string& message) {
  const auto header = read_image_header(bytes);
  REQUIRE_FALSE(header.ok());
  CHECK(header.error().code == code);
  CHECK(header.error().message == message);
}

}  // namespace

TEST_SUITE_BEGIN("infer");

TEST_CASE("infer::read_image_header formats") {
  const cv::Mat colour = rgb_stripes(k_width, k_height);
  const cv::Mat gray = gray_ramp(k_width, k_height);

  SUBCASE("PNG: gray, colour, 16-bit, RGBA") {
    check_header(encode(gray, ".png"), ImageFormat::png, k_width, k_height);
    check_header(encode(colour, ".png"), ImageFormat::png, k_width, k_height);
    cv::Mat deep;
    colour.convertTo(deep, CV_16UC3, 257);
    check_header(encode(deep, ".png"), ImageFormat::png, k_width, k_height);
    cv::Mat rgba;
    cv::cvtColor(colour, rgba, cv::COLOR_BGR2BGRA);
    check_header(encode(rgba, ".png"), ImageFormat::png, k_width, k_height);
  }
  SUBCASE("JPEG: baseline gray and colour, progressive") {
    check_header(encode(gray, ".jpg"), ImageFormat::jpeg, k_width, k_height);
    check_header(encode(colour, ".jpg"), ImageFormat::jpeg, k_width, k_height);
    check_header(encode(colour, ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}), ImageFormat::jpeg,
                 k_width, k_height);
  }
  SUBCASE("JPEG padded with zeros after the end marker") {
    check_header(encode(colour, ".jpg") + std::string(16, '\0'), ImageFormat::jpeg, k_width,
                 k_height);
  }
  SUBCASE("data after the end marker is ignored (e.g. a motion photo appended to a JPEG)") {
    const std::string trailer =
        "\x00\x00\x00\x18"
        "ftypmp42 appended video bytes \xFF\xD8";
    check_header(encode(colour, ".jpg") + trailer, ImageFormat::jpeg, k_width, k_height);
    check_header(encode(colour, ".png") + trailer, ImageFormat::png, k_width, k_height);
  }
  SUBCASE("BMP: gray (palette) and colour") {
    check_header(encode(gray, ".bmp"), ImageFormat::bmp, k_width, k_height);
    check_header(encode(colour, ".bmp"), ImageFormat::bmp, k_width, k_height);
  }
  SUBCASE("BMP stored top-down (negative height)") {
    std::string bytes = encode(colour, ".bmp");
    inferwatch::test::put_le32(bytes, 22, static_cast<std::uint32_t>(-k_height));
    check_header(bytes, ImageFormat::bmp, k_width, k_height);
  }
  SUBCASE("BMP with an OS/2 core header (16-bit sizes)") {
    std::string bytes = "BM";
    inferwatch::test::append_le32(bytes,
                                  26 + 12 * 2);  // file size: 3×2 pixels, rows padded to 12 bytes
    inferwatch::test::append_le32(bytes, 0);
    inferwatch::test::append_le32(bytes, 26);  // pixel data offset
    inferwatch::test::append_le32(bytes, 12);  // BITMAPCOREHEADER
    inferwatch::test::append_le16(bytes, 3);
    inferwatch::test::append_le16(bytes, 2);
    inferwatch::test::append_le16(bytes, 1);
    inferwatch::test::append_le16(bytes, 24);
    bytes += std::string(24, '\x7F');
    check_header(bytes, ImageFormat::bmp, 3, 2);
  }
  SUBCASE("TIFF written by OpenCV (little-endian): gray and colour") {
    check_header(encode(gray, ".tiff"), ImageFormat::tiff, k_width, k_height);
    check_header(encode(colour, ".tiff"), ImageFormat::tiff, k_width, k_height);
  }
  SUBCASE("TIFF, big-endian, SHORT and LONG size tags") {
    check_header(tiff_ifd_only(false, {{256, 3, 300}, {257, 4, 70000}}), ImageFormat::tiff, 300,
                 70000);
    check_header(tiff_ifd_only(true, {{254, 4, 0}, {257, 3, 5}, {256, 4, 7}}), ImageFormat::tiff, 7,
                 5);
  }
  SUBCASE("WebP lossless (VP8L)") {
    const std::string bytes = encode(colour, ".webp", {cv::IMWRITE_WEBP_QUALITY, 101});
    CHECK(bytes.substr(12, 4) == "VP8L");
    check_header(bytes, ImageFormat::webp, k_width, k_height);
  }
  SUBCASE("WebP lossy (VP8)") {
    const std::string bytes = encode(colour, ".webp", {cv::IMWRITE_WEBP_QUALITY, 80});
    CHECK(bytes.substr(12, 4) == "VP8 ");
    check_header(bytes, ImageFormat::webp, k_width, k_height);
  }
  SUBCASE("WebP lossy with alpha (VP8X)") {
    cv::Mat rgba;
    cv::cvtColor(colour, rgba, cv::COLOR_BGR2BGRA);
    rgba.at<cv::Vec4b>(0, 0)[3] = 0;
    const std::string bytes = encode(rgba, ".webp", {cv::IMWRITE_WEBP_QUALITY, 80});
    CHECK(bytes.substr(12, 4) == "VP8X");
    check_header(bytes, ImageFormat::webp, k_width, k_height);
  }
  SUBCASE("WebP at the largest width libwebp writes (14-bit size fields)") {
    const cv::Mat wide(2, 16383, CV_8UC3, cv::Scalar(1, 2, 3));
    check_header(encode(wide, ".webp", {cv::IMWRITE_WEBP_QUALITY, 101}), ImageFormat::webp, 16383,
                 2);
    check_header(encode(wide, ".webp", {cv::IMWRITE_WEBP_QUALITY, 80}), ImageFormat::webp, 16383,
                 2);
  }
}

TEST_CASE("infer::read_image_header errors") {
  const cv::Mat colour = rgb_stripes(k_width, k_height);

  SUBCASE("an empty file") { check_error("", "empty_file", "the file is empty"); }
  SUBCASE("random bytes") {
    std::mt19937 random(12345);
    std::string bytes(1000, '\0');
    for (auto& b : bytes) b = static_cast<char>(random() & 0xFF);
    check_error(bytes, "unsupported_format", "not a PNG, JPEG, BMP, TIFF or WebP image");
  }
  SUBCASE("a text file") {
    check_error("circle\nsquare\ntriangle\n", "unsupported_format",
                "not a PNG, JPEG, BMP, TIFF or WebP image");
  }
  SUBCASE("a RIFF file that is not WebP") {
    check_error(std::string("RIFF\x24\0\0\0WAVEfmt ", 16) + std::string(32, '\0'),
                "unsupported_format", "not a PNG, JPEG, BMP, TIFF or WebP image");
  }
  SUBCASE("a RIFF file shorter than its form type (used to throw std::out_of_range)") {
    check_error("RIFF", "unsupported_format", "not a PNG, JPEG, BMP, TIFF or WebP image");
    check_error(std::string("RIFF\0\0\0\0WE", 10), "unsupported_format",
                "not a PNG, JPEG, BMP, TIFF or WebP image");
  }
  SUBCASE("a GIF") {
    check_error("GIF89a\x01\x00\x01\x00", "unsupported_format",
                "not a PNG, JPEG, BMP, TIFF or WebP image");
  }
  SUBCASE("BigTIFF") {
    check_error(std::string("II+\0\x08\0\0\0", 8) + std::string(32, '\0'), "unsupported_format",
                "BigTIFF files are not supported");
  }
  SUBCASE("a PNG cut in the middle") {
    const std::string bytes = encode(colour, ".png");
    check_error(bytes.substr(0, bytes.size() / 2), "truncated",
                "the PNG data ends early (file truncated or still being written)");
  }
  SUBCASE("a PNG cut inside its header") {
    check_error(encode(colour, ".png").substr(0, 18), "truncated",
                "the PNG data ends early (file truncated or still being written)");
  }
  SUBCASE("a JPEG cut in the middle (no end marker)") {
    const std::string bytes = encode(colour, ".jpg");
    check_error(bytes.substr(0, bytes.size() / 2), "truncated",
                "the JPEG data ends early (file truncated or still being written)");
  }
  SUBCASE("a JPEG cut before its frame header") {
    check_error(encode(colour, ".jpg").substr(0, 12), "truncated",
                "the JPEG data ends early (file truncated or still being written)");
  }
  SUBCASE("a WebP cut in the middle") {
    const std::string bytes = encode(colour, ".webp");
    check_error(bytes.substr(0, bytes.size() / 2), "truncated",
                "the WebP data ends early (file truncated or still being written)");
  }
  SUBCASE("a TIFF cut before its directory") {
    check_error(tiff_ifd_only(true, {{256, 3, 7}, {257, 3, 5}}).substr(0, 12), "truncated",
                "the TIFF data ends early (file truncated or still being written)");
  }
  SUBCASE("a BMP cut inside its header") {
    check_error(encode(colour, ".bmp").substr(0, 20), "truncated",
                "the BMP data ends early (file truncated or still being written)");
  }
  SUBCASE("a BMP cut inside its pixel rows") {
    const std::string bytes = encode(colour, ".bmp");
    check_error(bytes.substr(0, bytes.size() - 10), "truncated",
                "the BMP data ends early (file truncated or still being written)");
  }
  SUBCASE("a JPEG cut right after its scan header") {
    const std::string bytes = encode(colour, ".jpg");
    const auto sos = bytes.find("\xFF\xDA");
    REQUIRE(sos != std::string::npos);
    check_error(bytes.substr(0, sos + 20), "truncated",
                "the JPEG data ends early (file truncated or still being written)");
  }
  SUBCASE("a PNG whose first chunk is not IHDR") {
    std::string bytes = encode(colour, ".png");
    bytes.replace(12, 4, "tEXt");
    check_error(bytes, "decode_failed", "malformed PNG header: the first chunk is not IHDR");
  }
  SUBCASE("a PNG of zero width") {
    std::string bytes = encode(colour, ".png");
    inferwatch::test::put_be32(bytes, 16, 0);
    check_error(bytes, "decode_failed", "malformed PNG header: zero width or height");
  }
  SUBCASE("a JPEG with garbage where a marker belongs") {
    check_error(std::string("\xFF\xD8\xFF\xE0\x00\x04\x00\x00XXXXXXXX", 16), "decode_failed",
                "malformed JPEG header: no marker at byte 8");
  }
  SUBCASE("a JPEG whose scan comes before any frame header") {
    check_error(std::string("\xFF\xD8\xFF\xDA\x00\x04\x00\x00\xFF\xD9", 10), "decode_failed",
                "malformed JPEG header: no frame header before the scan");
  }
  SUBCASE("a TIFF without size tags") {
    check_error(tiff_ifd_only(true, {{254, 4, 0}}), "decode_failed",
                "malformed TIFF header: no ImageWidth/ImageLength tags");
  }
  SUBCASE("a WebP with an unknown first chunk") {
    std::string bytes = encode(colour, ".webp");
    bytes.replace(12, 4, "JUNK");
    check_error(bytes, "decode_failed", "malformed WebP header: unknown first chunk");
  }
  SUBCASE("a BMP of negative width") {
    std::string bytes = encode(colour, ".bmp");
    inferwatch::test::put_le32(bytes, 18, static_cast<std::uint32_t>(-5));
    check_error(bytes, "decode_failed", "malformed BMP header: width is not positive");
  }
}

namespace {

// What the header promises about the decoded samples.
void check_layout(const std::string& bytes, int channels, int bytes_per_sample,
                  std::int64_t codec_bytes = 0) {
  const auto header = read_image_header(bytes);
  INFO("error: " << (header.ok() ? "" : header.error().code + ": " + header.error().message));
  REQUIRE(header.ok());
  CHECK(header->channels == channels);
  CHECK(header->bytes_per_sample == bytes_per_sample);
  CHECK(header->codec_bytes == codec_bytes);
}

std::string png_ihdr(std::uint32_t width, std::uint32_t height, int depth, int colour) {
  std::string ihdr;
  inferwatch::test::append_be32(ihdr, width);
  inferwatch::test::append_be32(ihdr, height);
  ihdr += {static_cast<char>(depth), static_cast<char>(colour), '\0', '\0', '\0'};
  return inferwatch::test::png_chunk("IHDR", ihdr);
}

const std::string k_png_signature("\x89PNG\r\n\x1A\n", 8);

// The VP8L chunk (with its 8-byte chunk header) of a lossless WebP OpenCV wrote.
std::string vp8l_chunk(const cv::Mat& image) {
  const std::string bytes = encode(image, ".webp", {cv::IMWRITE_WEBP_QUALITY, 101});
  REQUIRE(bytes.substr(12, 4) == "VP8L");
  return bytes.substr(12);
}

}  // namespace

TEST_CASE("infer::read_image_header sample layout") {
  const cv::Mat colour = rgb_stripes(k_width, k_height);
  cv::Mat rgba;
  cv::cvtColor(colour, rgba, cv::COLOR_BGR2BGRA);

  SUBCASE("PNG gray, RGB, RGBA: OpenCV's channel counts, one byte per sample") {
    check_layout(encode(gray_ramp(k_width, k_height), ".png"), 1, 1);
    check_layout(encode(colour, ".png"), 3, 1);
    check_layout(encode(rgba, ".png"), 4, 1);
  }
  SUBCASE("PNG 16-bit: two bytes per sample") {
    cv::Mat deep;
    rgba.convertTo(deep, CV_16UC4, 257);
    check_layout(encode(deep, ".png"), 4, 2);
  }
  SUBCASE("PNG gray+alpha is expanded to 4 channels") {
    const std::string row{'\0', '\xFF', '\x40', '\x80'};
    check_layout(inferwatch::test::png_from_rows(2, 4, {row, row}), 4, 1);
  }
  SUBCASE("PNG palette is 3 channels, 4 with a tRNS chunk") {
    const std::string idat = inferwatch::test::zlib_stored(std::string("\0\0", 2));
    const std::string plte = inferwatch::test::png_chunk("PLTE", std::string(3, '\x10'));
    const std::string end =
        inferwatch::test::png_chunk("IDAT", idat) + inferwatch::test::png_chunk("IEND", "");
    check_layout(k_png_signature + png_ihdr(1, 1, 8, 3) + plte + end, 3, 1);
    check_layout(k_png_signature + png_ihdr(1, 1, 8, 3) + plte +
                     inferwatch::test::png_chunk("tRNS", std::string(1, '\0')) + end,
                 4, 1);
  }
  SUBCASE("JPEG: 1 or 3 channels; a baseline file needs no coefficient buffer") {
    check_layout(encode(gray_ramp(k_width, k_height), ".jpg"), 1, 1);
    check_layout(encode(colour, ".jpg"), 3, 1);
  }
  SUBCASE("progressive JPEG: libjpeg buffers every coefficient (2 bytes, 32-pixel padding)") {
    check_layout(encode(colour, ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}), 3, 1, 64 * 32 * 2 * 3);
  }
  SUBCASE("BMP: 24-bit is 3 channels, 32-bit keeps alpha as a 4th") {
    check_layout(encode(colour, ".bmp"), 3, 1);
    check_layout(encode(rgba, ".bmp"), 4, 1);
  }
  SUBCASE("TIFF: SamplesPerPixel and BitsPerSample; the strip buffer as RGBA, twice") {
    const std::string gray = tiff_ifd_only(
        true, {{256, 3, 100}, {257, 3, 50}, {258, 3, 16}, {262, 3, 1}, {277, 3, 2}, {278, 3, 10}});
    check_layout(gray, 2, 2, 100 * 10 * 4 * 2 * 2);
  }
  SUBCASE("TIFF colour, or without a photometric: at least 4 channels (OpenCV reads RGBA)") {
    check_layout(tiff_ifd_only(true, {{256, 3, 9}, {257, 3, 11}, {258, 3, 16}, {262, 3, 2}}), 4, 2,
                 9 * 11 * 4 * 2 * 2);
    check_layout(tiff_ifd_only(true, {{256, 3, 9}, {257, 3, 11}}), 4, 1, 9 * 11 * 4 * 2);
  }
  SUBCASE("TIFF RowsPerStrip past the image's height: OpenCV sizes its strip buffer from it") {
    check_layout(tiff_ifd_only(true, {{256, 3, 8}, {257, 3, 8}, {262, 3, 1}, {278, 4, 14155776}}),
                 1, 1, 8LL * 14155776 * 4 * 2);
    check_layout(
        tiff_ifd_only(true, {{256, 3, 8}, {257, 3, 8}, {262, 3, 1}, {278, 4, 0xFFFFFFFFu}}), 1, 1,
        8 * 8 * 4 * 2);
  }
  SUBCASE("TIFF turned a quarter (orientation 5-8): sizes swapped, one more copy") {
    const std::string bytes =
        tiff_ifd_only(true, {{256, 3, 8}, {257, 3, 21}, {262, 3, 1}, {274, 3, 8}});
    check_header(bytes, ImageFormat::tiff, 21, 8);
    check_layout(bytes, 1, 1, 8 * 21 * 4 * 2 + 8 * 21 * 4);
  }
  SUBCASE("TIFF tiles: the tile buffer, even when a tile is larger than the image") {
    const std::string bytes = tiff_ifd_only(
        true, {{256, 3, 10}, {257, 3, 10}, {262, 3, 1}, {322, 3, 256}, {323, 3, 512}});
    check_layout(bytes, 1, 1, 256 * 512 * 4 * 2);
  }
  SUBCASE("TIFF of several pages: the box every page fits in, the deepest samples") {
    const std::string bytes =
        inferwatch::test::tiff_pages(false, {{{256, 3, 16}, {257, 3, 16}},
                                             {{256, 4, 3000}, {257, 3, 20}, {258, 3, 16}},
                                             {{256, 3, 40}, {257, 4, 2000}, {277, 3, 4}}});
    check_header(bytes, ImageFormat::tiff, 3000, 2000);
    const auto header = read_image_header(bytes);
    REQUIRE(header.ok());
    CHECK(header->pages == 3);
    CHECK(header->channels == 4);
    CHECK(header->bytes_per_sample == 2);
  }
  SUBCASE("WebP: lossy 3 channels; lossless goes through an ARGB buffer") {
    check_layout(encode(colour, ".webp", {cv::IMWRITE_WEBP_QUALITY, 80}), 3, 1);
    check_layout(encode(colour, ".webp", {cv::IMWRITE_WEBP_QUALITY, 101}), 3, 1,
                 k_width * k_height * 4);
  }
  SUBCASE("WebP with alpha: 4 channels, an alpha plane besides the ARGB buffer") {
    rgba.at<cv::Vec4b>(0, 0)[3] = 0;  // libwebp drops an alpha channel that is all opaque
    check_layout(encode(rgba, ".webp", {cv::IMWRITE_WEBP_QUALITY, 101}), 4, 1,
                 k_width * k_height * 4);
    const std::string extended =
        inferwatch::test::webp_extended(k_width, k_height, 0x10, vp8l_chunk(colour));
    check_layout(extended, 4, 1, k_width * k_height * 5);
  }
}

TEST_CASE("infer::read_image_header refuses a header that disagrees with the decoder") {
  const cv::Mat colour = rgb_stripes(k_width, k_height);

  SUBCASE("TIFF with a duplicated ImageWidth (libtiff keeps the first, a naive reader the last)") {
    check_error(tiff_ifd_only(true, {{256, 4, 60000}, {257, 3, 10}, {256, 3, 10}}), "decode_failed",
                "malformed TIFF header: duplicate ImageWidth tag");
  }
  SUBCASE("TIFF with a duplicated ImageLength, SamplesPerPixel or BitsPerSample") {
    check_error(tiff_ifd_only(false, {{256, 3, 10}, {257, 4, 60000}, {257, 3, 10}}),
                "decode_failed", "malformed TIFF header: duplicate ImageLength tag");
    check_error(tiff_ifd_only(true, {{256, 3, 10}, {257, 3, 10}, {277, 3, 200}, {277, 3, 1}}),
                "decode_failed", "malformed TIFF header: duplicate SamplesPerPixel tag");
    check_error(tiff_ifd_only(true, {{256, 3, 10}, {257, 3, 10}, {258, 3, 64}, {258, 3, 8}}),
                "decode_failed", "malformed TIFF header: duplicate BitsPerSample tag");
  }
  SUBCASE("TIFF size tag with two values or of type ASCII") {
    check_error(tiff_ifd_only(true, {{256, 4, 10, 2}, {257, 3, 10}}), "decode_failed",
                "malformed TIFF header: ImageWidth tag of type 4 with 2 values (page 1)");
    check_error(tiff_ifd_only(true, {{256, 3, 10}, {257, 2, 10}}), "decode_failed",
                "malformed TIFF header: ImageLength tag of type 2 with 1 values (page 1)");
  }
  SUBCASE("TIFF whose second page has no size") {
    check_error(inferwatch::test::tiff_pages(true, {{{256, 3, 10}, {257, 3, 10}}, {{254, 4, 0}}}),
                "decode_failed",
                "malformed TIFF header: page 2 has no ImageWidth/ImageLength tags");
  }
  SUBCASE("TIFF whose directories form a loop") {
    const std::vector<TiffEntry> page{{256, 3, 10}, {257, 3, 10}};
    check_error(inferwatch::test::tiff_pages(true, {page}, 0), "decode_failed",
                "malformed TIFF header: the directories form a loop");
    check_error(inferwatch::test::tiff_pages(true, {page, page, page}, 1), "decode_failed",
                "malformed TIFF header: the directories form a loop");
  }
  SUBCASE("TIFF of 257 pages") {
    const std::vector<std::vector<TiffEntry>> pages(257, {{256, 3, 10}, {257, 3, 10}});
    check_error(inferwatch::test::tiff_pages(true, pages), "unsupported_format",
                "TIFF files of more than 256 pages are not supported");
    CHECK(read_image_header(inferwatch::test::tiff_pages(true, {pages.begin(), pages.end() - 1}))
              ->pages == 256);
  }
  SUBCASE("JPEG with two frame headers (libjpeg refuses the second one)") {
    std::string bytes = encode(colour, ".jpg");
    const auto sof = bytes.find("\xFF\xC0");
    REQUIRE(sof != std::string::npos);
    const std::size_t length = static_cast<unsigned char>(bytes[sof + 3]) + 2;
    std::string forged = bytes.substr(sof, length);
    forged[5] = forged[7] = '\x7F';  // 32k × 32k
    bytes.insert(sof, forged);
    check_error(bytes, "decode_failed",
                "malformed JPEG header: several frame headers (SOF markers)");
  }
  SUBCASE("PNG with a second IHDR or a bit depth its colour type does not allow") {
    std::string bytes = encode(colour, ".png");
    bytes.insert(33, bytes.substr(8, 25));
    check_error(bytes, "decode_failed", "malformed PNG header: a second IHDR chunk");
    check_error(inferwatch::test::png_with_idat(4, 4, 16, 3, "x"), "decode_failed",
                "malformed PNG header: bit depth 16 with colour type 3");
  }
  SUBCASE("BMP with a header size OpenCV does not read, or a height of -2^31") {
    std::string bytes = encode(colour, ".bmp");
    inferwatch::test::put_le32(bytes, 14, 20);
    check_error(bytes, "decode_failed", "malformed BMP header: header size 20");
    bytes = encode(colour, ".bmp");
    inferwatch::test::put_le32(bytes, 22, 0x80000000u);
    check_error(bytes, "decode_failed", "malformed BMP header: height is -2147483648");
  }
  SUBCASE("WebP whose VP8X canvas differs from its frame") {
    const std::string frame = vp8l_chunk(colour);
    check_error(inferwatch::test::webp_extended(9000, 9000, 0, frame), "decode_failed",
                "malformed WebP header: the canvas is 9000×9000 but the image is 37×23");
    check_error(inferwatch::test::webp_extended(1, 1, 0, frame), "decode_failed",
                "malformed WebP header: the canvas is 1×1 but the image is 37×23");
    check_header(inferwatch::test::webp_extended(
                     k_width, k_height, 0, inferwatch::test::riff_chunk("ICCP", "xyz") + frame),
                 ImageFormat::webp, k_width, k_height);
  }
  SUBCASE("WebP without image data") {
    check_error(
        inferwatch::test::webp_extended(5, 5, 0, inferwatch::test::riff_chunk("EXIF", "ab")),
        "decode_failed", "malformed WebP header: no VP8 or VP8L image data");
  }
  SUBCASE("animated WebP: the animation flag, or ANIM/ANMF chunks") {
    const std::string frame = vp8l_chunk(colour);
    check_error(inferwatch::test::webp_extended(k_width, k_height, 0x02, frame),
                "unsupported_format", "animated WebP is not supported");
    check_error(inferwatch::test::webp_extended(
                    k_width, k_height, 0,
                    inferwatch::test::riff_chunk("ANIM", std::string(6, '\0')) + frame),
                "unsupported_format", "animated WebP is not supported");
  }
}

TEST_CASE("infer::to_string(ImageFormat)") {
  CHECK(inferwatch::infer::to_string(ImageFormat::png) == "PNG");
  CHECK(inferwatch::infer::to_string(ImageFormat::jpeg) == "JPEG");
  CHECK(inferwatch::infer::to_string(ImageFormat::bmp) == "BMP");
  CHECK(inferwatch::infer::to_string(ImageFormat::tiff) == "TIFF");
  CHECK(inferwatch::infer::to_string(ImageFormat::webp) == "WebP");
}

TEST_SUITE_END();
