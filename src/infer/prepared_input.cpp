#include <inferwatch/infer/prepared_input.hpp>

#include <inferwatch/infer/image_decoder.hpp>
#include <inferwatch/util/sha256.hpp>
#include <inferwatch/util/time.hpp>

namespace inferwatch::infer {

PreparedInput prepare_input(std::string_view bytes, const Preprocessor& preprocessor) {
  PreparedInput out;
  out.sha256 = util::sha256_hex(bytes);
  const auto started = std::chrono::steady_clock::now();
  const auto finish = [&](util::Error error) {
    out.input = std::move(error);
    out.decode_ms = util::ms_between(started, std::chrono::steady_clock::now());
    return out;
  };
  const auto header = read_image_header(bytes);
  if (!header) return finish(header.error());
  out.size = std::pair{static_cast<int>(header->width), static_cast<int>(header->height)};
  const config::Preprocess& options = preprocessor.options();
  // Preprocessing runs right after the decode on this worker and holds the float image, so the
  // same budget covers it.
  const DecodeLimits limits{
      options.max_pixels, options.max_decode_bytes,
      preprocessor.peak_bytes(header->width, header->height, header->channels <= 2 ? 1 : 3)};
  auto decoded = decode_image(bytes, *header, limits);
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
