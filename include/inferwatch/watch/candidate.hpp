#pragma once

#include <cstddef>
#include <string>

namespace inferwatch::watch {

// How a file came to the watcher's attention; events mean the writer is done with it, a scan
// only that the file exists (it may still be growing).
enum class Origin { closed_after_write, moved_in, scan };

// A file that may need processing: `path` is relative to roots[root].
struct Candidate {
  std::size_t root = 0;
  std::string path;
  Origin origin = Origin::scan;
};

}  // namespace inferwatch::watch
