#include <inferwatch/app/config_summary.hpp>

#include <inferwatch/app/logging.hpp>
#include <inferwatch/config/printer.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <vector>

namespace inferwatch::app {

void log_config_summary(const config::Config& c, const std::filesystem::path& file) {
  std::vector<std::string> roots;
  for (const auto& p : c.watch.paths) roots.push_back(p.string());
  spdlog::info("config: {}", file.empty() ? "embedded defaults (no -c FILE)" : file.string());
  spdlog::info("config: watch [{}] ({}recursive, settle {} ms, rescan every {} s, include {})",
               fmt::join(roots, ", "), c.watch.recursive ? "" : "not ", c.watch.settle_ms,
               c.watch.rescan_interval_s, fmt::join(c.watch.include, " "));
  spdlog::info("config: model {} on {} ({}), {}x{} {}, {}; batches of up to {} within {} ms",
               c.model.path.empty() ? std::string("built-in demo") : c.model.path.string(),
               c.model.device, config::to_string(c.model.precision), c.preprocess.width,
               c.preprocess.height, config::to_string(c.preprocess.colour),
               config::to_string(c.preprocess.resize), c.batching.max_batch_size,
               c.batching.max_delay_ms);
  spdlog::info("config: database {} (retention {}), sidecars {}", c.database.path.string(),
               c.database.retention_days > 0 ? fmt::format("{} days", c.database.retention_days)
                                             : std::string("forever"),
               c.results.sidecar ? "*" + c.results.sidecar_suffix : std::string("off"));
  spdlog::info("config: listen {} ({}), log level {} to {}", c.server.listen,
               c.server.token_file.empty() ? "no token" : "bearer token required", c.log.level,
               log_destination());
}

}  // namespace inferwatch::app
