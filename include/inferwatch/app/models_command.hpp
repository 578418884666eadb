#pragma once

#include <inferwatch/config/config.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace inferwatch::app {

struct ModelsCommandOptions {
  std::string action = "list";            // list, promote, rollback, upload
  std::string name;                       // the model (promote, rollback, upload)
  std::string version;                    // upload: the new version's name
  std::filesystem::path dir;              // upload: the version directory
  std::optional<std::string> to_version;  // rollback --to
  std::string reason;                     // rollback --reason
  std::optional<std::string> listen;      // --listen: overrides server.listen
  bool json = false;                      // print the daemon's JSON as it is
  int timeout_s = 600;
};

// `inferwatch models …`: the model lifecycle through the local daemon's REST API (address from
// server.listen, token from server.token_file). Prints what the daemon answered. Exit 0 done,
// 1 refused by the daemon (gate refusal, conflict, unknown model or version, bad archive),
// 2 usage, configuration, an unreachable daemon, a wrong token or a daemon error.
int models_command(const config::Config& config, const ModelsCommandOptions& options);

}  // namespace inferwatch::app
