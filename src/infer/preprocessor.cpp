#include <inferwatch/infer/preprocessor.hpp>

#include "intra_op_threads.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace inferwatch::infer {
namespace {

// torchvision's rgb_to_grayscale weights, summed in the same order.
at::Tensor to_gray(const at::Tensor& chw) {
  const auto r = chw[0], g = chw[1], b = chw[2];
  return (0.2989 * r + 0.587 * g + 0.114 * b).unsqueeze(0);
}

// torchvision.transforms.functional.resize on a float tensor: no-op at the same size, else
// bilinear with antialias, align_corners=False, scales derived from the sizes.
at::Tensor resize(const at::Tensor& nchw, std::int64_t height, std::int64_t width) {
  if (nchw.size(2) == height && nchw.size(3) == width) return nchw;
  return at::_upsample_bilinear2d_aa(nchw, {height, width}, false, c10::nullopt, c10::nullopt);
}

// Python's round(): half to even (nearbyint under the default rounding mode).
std::int64_t py_round(double v) { return static_cast<std::int64_t>(std::nearbyint(v)); }

at::Tensor letterbox(const at::Tensor& nchw, const config::Preprocess& o) {
  const std::int64_t h = nchw.size(2), w = nchw.size(3);
  const double scale =
      std::min(static_cast<double>(o.height) / h, static_cast<double>(o.width) / w);
  const std::int64_t nh =
      std::min<std::int64_t>(std::max<std::int64_t>(1, py_round(h * scale)), o.height);
  const std::int64_t nw =
      std::min<std::int64_t>(std::max<std::int64_t>(1, py_round(w * scale)), o.width);
  const at::Tensor resized = resize(nchw, nh, nw);
  const std::int64_t left = (o.width - nw) / 2, top = (o.height - nh) / 2;
  return at::constant_pad_nd(resized, {left, o.width - nw - left, top, o.height - nh - top},
                             o.letterbox_fill);
}

// torchvision Resize(S) (shorter side to S, longer side truncated) then CenterCrop((H, W)).
at::Tensor shorter_side_center_crop(const at::Tensor& nchw, const config::Preprocess& o) {
  const std::int64_t h = nchw.size(2), w = nchw.size(3);
  const std::int64_t s = o.shorter_side != 0 ? o.shorter_side : std::max(o.height, o.width);
  const std::int64_t shorter = std::min(h, w), longer = std::max(h, w);
  const auto new_long =
      static_cast<std::int64_t>(static_cast<double>(s * longer) / static_cast<double>(shorter));
  const std::int64_t nh = w <= h ? new_long : s, nw = w <= h ? s : new_long;
  const at::Tensor resized = resize(nchw, nh, nw);
  const std::int64_t top = py_round((nh - o.height) / 2.0), left = py_round((nw - o.width) / 2.0);
  return resized.slice(2, top, top + o.height).slice(3, left, left + o.width);
}

}  // namespace

Preprocessor::Preprocessor(config::Preprocess options) : m_options(std::move(options)) {}

std::int64_t Preprocessor::peak_bytes(std::int64_t width, std::int64_t height, int c) const {
  // In doubles: sizes come from a header and may be forged; the result is compared to a budget.
  const double pixels = static_cast<double>(width) * static_cast<double>(height);
  const bool gray_from_rgb = m_options.colour == config::Colour::gray && c == 3;
  // to_gray's expression holds five planes at once; an RGB model copies the permuted image; a
  // one-channel image is resized in place. Measured (`inferwatch infer`, max RSS minus a 64×64
  // image's): RGB into the gray demo model 31 bytes a pixel (estimate 32), gray 4.75 (estimate 8).
  const double convert = gray_from_rgb ? 5 * 4 * pixels : (c == 3 ? 12 * pixels : 0);
  const double resize_input = gray_from_rgb ? 4 * pixels : (c == 3 ? 12 * pixels : 0);
  double resized = static_cast<double>(m_options.height) * m_options.width;
  if (m_options.resize == config::ResizeMode::shorter_side_center_crop) {
    const double s = m_options.shorter_side != 0 ? m_options.shorter_side
                                                 : std::max(m_options.height, m_options.width);
    const double shorter = static_cast<double>(std::min(width, height));
    const double longer = static_cast<double>(std::max(width, height));
    resized = s * (s * longer / shorter);
  }
  const double out_channels = gray_from_rgb ? 1 : c;
  const double bytes =
      c * 4 * pixels + std::max(convert, resize_input + 4 * out_channels * resized);
  return bytes >= 9.2e18 ? std::numeric_limits<std::int64_t>::max()
                         : static_cast<std::int64_t>(bytes);
}

util::Result<InputTensor> Preprocessor::run(const DecodedImage& image) const {
  try {
    const cv::Mat& m = image.pixels;
    const std::int64_t c = m.channels();
    const at::Tensor hwc = at::from_blob(
        m.data, {m.rows, m.cols, c}, {static_cast<std::int64_t>(m.step[0] / sizeof(float)), c, 1},
        at::TensorOptions().dtype(at::kFloat));
    set_intra_op_threads_here(1);  // one file per pool worker; see intra_op_threads.hpp
    at::Tensor chw = hwc.permute({2, 0, 1});
    if (m_options.colour == config::Colour::gray && c == 3) chw = to_gray(chw);
    // Gray → RGB after resizing: the resize works per channel, so the result is the same for a
    // third of the work.
    const bool gray_to_rgb = m_options.colour == config::Colour::rgb && c == 1;
    at::Tensor x = chw.unsqueeze(0).contiguous();

    switch (m_options.resize) {
      case config::ResizeMode::stretch:
        x = resize(x, m_options.height, m_options.width);
        break;
      case config::ResizeMode::letterbox:
        x = letterbox(x, m_options);
        break;
      case config::ResizeMode::shorter_side_center_crop:
        x = shorter_side_center_crop(x, m_options);
        break;
    }

    if (gray_to_rgb) x = x.expand({-1, 3, -1, -1});
    const auto channels = x.size(1);
    const at::Tensor mean =
        at::tensor(std::vector<float>(m_options.mean.begin(), m_options.mean.end()))
            .view({1, channels, 1, 1});
    const at::Tensor std =
        at::tensor(std::vector<float>(m_options.std.begin(), m_options.std.end()))
            .view({1, channels, 1, 1});
    x = x.sub(mean).div(std).contiguous();

    InputTensor out;
    out.channels = static_cast<int>(channels);
    out.height = m_options.height;
    out.width = m_options.width;
    out.data.assign(x.data_ptr<float>(), x.data_ptr<float>() + x.numel());
    return out;
  } catch (const c10::Error& e) {
    return util::Error{"preprocess_failed",
                       fmt::format("preprocessing failed: {}", e.what_without_backtrace())};
  }
}

}  // namespace inferwatch::infer
