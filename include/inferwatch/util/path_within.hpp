#pragma once

// Whether one path lies in a tree, judged on the real locations (symlinks followed), as the
// kernel would resolve them: for the checks that keep the database, or an export, out of a
// watched tree (where the daemon would take its own files for new work).

#include <filesystem>

namespace inferwatch::util {

// True when `path` (which may not exist yet: its existing part is resolved) is `tree` or lies
// beneath it. False when `tree` does not exist.
bool path_within(const std::filesystem::path& path, const std::filesystem::path& tree);

}  // namespace inferwatch::util
