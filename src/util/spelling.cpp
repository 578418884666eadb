#include <inferwatch/util/spelling.hpp>

#include <algorithm>
#include <numeric>
#include <vector>

namespace inferwatch::util {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string closest_match(std::string_view word, std::span<const std::string_view> candidates) {
  // A likely typo: at most half the word's letters off (1 to 3 edits), or a shortened name
  // ("settle" for "settle_ms").
  const std::size_t limit = std::clamp<std::size_t>((word.size() + 1) / 2, 1, 3);
  std::string_view best;
  std::size_t best_distance = limit + 1;
  for (const auto candidate : candidates) {
    const bool prefix =
        word.size() >= 3 && (candidate.starts_with(word) || word.starts_with(candidate));
    const std::size_t d = prefix ? std::min<std::size_t>(limit, edit_distance(word, candidate))
                                 : edit_distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return std::string(best);
}

}  // namespace inferwatch::util
