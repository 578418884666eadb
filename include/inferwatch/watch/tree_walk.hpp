#pragma once

#include <inferwatch/watch/candidate.hpp>
#include <inferwatch/watch/name_filter.hpp>

#include <filesystem>
#include <vector>

namespace inferwatch::watch {

// Every accepted regular file under `root` (symlinks not followed), as scan candidates of root
// index `root_index`. For one-shot scans; the Watcher arms watches while it walks instead.
std::vector<Candidate> list_tree(const std::filesystem::path& root, std::size_t root_index,
                                 bool recursive, const NameFilter& filter);

}  // namespace inferwatch::watch
