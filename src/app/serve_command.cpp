#include <inferwatch/app/serve_command.hpp>

#include <inferwatch/app/config_summary.hpp>
#include <inferwatch/app/daemon_parts.hpp>
#include <inferwatch/app/feedback_quality.hpp>
#include <inferwatch/app/model_reloader.hpp>
#include <inferwatch/app/server_access.hpp>
#include <inferwatch/app/service_loop.hpp>
#include <inferwatch/app/service_notifier.hpp>
#include <inferwatch/app/version.hpp>
#include <inferwatch/pipeline/pipeline.hpp>
#include <inferwatch/server/api.hpp>
#include <inferwatch/server/http_server.hpp>
#include <inferwatch/server/models_api.hpp>
#include <inferwatch/server/quality_routes.hpp>
#include <inferwatch/server/thumbnails.hpp>
#include <inferwatch/store/feedback_store.hpp>
#include <inferwatch/util/host_port.hpp>
#include <inferwatch/watch/watcher.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <pthread.h>
#include <atomic>
#include <csignal>
#include <cstdlib>

namespace inferwatch::app {

int serve_command(const ConfigOptions& options, const config::Config& config) {
  // Signals are taken synchronously by this thread; every thread started below inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  for (const int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  log_config_summary(config, options.file);
  const ServiceNotifier notifier;

  // Refuse an unsafe or broken server setup before the costly model warm-up.
  const auto listen = util::parse_host_port(config.server.listen);
  auto token = read_token(config.server);
  const auto exposure = check_exposure(config.server);
  if (!listen || !token || !exposure) {
    spdlog::critical("cannot start: {}", !listen  ? listen.error().message
                                         : !token ? token.error().message
                                                  : exposure.error().message);
    return 2;
  }

  metrics::Metrics metrics;
  auto parts = open_daemon_parts(config, config.watch.paths, &metrics);
  if (!parts) {
    spdlog::critical("cannot start: {}", parts.error().message);
    return 2;
  }
  auto reader = store::Reader::open(config.database.path);
  if (!reader) {
    spdlog::critical("cannot start: {}", reader.error().message);
    return 2;
  }
  auto feedback = store::FeedbackStore::open(config.database.path);
  if (!feedback) {
    spdlog::critical("cannot start: {}", feedback.error().message);
    return 2;
  }

  if (parts->engine) {
    const auto& model = parts->engine->info();
    metrics.model_loaded(model.name, model.version, model.device);
  }
  server::Broadcaster broadcaster;
  pipeline::Pipeline pipeline(
      config, parts->roots,
      {.store = *parts->database,
       .engine = parts->engine,
       .listener = [&](std::int64_t id, const std::string& path,
                       const std::string& json) { broadcaster.publish(id, path, json); },
       .metrics = &metrics,
       .registry = parts->registry.get(),
       .drift = parts->drift.get()});
  parts->engine.reset();  // the pipeline holds it; a reload must be able to free it
  pipeline.start();
  ModelReloader reloader(config, pipeline, metrics);

  watch::WatcherOptions watch_options;
  watch_options.roots = parts->roots;
  watch_options.recursive = config.watch.recursive;
  watch_options.filter =
      watch::NameFilter(config.watch.include, config.watch.exclude, config.results.sidecar_suffix);
  watch_options.rescan_interval = std::chrono::seconds(config.watch.rescan_interval_s);
  watch_options.metrics = &metrics;
  watch::Watcher watcher(watch_options,
                         [&](std::vector<watch::Candidate> c) { pipeline.add(std::move(c)); });
  ServiceLoop loop({options, pipeline, watcher, reloader, metrics, notifier}, config);

  std::atomic<bool> watching{false};
  server::Router router(*token, &metrics);
  server::ApiContext api{
      **reader,
      [&] {
        // The single model, or the default model's live version with a repository.
        auto engine = pipeline.engine();
        if (!engine && parts->registry) engine = parts->registry->select("").current;
        return engine ? engine->info() : infer::ModelInfo{};
      },
      fmt::format("{} ({})", version(), git_revision()),
      parts->roots,
      [&] { return pipeline.stats().in_flight; },
      [&] {
        std::vector<std::string> reasons;
        if (!watching) reasons.emplace_back("watcher is not running");
        if (auto stall = loop.stalled(); stall && watching) reasons.push_back(*stall);
        // A hung listing (e.g. a dead NFS server) is reported here, not to the watchdog: the
        // watcher loop still delivers events, and a restart would hang in the same scan.
        if (auto stuck = watcher.scan_stalled(std::chrono::seconds(60)); stuck && watching) {
          reasons.push_back(*stuck);
        }
        if (auto problem = pipeline.store_problem()) reasons.push_back(*problem);
        return reasons;
      },
      metrics,
      [&](std::string bytes, std::function<void(results::Record)> reply) {
        return pipeline.infer_now(std::move(bytes), std::move(reply));
      },
      [&](std::function<void(util::Result<infer::ModelInfo>)> done) {
        if (!reloader.reload(done)) {
          done(util::Error{"reload_in_progress",
                           "a model reload is already running (or the daemon is stopping); "
                           "retry when it has finished"});
        }
      }};
  api.feedback = feedback->get();
  api.broadcaster = &broadcaster;
  // Feedback metrics from the store (right after a restart too), then per new feedback.
  FeedbackQuality feedback_quality(**feedback, metrics, parts->registry.get());
  feedback_quality.refresh_all();
  api.on_feedback = [&](const std::string& model_version, const store::FeedbackRow& row) {
    feedback_quality.recorded(model_version, row);
  };
  // The labels of a version loaded now: the single model, or the default model's live version
  // and its candidate with a repository. Older versions are unloaded: their results' own
  // predictions bound the label (server/feedback_routes.cpp).
  api.labels_of = [&](const std::string& version) -> std::optional<std::vector<std::string>> {
    std::vector<std::shared_ptr<pipeline::Engine>> engines{pipeline.engine()};
    if (parts->registry) {
      const auto selection = parts->registry->select("");
      engines.push_back(selection.current);
      engines.push_back(selection.shadow);
    }
    for (const auto& engine : engines) {
      if (!engine) continue;
      if (const auto& info = engine->info(); info.version == version) return info.labels;
    }
    return std::nullopt;
  };
  server::add_api_routes(router, api);
  server::Thumbnails thumbnails(
      **reader, parts->roots,
      {.max_file_bytes = config.watch.max_file_bytes,
       .limits = {.max_pixels = config.preprocess.max_pixels,
                  .max_decode_bytes = config.preprocess.max_decode_bytes}});
  thumbnails.add_routes(router);
  std::optional<server::ModelsApi> models_api;  // with a repository: GET /v1/models and friends
  if (parts->registry) {
    models_api.emplace(*parts->registry,
                       server::ModelsApiOptions{.staging_dir = config.model.repository / ".staging",
                                                .drift = parts->drift.get()});
    models_api->add_routes(router);
    server::add_quality_route(router, **feedback,
                              server::registry_quality_source(*parts->registry, api.labels_of));
  } else {
    server::add_single_model_routes(router, [&] { return pipeline.engine()->info(); });
    server::add_quality_route(router, **feedback, server::single_model_quality_source([&] {
                                return pipeline.engine()->info();
                              }));
  }
  server::HttpServerOptions http;
  http.host = exposure->address;  // bind exactly what check_exposure judged
  http.port = exposure->port;
  http.threads = config.server.threads;
  http.max_body_bytes = static_cast<std::uint64_t>(config.server.max_body_bytes);
  http.max_header_bytes = static_cast<std::uint32_t>(config.server.max_header_bytes);
  http.max_connections = config.server.max_connections;
  http.idle_timeout = std::chrono::seconds(config.server.idle_timeout_s);
  http.header_timeout = std::chrono::seconds(config.server.header_timeout_s);
  server::StreamOptions stream;
  stream.broadcaster = &broadcaster;
  stream.reader = reader->get();
  stream.metrics = &metrics;
  stream.max_clients = config.server.max_ws_clients;
  stream.queue_messages = static_cast<std::size_t>(config.server.ws_queue_messages);
  stream.queue_bytes = static_cast<std::size_t>(config.server.ws_queue_bytes);
  stream.heartbeat = std::chrono::seconds(config.server.ws_heartbeat_s);
  stream.on_message = server::stream_message_handler(api);
  server::HttpServer http_server(http, router, stream);
  if (auto started = http_server.start(); !started) {
    spdlog::critical("cannot start: {}", started.error().message);
    pipeline.stop(std::chrono::milliseconds(0));
    return 2;
  }

  if (auto started = watcher.start(); !started) {
    spdlog::critical("cannot start: {}", started.error().message);
    pipeline.stop(std::chrono::milliseconds(0));
    return 2;
  }
  watching = true;
  spdlog::info("ready: watching {} root(s), database {}, listening on {}:{}", parts->roots.size(),
               config.database.path.string(), listen->host, http_server.port());
  notifier.ready(loop.status_line());

  const int received = loop.run(signals);
  spdlog::info("{} received: draining (up to {} ms)", received == SIGTERM ? "SIGTERM" : "SIGINT",
               config.batching.drain_timeout_ms);
  notifier.stopping();
  reloader.shutdown();      // a reload's reply may still go to an HTTP client and to systemd
  pipeline.close_intake();  // a scan waiting for room must not hold up the watcher's stop
  watcher.stop();
  watching = false;
  const bool clean = pipeline.stop(std::chrono::milliseconds(config.batching.drain_timeout_ms));
  if (models_api) models_api->shutdown();  // no lifecycle reply after the server is gone
  http_server.stop();
  const auto stats = pipeline.stats();
  spdlog::info("stopped: {} ok, {} error result(s) this run, {} still queued", stats.ok,
               stats.errors, stats.pending);
  if (!clean) {
    // Threads the pipeline could not stop still use it: leave without destructors. Everything
    // committed is durable (SQLite WAL); what was in flight stays queued.
    spdlog::shutdown();
    std::_Exit(0);
  }
  return 0;
}

}  // namespace inferwatch::app
