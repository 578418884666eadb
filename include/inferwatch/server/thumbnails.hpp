#pragma once

// GET /v1/results/{id}/image: a result's image as a small PNG, for the review page (SPEC §11).

#include <inferwatch/infer/image_decoder.hpp>
#include <inferwatch/server/router.hpp>
#include <inferwatch/store/reader.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

namespace inferwatch::server {

struct ThumbnailOptions {
  std::int64_t max_file_bytes = 256LL * 1024 * 1024;  // watch.max_file_bytes
  infer::DecodeLimits limits;                         // preprocess.max_pixels, max_decode_bytes
  // Decodes waiting or running at once; more are answered 503 busy, so a page of thumbnails of
  // huge drawings cannot queue unbounded work (the decodes run on their own thread, never on
  // the server's).
  int max_pending = 32;
};

// The route's worker thread and its state; the routes hold a reference to it, so it must
// outlive the router's use. Destruction waits for the decode in progress.
class Thumbnails {
 public:
  Thumbnails(store::Reader& reader, std::vector<std::filesystem::path> roots,
             ThumbnailOptions options);
  ~Thumbnails();
  Thumbnails(const Thumbnails&) = delete;
  Thumbnails& operator=(const Thumbnails&) = delete;

  // GET /v1/results/{id}/image?size=N (N in [16, 1024], default 256: the longer side).
  void add_routes(Router& router);

  struct State;  // the worker and what it reads; defined in the .cpp

 private:
  std::unique_ptr<State> m_state;
};

}  // namespace inferwatch::server
