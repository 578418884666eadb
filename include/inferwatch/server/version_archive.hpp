#pragma once

// A model version directory as a tar archive (gzip optional), both ways: the daemon extracts an
// upload (POST /v1/models/{name}/versions) and `inferwatch models upload` packs one. An upload
// comes from the network, so extraction trusts nothing in it: only regular files and folders,
// every path relative and beneath the target, bounded in entries, bytes and depth. Anything else
// refuses the whole archive (nothing is sanitized or skipped silently). libarchive reads and
// writes the formats; the files are created here, through descriptors, so no name in the archive
// can lead a write outside the target.

#include <inferwatch/util/result.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace inferwatch::server {

struct ArchiveLimits {
  std::uint64_t max_entries = 10'000;                     // files and folders
  std::uint64_t max_total_bytes = 1024ULL * 1024 * 1024;  // of file contents, uncompressed
  std::uint64_t max_file_bytes = 1024ULL * 1024 * 1024;
  std::size_t max_path_bytes = 1024;
  std::size_t max_depth = 16;  // folders on the way to an entry
};

struct ExtractedArchive {
  std::uint64_t files = 0;
  std::uint64_t directories = 0;
  std::uint64_t bytes = 0;  // file contents
};

// Extract the tar archive `bytes` (ustar, pax or GNU; plain or gzip) into the existing, empty
// folder `into`. Files are created 0644 and folders 0755 (the archive's owners and modes are not
// used). Errors, each naming the entry at fault:
//   archive_invalid    not a tar archive, truncated or corrupt
//   unsafe_entry       an absolute path, a `..` component, a symbolic or hard link, a device,
//                      a FIFO or socket, a path or depth over the limits, an entry given twice,
//                      a file where a folder is (or the other way round)
//   archive_too_large  more than max_entries entries, or contents over max_file_bytes or
//                      max_total_bytes
//   extract_failed     the file system refused a write (full, read-only, ...)
// On error, what was written so far stays in `into`: the caller removes the folder.
util::Result<ExtractedArchive> extract_archive(std::string_view bytes,
                                               const std::filesystem::path& into,
                                               const ArchiveLimits& limits = {});

// The folder `dir` as a gzip-compressed pax archive in memory, entries relative to `dir` (its
// contents, not the folder itself), sorted by path. Errors: `not_packable` (a symbolic link or
// anything but a regular file or folder inside, named), `archive_too_large` (over the limits
// extraction would apply), `read_failed`.
util::Result<std::string> pack_directory(const std::filesystem::path& dir,
                                         const ArchiveLimits& limits = {});

}  // namespace inferwatch::server
