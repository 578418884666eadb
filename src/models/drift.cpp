#include <inferwatch/models/drift.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <optional>
#include <string>

namespace inferwatch::models {

DriftSample drift_sample(int label_index, double score) {
  DriftSample s;
  s.label_bin =
      std::min<std::size_t>(static_cast<std::size_t>(std::max(label_index, 0)), k_label_bins);
  const double clamped = std::isfinite(score) ? std::clamp(score, 0.0, 1.0) : 0.0;
  s.score_bin =
      std::min<std::size_t>(static_cast<std::size_t>(clamped * k_score_bins), k_score_bins - 1);
  return s;
}

void DriftHistogram::add(DriftSample sample) {
  ++labels[sample.label_bin];
  ++scores[sample.score_bin];
  ++total;
}

void DriftHistogram::remove(DriftSample sample) {
  assert(labels[sample.label_bin] > 0 && scores[sample.score_bin] > 0 && total > 0);
  --labels[sample.label_bin];
  --scores[sample.score_bin];
  --total;
}

double population_stability_index(std::span<const std::uint64_t> expected,
                                  std::span<const std::uint64_t> actual, double pseudo) {
  assert(expected.size() == actual.size());
  // Only bins where something was seen are compared: a bin empty on both sides would otherwise
  // add a term from the pseudo count alone whenever the two sides differ in size.
  double bins = 0;
  std::uint64_t expected_seen = 0, actual_seen = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (expected[i] == 0 && actual[i] == 0) continue;
    expected_seen += expected[i];
    actual_seen += actual[i];
    ++bins;
  }
  if (expected_seen == 0 || actual_seen == 0) return 0;
  const double expected_total = static_cast<double>(expected_seen) + pseudo * bins;
  const double actual_total = static_cast<double>(actual_seen) + pseudo * bins;
  double psi = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (expected[i] == 0 && actual[i] == 0) continue;
    const double e = (static_cast<double>(expected[i]) + pseudo) / expected_total;
    const double a = (static_cast<double>(actual[i]) + pseudo) / actual_total;
    psi += (a - e) * std::log(a / e);
  }
  return psi;
}

DriftScore drift_score(const DriftHistogram& reference, const DriftHistogram& window) {
  return DriftScore{population_stability_index(reference.labels, window.labels),
                    population_stability_index(reference.scores, window.scores)};
}

DriftWindow::DriftWindow(std::size_t capacity) : m_ring(std::max<std::size_t>(capacity, 1)) {}

void DriftWindow::add(DriftSample sample) {
  if (full()) m_histogram.remove(m_ring[m_next]);
  m_ring[m_next] = sample;
  m_histogram.add(sample);
  m_next = (m_next + 1) % m_ring.size();
}

boost::json::value to_json(const DriftHistogram& h) {
  boost::json::object labels;
  for (std::size_t i = 0; i < h.labels.size(); ++i) {
    if (h.labels[i] > 0) labels[std::to_string(i)] = h.labels[i];
  }
  boost::json::array scores;
  for (const auto count : h.scores) scores.push_back(count);
  return boost::json::object{
      {"total", h.total}, {"labels", std::move(labels)}, {"scores", std::move(scores)}};
}

util::Result<DriftHistogram> drift_histogram_from_json(const boost::json::value& json) {
  const util::Error invalid{"invalid_drift_histogram", "not a stored drift histogram"};
  const auto* object = json.if_object();
  if (!object) return invalid;
  const auto* total = object->if_contains("total");
  const auto* labels = object->if_contains("labels");
  const auto* scores = object->if_contains("scores");
  if (!total || !labels || !scores || !labels->is_object() || !scores->is_array()) return invalid;
  const auto count = [](const boost::json::value& v) -> std::optional<std::uint64_t> {
    if (v.is_uint64()) return v.get_uint64();
    if (v.is_int64() && v.get_int64() >= 0) return static_cast<std::uint64_t>(v.get_int64());
    return std::nullopt;
  };
  DriftHistogram h;
  const auto n = count(*total);
  if (!n) return invalid;
  h.total = *n;
  std::uint64_t label_sum = 0, score_sum = 0;
  for (const auto& [key, value] : labels->get_object()) {
    std::size_t bin = 0;
    try {
      std::size_t used = 0;
      bin = std::stoul(std::string(key), &used);
      if (used != key.size()) return invalid;
    } catch (const std::exception&) {
      return invalid;
    }
    const auto c = count(value);
    if (bin > k_label_bins || !c) return invalid;
    h.labels[bin] = *c;
    label_sum += *c;
  }
  const auto& array = scores->get_array();
  if (array.size() != k_score_bins) return invalid;
  for (std::size_t i = 0; i < k_score_bins; ++i) {
    const auto c = count(array[i]);
    if (!c) return invalid;
    h.scores[i] = *c;
    score_sum += *c;
  }
  if (label_sum != h.total || score_sum != h.total) return invalid;
  return h;
}

}  // namespace inferwatch::models
