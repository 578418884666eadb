#pragma once

// Which files are candidates (SPEC §4): the configured include/exclude globs, plus names that are
// never images to process — hidden and temp files, Office lock files, Windows/macOS clutter, and
// the daemon's own sidecars. Globs are case-insensitive (crops come from Windows clients as .PNG);
// a glob with a '/' matches the path relative to the watch root, one without matches the name.
// Thread-safe: const after construction.

#include <string>
#include <string_view>
#include <vector>

namespace inferwatch::watch {

class NameFilter {
 public:
  NameFilter(std::vector<std::string> include, std::vector<std::string> exclude,
             std::string sidecar_suffix);

  // True when the file at `relative_path` (under a watch root) should be processed.
  bool accepts(std::string_view relative_path) const;

  // True for names that are never processed, whatever the globs say.
  bool is_junk(std::string_view name) const;

 private:
  std::vector<std::string> m_include;
  std::vector<std::string> m_exclude;
  std::string m_sidecar_suffix;
};

}  // namespace inferwatch::watch
