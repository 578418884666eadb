#include <inferwatch/app/model_reloader.hpp>
#include <inferwatch/util/thread_name.hpp>

#include <inferwatch/app/daemon_parts.hpp>

#include <spdlog/spdlog.h>

namespace inferwatch::app {

ModelReloader::ModelReloader(config::Config config, pipeline::Pipeline& pipeline,
                             metrics::Metrics& metrics)
    : m_pipeline(pipeline), m_metrics(metrics), m_config(std::move(config)) {}

ModelReloader::~ModelReloader() { shutdown(); }

void ModelReloader::shutdown() {
  std::lock_guard lock(m_mutex);
  m_shut_down = true;
  if (m_thread.joinable()) m_thread.join();
}

bool ModelReloader::reload(Done done, std::optional<config::Config> config) {
  std::lock_guard lock(m_mutex);
  if (config) m_config = std::move(*config);
  if (m_shut_down || m_running.exchange(true)) return false;
  if (m_thread.joinable()) m_thread.join();  // the previous reload, already finished
  m_thread = std::thread([this, c = m_config, done = std::move(done)]() mutable {
    util::name_this_thread("iw-reload");
    run(std::move(c), std::move(done));
    m_running = false;
  });
  return true;
}

void ModelReloader::run(config::Config config, Done done) {
  if (!m_pipeline.engine()) {  // a model repository: versions come and go through it
    if (done) {
      done(util::Error{"model_repository",
                       "models come from model.repository: add a version there or use "
                       "/v1/models/{name}/promote and /rollback; there is no single model to "
                       "reload"});
    }
    return;
  }
  const std::string old_version = m_pipeline.engine()->info().version;
  const std::string source = config.model.path.empty() ? std::string("the built-in demo model")
                                                       : config.model.path.string();
  spdlog::info("model reload: loading {} (still serving {})", source, old_version);
  util::Result<infer::ModelInfo> outcome = util::Error{"model_load_failed", "not run"};
  try {
    auto engine = load_engine(config);
    if (engine) {
      const infer::ModelInfo info = (*engine)->info();
      m_pipeline.use_engine(std::move(*engine));
      m_metrics.model_loaded(info.name, info.version, info.device);
      m_metrics.model_reload(true);
      spdlog::info("model reload: now serving {} (was {})", info.version, old_version);
      outcome = info;
    } else {
      outcome = engine.error();
    }
  } catch (const std::exception& e) {  // e.g. out of memory while loading: keep serving
    outcome = util::Error{"model_load_failed", e.what()};
  }
  if (!outcome) {
    m_metrics.model_reload(false);
    spdlog::error("model reload failed, still serving {}: {}", old_version,
                  outcome.error().message);
  }
  if (done) done(std::move(outcome));
}

}  // namespace inferwatch::app
