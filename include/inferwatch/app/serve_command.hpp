#pragma once

#include <inferwatch/app/config_options.hpp>
#include <inferwatch/config/config.hpp>

namespace inferwatch::app {

// `inferwatch serve`: watch the configured trees and process every finished image until SIGTERM
// or SIGINT, then drain in-flight work (batching.drain_timeout_ms) and exit 0. SIGHUP re-reads
// the configuration (from `options`, like at startup) and hot-reloads the model. Under systemd:
// READY=1 after warm-up and arming the watcher, watchdog pings while alive, STATUS= lines.
// Exit code 2 when it cannot start (database, model, watch roots).
int serve_command(const ConfigOptions& options, const config::Config& config);

}  // namespace inferwatch::app
