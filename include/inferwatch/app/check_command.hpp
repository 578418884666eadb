#pragma once

#include <inferwatch/app/config_options.hpp>

namespace inferwatch::app {

struct CheckOptions {
  bool print_config = false;  // print the effective configuration as TOML
};

// `inferwatch check`: validate the config, probe the database, load and warm up the model, check
// the watch roots, listen address and token. Lists every problem on stderr; exit 0 or 1.
int check_command(const config::Loaded& loaded, const CheckOptions& options);

}  // namespace inferwatch::app
