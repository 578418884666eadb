#pragma once

#include <filesystem>
#include <optional>

namespace inferwatch::app {

struct GateCommandOptions {
  std::filesystem::path dir;            // a model version directory
  std::optional<double> live_accuracy;  // the live version's golden-set accuracy
  bool json = false;                    // print the verdict as JSON
};

// `inferwatch gate DIR`: run the deployment gate (models::Gate) on a model version directory, as
// the daemon does before a version may serve, for CI pipelines. Prints the verdict on stdout.
// Exit 0 passed, 1 refused, 2 when model.toml is missing or has problems (listed on stderr with
// file:line).
int gate_command(const GateCommandOptions& options);

}  // namespace inferwatch::app
