#pragma once

// A loaded model together with the pre- and postprocessing configured for it: what a hot reload
// swaps as one piece. Every work item keeps the Engine it was decoded with until its result is
// built, so a swap never feeds one model's input to another, and an in-flight batch finishes on
// the model it started with. Immutable except for forward(); not movable (the builder points
// into it).

#include <inferwatch/config/config.hpp>
#include <inferwatch/infer/model.hpp>
#include <inferwatch/infer/postprocessor.hpp>
#include <inferwatch/infer/preprocessor.hpp>
#include <inferwatch/results/record_builder.hpp>

#include <memory>

namespace inferwatch::pipeline {

class Engine {
 public:
  Engine(std::unique_ptr<infer::Model> model, const config::Preprocess& preprocess,
         const config::Postprocess& postprocess)
      : m_model(std::move(model)),
        m_preprocessor(preprocess),
        m_postprocessor(postprocess, m_model->info().labels),
        m_builder(m_model->info(), m_postprocessor, postprocess.mode) {}
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Not thread-safe: the pipeline calls it from the batcher thread only.
  infer::Model& model() { return *m_model; }
  const infer::ModelInfo& info() const { return m_model->info(); }
  // CPU threads a forward keeps busy (see CoreBudget): its intra-op threads; none on a GPU.
  int forward_threads() const { return info().device == "cpu" ? info().threads : 0; }
  const infer::Preprocessor& preprocessor() const { return m_preprocessor; }
  const results::RecordBuilder& builder() const { return m_builder; }

 private:
  std::unique_ptr<infer::Model> m_model;
  infer::Preprocessor m_preprocessor;
  infer::Postprocessor m_postprocessor;
  results::RecordBuilder m_builder;
};

}  // namespace inferwatch::pipeline
