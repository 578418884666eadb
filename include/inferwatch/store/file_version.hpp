#pragma once

#include <inferwatch/util/file.hpp>

namespace inferwatch::store {

// One version of a file on disk: (dev, inode, size, mtime_ns). A changed size, mtime or inode is
// a new version that gets a new result; inode numbers are reused, so the inode alone never
// identifies a file.
using FileVersion = util::FileStat;

}  // namespace inferwatch::store
