#pragma once

// spdlog sink writing one JSON object per line to stderr for log shippers:
// {"time": RFC 3339, "level": "warning", "message": "...", <util::ScopedLogFields fields>}.

#include <spdlog/sinks/base_sink.h>

#include <mutex>

namespace inferwatch::app {

class JsonLogSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;
};

}  // namespace inferwatch::app
