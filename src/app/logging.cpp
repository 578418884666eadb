#include <inferwatch/app/logging.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace inferwatch::app {

void setup_logging(const config::Log& log) {
  static const auto logger = [] {
    auto l = spdlog::stderr_color_mt("inferwatch");
    l->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
    spdlog::set_default_logger(l);
    return l;
  }();
  logger->set_level(spdlog::level::from_str(log.level));
}

}  // namespace inferwatch::app
