#pragma once

// Whole-file reads with failures as values (`not_found`, `permission_denied`, `file_too_large`,
// `read_failed`), so a bad input becomes an error result instead of an exception.

#include <inferwatch/util/result.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

namespace inferwatch::util {

// Read all of `path`; files larger than `max_bytes` are refused before reading.
Result<std::string> read_file(const std::filesystem::path& path,
                              std::int64_t max_bytes = INT64_MAX);

}  // namespace inferwatch::util
