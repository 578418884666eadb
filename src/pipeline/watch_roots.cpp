#include <inferwatch/pipeline/watch_roots.hpp>

namespace inferwatch::pipeline {

util::Result<WatchRoots> WatchRoots::open(const std::vector<std::filesystem::path>& roots) {
  WatchRoots out;
  for (const auto& root : roots) {
    auto dir = util::RootDir::open(root);
    if (!dir) return dir.error();
    out.m_dirs.push_back(std::move(*dir));
    out.m_names.push_back(root.string());
  }
  return out;
}

const util::RootDir* WatchRoots::named(const std::string& name) const {
  for (std::size_t i = 0; i < m_names.size(); ++i) {
    if (m_names[i] == name) return &m_dirs[i];
  }
  return nullptr;
}

}  // namespace inferwatch::pipeline
