#include <inferwatch/util/path_within.hpp>

#include <algorithm>

namespace inferwatch::util {

bool path_within(const std::filesystem::path& path, const std::filesystem::path& tree) {
  std::error_code ec1, ec2;
  const auto p = std::filesystem::weakly_canonical(path, ec1);
  const auto t = std::filesystem::canonical(tree, ec2);
  if (ec1 || ec2) return false;
  const auto [tree_end, _] = std::mismatch(t.begin(), t.end(), p.begin(), p.end());
  return tree_end == t.end();
}

}  // namespace inferwatch::util
