#pragma once

// Where the configuration comes from: a file (or the embedded defaults) plus command-line flags.

#include <inferwatch/config/loader.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace inferwatch::app {

struct ConfigOptions {
  std::filesystem::path file;                  // -c; empty: embedded defaults
  std::vector<std::filesystem::path> watch;    // --watch (replaces [watch] paths)
  std::optional<std::string> listen;           // --listen
  std::optional<std::filesystem::path> model;  // --model
};

// Load, apply the flags (they override the file), validate everything; problems listed, not thrown.
config::Loaded load_config(const ConfigOptions& options);

}  // namespace inferwatch::app
