#pragma once

// The main thread of `serve` once everything runs: waits for signals, and in between checks that
// the pipeline and watcher are alive before pinging the systemd watchdog, and refreshes STATUS=.
// SIGHUP re-reads the configuration: live keys apply (log level now; model, preprocess and
// postprocess through a hot model reload), the others are reported as needing a restart.

#include <inferwatch/app/config_options.hpp>
#include <inferwatch/app/model_reloader.hpp>
#include <inferwatch/app/service_notifier.hpp>
#include <inferwatch/config/config.hpp>
#include <inferwatch/metrics/metrics.hpp>
#include <inferwatch/pipeline/pipeline.hpp>
#include <inferwatch/watch/watcher.hpp>

#include <signal.h>
#include <chrono>
#include <optional>
#include <string>

namespace inferwatch::app {

struct ServiceParts {
  const ConfigOptions& options;  // to re-read the configuration the same way on SIGHUP
  pipeline::Pipeline& pipeline;
  watch::Watcher& watcher;
  ModelReloader& reloader;
  metrics::Metrics& metrics;
  const ServiceNotifier& notifier;
};

class ServiceLoop {
 public:
  ServiceLoop(ServiceParts parts, config::Config running);

  // Block until SIGTERM or SIGINT (which it returns); `signals` must be blocked in all threads.
  int run(const sigset_t& signals);

  // Why the daemon looks stuck, or nothing (also used by /readyz). Thread-safe.
  std::optional<std::string> stalled() const;

  // "12 queued, 3 in flight; 100 ok, 2 errors; model demo-shapes@60df5b201755"
  std::string status_line() const;

 private:
  void tick();
  void reload();

  ServiceParts m_parts;
  config::Config m_running;  // main thread only: what is in effect, for the next SIGHUP's diff
  std::chrono::milliseconds m_stall_limit;
  std::chrono::milliseconds m_tick;
  bool m_was_stalled = false;
};

}  // namespace inferwatch::app
