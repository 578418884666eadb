// decode_image under small limits: never crashes, never allocates past -malloc_limit_mb (the
// budget's estimate must cover what OpenCV really allocates), and what it decodes is never larger
// than the header promised.
#include <inferwatch/infer/image_decoder.hpp>

#include "fuzz_check.hpp"

#include <opencv2/core.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

// 1 Mpx and 64 MiB: a bomb the header misjudges shows as an allocation over the run's
// -malloc_limit_mb long before memory runs out.
constexpr inferwatch::infer::DecodeLimits k_limits{1 << 20, 64LL << 20};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace inferwatch::infer;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto header = read_image_header(bytes);
  if (!header) return 0;
  const auto image = decode_image(bytes, *header, k_limits);
  if (!image) {
    // The decoder's own cross-check: OpenCV produced more than the header said.
    FUZZ_CHECK(image.error().message.find("more than its header says") == std::string::npos);
    return 0;
  }
  FUZZ_CHECK(image->width >= 1 && image->width <= header->width);
  FUZZ_CHECK(image->height >= 1 && image->height <= header->height);
  FUZZ_CHECK(image->pixels.cols == image->width && image->pixels.rows == image->height);
  FUZZ_CHECK(image->pixels.type() == CV_32FC1 || image->pixels.type() == CV_32FC3);
  if (header->bytes_per_sample <= 2) {  // integer samples: [0, 1] after scaling and compositing
    double low = 0, high = 0;
    cv::minMaxLoc(image->pixels.reshape(1), &low, &high);
    FUZZ_CHECK(low >= 0.0 && high <= 1.0);
  }
  return 0;
}
