#include <inferwatch/results/record_builder.hpp>

#include <inferwatch/util/time.hpp>

namespace inferwatch::results {

RecordBuilder::RecordBuilder(const infer::ModelInfo& model,
                             const infer::Postprocessor& postprocessor,
                             config::PostprocessMode mode)
    : m_model(model), m_postprocessor(postprocessor), m_mode(mode) {}

Record RecordBuilder::base(std::string path, const infer::PreparedInput* prepared,
                           Timings timings) const {
  Record r;
  r.path = std::move(path);
  if (prepared) {
    r.sha256 = prepared->sha256;
    if (prepared->size) r.image = ImageSize{prepared->size->first, prepared->size->second};
  }
  r.model_name = m_model.name;
  r.model_version = m_model.version;
  r.timings = timings;
  r.created_at = util::format_utc(std::chrono::system_clock::now());
  return r;
}

Record RecordBuilder::failed(std::string path, const infer::PreparedInput* prepared,
                             util::Error error, Timings timings) const {
  Record r = base(std::move(path), prepared, timings);
  r.error = std::move(error);
  return r;
}

Record RecordBuilder::finished(std::string path, const infer::PreparedInput& prepared,
                               infer::ModelOutput output, Timings timings) const {
  Record r = base(std::move(path), &prepared, timings);
  if (m_mode == config::PostprocessMode::raw)
    r.output = std::move(output.raw);
  else
    r.predictions = m_postprocessor.classify(output.scores);
  return r;
}

}  // namespace inferwatch::results
