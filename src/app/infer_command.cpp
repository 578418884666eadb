#include <inferwatch/app/infer_command.hpp>

#include <inferwatch/infer/postprocessor.hpp>
#include <inferwatch/infer/prepared_input.hpp>
#include <inferwatch/infer/torch_model.hpp>
#include <inferwatch/results/record_builder.hpp>
#include <inferwatch/util/file.hpp>
#include <inferwatch/util/json_text.hpp>
#include <inferwatch/util/time.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <iostream>

namespace inferwatch::app {
namespace {

using Clock = std::chrono::steady_clock;

struct Pending {
  std::string path;
  Clock::time_point started;
  infer::PreparedInput prepared;
};

}  // namespace

int infer_command(const config::Config& config, const InferOptions& options) {
  auto model = infer::load_torch_model(config);
  if (!model) {
    spdlog::error("{}", model.error().message);
    return 2;
  }
  const infer::ModelInfo& info = (*model)->info();
  spdlog::debug("model {} on {} loaded in {:.0f} ms, warmed up in {:.0f} ms", info.version,
                info.device, info.load_ms, info.warmup_ms);
  const infer::Preprocessor preprocessor(config.preprocess);
  const infer::Postprocessor postprocessor(config.postprocess, info.labels);
  const results::RecordBuilder builder(info, postprocessor, config.postprocess.mode);

  std::size_t failures = 0;
  const auto emit = [&](const results::Record& record) {
    if (!record.ok()) {
      ++failures;
      spdlog::warn("{}: {}: {}", record.path, record.error->code, record.error->message);
    }
    std::cout << util::to_json_text(results::to_json(record)) << '\n';
  };

  const std::size_t batch_size = static_cast<std::size_t>(config.batching.max_batch_size);
  for (std::size_t first = 0; first < options.images.size(); first += batch_size) {
    const std::size_t last = std::min(options.images.size(), first + batch_size);
    // Decode the chunk, then run the decodable ones as one batch; print in the order given.
    std::vector<std::optional<results::Record>> done(last - first);
    std::vector<Pending> pending;
    for (std::size_t i = first; i < last; ++i) {
      const std::string path = options.images[i].string();
      const auto started = Clock::now();
      auto bytes = util::read_file(options.images[i], config.watch.max_file_bytes);
      if (!bytes) {
        done[i - first] = builder.failed(path, nullptr, bytes.error(), {});
        continue;
      }
      auto prepared = infer::prepare_input(*bytes, preprocessor);
      if (!prepared.input) {
        const results::Timings t{0, prepared.decode_ms, 0, util::ms_between(started, Clock::now())};
        done[i - first] = builder.failed(path, &prepared, prepared.input.error(), t);
        continue;
      }
      pending.push_back(Pending{path, started, std::move(prepared)});
    }

    std::vector<const infer::InputTensor*> batch;
    for (const auto& p : pending) batch.push_back(&p.prepared.input.value());
    const auto infer_start = Clock::now();
    auto outputs = (*model)->forward(batch);
    const double infer_ms = util::ms_between(infer_start, Clock::now());
    std::size_t next = 0;
    for (auto& slot : done) {
      if (slot) continue;
      Pending& p = pending[next];
      results::Timings t{0, p.prepared.decode_ms, infer_ms, 0};
      t.total_ms = util::ms_between(p.started, Clock::now());
      slot = outputs ? builder.finished(p.path, p.prepared, std::move((*outputs)[next]), t)
                     : builder.failed(p.path, &p.prepared, outputs.error(), t);
      ++next;
    }
    for (const auto& record : done) emit(*record);
  }
  std::cout.flush();
  return failures == 0 ? 0 : 1;
}

}  // namespace inferwatch::app
