#include <inferwatch/server/thumbnails.hpp>

#include <inferwatch/util/root_dir.hpp>
#include <inferwatch/util/utf8.hpp>

#include <fmt/format.h>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>

namespace inferwatch::server {

struct Thumbnails::State {
  store::Reader& reader;
  std::vector<std::filesystem::path> roots;
  ThumbnailOptions options;
  std::atomic<int> pending{0};
  boost::asio::thread_pool pool{1};
};

namespace {

constexpr int k_default_size = 256;
constexpr int k_min_size = 16;
constexpr int k_max_size = 1024;

// The status for an error of reading the file beneath its root.
unsigned status_of_read_error(const std::string& code) {
  if (code == "not_found" || code == "unsafe_path" || code == "not_regular_file") return 404;
  if (code == "file_too_large") return 422;
  return 500;
}

// The file at `source`, read through the same hardened access as the pipeline (beneath its
// root, no symlink followed, never blocking on a FIFO), if it is still the version the result
// was made from. A file replaced since is not this result's image any more.
util::Result<std::string> read_source(const Thumbnails::State& s,
                                      const store::ResultSource& source) {
  const bool watched = std::any_of(s.roots.begin(), s.roots.end(),
                                   [&](const auto& root) { return root.string() == source.root; });
  if (!watched) {
    return util::Error{"not_found", "the result's watch root is not watched any more"};
  }
  auto root = util::RootDir::open(source.root);
  if (!root) return root.error();
  util::FileStat now;
  auto bytes = root->read(source.raw_path, s.options.max_file_bytes, &now);
  if (!bytes) return bytes.error();
  if (now != source.version) {
    return util::Error{"file_changed",
                       "the file has changed since this result was made; its newer result has "
                       "its image"};
  }
  return bytes;
}

// Decoded pixels (float RGB or gray in [0, 1]) → a PNG whose longer side is at most `size`.
std::string encode_thumbnail(const infer::DecodedImage& image, int size) {
  cv::Mat pixels = image.pixels;
  const int longer = std::max(pixels.cols, pixels.rows);
  if (longer > size) {
    const double scale = static_cast<double>(size) / longer;
    cv::Mat small;
    // INTER_AREA averages the pixels each output pixel covers: thin CAD lines stay visible.
    cv::resize(pixels, small,
               cv::Size(std::max(1, static_cast<int>(pixels.cols * scale + 0.5)),
                        std::max(1, static_cast<int>(pixels.rows * scale + 0.5))),
               0, 0, cv::INTER_AREA);
    pixels = small;
  }
  cv::Mat bytes;
  pixels.convertTo(bytes, pixels.channels() == 1 ? CV_8UC1 : CV_8UC3, 255.0);
  if (bytes.channels() == 3) cv::cvtColor(bytes, bytes, cv::COLOR_RGB2BGR);
  std::vector<unsigned char> png;
  cv::imencode(".png", bytes, png);
  return std::string(png.begin(), png.end());
}

Response thumbnail(const Thumbnails::State& s, std::int64_t id, int size) {
  auto source = s.reader.source(id);
  if (!source) return error_response(503, source.error().code, source.error().message);
  if (!*source) return error_response(404, "not_found", fmt::format("no result with id {}", id));
  auto bytes = read_source(s, **source);
  if (!bytes) {
    const auto& e = bytes.error();
    return error_response(e.code == "file_changed" ? 409 : status_of_read_error(e.code), e.code,
                          e.message);
  }
  auto image = infer::decode_image(*bytes, s.options.limits);
  if (!image) return error_response(422, image.error().code, image.error().message);
  Response r;
  r.body = encode_thumbnail(*image, size);
  r.content_type = "image/png";
  // A result id names one file version, and a changed file is refused above: the thumbnail of
  // an id never changes, so the browser may keep it.
  r.headers = {{"Cache-Control", "private, max-age=86400"}, {"X-Content-Type-Options", "nosniff"}};
  return r;
}

std::optional<Response> read_size(const Request& r, int& size) {
  const auto it = r.query.find("size");
  if (it == r.query.end()) return std::nullopt;
  const std::string& text = it->second;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), size);
  if (ec != std::errc{} || end != text.data() + text.size() || size < k_min_size ||
      size > k_max_size) {
    return error_response(400, "invalid_parameter",
                          fmt::format("size must be an integer from {} to {}, got \"{}\"",
                                      k_min_size, k_max_size, util::to_valid_utf8(text)));
  }
  return std::nullopt;
}

}  // namespace

Thumbnails::Thumbnails(store::Reader& reader, std::vector<std::filesystem::path> roots,
                       ThumbnailOptions options)
    : m_state(new State{reader, std::move(roots), options}) {}

Thumbnails::~Thumbnails() { m_state->pool.join(); }

void Thumbnails::add_routes(Router& router) {
  router.add_async(
      "GET", "/v1/results/{id}/image", [s = m_state.get()](const Request& r, Router::Reply reply) {
        std::int64_t id = 0;
        const std::string& text = r.params.at("id");
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
        if (ec != std::errc{} || end != text.data() + text.size() || id <= 0) {
          return reply(
              error_response(400, "invalid_parameter",
                             fmt::format("result id must be a positive integer, got \"{}\"",
                                         util::to_valid_utf8(text))));
        }
        int size = k_default_size;
        if (auto bad = read_size(r, size)) return reply(*bad);
        if (s->pending.fetch_add(1) >= s->options.max_pending) {
          s->pending.fetch_sub(1);
          Response busy = error_response(503, "busy", "too many thumbnails are being made; retry");
          busy.headers.emplace_back("Retry-After", "1");
          return reply(busy);
        }
        boost::asio::post(s->pool, [s, id, size, reply] {
          Response response = thumbnail(*s, id, size);
          s->pending.fetch_sub(1);
          reply(std::move(response));
        });
      });
}

}  // namespace inferwatch::server
