#include <inferwatch/infer/prepared_input.hpp>

#include <inferwatch/infer/image_decoder.hpp>
#include <inferwatch/util/sha256.hpp>
#include <inferwatch/util/time.hpp>

namespace inferwatch::infer {

PreparedInput prepare_input(std::string_view bytes, const Preprocessor& preprocessor) {
  PreparedInput out;
  out.sha256 = util::sha256_hex(bytes);
  const auto started = std::chrono::steady_clock::now();
  const auto header = read_image_header(bytes);
  if (!header) {
    out.input = header.error();
    out.decode_ms = util::ms_between(started, std::chrono::steady_clock::now());
    return out;
  }
  out.size = std::pair{static_cast<int>(header->width), static_cast<int>(header->height)};
  auto decoded = decode_image(bytes, *header, preprocessor.options().max_pixels);
  if (!decoded) {
    out.input = decoded.error();
  } else {
    out.size = std::pair{decoded->width, decoded->height};
    out.input = preprocessor.run(*decoded);
  }
  out.decode_ms = util::ms_between(started, std::chrono::steady_clock::now());
  return out;
}

}  // namespace inferwatch::infer
