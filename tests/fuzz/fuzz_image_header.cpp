// read_image_header on arbitrary bytes: never crashes, and what it accepts is a consistent
// worst case (positive sizes, known sample layouts, a finite estimate).
#include <inferwatch/infer/image_decoder.hpp>
#include <inferwatch/infer/image_header.hpp>

#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace inferwatch::infer;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto header = read_image_header(bytes);
  if (!header) {
    static const std::set<std::string> codes{"empty_file", "unsupported_format", "truncated",
                                             "decode_failed"};
    FUZZ_CHECK(codes.count(header.error().code) == 1);
    FUZZ_CHECK(!header.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(header->width > 0 && header->height > 0);
  FUZZ_CHECK(header->channels >= 1);
  const int b = header->bytes_per_sample;
  FUZZ_CHECK(b == 1 || b == 2 || b == 4 || b == 8);
  FUZZ_CHECK(header->codec_bytes >= 0);
  FUZZ_CHECK(header->pages >= 1 && header->pages <= 256);
  FUZZ_CHECK(header->format == ImageFormat::tiff || header->pages == 1);
  FUZZ_CHECK(estimate_decode_bytes(*header) >= header->codec_bytes);
  return 0;
}
