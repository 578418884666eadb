// Preprocessor behaviour on synthetic images; exact torchvision parity is checked end to end by
// tests/integration/test_parity.py.
#include <inferwatch/infer/preprocessor.hpp>

#include <doctest/doctest.h>
#include <opencv2/core.hpp>

using inferwatch::config::Colour;
using inferwatch::config::Preprocess;
using inferwatch::config::ResizeMode;
using inferwatch::infer::DecodedImage;
using inferwatch::infer::InputTensor;
using inferwatch::infer::Preprocessor;

namespace {

DecodedImage image(int height, int width, cv::Scalar rgb_or_gray, int channels) {
  DecodedImage d;
  d.pixels = cv::Mat(height, width, CV_MAKETYPE(CV_32F, channels), rgb_or_gray);
  d.width = width;
  d.height = height;
  return d;
}

float at(const InputTensor& t, int c, int y, int x) {
  return t.data[(static_cast<std::size_t>(c) * t.height + y) * t.width + x];
}

Preprocess options(ResizeMode mode, Colour colour, int height, int width) {
  Preprocess p;
  p.resize = mode;
  p.colour = colour;
  p.height = height;
  p.width = width;
  p.mean = colour == Colour::gray ? std::vector<double>{0.0} : std::vector<double>{0.0, 0.0, 0.0};
  p.std = colour == Colour::gray ? std::vector<double>{1.0} : std::vector<double>{1.0, 1.0, 1.0};
  return p;
}

}  // namespace

TEST_SUITE_BEGIN("infer");

TEST_CASE("infer::Preprocessor::run") {
  SUBCASE("stretch gives the configured shape and keeps a constant image constant") {
    const Preprocessor pre(options(ResizeMode::stretch, Colour::gray, 32, 48));
    const auto out = pre.run(image(100, 17, cv::Scalar(0.25), 1));
    REQUIRE(out.ok());
    CHECK(out->channels == 1);
    CHECK(out->height == 32);
    CHECK(out->width == 48);
    REQUIRE(out->data.size() == 32u * 48u);
    for (const float v : out->data) CHECK(v == doctest::Approx(0.25).epsilon(1e-6));
  }

  SUBCASE("letterbox keeps the aspect ratio and pads with the fill value, centred") {
    Preprocess p = options(ResizeMode::letterbox, Colour::gray, 64, 64);
    p.letterbox_fill = 1.0;
    const Preprocessor pre(p);
    const auto out = pre.run(image(100, 200, cv::Scalar(0.0), 1));  // wide black image
    REQUIRE(out.ok());
    // 200×100 → 64×32, rows 16..47 black, 16 white rows above and below.
    CHECK(at(*out, 0, 0, 32) == 1.0f);
    CHECK(at(*out, 0, 15, 32) == 1.0f);
    CHECK(at(*out, 0, 16, 32) == doctest::Approx(0.0));
    CHECK(at(*out, 0, 47, 0) == doctest::Approx(0.0));
    CHECK(at(*out, 0, 48, 63) == 1.0f);
  }

  SUBCASE("shorter-side+center-crop keeps the centre of a long image") {
    // A wide RGB image: red left third, green middle, blue right third.
    DecodedImage d = image(100, 300, cv::Scalar(1, 0, 0), 3);
    d.pixels.colRange(100, 200).setTo(cv::Scalar(0, 1, 0));
    d.pixels.colRange(200, 300).setTo(cv::Scalar(0, 0, 1));
    const Preprocessor pre(options(ResizeMode::shorter_side_center_crop, Colour::rgb, 32, 32));
    const auto out = pre.run(d);
    REQUIRE(out.ok());
    CHECK(out->channels == 3);
    for (int y = 0; y < 32; y += 7) {
      for (int x = 2; x < 30; x += 5) {
        CHECK(at(*out, 0, y, x) == doctest::Approx(0.0).epsilon(1e-5));
        CHECK(at(*out, 1, y, x) == doctest::Approx(1.0).epsilon(1e-5));
        CHECK(at(*out, 2, y, x) == doctest::Approx(0.0).epsilon(1e-5));
      }
    }
  }

  SUBCASE("gray from RGB uses torchvision's weights; RGB from gray replicates") {
    const Preprocessor to_gray(options(ResizeMode::stretch, Colour::gray, 4, 4));
    const auto g = to_gray.run(image(4, 4, cv::Scalar(1, 0, 0), 3));  // pure red
    REQUIRE(g.ok());
    CHECK(g->data[0] == doctest::Approx(0.2989));

    const Preprocessor to_rgb(options(ResizeMode::stretch, Colour::rgb, 4, 4));
    const auto c = to_rgb.run(image(4, 4, cv::Scalar(0.5), 1));
    REQUIRE(c.ok());
    CHECK(c->channels == 3);
    CHECK(at(*c, 0, 1, 1) == doctest::Approx(0.5));
    CHECK(at(*c, 2, 3, 3) == doctest::Approx(0.5));
  }

  SUBCASE("mean and std normalize each channel") {
    Preprocess p = options(ResizeMode::stretch, Colour::rgb, 8, 8);
    p.mean = {0.5, 0.25, 0.0};
    p.std = {0.5, 0.25, 2.0};
    const auto out = Preprocessor(p).run(image(8, 8, cv::Scalar(1, 1, 1), 3));
    REQUIRE(out.ok());
    CHECK(at(*out, 0, 0, 0) == doctest::Approx(1.0));
    CHECK(at(*out, 1, 0, 0) == doctest::Approx(3.0));
    CHECK(at(*out, 2, 0, 0) == doctest::Approx(0.5));
  }

  SUBCASE("a one-pixel image still fills the whole input") {
    const auto out = Preprocessor(options(ResizeMode::letterbox, Colour::gray, 16, 16))
                         .run(image(1, 1, cv::Scalar(0.0), 1));
    REQUIRE(out.ok());
    CHECK(out->data.size() == 256u);
  }
}

TEST_SUITE_END();
