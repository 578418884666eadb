#pragma once

#include <inferwatch/config/config.hpp>

namespace inferwatch::app {

// Route spdlog to journald (format `journal`, or `auto` when stderr is the journal stream systemd
// set up: $JOURNAL_STREAM), one JSON object per line on stderr (`json`), or readable lines on
// stderr (`text`, or `auto` otherwise). The first call picks the sink; later calls (SIGHUP)
// change only the level, since the logger in use cannot be swapped safely while threads log.
void setup_logging(const config::Log& log);

// The sink the first call picked: "journal", "json" or "text".
const char* log_destination();

}  // namespace inferwatch::app
