#include <inferwatch/app/check_command.hpp>

#include <inferwatch/app/server_access.hpp>
#include <inferwatch/config/printer.hpp>
#include <inferwatch/infer/torch_model.hpp>
#include <inferwatch/store/probe.hpp>

#include <fmt/format.h>

#include <unistd.h>
#include <iostream>

namespace inferwatch::app {
namespace {

// Problems outside the config's own values: files, directories, the network address.
void check_environment(const config::Config& c, std::vector<std::string>& problems) {
  for (const auto& root : c.watch.paths) {
    std::error_code ec;
    if (!std::filesystem::exists(root, ec)) continue;  // serve creates missing roots
    if (!std::filesystem::is_directory(root, ec)) {
      problems.push_back(fmt::format("watch.paths: {} is not a directory", root.string()));
    } else if (::access(root.c_str(), R_OK | X_OK) != 0) {
      problems.push_back(
          fmt::format("watch.paths: {} is not readable by this user", root.string()));
    }
  }
  if (auto db = store::probe_database(c.database.path); !db) {
    problems.push_back(fmt::format("database.path: {}", db.error().message));
  }
  if (auto token = read_token(c.server); !token) problems.push_back(token.error().message);
  if (auto exposure = check_exposure(c.server); !exposure)
    problems.push_back(exposure.error().message);
}

}  // namespace

int check_command(const config::Loaded& loaded, const CheckOptions& options) {
  std::vector<std::string> problems;
  for (const auto& p : loaded.problems) problems.push_back(p.to_string());
  if (options.print_config) std::cout << config::to_toml(loaded.config);

  if (loaded.problems.empty()) {
    check_environment(loaded.config, problems);
    auto model = infer::load_torch_model(loaded.config);
    if (!model) {
      problems.push_back(fmt::format("model: {}", model.error().message));
    } else if (problems.empty()) {
      const auto& info = (*model)->info();
      std::cerr << fmt::format(
          "ok: config {}; model {} ({} labels) on {} with {} thread(s), loaded in {:.0f} ms, "
          "warmed up in {:.0f} ms\n",
          loaded.config.source.empty() ? "defaults" : loaded.config.source.string(), info.version,
          info.labels.size(), info.device, info.threads, info.load_ms, info.warmup_ms);
    }
  }
  if (problems.empty()) return 0;
  std::cerr << fmt::format("{} problem(s) found:\n", problems.size());
  for (const auto& p : problems) std::cerr << "  " << p << '\n';
  return 1;
}

}  // namespace inferwatch::app
