#include <inferwatch/app/feedback_quality.hpp>

#include <inferwatch/models/registry.hpp>
#include <inferwatch/store/quality.hpp>

#include <spdlog/spdlog.h>

#include <utility>

namespace inferwatch::app {
namespace {

// "<model>@<version>" as its two parts; the whole as the model when there is no '@'.
std::pair<std::string, std::string> split(const std::string& model_version) {
  const auto at = model_version.rfind('@');
  if (at == std::string::npos) return {model_version, {}};
  return {model_version.substr(0, at), model_version.substr(at + 1)};
}

}  // namespace

FeedbackQuality::FeedbackQuality(store::FeedbackStore& store, metrics::Metrics& metrics,
                                 models::Registry* registry)
    : m_store(store), m_metrics(metrics), m_registry(registry) {}

void FeedbackQuality::refresh_all() {
  const auto versions = m_store.versions_with_feedback();
  if (!versions) {
    spdlog::warn("feedback metrics: {}", versions.error().message);
    return;
  }
  for (const auto& model_version : *versions) {
    const auto [model, version] = split(model_version);
    refresh(model, version);
  }
}

void FeedbackQuality::recorded(const std::string& model_version, const store::FeedbackRow& row) {
  const auto [model, version] = split(model_version);
  m_metrics.feedback_recorded(model, version, row.label == row.predicted_label);
  refresh(model, version);
}

void FeedbackQuality::refresh(const std::string& model, const std::string& version) {
  const auto pairs = m_store.label_pairs(model, version, std::nullopt);
  if (!pairs) {
    spdlog::warn("feedback metrics of {}@{}: {}", model, version, pairs.error().message);
    return;
  }
  // Labels sorted: the metrics need no order, and only labels with feedback or predictions.
  const store::Quality q = store::compute_quality(*pairs, {});
  std::vector<metrics::Metrics::LabelRatios> labels;
  labels.reserve(q.per_label.size());
  for (const auto& l : q.per_label) labels.push_back({l.label, l.precision, l.recall});
  m_metrics.feedback_quality(model, version, q.correct, q.count - q.correct, labels);
  if (m_registry) m_registry->observe_feedback(model, version, q.count, q.correct);
}

}  // namespace inferwatch::app
