#pragma once

// Whole-file reads with failures as values (`not_found`, `permission_denied`, `file_too_large`,
// `read_failed`), so a bad input becomes an error result instead of an exception.

#include <inferwatch/util/result.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace inferwatch::util {

// What fstat said about the file that was read (the same open file, so no race with a rename).
struct FileStat {
  std::int64_t dev = 0;
  std::int64_t inode = 0;
  std::int64_t size = 0;
  std::int64_t mtime_ns = 0;

  friend bool operator==(const FileStat&, const FileStat&) = default;
};

// Read all of `path`; files larger than `max_bytes` are refused before reading. When `stat` is
// given, it receives the file's identity and version as of the open.
Result<std::string> read_file(const std::filesystem::path& path, std::int64_t max_bytes = INT64_MAX,
                              FileStat* stat = nullptr);

// Read the open regular file `fd` to its end: `size` bytes expected (it may grow, or have said
// 0), more than `max_bytes` is `file_too_large`. `name` is for messages. Errors as read_file.
Result<std::string> read_to_end(int fd, std::int64_t size, std::int64_t max_bytes,
                                std::string_view name);

}  // namespace inferwatch::util
