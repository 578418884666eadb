#include <inferwatch/app/scan_command.hpp>

#include <inferwatch/app/daemon_parts.hpp>
#include <inferwatch/pipeline/pipeline.hpp>
#include <inferwatch/watch/tree_walk.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <unistd.h>
#include <cstdlib>
#include <thread>

namespace inferwatch::app {

int scan_command(const config::Config& config, const std::filesystem::path& dir) {
  const auto root = std::filesystem::absolute(dir).lexically_normal();
  auto parts = open_daemon_parts(config, {root});
  if (!parts) {
    spdlog::critical("cannot scan: {}", parts.error().message);
    return 2;
  }
  const watch::NameFilter filter(config.watch.include, config.watch.exclude,
                                 config.results.sidecar_suffix);
  auto candidates = watch::list_tree(root, 0, config.watch.recursive, filter);
  const std::size_t total = candidates.size();

  pipeline::Pipeline pipeline(
      config, parts->roots,
      {.store = *parts->database, .engine = parts->engine, .registry = parts->registry.get()});
  pipeline.start();
  pipeline.add(std::move(candidates));

  const bool tty = ::isatty(STDERR_FILENO) == 1;
  const auto started = std::chrono::steady_clock::now();
  // Give the store thread a moment to take the candidates before asking whether it is idle.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  while (!pipeline.idle()) {
    if (tty) {
      const auto s = pipeline.stats();
      fmt::print(stderr, "\r{} files: {} done, {} errors, {} queued ", total, s.ok + s.errors,
                 s.errors, s.pending + s.settling);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const bool clean = pipeline.stop(std::chrono::milliseconds(config.batching.drain_timeout_ms));
  const auto s = pipeline.stats();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (tty) fmt::print(stderr, "\r\033[K");
  fmt::print(stderr,
             "scanned {}: {} image(s), {} processed ({} ok, {} error), {} already had a result, "
             "{:.1f} s\n",
             root.string(), total, s.ok + s.errors, s.ok, s.errors,
             total - std::min<std::uint64_t>(total, s.ok + s.errors), seconds);
  const int code = s.errors == 0 ? 0 : 1;
  if (!clean) std::_Exit(code);  // threads still use the pipeline: leave without destructors
  return code;
}

}  // namespace inferwatch::app
