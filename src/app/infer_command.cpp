#include <inferwatch/app/infer_command.hpp>

#include <inferwatch/app/daemon_parts.hpp>
#include <inferwatch/models/infer_files.hpp>
#include <inferwatch/util/json_text.hpp>

#include <spdlog/spdlog.h>

#include <iostream>

namespace inferwatch::app {

int infer_command(const config::Config& config, const InferOptions& options) {
  auto engine = load_engine(config, spdlog::level::debug);
  if (!engine) {
    spdlog::error("{}", engine.error().message);
    return 2;
  }
  std::size_t failures = 0;
  models::infer_files(
      **engine, options.images, config.watch.max_file_bytes,
      static_cast<std::size_t>(config.batching.max_batch_size), [&](const results::Record& record) {
        if (!record.ok()) {
          ++failures;
          spdlog::warn("{}: {}: {}", record.path, record.error->code, record.error->message);
        }
        std::cout << util::to_json_text(results::to_json(record)) << '\n';
      });
  std::cout.flush();
  return failures == 0 ? 0 : 1;
}

}  // namespace inferwatch::app
