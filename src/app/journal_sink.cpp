#include "journal_sink.hpp"

#include <inferwatch/util/log_fields.hpp>
#include <inferwatch/util/utf8.hpp>

#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

namespace inferwatch::app {
namespace {

int syslog_priority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::critical:
      return LOG_CRIT;
    case spdlog::level::err:
      return LOG_ERR;
    case spdlog::level::warn:
      return LOG_WARNING;
    case spdlog::level::info:
      return LOG_INFO;
    default:
      return LOG_DEBUG;
  }
}

}  // namespace

void JournalSink::sink_it_(const spdlog::details::log_msg& msg) {
  std::vector<std::string> entries;
  // File names are any bytes: MESSAGE is one line of valid UTF-8 (controls escaped, as on the
  // terminal), fields are valid UTF-8 (journald carries their line breaks as data).
  const std::string message =
      util::escape_controls(std::string_view(msg.payload.data(), msg.payload.size()));
  entries.push_back("MESSAGE=" + message);
  entries.push_back("PRIORITY=" + std::to_string(syslog_priority(msg.level)));
  entries.emplace_back("SYSLOG_IDENTIFIER=inferwatch");
  for (const auto& field : util::current_log_fields()) {
    std::string name = "INFERWATCH_";
    std::transform(field.key.begin(), field.key.end(), std::back_inserter(name),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    entries.push_back(name + "=" + util::to_valid_utf8(field.value));
  }
  std::vector<iovec> iov;
  iov.reserve(entries.size());
  for (auto& e : entries) iov.push_back({e.data(), e.size()});
  // journald unreachable (log.format = "journal" without it): keep the line on stderr.
  if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) < 0) {
    std::fprintf(stderr, "<%d>%.*s\n", syslog_priority(msg.level), static_cast<int>(message.size()),
                 message.data());
  }
}

}  // namespace inferwatch::app
