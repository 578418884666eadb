#include <inferwatch/app/logging.hpp>

#include "journal_sink.hpp"
#include "json_log_sink.hpp"

#include <inferwatch/util/utf8.hpp>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <sys/stat.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>

namespace inferwatch::app {
namespace {

const char* g_destination = "text";
constexpr const char* k_journal_socket = "/run/systemd/journal/socket";

// systemd sets JOURNAL_STREAM=<dev>:<ino> of the stream it connected; match it against stderr
// so a child whose stderr was redirected elsewhere does not log into the journal.
bool stderr_is_journal() {
  const char* env = std::getenv("JOURNAL_STREAM");
  if (env == nullptr) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (fstat(2, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

// The message with control characters and invalid bytes escaped (\n, \ooo), so a file name
// can never start a forged line or send escape sequences to a terminal.
class EscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string text =
        util::escape_controls(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<EscapedMessage>();
  }
};

std::shared_ptr<spdlog::logger> make_logger(config::LogFormat format) {
  if (format == config::LogFormat::auto_detect) {
    format = stderr_is_journal() ? config::LogFormat::journal : config::LogFormat::text;
  }
  if (format == config::LogFormat::journal && ::access(k_journal_socket, F_OK) != 0) {
    // libsystemd drops entries silently when journald is absent: keep them on stderr instead.
    std::fprintf(stderr,
                 "inferwatch: log.format = \"journal\" but %s does not exist (no "
                 "journald); logging to stderr\n",
                 k_journal_socket);
    format = config::LogFormat::text;
  }
  switch (format) {
    case config::LogFormat::journal:
      g_destination = "journal";
      return std::make_shared<spdlog::logger>("inferwatch", std::make_shared<JournalSink>());
    case config::LogFormat::json:
      g_destination = "json";
      return std::make_shared<spdlog::logger>("inferwatch", std::make_shared<JsonLogSink>());
    default: {
      g_destination = "text";
      auto l = spdlog::stderr_color_mt("inferwatch");
      auto formatter = std::make_unique<spdlog::pattern_formatter>();
      formatter->add_flag<EscapedMessage>('*').set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %*");
      l->set_formatter(std::move(formatter));
      return l;
    }
  }
}

}  // namespace

void setup_logging(const config::Log& log) {
  static const auto logger = [&] {
    auto l = make_logger(log.format);
    l->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(l);
    return l;
  }();
  logger->set_level(spdlog::level::from_str(log.level));
}

const char* log_destination() { return g_destination; }

}  // namespace inferwatch::app
