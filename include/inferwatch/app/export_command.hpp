#pragma once

#include <inferwatch/config/config.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace inferwatch::app {

struct ExportCommandOptions {
  std::filesystem::path out;         // --dataset
  std::optional<std::string> since;  // --since: RFC 3339, on the feedback's time
  std::optional<std::string> model;  // --model NAME or NAME@VERSION
  bool copy = false;                 // --copy: never hard-link
  bool json = false;                 // --json: the summary as JSON on stdout
};

// `inferwatch export --dataset OUT`: the results with feedback in the configuration's database
// (read-only; the daemon may be running) become a training set in OUT (dataset::export_dataset).
// A summary line on stdout, each file left out on stderr. Exit 0 when OUT holds examples
// afterwards (files left out or not), 1 when it holds none (nothing matched, or everything was
// left out), 2 when the options, the database or OUT are unusable.
int export_command(const config::Config& config, const ExportCommandOptions& options);

}  // namespace inferwatch::app
