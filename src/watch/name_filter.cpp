#include <inferwatch/watch/name_filter.hpp>

#include <fnmatch.h>
#include <algorithm>
#include <cctype>

namespace inferwatch::watch {
namespace {

bool ends_with_icase(std::string_view text, std::string_view suffix) {
  if (suffix.size() > text.size()) return false;
  return std::equal(suffix.rbegin(), suffix.rend(), text.rbegin(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  });
}

bool matches(const std::string& glob, const std::string& relative, const std::string& name) {
  const bool by_path = glob.find('/') != std::string::npos;
  return ::fnmatch(glob.c_str(), by_path ? relative.c_str() : name.c_str(),
                   FNM_CASEFOLD | (by_path ? FNM_PATHNAME : 0)) == 0;
}

}  // namespace

NameFilter::NameFilter(std::vector<std::string> include, std::vector<std::string> exclude,
                       std::string sidecar_suffix)
    : m_include(std::move(include)),
      m_exclude(std::move(exclude)),
      m_sidecar_suffix(std::move(sidecar_suffix)) {}

bool NameFilter::is_junk(std::string_view name) const {
  if (name.empty() || name.front() == '.') return true;  // hidden, ._* (macOS), our own temp files
  if (name.starts_with("~$")) return true;               // Office lock files
  if (ends_with_icase(name, ".tmp") || ends_with_icase(name, "~")) return true;
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "thumbs.db" || lower == "desktop.ini") return true;
  return !m_sidecar_suffix.empty() && ends_with_icase(name, m_sidecar_suffix);
}

bool NameFilter::accepts(std::string_view relative_path) const {
  const std::string relative(relative_path);
  const auto slash = relative.rfind('/');
  const std::string name = slash == std::string::npos ? relative : relative.substr(slash + 1);
  if (is_junk(name)) return false;
  const auto hit = [&](const std::string& glob) { return matches(glob, relative, name); };
  return std::any_of(m_include.begin(), m_include.end(), hit) &&
         std::none_of(m_exclude.begin(), m_exclude.end(), hit);
}

}  // namespace inferwatch::watch
