#pragma once

#include <inferwatch/watch/candidate.hpp>
#include <inferwatch/watch/name_filter.hpp>

#include <filesystem>
#include <vector>

namespace inferwatch::watch {

// Every accepted entry that is not a directory under `root` (directory symlinks not followed;
// the pipeline refuses anything that is not a regular file), as scan candidates of root
// index `root_index`. For one-shot scans; the Watcher arms watches while it walks instead.
std::vector<Candidate> list_tree(const std::filesystem::path& root, std::size_t root_index,
                                 bool recursive, const NameFilter& filter);

}  // namespace inferwatch::watch
