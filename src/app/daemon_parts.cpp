#include <inferwatch/app/daemon_parts.hpp>

#include <inferwatch/app/model_observers.hpp>
#include <inferwatch/infer/torch_model.hpp>
#include <inferwatch/results/sidecar_writer.hpp>
#include <inferwatch/util/path_within.hpp>
#include <inferwatch/util/root_dir.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace inferwatch::app {

util::Result<DaemonParts> open_daemon_parts(const config::Config& config,
                                            std::vector<std::filesystem::path> roots,
                                            metrics::Metrics* metrics) {
  DaemonParts parts;
  for (auto& root : roots) {
    std::error_code ec;
    if (!std::filesystem::exists(root, ec)) {
      std::filesystem::create_directories(root, ec);
      if (ec)
        return util::Error{"startup_failed", fmt::format("cannot create watch root {}: {}",
                                                         root.string(), ec.message())};
      spdlog::info("created watch root {}", root.string());
    }
    if (!std::filesystem::is_directory(root, ec)) {
      return util::Error{"startup_failed",
                         fmt::format("watch root {} is not a directory", root.string())};
    }
    auto dir = util::RootDir::open(root);
    if (!dir) return util::Error{"startup_failed", dir.error().message};
    if (dir->resolver() == util::Resolver::walk) {
      spdlog::info("openat2 is not available: paths under {} are checked one component at a time",
                   root.string());
    }
    if (const auto removed = results::remove_stale_temp_files(*dir); removed > 0) {
      spdlog::info("removed {} unfinished sidecar temp file(s) under {}", removed, root.string());
    }
    // The database is the daemon's trusted state: where share users write, they could replace
    // it, its journal or its WAL (SQLite replays a journal it finds beside the database).
    if (util::path_within(config.database.path, root)) {
      return util::Error{"startup_failed",
                         fmt::format("database.path {} lies inside the watched tree {}: share "
                                     "users could replace it; keep it outside (e.g. in "
                                     "/var/lib/inferwatch)",
                                     config.database.path.string(), root.string())};
    }
  }
  parts.roots = std::move(roots);

  auto db = store::Database::open(config.database.path);
  if (!db) return db.error();
  parts.database = std::move(*db);

  if (metrics) {
    auto references = store::DriftReferences::open(config.database.path);
    if (!references) return references.error();
    parts.drift_references = std::move(*references);
    parts.drift = std::make_unique<models::DriftMonitor>(
        models::DriftOptions{static_cast<std::size_t>(config.drift.window),
                             static_cast<std::size_t>(config.drift.reference)},
        parts.drift_references.get());
    auto restored = parts.drift->restore();
    if (!restored) return restored.error();
    for (const auto& warning : *restored) spdlog::warn("drift: {}", warning);
    metrics->before_scrape([metrics, drift = parts.drift.get()] {
      for (const auto& s : drift->status()) {
        metrics->model_drift(s.model, s.version,
                             s.score ? std::optional(s.score->labels) : std::nullopt,
                             s.score ? std::optional(s.score->scores) : std::nullopt);
      }
    });
  }

  if (!config.model.repository.empty()) {
    auto registry = open_registry(config, metrics, parts.drift.get());
    if (!registry) return registry.error();
    parts.catalog = std::move(registry->first);
    parts.registry = std::move(registry->second);
    return parts;
  }
  auto engine = load_engine(config);
  if (!engine) return engine.error();
  parts.engine = std::move(*engine);
  return parts;
}

util::Result<std::pair<std::unique_ptr<store::ModelCatalog>, std::unique_ptr<models::Registry>>>
open_registry(const config::Config& config, metrics::Metrics* metrics,
              models::DriftMonitor* drift) {
  auto catalog = store::ModelCatalog::open(config.database.path);
  if (!catalog) return catalog.error();
  models::Registry::Options options;
  options.repository = config.model.repository;
  options.keep_versions = config.model.keep_versions;
  options.routes = config.routes;
  options.default_model = config.model.default_model;
  const auto loader = [config](const config::ModelManifest& manifest) {
    return load_engine(config::to_config(manifest, config));
  };
  auto registry = std::make_unique<models::Registry>(std::move(options), **catalog, loader,
                                                     models::gate_runner(config));
  if (metrics) install_model_observers(*registry, *metrics);
  if (drift && config.drift.golden_reference) {
    // A version's golden-set predictions, seen by the gate, are its drift reference.
    registry->on_event([drift](const models::RegistryEvent& event) {
      if (event.verdict && event.verdict->passed) {
        drift->set_golden_reference(event.model, event.version, event.verdict->golden_predictions);
      }
    });
  }
  if (auto started = registry->start(); !started) return started.error();
  return std::pair{std::move(*catalog), std::move(registry)};
}

util::Result<std::shared_ptr<models::Engine>> load_engine(const config::Config& config,
                                                          spdlog::level::level_enum level) {
  auto model = infer::load_torch_model(config);
  if (!model) return model.error();
  const auto& info = (*model)->info();
  spdlog::log(
      level,
      "model {} on {} ({} labels, {} thread(s)), loaded in {:.0f} ms, warmed up in {:.0f} ms",
      info.version, info.device, info.labels.size(), info.threads, info.load_ms, info.warmup_ms);
  return std::make_shared<models::Engine>(std::move(*model), config.preprocess, config.postprocess);
}

}  // namespace inferwatch::app
