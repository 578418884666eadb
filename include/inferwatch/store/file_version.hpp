#pragma once

#include <cstdint>

namespace inferwatch::store {

// One version of a file on disk. A changed size, mtime or inode is a new version that gets a new
// result; inode numbers are reused, so the inode alone never identifies a file.
struct FileVersion {
  std::int64_t dev = 0;
  std::int64_t inode = 0;
  std::int64_t size = 0;
  std::int64_t mtime_ns = 0;

  friend bool operator==(const FileVersion&, const FileVersion&) = default;
};

}  // namespace inferwatch::store
