#include <inferwatch/config/diff.hpp>

#include <inferwatch/config/printer.hpp>

#include <map>
#include <sstream>

namespace inferwatch::config {
namespace {

// to_toml prints one "key = value" line per key under "[section]" headers; the printed value
// is canonical, so equal text means equal value. The [[route]] tables are one key, "route":
// their order matters (the first match wins), and an added or removed route is a change too.
std::map<std::string, std::string> flatten(const Config& config) {
  std::map<std::string, std::string> keys{{"route", ""}};
  std::istringstream in(to_toml(config));
  std::string section, line;
  bool array_of_tables = false;
  while (std::getline(in, line)) {
    if (line.starts_with("[[")) {
      section = line.substr(2, line.find("]]") - 2);
      array_of_tables = true;
      keys[section] += "|";
    } else if (line.starts_with('[')) {
      section = line.substr(1, line.find(']') - 1);
      array_of_tables = false;
    } else if (const auto eq = line.find(" = "); eq != std::string::npos) {
      if (array_of_tables)
        keys[section] += line + ";";
      else
        keys[section + "." + line.substr(0, eq)] = line.substr(eq + 3);
    }
  }
  return keys;
}

}  // namespace

std::vector<std::string> changed_keys(const Config& before, const Config& after) {
  const auto a = flatten(before), b = flatten(after);
  std::vector<std::string> changed;
  for (const auto& [key, value] : a) {
    const auto it = b.find(key);
    if (it == b.end() || it->second != value) changed.push_back(key);
  }
  return changed;
}

bool applies_at_reload(std::string_view key) {
  // Read once at start: the repository and its routes; and model.threads, as LibTorch's thread
  // pool is sized once per process, by the first model loaded (a reloaded model still gets the
  // first one's pool, whatever model.threads says then).
  if (key == "model.repository" || key == "model.default" || key == "model.threads" ||
      key == "model.keep_versions")
    return false;
  // A SIGHUP loads a new Engine from [model], [preprocess] and [postprocess].
  return key.starts_with("model.") || key.starts_with("preprocess.") ||
         key.starts_with("postprocess.") || key == "log.level";
}

}  // namespace inferwatch::config
