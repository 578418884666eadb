// decode_image on images made here: size, channels, value range and RGB order for every format,
// alpha composited onto white, and the error codes for bad input.
#include <inferwatch/infer/image_decoder.hpp>

#include "support/images.hpp"

#include <doctest/doctest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using inferwatch::infer::decode_image;
using inferwatch::infer::DecodedImage;
using inferwatch::infer::DecodeLimits;
using inferwatch::infer::estimate_decode_bytes;
using inferwatch::infer::ImageFormat;
using inferwatch::infer::read_image_header;
using inferwatch::test::encode;
using inferwatch::test::gray_ramp;
using inferwatch::test::rgb_stripes;

namespace {

constexpr int k_width = 48;  // three 16-pixel stripes, whole JPEG blocks
constexpr int k_height = 24;
constexpr DecodeLimits k_no_limit{100'000'000, 1LL << 40};

// Limits of `max_pixels` and no memory budget to speak of.
DecodeLimits pixel_limit(std::int64_t max_pixels) { return {max_pixels, 1LL << 40}; }

DecodedImage decoded(const std::string& bytes, const DecodeLimits& limits = k_no_limit) {
  auto image = decode_image(bytes, limits);
  INFO("error: " << (image.ok() ? "" : image.error().code + ": " + image.error().message));
  REQUIRE(image.ok());
  return std::move(image).value();
}

// Size, float type with `channels`, values within [0, 1].
void check_shape(const DecodedImage& image, ImageFormat format, int channels) {
  CHECK(image.format == format);
  CHECK(image.width == k_width);
  CHECK(image.height == k_height);
  CHECK(image.pixels.cols == k_width);
  CHECK(image.pixels.rows == k_height);
  CHECK(image.pixels.type() == CV_MAKETYPE(CV_32F, channels));
  double low = 0, high = 0;
  cv::minMaxLoc(image.pixels.reshape(1), &low, &high);
  CHECK(low >= 0.0);
  CHECK(high <= 1.0);
  CHECK(high > 0.5);  // not all black: the data really was decoded
}

cv::Vec3f rgb_at(const DecodedImage& image, int y, int x) {
  return image.pixels.at<cv::Vec3f>(y, x);
}

// The middle of each stripe is red, green, blue in RGB order, within `tolerance`.
void check_stripes(const DecodedImage& image, float tolerance) {
  const int y = k_height / 2;
  const cv::Vec3f expected[] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  for (int stripe = 0; stripe < 3; ++stripe) {
    const cv::Vec3f got = rgb_at(image, y, stripe * 16 + 8);
    CAPTURE(stripe);
    for (int c = 0; c < 3; ++c) {
      CAPTURE(c);
      CHECK(std::abs(got[c] - expected[stripe][c]) <= tolerance);
    }
  }
}

// The ramp's values (x * 5 / 255 at column x), within `tolerance`.
void check_ramp(const DecodedImage& image, float tolerance) {
  for (const int x : {0, 10, 25, 47}) {
    CAPTURE(x);
    CHECK(std::abs(image.pixels.at<float>(k_height / 2, x) - x * 5 / 255.0f) <= tolerance);
  }
}

}  // namespace

TEST_SUITE_BEGIN("infer");

TEST_CASE("infer::decode_image formats") {
  const cv::Mat colour = rgb_stripes(k_width, k_height);
  const cv::Mat gray = gray_ramp(k_width, k_height);

  SUBCASE("PNG gray: one channel, exact values") {
    const auto image = decoded(encode(gray, ".png"));
    check_shape(image, ImageFormat::png, 1);
    check_ramp(image, 1e-6f);
  }
  SUBCASE("PNG colour: three channels in RGB order") {
    const auto image = decoded(encode(colour, ".png"));
    check_shape(image, ImageFormat::png, 3);
    check_stripes(image, 1e-6f);
  }
  SUBCASE("JPEG gray") {
    const auto image = decoded(encode(gray, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 95}));
    check_shape(image, ImageFormat::jpeg, 1);
    check_ramp(image, 0.05f);
  }
  SUBCASE("JPEG colour in RGB order") {
    const auto image = decoded(encode(colour, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 95}));
    check_shape(image, ImageFormat::jpeg, 3);
    check_stripes(image, 0.1f);
  }
  SUBCASE("BMP gray") {
    const auto image = decoded(encode(gray, ".bmp"));
    check_shape(image, ImageFormat::bmp, 1);
    check_ramp(image, 1e-6f);
  }
  SUBCASE("BMP colour in RGB order") {
    const auto image = decoded(encode(colour, ".bmp"));
    check_shape(image, ImageFormat::bmp, 3);
    check_stripes(image, 1e-6f);
  }
  SUBCASE("TIFF gray") {
    const auto image = decoded(encode(gray, ".tiff"));
    check_shape(image, ImageFormat::tiff, 1);
    check_ramp(image, 1e-6f);
  }
  SUBCASE("TIFF colour in RGB order") {
    const auto image = decoded(encode(colour, ".tiff"));
    check_shape(image, ImageFormat::tiff, 3);
    check_stripes(image, 1e-6f);
  }
  SUBCASE("WebP lossless colour in RGB order") {
    const auto image = decoded(encode(colour, ".webp", {cv::IMWRITE_WEBP_QUALITY, 101}));
    check_shape(image, ImageFormat::webp, 3);
    check_stripes(image, 1e-6f);
  }
  SUBCASE("WebP lossy colour in RGB order") {
    const auto image = decoded(encode(colour, ".webp", {cv::IMWRITE_WEBP_QUALITY, 90}));
    check_shape(image, ImageFormat::webp, 3);
    check_stripes(image, 0.1f);
  }
  SUBCASE("the overload taking a header decodes the same") {
    const std::string bytes = encode(colour, ".png");
    const auto header = read_image_header(bytes);
    REQUIRE(header.ok());
    const auto image = decode_image(bytes, *header, k_no_limit);
    REQUIRE(image.ok());
    check_shape(*image, ImageFormat::png, 3);
    check_stripes(*image, 1e-6f);
  }
}

TEST_CASE("infer::decode_image 16-bit") {
  SUBCASE("16-bit gray PNG: 65535 is 1.0, 32768 about 0.5") {
    cv::Mat deep(k_height, k_width, CV_16UC1, cv::Scalar(0));
    deep.colRange(16, 32).setTo(cv::Scalar(32768));
    deep.colRange(32, 48).setTo(cv::Scalar(65535));
    const auto image = decoded(encode(deep, ".png"));
    check_shape(image, ImageFormat::png, 1);
    CHECK(image.pixels.at<float>(5, 8) == 0.0f);
    CHECK(image.pixels.at<float>(5, 24) == doctest::Approx(0.5).epsilon(1e-4));
    CHECK(image.pixels.at<float>(5, 40) == 1.0f);
  }
  SUBCASE("16-bit colour PNG in RGB order") {
    cv::Mat deep;
    rgb_stripes(k_width, k_height).convertTo(deep, CV_16UC3, 257);
    const auto image = decoded(encode(deep, ".png"));
    check_shape(image, ImageFormat::png, 3);
    check_stripes(image, 1e-6f);
  }
  SUBCASE("16-bit gray TIFF") {
    const cv::Mat deep(k_height, k_width, CV_16UC1, cv::Scalar(65535));
    const auto image = decoded(encode(deep, ".tiff"));
    check_shape(image, ImageFormat::tiff, 1);
    CHECK(image.pixels.at<float>(0, 0) == 1.0f);
  }
}

TEST_CASE("infer::decode_image alpha") {
  // BGRA: (0,0) fully transparent black, (0,1) opaque red, (0,2) half-transparent black,
  // (0,3) opaque blue; the rest opaque white.
  cv::Mat bgra(k_height, k_width, CV_8UC4, cv::Scalar(255, 255, 255, 255));
  bgra.at<cv::Vec4b>(0, 0) = {0, 0, 0, 0};
  bgra.at<cv::Vec4b>(0, 1) = {0, 0, 255, 255};
  bgra.at<cv::Vec4b>(0, 2) = {0, 0, 0, 128};
  bgra.at<cv::Vec4b>(0, 3) = {255, 0, 0, 255};
  const float half = 1.0f - 128.0f / 255.0f;

  const auto check_composited = [&](const DecodedImage& image, float tolerance) {
    check_shape(image, image.format, 3);
    const auto near = [&](cv::Vec3f got, cv::Vec3f want) {
      CAPTURE(got);
      CAPTURE(want);
      for (int c = 0; c < 3; ++c) CHECK(std::abs(got[c] - want[c]) <= tolerance);
    };
    near(rgb_at(image, 0, 0), {1, 1, 1});
    near(rgb_at(image, 0, 1), {1, 0, 0});
    near(rgb_at(image, 0, 2), {half, half, half});
    near(rgb_at(image, 0, 3), {0, 0, 1});
    near(rgb_at(image, 5, 5), {1, 1, 1});
  };

  SUBCASE("RGBA PNG: transparent is white, opaque red is (1, 0, 0)") {
    check_composited(decoded(encode(bgra, ".png")), 1e-6f);
  }
  SUBCASE("16-bit RGBA PNG") {
    cv::Mat deep;
    bgra.convertTo(deep, CV_16UC4, 257);
    check_composited(decoded(encode(deep, ".png")), 1e-6f);
  }
  SUBCASE("RGBA TIFF") { check_composited(decoded(encode(bgra, ".tiff")), 1e-6f); }
  SUBCASE("RGBA WebP (lossless)") {
    check_composited(decoded(encode(bgra, ".webp", {cv::IMWRITE_WEBP_QUALITY, 101})), 1e-6f);
  }
  SUBCASE("gray+alpha PNG: transparent is white, gray values kept where opaque") {
    // Colour type 4, written by hand (OpenCV cannot): (gray, alpha) pairs.
    std::string row0{'\0',   '\0',   '\0', '\xFF',
                     '\xC8', '\xFF', '\0', '\x80'};  // transparent, black, 200, half
    std::vector<std::string> rows{row0};
    for (int y = 1; y < k_height; ++y) {
      std::string row;
      for (int x = 0; x < 4; ++x) row += std::string{'\x40', '\xFF'};
      rows.push_back(row);
    }
    const std::string bytes = inferwatch::test::png_from_rows(4, 4, rows);
    const auto result = decode_image(bytes, k_no_limit);
    INFO("error: " << (result.ok() ? "" : result.error().code + ": " + result.error().message));
    REQUIRE(result.ok());
    const cv::Mat& pixels = result->pixels;
    CHECK(result->width == 4);
    CHECK(result->height == k_height);
    // One gray channel, or three equal ones: either way the same values.
    REQUIRE((pixels.type() == CV_32FC1 || pixels.type() == CV_32FC3));
    const auto value = [&](int y, int x) {
      if (pixels.channels() == 1) return pixels.at<float>(y, x);
      const cv::Vec3f v = pixels.at<cv::Vec3f>(y, x);
      CHECK(v[0] == v[1]);
      CHECK(v[1] == v[2]);
      return v[0];
    };
    CHECK(value(0, 0) == 1.0f);
    CHECK(value(0, 1) == 0.0f);
    CHECK(value(0, 2) == doctest::Approx(200.0 / 255.0));
    CHECK(value(0, 3) == doctest::Approx(half));
    CHECK(value(7, 2) == doctest::Approx(0x40 / 255.0));
  }
}

TEST_CASE("infer::decode_image errors") {
  const cv::Mat colour = rgb_stripes(k_width, k_height);

  const auto check_error = [](const std::string& bytes, const std::string& code) {
    const auto image = decode_image(bytes, k_no_limit);
    REQUIRE_FALSE(image.ok());
    CHECK(image.error().code == code);
    CHECK_FALSE(image.error().message.empty());
  };

  SUBCASE("empty input is empty_file") { check_error("", "empty_file"); }
  SUBCASE("random bytes and text are unsupported_format") {
    check_error(std::string("\x13\x37\xC0\xDE\x00\xFF\x10\x20\x30", 9), "unsupported_format");
    check_error("this is a text file\n", "unsupported_format");
  }
  SUBCASE("a PNG cut in the middle is truncated") {
    const std::string bytes = encode(colour, ".png");
    check_error(bytes.substr(0, bytes.size() / 2), "truncated");
  }
  SUBCASE("a JPEG cut in the middle (no end marker) is truncated") {
    const std::string bytes = encode(colour, ".jpg");
    check_error(bytes.substr(0, bytes.size() / 2), "truncated");
  }
  SUBCASE("a PNG claiming 100000×100000 is too_large, found without decoding") {
    std::string bytes = encode(colour, ".png");
    inferwatch::test::put_be32(bytes, 16, 100000);
    inferwatch::test::put_be32(bytes, 20, 100000);
    const auto image = decode_image(
        bytes, pixel_limit(100'000'000));  // 10^10 pixels: decoding would fail differently
    REQUIRE_FALSE(image.ok());
    CHECK(image.error().code == "too_large");
    CHECK(
        image.error().message ==
        "100000×100000 = 10000000000 pixels, over the limit of 100000000 (preprocess.max_pixels)");
  }
  SUBCASE("exactly max_pixels is allowed, one more is too_large") {
    const std::string bytes = encode(colour, ".png");
    CHECK(decode_image(bytes, pixel_limit(k_width * k_height)).ok());
    const auto image = decode_image(bytes, pixel_limit(k_width * k_height - 1));
    REQUIRE_FALSE(image.ok());
    CHECK(image.error().code == "too_large");
    CHECK(image.error().message ==
          "48×24 = 1152 pixels, over the limit of 1151 (preprocess.max_pixels)");
  }
  SUBCASE("a valid header and IEND around garbage pixel data is decode_failed") {
    const std::string bytes =
        inferwatch::test::png_with_idat(k_width, k_height, 8, 2, std::string(300, '\xFF'));
    REQUIRE(read_image_header(bytes).ok());
    const auto image = decode_image(bytes, k_no_limit);
    REQUIRE_FALSE(image.ok());
    CHECK(image.error().code == "decode_failed");
    CHECK(image.error().message ==
          "the PNG data could not be decoded (corrupt or unsupported variant)");
  }
  SUBCASE("a PNG whose pixel data was overwritten is decode_failed") {
    std::string bytes = encode(colour, ".png");
    const auto idat = bytes.find("IDAT");
    REQUIRE(idat != std::string::npos);
    for (std::size_t i = idat + 4; i < bytes.size() - 12; ++i) bytes[i] = '\xA5';
    check_error(bytes, "decode_failed");
  }
}

TEST_CASE("infer::decode_image huge forged dimensions") {
  SUBCASE("a TIFF claiming 4294967295×4294967295 is too_large") {
    // Both sizes are 32-bit in TIFF; their product does not fit std::int64_t.
    const std::string bytes =
        inferwatch::test::tiff_ifd_only(true, {{256, 4, 0xFFFFFFFFu}, {257, 4, 0xFFFFFFFFu}});
    const auto header = read_image_header(bytes);
    REQUIRE(header.ok());
    CHECK(header->width == 4294967295);
    const auto image = decode_image(bytes, pixel_limit(100'000'000));
    REQUIRE_FALSE(image.ok());
    CHECK(image.error().code == "too_large");
  }
}

TEST_CASE("infer::decode_image memory budget") {
  SUBCASE("a 16-bit RGBA PNG within the pixel limit but over the budget is too_large, undecoded") {
    // 9000×9000 = 81 Mpx passes max_pixels; 8 bytes decoded + 12 as float per pixel do not fit
    // 1 GiB. The pixel data is garbage: decoding it would fail differently.
    const std::string bytes = inferwatch::test::png_with_idat(9000, 9000, 16, 6, "junk");
    const auto image = decode_image(bytes, DecodeLimits{100'000'000, 1LL << 30});
    REQUIRE_FALSE(image.ok());
    CHECK(image.error().code == "too_large");
    CHECK(image.error().message ==
          "decoding and preprocessing 9000×9000 with 4 channel(s) of 2 byte(s) would take about "
          "1620000000 bytes (1545 MiB), over the limit of 1073741824 bytes "
          "(preprocess.max_decode_bytes)");
  }
  SUBCASE("exactly the estimate is allowed, one byte less is too_large") {
    const std::string bytes = encode(rgb_stripes(k_width, k_height), ".png");
    const auto header = read_image_header(bytes);
    REQUIRE(header.ok());
    const std::int64_t estimate = estimate_decode_bytes(*header);
    CHECK(estimate == k_width * k_height * (3 + 12));
    CHECK(decode_image(bytes, DecodeLimits{100'000'000, estimate}).ok());
    const auto image = decode_image(bytes, DecodeLimits{100'000'000, estimate - 1});
    REQUIRE_FALSE(image.ok());
    CHECK(image.error().code == "too_large");
  }
  SUBCASE("the caller's preprocessing peak counts against the same budget") {
    const std::string bytes = encode(rgb_stripes(k_width, k_height), ".png");
    CHECK(decode_image(bytes, DecodeLimits{100'000'000, 1'000'000, 1'000'000}).ok());
    const auto image = decode_image(bytes, DecodeLimits{100'000'000, 1'000'000, 1'000'001});
    REQUIRE_FALSE(image.ok());
    CHECK(image.error().code == "too_large");
  }
  SUBCASE("the codec's buffers count: a progressive JPEG's coefficients") {
    const cv::Mat colour = rgb_stripes(k_width, k_height);
    const auto baseline = read_image_header(encode(colour, ".jpg"));
    const auto progressive =
        read_image_header(encode(colour, ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}));
    REQUIRE(baseline.ok());
    REQUIRE(progressive.ok());
    CHECK(estimate_decode_bytes(*baseline) == k_width * k_height * 15);
    // 48×24 RGB: decoded 3 + float 12 bytes a pixel; the coefficients, padded to 64×32, 2 bytes
    // each, are held with the decoded samples while libjpeg runs.
    CHECK(progressive->codec_bytes == 64 * 32 * 2 * 3);
    CHECK(estimate_decode_bytes(*progressive) ==
          std::max<std::int64_t>(k_width * k_height * 15, k_width * k_height * 3 + 64 * 32 * 6));
  }
  SUBCASE("a forged 2^32 × 2^32 header saturates instead of overflowing") {
    inferwatch::infer::ImageHeader header{ImageFormat::tiff, 0xFFFFFFFFLL, 0xFFFFFFFFLL};
    header.channels = 4;
    header.bytes_per_sample = 8;
    CHECK(estimate_decode_bytes(header) == std::numeric_limits<std::int64_t>::max());
  }
  SUBCASE("a TIFF whose duplicated size tags hide a large image is refused before decoding") {
    const std::string bytes = inferwatch::test::tiff_ifd_only(
        true, {{256, 4, 20000}, {257, 4, 20000}, {256, 3, 10}, {257, 3, 10}});
    const auto image = decode_image(bytes, k_no_limit);
    REQUIRE_FALSE(image.ok());
    CHECK(image.error().code == "decode_failed");
    CHECK(image.error().message == "malformed TIFF header: duplicate ImageWidth tag");
  }
}

TEST_SUITE_END();
