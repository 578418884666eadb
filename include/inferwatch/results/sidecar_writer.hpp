#pragma once

// Atomic sidecar files: the JSON is written to a recognisable temp file beside the target
// (".<name>.inferwatch-tmp"), fsynced, renamed over the target, and the directory fsynced, so a
// reader sees the old sidecar or the new one — never half of one — even after a crash or power
// loss. Batches share the directory fsyncs. Thread-safe: no state.

#include <inferwatch/util/result.hpp>

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace inferwatch::results {

struct SidecarWrite {
  std::filesystem::path target;
  std::string json;
};

inline constexpr std::string_view k_temp_suffix = ".inferwatch-tmp";

// The temp name used for `target` (hidden, so watchers and our own filter skip it).
std::filesystem::path temp_path_for(const std::filesystem::path& target);

// Write every sidecar; one result per write, in order. Error: `sidecar_failed` naming the file.
std::vector<util::Result<void>> write_sidecars(std::span<const SidecarWrite> writes);

// Remove temp files a crash left behind under `dir` (recursively). Returns how many.
std::size_t remove_stale_temp_files(const std::filesystem::path& dir);

}  // namespace inferwatch::results
