#pragma once

// One result (SPEC §5): what the sidecar, the database, REST and WebSocket all carry.

#include <inferwatch/infer/prediction.hpp>
#include <inferwatch/util/error.hpp>

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace inferwatch::results {

inline constexpr std::string_view k_schema = "inferwatch.result/v1";

struct Timings {
  double queue_ms = 0;
  double decode_ms = 0;
  double infer_ms = 0;
  double total_ms = 0;
};

struct ImageSize {
  int width = 0;
  int height = 0;
};

struct Record {
  std::optional<std::int64_t> id;  // set once stored; `infer` results have none
  std::string path;                // raw bytes, relative to its watch root (or as given to `infer`)
  std::string sha256;              // of the file's bytes; empty if it could not be read
  std::optional<ImageSize> image;  // known once the header was read
  std::string model_name;
  std::string model_version;
  // Exactly one of these three is set: predictions (classification), output (raw) or error.
  std::vector<infer::Prediction> predictions;
  std::optional<boost::json::value> output;
  std::optional<util::Error> error;
  Timings timings;
  std::string created_at;  // RFC 3339 UTC with milliseconds

  bool ok() const { return !error.has_value(); }
};

// The §5 JSON object, keys in the documented order: `path` in valid UTF-8, followed by
// `path_bytes` (base64 of the raw name) only when the name is not valid UTF-8. Other strings
// keep their bytes; util::to_json_text makes the text valid UTF-8.
boost::json::object to_json(const Record& record);

}  // namespace inferwatch::results
