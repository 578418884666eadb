#pragma once

// The watch roots, held open for the pipeline's life: every file is reached beneath one of them
// (util::RootDir). Jobs in the store name their root by its absolute path. Immutable after
// construction, so thread-safe.

#include <inferwatch/util/result.hpp>
#include <inferwatch/util/root_dir.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace inferwatch::pipeline {

class WatchRoots {
 public:
  // Open every root. Error: the first one that cannot be opened.
  static util::Result<WatchRoots> open(const std::vector<std::filesystem::path>& roots);

  std::size_t size() const { return m_dirs.size(); }
  const util::RootDir& operator[](std::size_t i) const { return m_dirs[i]; }
  // The absolute path of root `i`, as the store keeps it.
  const std::string& name(std::size_t i) const { return m_names[i]; }
  // The root a stored job belongs to, or nullptr when that root is no longer watched.
  const util::RootDir* named(const std::string& name) const;

 private:
  std::vector<util::RootDir> m_dirs;
  std::vector<std::string> m_names;
};

}  // namespace inferwatch::pipeline
