#include <inferwatch/infer/postprocessor.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace inferwatch::infer {

bool is_probability_distribution(std::span<const float> scores) {
  double sum = 0;
  for (const float s : scores) {
    if (!(s >= 0.0f && s <= 1.0f)) return false;
    sum += s;
  }
  return std::abs(sum - 1.0) <= 1e-3;
}

Postprocessor::Postprocessor(config::Postprocess options, std::vector<std::string> labels)
    : m_options(options), m_labels(std::move(labels)) {}

std::vector<Prediction> Postprocessor::classify(std::span<const float> scores) const {
  std::vector<double> p(scores.begin(), scores.end());
  const bool softmax =
      m_options.softmax == config::Softmax::yes ||
      (m_options.softmax == config::Softmax::auto_detect && !is_probability_distribution(scores));
  if (softmax && !p.empty()) {
    const double max = *std::max_element(p.begin(), p.end());
    double sum = 0;
    for (double& v : p) sum += (v = std::exp(v - max));
    for (double& v : p) v /= sum;
  }

  std::vector<int> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  const auto k = std::min<std::size_t>(static_cast<std::size_t>(m_options.top_k), order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                    [&](int a, int b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });

  std::vector<Prediction> out;
  out.reserve(k);
  for (std::size_t i = 0; i < k; ++i) {
    const int index = order[i];
    std::string label = static_cast<std::size_t>(index) < m_labels.size()
                            ? m_labels[index]
                            : "class_" + std::to_string(index);
    out.push_back(Prediction{std::move(label), index, p[index]});
  }
  return out;
}

}  // namespace inferwatch::infer
