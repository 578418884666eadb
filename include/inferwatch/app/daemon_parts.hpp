#pragma once

// What `serve` and `scan` both set up before processing: roots, database, model.

#include <inferwatch/config/config.hpp>
#include <inferwatch/metrics/metrics.hpp>
#include <inferwatch/models/drift_monitor.hpp>
#include <inferwatch/models/engine.hpp>
#include <inferwatch/models/registry.hpp>
#include <inferwatch/store/database.hpp>
#include <inferwatch/store/drift_references.hpp>
#include <inferwatch/store/model_catalog.hpp>
#include <inferwatch/util/result.hpp>

#include <spdlog/common.h>

#include <filesystem>
#include <memory>
#include <vector>

namespace inferwatch::app {

struct DaemonParts {
  std::vector<std::filesystem::path> roots;  // absolute, existing
  std::unique_ptr<store::Database> database;
  // Drift per model version (with `metrics` only, i.e. serve): the stored references and the
  // monitor the pipeline feeds. Declared before the registry, whose listener uses it.
  std::unique_ptr<store::DriftReferences> drift_references;
  std::unique_ptr<models::DriftMonitor> drift;
  // Without a model repository: the one model every file goes to. With one: null, and the
  // registry (on its own catalog connection) picks each file's engines.
  std::shared_ptr<models::Engine> engine;
  std::unique_ptr<store::ModelCatalog> catalog;
  std::unique_ptr<models::Registry> registry;  // started; before `catalog` is closed, stopped
};

// Create missing roots, remove crash leftovers (temp sidecars), open the database, load and warm
// up the model, or with `model.repository` start the model registry (which gates and loads the
// repository's versions). Errors name what failed.
// `metrics` (optional) hears the registry's events from its start; with it, the drift monitor is
// opened with its stored references.
util::Result<DaemonParts> open_daemon_parts(const config::Config& config,
                                            std::vector<std::filesystem::path> roots,
                                            metrics::Metrics* metrics = nullptr);

// The model catalog and the started registry of `model.repository`.
util::Result<std::pair<std::unique_ptr<store::ModelCatalog>, std::unique_ptr<models::Registry>>>
open_registry(const config::Config& config, metrics::Metrics* metrics = nullptr,
              models::DriftMonitor* drift = nullptr);

// Load, validate and warm up the configured model with its pre- and postprocessing (logged at
// `level`).
util::Result<std::shared_ptr<models::Engine>> load_engine(
    const config::Config& config, spdlog::level::level_enum level = spdlog::level::info);

}  // namespace inferwatch::app
