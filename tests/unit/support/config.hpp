#pragma once

// Helpers for config tests: problems as comparable values, and a config file that sets every key
// to something other than its default.

#include <inferwatch/config/loader.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace inferwatch::test {

// The name config tests pretend their text was read from (no file is touched).
inline constexpr std::string_view k_config_file = "/etc/inferwatch/inferwatch.toml";

// A Problem as a value that compares and prints field by field.
struct Located {
  std::string file;
  int line = 0;
  int column = 0;
  std::string key;
  std::string message;

  bool operator==(const Located&) const = default;
};

inline std::ostream& operator<<(std::ostream& out, const Located& p) {
  return out << "{file=\"" << p.file << "\" line=" << p.line << " column=" << p.column << " key=\""
             << p.key << "\" message=\"" << p.message << "\"}";
}

inline std::ostream& operator<<(std::ostream& out, const std::vector<Located>& problems) {
  out << "[";
  for (const auto& p : problems) out << "\n  " << p;
  return out << (problems.empty() ? "]" : "\n]");
}

// An expected problem in k_config_file.
inline Located at(int line, int column, std::string key, std::string message) {
  return Located{std::string(k_config_file), line, column, std::move(key), std::move(message)};
}

// `problems` as values, in file order (line, then column).
inline std::vector<Located> located(const std::vector<config::Problem>& problems) {
  std::vector<Located> out;
  for (const auto& p : problems) out.push_back(Located{p.file, p.line, p.column, p.key, p.message});
  std::stable_sort(out.begin(), out.end(), [](const Located& a, const Located& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  return out;
}

// The problems found in `text`, read as if from k_config_file.
inline std::vector<Located> problems_of(std::string_view text) {
  return located(config::load_string(text, k_config_file).problems);
}

// Every key set, none to its default; relative paths and labels.txt are resolved against the
// directory of the file this is loaded from.
inline constexpr std::string_view k_full_config = R"([watch]
paths = ["inbox", "/srv/cad crops"]
recursive = false
include = ["*.png", "*.PNG"]
exclude = ["*_thumb.png"]
settle_ms = 250
rescan_interval_s = 0
max_file_bytes = 1048576

[model]
path = "models/shapes.pt"
name = "shapes \"v2\" ünicode"
labels = "labels.txt"
device = "cuda:1"
precision = "fp16"
threads = 4
optimize = false

[preprocess]
size = [224, 160]
resize = "shorter-side+center-crop"
shorter_side = 256
letterbox_fill = 0.25
colour = "rgb"
mean = [0.485, 0.456, 0.406]
std = [0.229, 0.224, 0.225]
max_pixels = 4000000

[postprocess]
mode = "raw"
top_k = 5
softmax = false

[batching]
max_batch_size = 32
max_delay_ms = 0

[results]
sidecar = false
sidecar_suffix = ".inferwatch.json"

[database]
path = "state/../state/results.db"
retention_days = 30

[server]
listen = "[::1]:0"
token_file = "secrets/token"
threads = 4
max_body_bytes = 1024
max_header_bytes = 2048
max_connections = 10
idle_timeout_s = 5
header_timeout_s = 3
max_ws_clients = 0
ws_queue_messages = 10
ws_queue_bytes = 4096

[log]
level = "debug"
format = "json"
)";

// The labels file k_full_config names.
inline constexpr std::string_view k_full_config_labels = "circle\r\nsquare\n\ntriangle  \n";

}  // namespace inferwatch::test
