#pragma once

#include <inferwatch/watch/candidate.hpp>
#include <inferwatch/watch/name_filter.hpp>

#include <filesystem>
#include <vector>

namespace inferwatch::watch {

// Every accepted entry that is not a directory under `root`, as scan candidates of root index
// `root_index`. Directories are reached beneath the root with no symlink followed (the pipeline
// refuses anything at an image's name that is not a regular file). For one-shot scans; the
// Watcher arms watches while it walks instead.
std::vector<Candidate> list_tree(const std::filesystem::path& root, std::size_t root_index,
                                 bool recursive, const NameFilter& filter);

}  // namespace inferwatch::watch
