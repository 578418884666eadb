#pragma once

#include <inferwatch/config/config.hpp>

#include <filesystem>

namespace inferwatch::app {

// Log what the daemon runs with, in a few info lines an operator can check at a glance:
// where the config came from, watch roots and policy, model, batching, database, server, logs.
void log_config_summary(const config::Config& config, const std::filesystem::path& file);

}  // namespace inferwatch::app
