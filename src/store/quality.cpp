#include <inferwatch/store/quality.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace inferwatch::store {
namespace {

std::optional<double> ratio(std::int64_t over, std::int64_t under) {
  if (under <= 0) return std::nullopt;
  return static_cast<double>(over) / static_cast<double>(under);
}

}  // namespace

Quality compute_quality(std::span<const LabelPair> pairs,
                        std::span<const std::string> label_order) {
  Quality q;
  std::map<std::string, std::size_t> index;
  for (const auto& label : label_order) {
    if (index.emplace(label, q.labels.size()).second) q.labels.push_back(label);
  }
  std::set<std::string> extra;
  for (const auto& p : pairs) {
    for (const auto* label : {&p.predicted, &p.given}) {
      if (!index.contains(*label)) extra.insert(*label);
    }
  }
  for (const auto& label : extra) {
    index.emplace(label, q.labels.size());
    q.labels.push_back(label);
  }

  const std::size_t n = q.labels.size();
  q.confusion.assign(n, std::vector<std::int64_t>(n, 0));
  for (const auto& p : pairs) {
    ++q.confusion[index.at(p.predicted)][index.at(p.given)];
  }
  q.count = static_cast<std::int64_t>(pairs.size());
  q.per_label.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    LabelQuality& l = q.per_label[i];
    l.label = q.labels[i];
    l.correct = q.confusion[i][i];
    for (std::size_t j = 0; j < n; ++j) {
      l.predicted += q.confusion[i][j];
      l.support += q.confusion[j][i];
    }
    l.precision = ratio(l.correct, l.predicted);
    l.recall = ratio(l.correct, l.support);
    q.correct += l.correct;
  }
  q.accuracy = ratio(q.correct, q.count);
  return q;
}

}  // namespace inferwatch::store
