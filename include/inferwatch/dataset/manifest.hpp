#pragma once

// The manifest of an exported training set, `OUT/manifest.jsonl`: one JSON line per example in
// the set, by result id. It is rewritten whole through a temp file and a rename, so a reader (or
// a crash) sees either the old manifest or the new one, never half of one.

#include <inferwatch/util/result.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace inferwatch::dataset {

struct ManifestEntry {
  std::int64_t result_id = 0;
  std::string file;        // `<label folder>/<file name>`, relative to OUT
  std::string root;        // the watch root the file was under
  std::string path;        // relative to the root, display form (valid UTF-8)
  std::string path_bytes;  // base64 of the exact name when it is not valid UTF-8, else ""
  std::string sha256;      // of the bytes exported
  std::string model_version;
  std::string predicted_label;
  std::optional<double> predicted_score;
  std::string label;  // the current feedback's label: the example's class
  std::string user;
  std::string comment;
  std::int64_t feedback_id = 0;
  std::string feedback_at;  // RFC 3339 UTC
  std::string exported_at;  // when the file was linked or copied into OUT
  std::string method;       // "hardlink" or "copy"

  friend bool operator==(const ManifestEntry&, const ManifestEntry&) = default;
};

// Examples by result id.
using Manifest = std::map<std::int64_t, ManifestEntry>;

// One line of the manifest (no line break).
std::string to_json_line(const ManifestEntry& entry);

// The entries of a manifest's text (empty lines ignored). Error `manifest_unreadable` naming
// the first line that is not an entry.
util::Result<Manifest> parse_manifest(std::string_view text);

// The manifest's text: one line per entry, by result id.
std::string to_text(const Manifest& manifest);

}  // namespace inferwatch::dataset
