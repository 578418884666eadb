#include <inferwatch/models/engine.hpp>

#include <inferwatch/util/time.hpp>

namespace inferwatch::models {

using Clock = std::chrono::steady_clock;

Engine::Engine(std::unique_ptr<infer::Model> model, const config::Preprocess& preprocess,
               const config::Postprocess& postprocess)
    : m_model(std::move(model)),
      m_preprocessor(preprocess),
      m_postprocessor(postprocess, m_model->info().labels),
      m_builder(m_model->info(), m_postprocessor, postprocess.mode) {}

infer::PreparedInput Engine::prepare(std::string_view bytes) const {
  return infer::prepare_input(bytes, m_preprocessor);
}

results::Timings Engine::timings(const Input& input, double infer_ms) const {
  results::Timings t;
  t.queue_ms = input.queue_ms;
  t.decode_ms = input.prepared.decode_ms;
  t.infer_ms = infer_ms;
  t.total_ms = util::ms_between(input.started, Clock::now());
  return t;
}

std::vector<results::Record> Engine::run(std::span<Input* const> inputs) {
  std::vector<const infer::InputTensor*> batch;
  batch.reserve(inputs.size());
  for (const Input* input : inputs) {
    if (input->prepared.input) batch.push_back(&input->prepared.input.value());
  }
  util::Result<std::vector<infer::ModelOutput>> outputs = std::vector<infer::ModelOutput>{};
  double infer_ms = 0;
  if (!batch.empty()) {
    const auto started = Clock::now();
    outputs = m_model->forward(batch);
    infer_ms = util::ms_between(started, Clock::now());
  }
  std::vector<results::Record> records;
  records.reserve(inputs.size());
  std::size_t next = 0;  // the next output, in the order of `batch`
  for (Input* input : inputs) {
    if (!input->prepared.input) {
      records.push_back(failed(*input, input->prepared.input.error()));
      continue;
    }
    const results::Timings t = timings(*input, infer_ms);
    records.push_back(
        outputs ? m_builder.finished(input->path, input->prepared, std::move((*outputs)[next]), t)
                : m_builder.failed(input->path, &input->prepared, outputs.error(), t));
    ++next;
  }
  return records;
}

results::Record Engine::failed(const Input& input, util::Error error) const {
  // A file that could not be read has no hash yet: its record then carries no image facts.
  const infer::PreparedInput* prepared = input.prepared.sha256.empty() ? nullptr : &input.prepared;
  return m_builder.failed(input.path, prepared, std::move(error), timings(input, 0));
}

}  // namespace inferwatch::models
