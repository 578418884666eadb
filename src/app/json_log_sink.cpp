#include "json_log_sink.hpp"

#include <inferwatch/util/json_text.hpp>
#include <inferwatch/util/log_fields.hpp>
#include <inferwatch/util/time.hpp>

#include <boost/json.hpp>

#include <cstdio>

namespace inferwatch::app {
namespace {

// Syslog's words, which log shippers map to severities without configuration.
const char* level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::critical:
      return "critical";
    case spdlog::level::err:
      return "error";
    case spdlog::level::warn:
      return "warning";
    case spdlog::level::info:
      return "info";
    case spdlog::level::debug:
      return "debug";
    default:
      return "trace";
  }
}

}  // namespace

void JsonLogSink::sink_it_(const spdlog::details::log_msg& msg) {
  boost::json::object line;
  line["time"] = util::format_utc(msg.time);
  line["level"] = level_name(msg.level);
  line["message"] = std::string_view(msg.payload.data(), msg.payload.size());
  for (const auto& field : util::current_log_fields()) line[field.key] = field.value;
  // Messages and fields may quote file names (any bytes): to_json_text writes valid UTF-8, and
  // JSON escapes every control character, so one entry is always one line.
  std::string text = util::to_json_text(line);
  text += '\n';
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

void JsonLogSink::flush_() { std::fflush(stderr); }

}  // namespace inferwatch::app
