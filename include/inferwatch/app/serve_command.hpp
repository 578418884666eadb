#pragma once

#include <inferwatch/config/config.hpp>

namespace inferwatch::app {

// `inferwatch serve`: watch the configured trees and process every finished image until SIGTERM
// or SIGINT, then drain in-flight work (batching.drain_timeout_ms) and exit 0.
// Exit code 2 when it cannot start (database, model, watch roots).
int serve_command(const config::Config& config);

}  // namespace inferwatch::app
