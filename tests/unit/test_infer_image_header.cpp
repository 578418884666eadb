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

TEST_CASE("infer::to_string(ImageFormat)") {
  CHECK(inferwatch::infer::to_string(ImageFormat::png) == "PNG");
  CHECK(inferwatch::infer::to_string(ImageFormat::jpeg) == "JPEG");
  CHECK(inferwatch::infer::to_string(ImageFormat::bmp) == "BMP");
  CHECK(inferwatch::infer::to_string(ImageFormat::tiff) == "TIFF");
  CHECK(inferwatch::infer::to_string(ImageFormat::webp) == "WebP");
}

TEST_SUITE_END();
