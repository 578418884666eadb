#pragma once

#include <inferwatch/store/file_version.hpp>

#include <cstdint>
#include <string>

namespace inferwatch::store {

// A file version waiting for (or in) processing. `generation` ties a result to the version it
// was computed from: a result for an older generation never marks a newer version done.
struct Job {
  std::int64_t file_id = 0;
  std::int64_t generation = 0;
  std::string root;  // absolute watch root
  std::string path;  // relative to root
  FileVersion version;
  int attempts = 0;
};

}  // namespace inferwatch::store
