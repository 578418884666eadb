#include <inferwatch/app/service_loop.hpp>

#include <inferwatch/app/logging.hpp>
#include <inferwatch/config/diff.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <string>

namespace inferwatch::app {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

// Without a systemd watchdog, a stall is still logged after this long.
constexpr milliseconds k_default_stall_limit{60'000};

// Take the keys config::applies_at_reload() names from `loaded` into `running`; the rest stays,
// so it is reported again on the next SIGHUP.
void adopt_live_keys(config::Config& running, const config::Config& loaded) {
  const config::Model kept = running.model;
  running.model = loaded.model;
  running.model.threads = kept.threads;
  running.model.repository = kept.repository;
  running.model.default_model = kept.default_model;
  running.preprocess = loaded.preprocess;
  running.postprocess = loaded.postprocess;
  running.log.level = loaded.log.level;
}

}  // namespace

ServiceLoop::ServiceLoop(ServiceParts parts, config::Config running)
    : m_parts(parts),
      m_running(std::move(running)),
      // Ping at half the watchdog timeout (systemd's advice); a stall is anything longer than
      // the timeout itself, so a slow but healthy batch does not get the daemon killed.
      m_stall_limit(parts.notifier.watchdog()
                        ? std::max(milliseconds(1000),
                                   duration_cast<milliseconds>(*parts.notifier.watchdog()))
                        : k_default_stall_limit),
      m_tick(parts.notifier.watchdog()
                 ? std::clamp(duration_cast<milliseconds>(*parts.notifier.watchdog()) / 2,
                              milliseconds(100), milliseconds(2000))
                 : milliseconds(2000)) {}

int ServiceLoop::run(const sigset_t& signals) {
  for (;;) {
    timespec wait{};
    wait.tv_sec = m_tick.count() / 1000;
    wait.tv_nsec = (m_tick.count() % 1000) * 1'000'000;
    const int received = sigtimedwait(&signals, nullptr, &wait);
    if (received < 0) {  // EAGAIN: the tick; EINTR: a stray signal
      tick();
      continue;
    }
    if (received == SIGHUP) {
      reload();
      continue;
    }
    return received;
  }
}

std::optional<std::string> ServiceLoop::stalled() const {
  if (auto stall = m_parts.pipeline.stalled(m_stall_limit)) return stall;
  const auto late = m_parts.watcher.overdue();
  if (late > m_stall_limit) {
    return fmt::format("the watcher loop is {} s late with its heartbeat",
                       duration_cast<std::chrono::seconds>(late).count());
  }
  return std::nullopt;
}

std::string ServiceLoop::status_line() const {
  const auto s = m_parts.pipeline.stats();
  return fmt::format("{} queued, {} in flight; {} ok, {} errors; model {}", s.pending + s.settling,
                     s.in_flight, s.ok, s.errors,
                     m_parts.pipeline.engine() ? m_parts.pipeline.engine()->info().version
                                               : std::string("repository"));
}

void ServiceLoop::tick() {
  if (const auto stall = stalled()) {
    if (!m_was_stalled) {
      spdlog::error("watchdog: {}; not telling systemd we are alive", *stall);
    }
    m_was_stalled = true;
  } else {
    if (m_was_stalled) spdlog::info("watchdog: alive again");
    m_was_stalled = false;
    m_parts.notifier.watchdog_ping();
  }
  m_parts.notifier.status(status_line());
}

void ServiceLoop::reload() {
  m_parts.notifier.reloading();
  spdlog::info("SIGHUP: reloading the configuration{} and the model",
               m_parts.options.file.empty() ? " (embedded defaults)"
                                            : " from " + m_parts.options.file.string());
  const config::Loaded loaded = load_config(m_parts.options);
  if (!loaded.problems.empty()) {
    for (const auto& p : loaded.problems) spdlog::error("configuration: {}", p.to_string());
    spdlog::error(
        "configuration reload failed with {} problem(s); still running the previous "
        "configuration and model",
        loaded.problems.size());
    m_parts.metrics.config_reload(false);
    m_parts.notifier.ready(status_line());
    return;
  }
  for (const auto& key : config::changed_keys(m_running, loaded.config)) {
    if (config::applies_at_reload(key)) {
      spdlog::info("configuration: {} changed", key);
    } else {
      spdlog::warn("configuration: {} changed; it needs a restart to take effect", key);
    }
  }
  adopt_live_keys(m_running, loaded.config);
  setup_logging(m_running.log);
  m_parts.metrics.config_reload(true);

  const ServiceNotifier& notifier = m_parts.notifier;
  const bool started = m_parts.reloader.reload(
      [this, &notifier](const util::Result<infer::ModelInfo>&) { notifier.ready(status_line()); },
      m_running);
  if (!started) {
    spdlog::warn("SIGHUP: a model reload is already running; the new settings apply to the next");
    notifier.ready(status_line());
  }
}

}  // namespace inferwatch::app
