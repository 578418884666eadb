#pragma once

// Which repository model a file goes to: the [[route]] table of the daemon config
// (docs/models.md, "Routes"). Patterns are shell globs on the file's path relative to its watch
// root, matched on bytes (names need not be UTF-8):
// - a pattern without '/' matches the file name only (`*.tif`, anywhere in the tree);
// - a pattern with '/' matches the whole relative path component by component: `*`, `?` and
//   `[...]` never cross a '/', a `**` component matches any number of directories (none
//   included), and a trailing `**` (or a trailing '/') matches everything beneath;
// - ASCII letters match either case, as in watch.include.

#include <inferwatch/config/config.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace inferwatch::models {

// Immutable once built; safe to share between threads.
class RouteTable {
 public:
  RouteTable(const std::vector<config::Route>& routes, std::string default_model);

  // The model of the first route whose pattern matches `relative_path`, else the default.
  const std::string& model_for(std::string_view relative_path) const;

  // Every model the table can name (the default first, then the routes'), each once.
  std::vector<std::string> model_names() const;

 private:
  struct Entry {
    std::vector<std::string> components;  // the pattern split at '/'; one when it has no '/'
    bool by_path = false;
    std::string model;
  };
  std::vector<Entry> m_entries;
  std::string m_default;
};

// Whether `pattern` matches `relative_path` under the rules above.
bool route_matches(std::string_view pattern, std::string_view relative_path);

}  // namespace inferwatch::models
