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
  // --offline: against the database and model.repository, without the daemon (list, promote,
  // rollback; promote and rollback refused while a daemon runs on the database)
  bool offline = false;
  int timeout_s = 600;
};

// `inferwatch models …`: the model lifecycle through the local daemon's REST API (address from
// server.listen, token from server.token_file). Prints what the daemon answered. Exit 0 done,
// 1 refused by the daemon (gate refusal, conflict, unknown model or version, bad archive),
// 2 usage, configuration, an unreachable daemon, a wrong token or a daemon error.
// With `offline` the same answers come from the database's catalog and model.repository instead
// (the same JSON and exit codes); exit 2 also when a daemon holds the database (promote,
// rollback) or there is no database or repository.
int models_command(const config::Config& config, const ModelsCommandOptions& options);

}  // namespace inferwatch::app
