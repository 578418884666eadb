#pragma once

// Assembles Records from the pipeline's pieces, so `infer`, `scan` and `serve` agree on them.

#include <inferwatch/config/config.hpp>
#include <inferwatch/infer/model_info.hpp>
#include <inferwatch/infer/model_output.hpp>
#include <inferwatch/infer/postprocessor.hpp>
#include <inferwatch/infer/prepared_input.hpp>
#include <inferwatch/results/record.hpp>

namespace inferwatch::results {

class RecordBuilder {
 public:
  // `model` and `postprocessor` must outlive the builder.
  RecordBuilder(const infer::ModelInfo& model, const infer::Postprocessor& postprocessor,
                config::PostprocessMode mode);

  // An error result; `prepared` may be null when the file could not even be read.
  Record failed(std::string path, const infer::PreparedInput* prepared, util::Error error,
                Timings timings) const;

  // A successful result from the model's output for this file.
  Record finished(std::string path, const infer::PreparedInput& prepared, infer::ModelOutput output,
                  Timings timings) const;

 private:
  Record base(std::string path, const infer::PreparedInput* prepared, Timings timings) const;

  const infer::ModelInfo& m_model;
  const infer::Postprocessor& m_postprocessor;
  config::PostprocessMode m_mode;
};

}  // namespace inferwatch::results
