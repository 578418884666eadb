#pragma once

// How a file name (bytes) is stored (SPEC §5): `path` is the valid UTF-8 display form, and
// `path_bytes` holds the raw name only when it differs, so valid names cost nothing extra and two
// names with one display form stay two rows. Private to store/.

#include <inferwatch/util/utf8.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include <string>

namespace inferwatch::store {

struct StoredName {
  std::string path;   // display form, valid UTF-8
  std::string bytes;  // the raw name when it is not valid UTF-8, else empty
};

inline StoredName stored_name(const std::string& raw) {
  if (util::is_valid_utf8(raw)) return {raw, {}};
  return {util::to_valid_utf8(raw), raw};
}

// Bind `bytes` as a BLOB (an empty one, never NULL: the column is NOT NULL).
inline void bind_bytes(SQLite::Statement& q, int index, const std::string& bytes) {
  q.bind(index, static_cast<const void*>(bytes.data()), static_cast<int>(bytes.size()));
}

// The raw name from the columns path, path_bytes at `first`, `first + 1`.
inline std::string raw_name(SQLite::Statement& q, int first) {
  std::string bytes = q.getColumn(first + 1).getString();
  return bytes.empty() ? q.getColumn(first).getString() : bytes;
}

}  // namespace inferwatch::store
