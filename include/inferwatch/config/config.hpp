#pragma once

// The whole configuration schema (SPEC §3) as plain structs. Every member's initializer is the
// embedded default, so a default-constructed Config is what `inferwatch serve` runs on with no
// file. Keys in the TOML file are the member names below, inside the table named after the struct.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace inferwatch::config {

enum class ResizeMode { stretch, letterbox, shorter_side_center_crop };
enum class Colour { rgb, gray };
enum class PostprocessMode { classification, raw };
enum class Softmax { auto_detect, yes, no };
enum class Precision { fp32, fp16, bf16 };
enum class LogFormat { auto_detect, text, json, journal };

// [watch] — which trees to watch and how a file counts as finished.
struct Watch {
  std::vector<std::filesystem::path> paths{"./inbox"};
  bool recursive = true;
  // Globs on the file name; a file must match one `include` and no `exclude`.
  std::vector<std::string> include{"*.png", "*.jpg",  "*.jpeg", "*.bmp",
                                   "*.tif", "*.tiff", "*.webp"};
  std::vector<std::string> exclude{};
  // Size and mtime must stay unchanged this long before a file is processed.
  std::int64_t settle_ms = 100;
  // Full rescan period (jittered ±25 %); 0 disables periodic rescans.
  std::int64_t rescan_interval_s = 3600;
  // Files larger than this get an error result without being read.
  std::int64_t max_file_bytes = 256LL * 1024 * 1024;
};

// [model] — which TorchScript model runs, where and how.
struct Model {
  // Empty: the demo model compiled into the binary.
  std::filesystem::path path{};
  // Empty: "demo-shapes" for the built-in model, else the file's stem.
  std::string name{};
  // Class names in output order. Empty: the model's embedded `labels.txt` extra file, if any.
  std::vector<std::string> labels{};
  // Set when `labels` was given as a file name rather than an inline array.
  std::filesystem::path labels_file{};
  // "auto", "cpu", "cuda" or "cuda:N".
  std::string device = "auto";
  Precision precision = Precision::fp32;
  // Intra-op threads for LibTorch; 0 picks from the number of cores.
  int threads = 0;
  // Run torch::jit::optimize_for_inference at load (freeze + fusions).
  bool optimize = true;
  // A model repository (`<name>/<version>/` folders, docs/models.md). Empty: no repository, the
  // single model above serves every file.
  std::filesystem::path repository{};
  // TOML key `default`: the repository model that files no [[route]] matches go to.
  std::string default_model{};
  // Old (retired, rolled back, refused) version directories kept per repository model; the
  // registry deletes older ones (docs/models.md). 0 keeps every one.
  std::int64_t keep_versions = 3;
  // Not a key: the version directory's name for a model from the repository; results then name
  // it (`<name>@<version>`) instead of the file's hash.
  std::string version{};
};

// [[route]] — files whose path relative to their watch root matches `match` (a glob, see
// docs/models.md) get the results of repository model `model`; the first matching route wins.
struct Route {
  std::string match;
  std::string model;
};

// [preprocess] — how a decoded image becomes the model's input tensor.
struct Preprocess {
  int height = 64;
  int width = 64;
  ResizeMode resize = ResizeMode::letterbox;
  // Shorter side before the centre crop (shorter-side+center-crop only); 0 means max(height,
  // width).
  int shorter_side = 0;
  // Padding value in [0, 1] (before mean/std) for letterbox; 1.0 is white paper.
  double letterbox_fill = 1.0;
  Colour colour = Colour::gray;
  // One value per channel of `colour` (1 for gray, 3 for rgb).
  std::vector<double> mean{0.5};
  std::vector<double> std{0.5};
  // Images with more pixels than this get a `too_large` error, checked from the header.
  std::int64_t max_pixels = 100'000'000;
  // Images whose decode and preprocessing would take more memory than this (estimated from the
  // header: size, channels, bit depth, the codec's buffers) get a `too_large` error. Decodes run
  // one per decode worker (one per core), so cores × this bounds decoding memory.
  std::int64_t max_decode_bytes = 1LL * 1024 * 1024 * 1024;

  bool operator==(const Preprocess&) const = default;
};

// [postprocess] — how the model's output becomes `predictions` or `output`.
struct Postprocess {
  PostprocessMode mode = PostprocessMode::classification;
  int top_k = 3;
  Softmax softmax = Softmax::auto_detect;
};

// [batching] — the dynamic batcher.
struct Batching {
  int max_batch_size = 16;
  // How long the oldest item may wait for a batch to fill, from its own arrival.
  std::int64_t max_delay_ms = 5;
  // On SIGTERM, how long in-flight files may take to finish; the rest stay queued for next time.
  std::int64_t drain_timeout_ms = 10'000;
};

// [results] — the JSON sidecar beside each input.
struct Results {
  bool sidecar = true;
  std::string sidecar_suffix = ".result.json";
};

// [database] — the SQLite file (on local disk, never on the share).
struct Database {
  std::filesystem::path path{"./inferwatch.db"};
  // Results older than this are deleted, except each file's current one; 0 keeps everything.
  std::int64_t retention_days = 0;
};

// [server] — the HTTP/WebSocket/metrics port.
struct Server {
  std::string listen = "127.0.0.1:8080";
  // A file holding the bearer token; empty means no authentication (loopback only).
  std::filesystem::path token_file{};
  int threads = 2;
  std::int64_t max_body_bytes = 32LL * 1024 * 1024;
  std::int64_t max_header_bytes = 16 * 1024;
  int max_connections = 1024;
  // Keep-alive connections waiting for their next request are closed after this.
  std::int64_t idle_timeout_s = 60;
  // A request's header (and a small body) must arrive within this (at most idle_timeout_s).
  std::int64_t header_timeout_s = 10;
  int max_ws_clients = 1000;
  int ws_queue_messages = 4096;
  std::int64_t ws_queue_bytes = 16LL * 1024 * 1024;
  // Seconds between {"type":"heartbeat","last_id":N} messages on every result stream.
  std::int64_t ws_heartbeat_s = 15;
};

// [drift] — drift of each model version's predictions (docs/models.md "Drift").
struct Drift {
  // The latest results of a version compared with its reference.
  std::int64_t window = 500;
  // Without a golden set, the reference is the version's first this many results.
  std::int64_t reference = 500;
  // A version's golden-set predictions are its reference when it has a golden set. false: always
  // its first results (for golden sets balanced unlike the crops that arrive).
  bool golden_reference = true;
};

// [log]
struct Log {
  // trace, debug, info, warn, error, critical or off.
  std::string level = "info";
  LogFormat format = LogFormat::auto_detect;
};

struct Config {
  Watch watch;
  Model model;
  Preprocess preprocess;
  Postprocess postprocess;
  Batching batching;
  Results results;
  Database database;
  Server server;
  Drift drift;
  Log log;
  // In file order: the order decides which route wins.
  std::vector<Route> routes;
  // The file this was read from; empty for the embedded defaults.
  std::filesystem::path source{};
};

}  // namespace inferwatch::config
