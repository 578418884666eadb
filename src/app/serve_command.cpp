#include <inferwatch/app/serve_command.hpp>

#include <inferwatch/app/daemon_parts.hpp>
#include <inferwatch/pipeline/pipeline.hpp>
#include <inferwatch/watch/watcher.hpp>

#include <spdlog/spdlog.h>

#include <csignal>
#include <pthread.h>

namespace inferwatch::app {

int serve_command(const config::Config& config) {
  // Signals are taken synchronously by this thread; every thread started below inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  for (const int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto parts = open_daemon_parts(config, config.watch.paths);
  if (!parts) {
    spdlog::critical("cannot start: {}", parts.error().message);
    return 2;
  }

  pipeline::Pipeline pipeline(config, parts->roots, *parts->database, *parts->model);
  pipeline.start();

  watch::WatcherOptions options;
  options.roots = parts->roots;
  options.recursive = config.watch.recursive;
  options.filter = watch::NameFilter(config.watch.include, config.watch.exclude,
                                     config.results.sidecar_suffix);
  options.rescan_interval = std::chrono::seconds(config.watch.rescan_interval_s);
  watch::Watcher watcher(options, [&](std::vector<watch::Candidate> c) { pipeline.add(std::move(c)); });
  if (auto started = watcher.start(); !started) {
    spdlog::critical("cannot start: {}", started.error().message);
    pipeline.stop(std::chrono::milliseconds(0));
    return 2;
  }
  spdlog::info("ready: watching {} root(s), database {}", parts->roots.size(), config.database.path.string());

  for (;;) {
    int received = 0;
    if (sigwait(&signals, &received) != 0) continue;
    if (received == SIGHUP) {
      spdlog::warn("SIGHUP: configuration reload is not available yet; restart to apply changes");
      continue;
    }
    spdlog::info("{} received: draining (up to {} ms)", received == SIGTERM ? "SIGTERM" : "SIGINT",
                 config.batching.drain_timeout_ms);
    break;
  }
  watcher.stop();
  pipeline.stop(std::chrono::milliseconds(config.batching.drain_timeout_ms));
  const auto stats = pipeline.stats();
  spdlog::info("stopped: {} ok, {} error result(s) this run, {} still queued", stats.ok, stats.errors,
               stats.pending);
  return 0;
}

}  // namespace inferwatch::app
