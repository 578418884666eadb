#pragma once

// A directory tree that other people write to, reached only beneath its root (SPEC §4 "the share
// is untrusted"). Every path is resolved from the root's descriptor, never as a string: no
// component may be a symlink, ".." or absolute, so nothing outside the tree is ever opened, and
// a directory swapped for a symlink mid-walk is refused rather than followed. Files are pinned
// with O_PATH and checked with fstat before they are opened for reading, so a FIFO, socket or
// device is never opened at all, and reads never block.
//
// Resolution uses openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) where the
// kernel has it, else a per-component openat(O_NOFOLLOW) walk with the same rules.
//
// Thread-safe: the root descriptor is only read; every call opens its own descriptors.

#include <inferwatch/util/file.hpp>
#include <inferwatch/util/result.hpp>
#include <inferwatch/util/unique_fd.hpp>

#include <sys/types.h>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace inferwatch::util {

enum class Resolver { openat2, walk };

// What an entry beneath the root is, without following it.
enum class EntryType { regular, directory, symlink, fifo, socket, device, other };

std::string_view to_string(EntryType type);

struct Entry {
  EntryType type = EntryType::other;
  FileStat version;  // of the entry itself (a symlink's own inode, size and mtime)
};

// One entry of a directory listing, as the entry itself is (a symlink is reported as one).
struct DirEntry {
  std::string_view name;  // valid during the visit only
  EntryType type = EntryType::other;
  FileStat version;  // of the entry itself
  uid_t owner = 0;
};

// Visit each entry of the open directory `dir` ("." and ".." left out), in the order the
// directory lists them, each stat'ed through `dir` without following it. An entry gone between
// the listing and its stat is left out. `dir` stays the caller's, and `visit` may use it (to
// unlink the entry, say). Errors: `read_failed` or `permission_denied` when the directory cannot
// be listed, or its reading fails midway (the entries listed before were visited).
Result<void> for_each_entry(int dir, const std::function<void(const DirEntry&)>& visit);

class RootDir {
 public:
  // Open `root` (the operator's choice: symlinks on the way to it are fine). The resolver is the
  // best this kernel offers unless one is forced (tests force the fallback). Error: `not_found`,
  // `permission_denied` or `read_failed`.
  static Result<RootDir> open(const std::filesystem::path& root);
  static Result<RootDir> open(const std::filesystem::path& root, Resolver resolver);

  const std::filesystem::path& path() const { return m_path; }
  Resolver resolver() const { return m_resolver; }
  int fd() const { return m_fd.get(); }

  // What `relative` is ("a/b.png", never followed). Errors: `not_found`, `unsafe_path` (a
  // component is "..", a symlink or not a directory), `permission_denied`, `read_failed`.
  Result<Entry> entry(std::string_view relative) const;

  // The version of the regular file at `relative`; anything else is `not_regular_file`.
  Result<FileStat> stat(std::string_view relative) const;

  // The regular file at `relative` opened for reading, as read() opens it (pinned, checked, then
  // reopened; never blocking, no symlink followed); larger than `max_bytes` is
  // `file_too_large`. `stat` gets the version of the returned descriptor. Errors as read().
  Result<UniqueFd> open_file(std::string_view relative, std::int64_t max_bytes,
                             FileStat* stat = nullptr) const;

  // Read the regular file at `relative` whole, without blocking and without following a
  // symlink; larger than `max_bytes` is `file_too_large`. `stat` gets the version of the
  // descriptor that was read. Errors as entry(), plus `not_regular_file`.
  Result<std::string> read(std::string_view relative, std::int64_t max_bytes,
                           FileStat* stat = nullptr) const;

  // The directory at `relative` ("" is the root), opened for listing (for_each_entry), creating
  // files in and fsync. Errors as entry().
  Result<UniqueFd> open_dir(std::string_view relative) const;

 private:
  RootDir(std::filesystem::path path, UniqueFd fd, Resolver resolver)
      : m_path(std::move(path)), m_fd(std::move(fd)), m_resolver(resolver) {}

  // `relative` opened with `flags` (O_PATH or O_RDONLY, plus O_DIRECTORY...), beneath the root.
  Result<UniqueFd> resolve(std::string_view relative, int flags) const;
  Result<UniqueFd> resolve_openat2(std::string_view relative, int flags) const;
  Result<UniqueFd> resolve_walk(std::string_view relative, int flags) const;

  std::filesystem::path m_path;
  UniqueFd m_fd;
  Resolver m_resolver;
};

}  // namespace inferwatch::util
