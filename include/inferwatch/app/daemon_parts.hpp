#pragma once

// What `serve` and `scan` both set up before processing: roots, database, model.

#include <inferwatch/config/config.hpp>
#include <inferwatch/models/engine.hpp>
#include <inferwatch/store/database.hpp>
#include <inferwatch/util/result.hpp>

#include <spdlog/common.h>

#include <filesystem>
#include <memory>
#include <vector>

namespace inferwatch::app {

struct DaemonParts {
  std::vector<std::filesystem::path> roots;  // absolute, existing
  std::unique_ptr<store::Database> database;
  std::shared_ptr<models::Engine> engine;
};

// Create missing roots, remove crash leftovers (temp sidecars), open the database, load and warm
// up the model. Errors name what failed.
util::Result<DaemonParts> open_daemon_parts(const config::Config& config,
                                            std::vector<std::filesystem::path> roots);

// Load, validate and warm up the configured model with its pre- and postprocessing (logged at
// `level`).
util::Result<std::shared_ptr<models::Engine>> load_engine(
    const config::Config& config, spdlog::level::level_enum level = spdlog::level::info);

}  // namespace inferwatch::app
