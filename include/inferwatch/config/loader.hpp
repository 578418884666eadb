#pragma once

// TOML → Config (SPEC §3). Loading never throws on bad input: every problem found (syntax,
// unknown key, wrong type, impossible value) is reported at once with file, line and key.

#include <inferwatch/config/config.hpp>
#include <inferwatch/config/problem.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace inferwatch::config {

// Where each key was set, to locate problems found after loading (dotted key → line, column).
struct SourceMap {
  std::string file;
  std::map<std::string, std::pair<int, int>, std::less<>> positions;
};

struct Loaded {
  Config config;
  SourceMap sources;
  std::vector<Problem> problems;  // empty when the config is usable
};

// Parse `text` as if read from `file` (relative paths resolve against its directory) on top of
// the embedded defaults, and validate the result.
Loaded load_string(std::string_view text, const std::filesystem::path& file);

// Read and load a file; a missing or unreadable file is a problem, not an exception.
Loaded load_file(const std::filesystem::path& file);

// The embedded defaults (no file), validated.
Loaded load_defaults();

// Check values and their combinations; used after command-line overrides too.
std::vector<Problem> validate(const Config& config, const SourceMap& sources);

}  // namespace inferwatch::config
