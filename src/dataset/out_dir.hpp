#pragma once

// The export's output folder: everything written beneath it goes through its descriptor with
// *at() calls that follow no symlink, so a link planted inside OUT (a label folder swapped for a
// symlink, say) can never make the export write elsewhere. Held under an exclusive lock so two
// exports never write one folder at once. Private to dataset/.

#include <inferwatch/util/result.hpp>
#include <inferwatch/util/unique_fd.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace inferwatch::dataset {

class OutDir {
 public:
  // Create `out` if needed (the operator's path: symlinks on the way are fine), open it, take
  // its lock (`.inferwatch-export.lock`) and remove temp files an interrupted run left in its
  // folders. Errors: `out_unusable`, `export_running`.
  static util::Result<OutDir> open(const std::filesystem::path& out);

  const std::filesystem::path& path() const { return m_path; }

  // The folder `name` (one component) opened, created when missing; a non-directory or a
  // symlink there is `write_failed`.
  util::Result<int> folder(std::string_view name);

  // True when `file` (`<folder>/<name>`) is a regular file in OUT, neither followed.
  bool has_file(std::string_view file) const;

  // Make `name` in `dir` a hard link to the open file `source` (through /proc/self/fd, so the
  // inode that was checked is the one linked, whatever its name is now). Error
  // `link_unsupported` (another file system, /proc missing, the kernel's protected_hardlinks)
  // means: copy instead; others are `write_failed`.
  util::Result<void> link(int source, int dir, std::string_view name);

  // Write `bytes` as `name` in `dir` (temp file, fsync, rename). Error `write_failed`.
  util::Result<void> write(int dir, std::string_view name, std::string_view bytes);

  // Move `file` (`<folder>/<name>`) to `name` in `dir`. Error `write_failed`.
  util::Result<void> move(std::string_view file, int dir, std::string_view name);

  // Remove `name` from `dir` if it is there.
  void remove(int dir, std::string_view name);

  // The text of `name` at OUT's top (nullopt when missing), at most `max_bytes`. Error
  // `manifest_unreadable`.
  util::Result<std::optional<std::string>> read_top(std::string_view name, std::int64_t max_bytes);

  // Replace `name` at OUT's top with `text`, atomically, and fsync OUT. Error `write_failed`.
  util::Result<void> replace_top(std::string_view name, std::string_view text);

  // fsync every folder written to. Error `write_failed`.
  util::Result<void> sync_folders();

  // The folders at OUT's top (the classes a loader sees).
  std::int64_t count_folders() const;

 private:
  OutDir(std::filesystem::path path, util::UniqueFd fd, util::UniqueFd lock)
      : m_path(std::move(path)), m_fd(std::move(fd)), m_lock(std::move(lock)) {}

  // The folder of `file` opened without creating or following it, and the name in it.
  std::optional<std::pair<util::UniqueFd, std::string>> locate(std::string_view file) const;

  std::filesystem::path m_path;
  util::UniqueFd m_fd;
  util::UniqueFd m_lock;
  std::map<std::string, util::UniqueFd, std::less<>> m_folders;
};

}  // namespace inferwatch::dataset
