#pragma once

// spdlog sink writing native journald entries: MESSAGE, PRIORITY (syslog levels), and each
// util::ScopedLogFields field as INFERWATCH_<KEY>, so `journalctl -p warning` and
// `journalctl INFERWATCH_PATH=alice/part-17.png` work.

#include <spdlog/sinks/base_sink.h>

#include <mutex>

namespace inferwatch::app {

class JournalSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}
};

}  // namespace inferwatch::app
