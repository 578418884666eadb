#pragma once

#include <inferwatch/config/config.hpp>

namespace inferwatch::app {

// Human-readable log lines on stderr at the configured level (journald output comes with the
// service work). Safe to call again to change the level.
void setup_logging(const config::Log& log);

}  // namespace inferwatch::app
