#pragma once

// Removing a directory tree reached through a descriptor, never through a symbolic link.

#include <inferwatch/util/result.hpp>

#include <string>

namespace inferwatch::util {

// Remove the entry `name` of the open directory `parent` and, when it is a directory, everything
// beneath it. Nothing is ever followed: each directory is opened through its parent's descriptor
// with O_NOFOLLOW, so a component swapped for a symbolic link mid-walk is unlinked as a link and
// never entered, and nothing outside `parent` is touched. A missing `name` is success. Errors:
// `remove_failed` (the message names the entry beneath `parent` and why), `too_deep` (more than
// 256 levels).
Result<void> remove_tree_at(int parent, const std::string& name);

}  // namespace inferwatch::util
