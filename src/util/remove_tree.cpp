#include <inferwatch/util/remove_tree.hpp>

#include <inferwatch/util/root_dir.hpp>
#include <inferwatch/util/unique_fd.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <vector>

namespace inferwatch::util {
namespace {

constexpr int k_max_depth = 256;

Error failed(const std::string& shown, const char* what, int err) {
  return Error{"remove_failed", fmt::format("cannot {} {}: {}", what, shown, std::strerror(err))};
}

// `shown` is `name` beneath the first parent, for messages.
Result<void> remove_at(int parent, const std::string& name, const std::string& shown, int depth) {
  // O_DIRECTORY fails before anything is opened when the entry is not a directory (a FIFO is
  // never opened, a symlink never followed); only then is it unlinked as a file.
  const UniqueFd dir(
      ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!dir) {
    const int err = errno;
    if (err == ENOENT) return {};
    if (err != ENOTDIR && err != ELOOP) return failed(shown, "open", err);
    if (::unlinkat(parent, name.c_str(), 0) != 0 && errno != ENOENT) {
      return failed(shown, "remove", errno);
    }
    return {};
  }
  if (depth >= k_max_depth) {
    return Error{"too_deep", fmt::format("{} is more than {} levels deep", shown, k_max_depth)};
  }
  // A writer may add entries while we remove; a few rounds catch up with a slow one.
  for (int round = 0;; ++round) {
    // Names first, then removal: unlinking while readdir runs may skip entries.
    std::vector<std::string> names;
    if (auto listed =
            for_each_entry(dir.get(), [&](const DirEntry& e) { names.emplace_back(e.name); });
        !listed) {
      return Error{"remove_failed", fmt::format("{}: {}", shown, listed.error().message)};
    }
    for (const std::string& child : names) {
      if (auto removed = remove_at(dir.get(), child, shown + "/" + child, depth + 1); !removed) {
        return removed;
      }
    }
    if (::unlinkat(parent, name.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) return {};
    if (errno != ENOTEMPTY || round == 3) return failed(shown, "remove", errno);
  }
}

}  // namespace

Result<void> remove_tree_at(int parent, const std::string& name) {
  return remove_at(parent, name, name, 0);
}

}  // namespace inferwatch::util
