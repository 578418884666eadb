#include <inferwatch/app/config_options.hpp>

#include <algorithm>

namespace inferwatch::app {

config::Loaded load_config(const ConfigOptions& options) {
  config::Loaded loaded =
      options.file.empty() ? config::load_defaults() : config::load_file(options.file);
  const bool overridden = !options.watch.empty() || options.listen || options.model;
  if (!overridden) return loaded;

  config::Config& c = loaded.config;
  const auto absolute = [](const std::filesystem::path& p) {
    return std::filesystem::absolute(p).lexically_normal();
  };
  if (!options.watch.empty()) {
    c.watch.paths.clear();
    for (const auto& p : options.watch) c.watch.paths.push_back(absolute(p));
  }
  if (options.listen) c.server.listen = *options.listen;
  if (options.model) {
    c.model.path = absolute(*options.model);
    c.model.name.clear();  // a different model: its own name, not the file's
  }
  // Values from flags are reported as "command line"; re-validate without duplicating problems.
  config::SourceMap flags = loaded.sources;
  if (!options.watch.empty()) flags.positions.erase("watch.paths");
  if (options.listen) flags.positions.erase("server.listen");
  for (auto& problem : config::validate(c, flags)) {
    const bool from_flag = (problem.key == "watch.paths" && !options.watch.empty()) ||
                           (problem.key == "server.listen" && options.listen);
    if (from_flag) {
      problem.file = "command line";
      problem.line = problem.column = 0;
    }
    const bool seen =
        std::any_of(loaded.problems.begin(), loaded.problems.end(), [&](const config::Problem& p) {
          return p.key == problem.key && p.message == problem.message;
        });
    if (!seen) loaded.problems.push_back(std::move(problem));
  }
  return loaded;
}

}  // namespace inferwatch::app
