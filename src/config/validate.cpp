// Value and combination checks for a Config (loader.hpp: validate).

#include <inferwatch/config/loader.hpp>

#include <inferwatch/util/host_port.hpp>

#include <fmt/format.h>

#include <cmath>
#include <regex>

namespace inferwatch::config {
namespace {

class Checker {
 public:
  Checker(const SourceMap& sources, std::vector<Problem>& out) : m_sources(sources), m_out(out) {}

  void fail(const std::string& key, std::string message) {
    Problem p{m_sources.file, 0, 0, key, std::move(message)};
    if (const auto it = m_sources.positions.find(key); it != m_sources.positions.end()) {
      p.line = it->second.first;
      p.column = it->second.second;
    }
    m_out.push_back(std::move(p));
  }

  template <typename T>
  void range(const std::string& key, T value, T low, T high, std::string_view unit = "") {
    if (!(value >= low && value <= high)) {  // also refuses NaN
      fail(key,
           fmt::format("{}{} is out of range; allowed: {} to {}{}", value, unit, low, high, unit));
    }
  }

 private:
  const SourceMap& m_sources;
  std::vector<Problem>& m_out;
};

void check_watch(Checker& c, const Watch& w) {
  if (w.paths.empty()) c.fail("watch.paths", "at least one directory to watch is needed");
  for (const auto& p : w.paths) {
    if (p.empty()) c.fail("watch.paths", "an empty path is not a directory");
  }
  if (w.include.empty())
    c.fail("watch.include", "with no include pattern no file would ever be processed");
  for (const auto& g : w.include) {
    if (g.empty()) c.fail("watch.include", "an empty pattern matches nothing");
  }
  for (const auto& g : w.exclude) {
    if (g.empty()) c.fail("watch.exclude", "an empty pattern matches nothing");
  }
  c.range<std::int64_t>("watch.settle_ms", w.settle_ms, 0, 600'000, " ms");
  if (w.rescan_interval_s != 0)
    c.range<std::int64_t>("watch.rescan_interval_s", w.rescan_interval_s, 10, 7 * 86400, " s");
  c.range<std::int64_t>("watch.max_file_bytes", w.max_file_bytes, 1, INT64_MAX);
}

void check_model(Checker& c, const Model& m) {
  static const std::regex k_device(R"(auto|cpu|cuda|cuda:[0-9]{1,2})");
  if (!std::regex_match(m.device, k_device)) {
    c.fail("model.device", fmt::format("\"{}\" is not auto, cpu, cuda or cuda:N", m.device));
  }
  if (m.device == "cpu" && m.precision == Precision::fp16) {
    c.fail("model.precision", "fp16 needs a CUDA device; use fp32 or bf16 on the CPU");
  }
  c.range("model.threads", m.threads, 0, 1024);
  c.range<std::int64_t>("model.keep_versions", m.keep_versions, 0, 10'000);
  for (const auto& label : m.labels) {
    if (label.empty()) {
      c.fail("model.labels", "a label is empty");
      break;
    }
  }
}

// A repository model name is a folder name in the repository.
void check_model_name(Checker& c, const std::string& key, const std::string& name) {
  if (name.empty()) {
    c.fail(key, "must name a model in model.repository");
  } else if (name == "." || name == ".." || name.find('/') != std::string::npos ||
             name.find('\0') != std::string::npos) {
    c.fail(key, fmt::format("\"{}\" is not a folder name in model.repository", name));
  }
}

// model.repository, model.default and [[route]]: routes only make sense with a repository, and
// a repository needs a default for the files no route matches.
void check_routes(Checker& c, const Config& cfg) {
  const Model& m = cfg.model;
  if (m.repository.empty()) {
    if (!m.default_model.empty())
      c.fail("model.default", "needs model.repository (the folder the model is taken from)");
    if (!cfg.routes.empty())
      c.fail("route[1]", "routes need model.repository (the folder their models are taken from)");
    return;
  }
  if (!m.path.empty())
    c.fail("model.path", "model.path and model.repository exclude each other; keep one");
  if (m.default_model.empty()) {
    c.fail("model.repository",
           "needs model.default, the model for files that no [[route]] matches");
  } else {
    check_model_name(c, "model.default", m.default_model);
  }
  for (std::size_t i = 0; i < cfg.routes.size(); ++i) {
    const Route& route = cfg.routes[i];
    const std::string section = fmt::format("route[{}]", i + 1);
    if (route.match.empty()) {
      c.fail(section + ".match", "an empty pattern matches nothing");
    } else if (route.match.front() == '/') {
      c.fail(section + ".match",
             fmt::format("\"{}\": patterns match paths relative to their watch root; drop the "
                         "leading '/'",
                         route.match));
    }
    check_model_name(c, section + ".model", route.model);
  }
}

void check_preprocess(Checker& c, const Preprocess& p) {
  c.range("preprocess.size", p.height, 1, 8192, " px (height)");
  c.range("preprocess.size", p.width, 1, 8192, " px (width)");
  if (p.shorter_side != 0) {
    if (p.shorter_side < std::max(p.height, p.width) || p.shorter_side > 16384) {
      c.fail("preprocess.shorter_side",
             fmt::format("{} must be 0 (= the larger of size) or from {} (the crop) to 16384",
                         p.shorter_side, std::max(p.height, p.width)));
    }
  }
  c.range("preprocess.letterbox_fill", p.letterbox_fill, 0.0, 1.0);
  const std::size_t channels = p.colour == Colour::gray ? 1 : 3;
  const std::string_view colour = p.colour == Colour::gray ? "gray" : "rgb";
  if (p.mean.size() != channels) {
    c.fail("preprocess.mean", fmt::format("needs {} value(s) for colour \"{}\", got {}", channels,
                                          colour, p.mean.size()));
  }
  if (p.std.size() != channels) {
    c.fail("preprocess.std", fmt::format("needs {} value(s) for colour \"{}\", got {}", channels,
                                         colour, p.std.size()));
  }
  for (const double m : p.mean) {
    if (!std::isfinite(m)) {
      c.fail("preprocess.mean", fmt::format("{} is not a finite number", m));
      break;
    }
  }
  for (const double s : p.std) {
    if (!std::isfinite(s)) {
      c.fail("preprocess.std", fmt::format("{} is not a finite number", s));
      break;
    }
    if (!(s > 0.0)) {
      c.fail("preprocess.std",
             fmt::format("{} would divide by zero or flip the sign; every std must be > 0", s));
      break;
    }
  }
  c.range<std::int64_t>("preprocess.max_pixels", p.max_pixels, 1, INT64_MAX);
  c.range<std::int64_t>("preprocess.max_decode_bytes", p.max_decode_bytes, 1 << 20, INT64_MAX,
                        " bytes");
}

void check_rest(Checker& c, const Config& cfg) {
  c.range("postprocess.top_k", cfg.postprocess.top_k, 1, 100'000);
  c.range("batching.max_batch_size", cfg.batching.max_batch_size, 1, 1024);
  c.range<std::int64_t>("batching.max_delay_ms", cfg.batching.max_delay_ms, 0, 10'000, " ms");
  c.range<std::int64_t>("batching.drain_timeout_ms", cfg.batching.drain_timeout_ms, 0, 600'000,
                        " ms");
  const auto& suffix = cfg.results.sidecar_suffix;
  if (suffix.size() < 2 || suffix.front() != '.' || suffix.find('/') != std::string::npos) {
    c.fail("results.sidecar_suffix",
           fmt::format("\"{}\" must start with '.', hold no '/' and not be just \".\"", suffix));
  }
  if (cfg.database.path.empty()) c.fail("database.path", "must not be empty");
  c.range<std::int64_t>("database.retention_days", cfg.database.retention_days, 0, 100 * 365);
  // Under 10 results a window's proportions are mostly noise; the cap bounds memory per version.
  c.range<std::int64_t>("drift.window", cfg.drift.window, 10, 1'000'000);
  c.range<std::int64_t>("drift.reference", cfg.drift.reference, 10, 1'000'000);
  if (const auto hp = util::parse_host_port(cfg.server.listen); !hp)
    c.fail("server.listen", hp.error().message);
  const auto& s = cfg.server;
  c.range("server.threads", s.threads, 1, 256);
  c.range<std::int64_t>("server.max_body_bytes", s.max_body_bytes, 1, 4LL << 30);
  c.range<std::int64_t>("server.max_header_bytes", s.max_header_bytes, 1024, 1 << 20);
  c.range("server.max_connections", s.max_connections, 1, 1'000'000);
  c.range<std::int64_t>("server.idle_timeout_s", s.idle_timeout_s, 1, 86400, " s");
  c.range<std::int64_t>("server.header_timeout_s", s.header_timeout_s, 1, 3600, " s");
  c.range("server.max_ws_clients", s.max_ws_clients, 0, 1'000'000);
  c.range("server.ws_queue_messages", s.ws_queue_messages, 1, 10'000'000);
  c.range<std::int64_t>("server.ws_queue_bytes", s.ws_queue_bytes, 1024, 4LL << 30);
  c.range<std::int64_t>("server.ws_heartbeat_s", s.ws_heartbeat_s, 1, 3600, " s");
  static const std::regex k_level("trace|debug|info|warn|error|critical|off");
  if (!std::regex_match(cfg.log.level, k_level)) {
    c.fail("log.level",
           fmt::format("\"{}\" is not one of trace, debug, info, warn, error, critical, off",
                       cfg.log.level));
  }
}

}  // namespace

std::vector<Problem> validate(const Config& config, const SourceMap& sources) {
  std::vector<Problem> problems;
  Checker c(sources, problems);
  check_watch(c, config.watch);
  check_model(c, config.model);
  check_routes(c, config);
  check_preprocess(c, config.preprocess);
  check_rest(c, config);
  return problems;
}

}  // namespace inferwatch::config
