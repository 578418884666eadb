#pragma once

// Hot model reload (SPEC §4, §6): load, validate and warm up a new engine on a background thread
// while the running one keeps serving, then swap it into the pipeline between batches (items
// already decoded finish on the old one). One reload at a time. On failure the old model stays;
// the reason is logged and counted (inferwatch_model_reloads_total{result="failed"}).

#include <inferwatch/config/config.hpp>
#include <inferwatch/infer/model_info.hpp>
#include <inferwatch/metrics/metrics.hpp>
#include <inferwatch/pipeline/pipeline.hpp>
#include <inferwatch/util/result.hpp>

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace inferwatch::app {

class ModelReloader {
 public:
  // Called on the reload thread with the new model's info, or why it was rejected.
  using Done = std::function<void(util::Result<infer::ModelInfo>)>;

  // `config` gives [model], [preprocess] and [postprocess] for reloads; `pipeline` and `metrics`
  // must outlive the reloader.
  ModelReloader(config::Config config, pipeline::Pipeline& pipeline, metrics::Metrics& metrics);
  ~ModelReloader();  // waits for a reload in progress

  // Start a reload; with `config`, it (and every later reload) uses that configuration. False,
  // without calling `done`, when a reload is already running or after shutdown(). Thread-safe.
  bool reload(Done done, std::optional<config::Config> config = std::nullopt);

  // Wait for a reload in progress to finish (and its `done` to return); refuse new ones.
  void shutdown();

 private:
  void run(config::Config config, Done done);

  pipeline::Pipeline& m_pipeline;
  metrics::Metrics& m_metrics;
  std::mutex m_mutex;  // guards m_config and m_thread
  config::Config m_config;
  std::thread m_thread;
  std::atomic<bool> m_running{false};
  bool m_shut_down = false;  // guarded by m_mutex
};

}  // namespace inferwatch::app
