#pragma once

// Atomic sidecar files in a tree other people write to. The JSON goes into a file nobody could
// have planted (an unnamed O_TMPFILE, or else a random hidden name created O_EXCL|O_NOFOLLOW) in
// the image's own directory (reached beneath the watch root, no symlink followed), is fsynced,
// given a random hidden name and renamed over the target; the directory is fsynced once per
// batch. A reader sees the old sidecar or the new one, never half of one, even after a crash or
// power loss. The target name is never opened: a rename replaces a directory entry and never
// writes through it, and a directory, symlink or other non-regular file already at the target
// is left alone (the write fails with `sidecar_failed`). Thread-safe: no state.

#include <inferwatch/util/result.hpp>
#include <inferwatch/util/root_dir.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace inferwatch::results {

struct SidecarWrite {
  const util::RootDir* root = nullptr;
  std::string path;  // of the sidecar, relative to `root`
  std::string json;
};

// Temp files are hidden ".iw-<16 hex digits>.inferwatch-tmp": watchers and our filter skip them.
inline constexpr std::string_view k_temp_prefix = ".iw-";
inline constexpr std::string_view k_temp_suffix = ".inferwatch-tmp";

// True for a name this writer could have given a temp file.
bool is_temp_name(std::string_view name);

// Write every sidecar; one result per write, in order. Error: `sidecar_failed` naming the file.
std::vector<util::Result<void>> write_sidecars(std::span<const SidecarWrite> writes);

// Remove the temp files a crash left behind in the tree: only regular files with a temp name,
// owned by this process's user, never through a symlink. Returns how many.
std::size_t remove_stale_temp_files(const util::RootDir& root);

}  // namespace inferwatch::results
