#include <inferwatch/models/route_table.hpp>

#include <fnmatch.h>

#include <algorithm>

namespace inferwatch::models {
namespace {

// Split at '/', dropping empty components ("a//b", a trailing '/').
std::vector<std::string> split(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t slash = std::min(text.find('/', start), text.size());
    if (slash > start) out.emplace_back(text.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

std::vector<std::string> pattern_components(std::string_view pattern) {
  std::vector<std::string> components = split(pattern);
  // "apples/" means the folder: everything beneath it.
  if (pattern.ends_with('/')) components.emplace_back("**");
  return components;
}

// glibc's fnmatch falls back to comparing bytes where a name is not valid in the locale's
// encoding, and the daemon runs in the C locale, where it compares bytes anyway.
bool glob(const std::string& pattern, const std::string& name) {
  return ::fnmatch(pattern.c_str(), name.c_str(), FNM_CASEFOLD) == 0;
}

std::string_view file_name(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Components against components, `**` as any run of them. Dynamic programming over (pattern
// suffix, path suffix) so a hostile deep path costs patterns × components fnmatch calls, never
// an exponential backtrack.
bool match_components(const std::vector<std::string>& pattern,
                      const std::vector<std::string>& path) {
  const std::size_t n = path.size();
  // next[j]: pattern[i+1..] matches path[j..]; start with the empty pattern.
  std::vector<char> next(n + 1, 0), here(n + 1, 0);
  next[n] = 1;
  for (std::size_t i = pattern.size(); i-- > 0;) {
    const bool last = i + 1 == pattern.size();
    if (pattern[i] == "**") {
      // A trailing ** takes at least one component (what is inside), an inner one any number.
      char any_later = 0;
      for (std::size_t j = n + 1; j-- > 0;) {
        any_later = any_later || next[j];
        here[j] = last ? static_cast<char>(j < n) : any_later;
      }
    } else {
      for (std::size_t j = 0; j <= n; ++j) {
        here[j] = j < n && next[j + 1] && glob(pattern[i], path[j]);
      }
    }
    std::swap(here, next);
  }
  return next[0] != 0;
}

}  // namespace

bool route_matches(std::string_view pattern, std::string_view relative_path) {
  if (pattern.find('/') == std::string_view::npos) {
    return glob(std::string(pattern), std::string(file_name(relative_path)));
  }
  return match_components(pattern_components(pattern), split(relative_path));
}

RouteTable::RouteTable(const std::vector<config::Route>& routes, std::string default_model)
    : m_default(std::move(default_model)) {
  for (const auto& route : routes) {
    const bool by_path = route.match.find('/') != std::string::npos;
    m_entries.push_back(
        Entry{by_path ? pattern_components(route.match) : std::vector<std::string>{route.match},
              by_path, route.model});
  }
}

const std::string& RouteTable::model_for(std::string_view relative_path) const {
  if (m_entries.empty()) return m_default;
  const std::string name(file_name(relative_path));
  std::vector<std::string> components;
  bool split_done = false;
  for (const auto& entry : m_entries) {
    if (!entry.by_path) {
      if (glob(entry.components.front(), name)) return entry.model;
      continue;
    }
    if (!split_done) {
      components = split(relative_path);
      split_done = true;
    }
    if (match_components(entry.components, components)) return entry.model;
  }
  return m_default;
}

std::vector<std::string> RouteTable::model_names() const {
  std::vector<std::string> names{m_default};
  for (const auto& entry : m_entries) {
    if (std::find(names.begin(), names.end(), entry.model) == names.end())
      names.push_back(entry.model);
  }
  return names;
}

}  // namespace inferwatch::models
