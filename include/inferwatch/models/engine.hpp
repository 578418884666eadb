#pragma once

// A loaded model together with the pre- and postprocessing configured for it, and the one path
// from image bytes to a result record that `serve`, `infer`, `bench` and the gate all take:
//
//   bytes ─prepare()─▶ PreparedInput (hash, header, decode, preprocess; any thread)
//   Inputs ─run()─▶ one Model::forward over the prepared ones ─▶ a Record per input, in order
//
// An Engine is what a hot reload swaps as one piece: every work item keeps the Engine it was
// prepared with until its record is built, so a swap never feeds one model's input to another.
// Immutable except for the model's forward; not movable (the builder points into it).

#include <inferwatch/config/config.hpp>
#include <inferwatch/infer/model.hpp>
#include <inferwatch/infer/postprocessor.hpp>
#include <inferwatch/infer/prepared_input.hpp>
#include <inferwatch/infer/preprocessor.hpp>
#include <inferwatch/results/record.hpp>
#include <inferwatch/results/record_builder.hpp>

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace inferwatch::models {

// One image on its way to a record.
struct Input {
  std::string path;  // as the record names it (raw bytes)
  infer::PreparedInput prepared;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();  // total_ms
  double queue_ms = 0;  // waited before its preparation began
};

class Engine {
 public:
  Engine(std::unique_ptr<infer::Model> model, const config::Preprocess& preprocess,
         const config::Postprocess& postprocess);
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Not thread-safe: one caller of forward() at a time (the pipeline's batcher thread).
  infer::Model& model() { return *m_model; }
  const infer::ModelInfo& info() const { return m_model->info(); }
  // CPU threads a forward keeps busy (see CoreBudget): its intra-op threads; none on a GPU.
  int forward_threads() const { return info().device == "cpu" ? info().threads : 0; }
  const infer::Preprocessor& preprocessor() const { return m_preprocessor; }
  const results::RecordBuilder& builder() const { return m_builder; }

  // Hash, decode and preprocess `bytes` for this model. Thread-safe; the CPU-heavy step.
  infer::PreparedInput prepare(std::string_view bytes) const;

  // One forward over the inputs whose preparation succeeded, then every input's record in the
  // order given (an error record for each input that failed to prepare, and for all of them when
  // the forward fails). At most max_batch_size prepared inputs. Not thread-safe (forward).
  std::vector<results::Record> run(std::span<Input* const> inputs);

  // The error record of an input that could not be read or prepared.
  results::Record failed(const Input& input, util::Error error) const;

 private:
  results::Timings timings(const Input& input, double infer_ms) const;

  std::unique_ptr<infer::Model> m_model;
  infer::Preprocessor m_preprocessor;
  infer::Postprocessor m_postprocessor;
  results::RecordBuilder m_builder;
};

}  // namespace inferwatch::models
