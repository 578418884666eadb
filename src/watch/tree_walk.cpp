#include <inferwatch/watch/tree_walk.hpp>

namespace inferwatch::watch {

std::vector<Candidate> list_tree(const std::filesystem::path& root, std::size_t root_index,
                                 bool recursive, const NameFilter& filter) {
  std::vector<Candidate> out;
  std::error_code ec;
  std::filesystem::recursive_directory_iterator it(
      root, std::filesystem::directory_options::skip_permission_denied, ec);
  for (const std::filesystem::recursive_directory_iterator end; !ec && it != end;
       it.increment(ec)) {
    std::error_code type_ec;
    const auto status = it->symlink_status(type_ec);
    if (type_ec) continue;
    if (std::filesystem::is_directory(status)) {
      if (!recursive) it.disable_recursion_pending();
      continue;
    }
    // Symlinks, FIFOs and sockets are candidates too: the pipeline opens every path beneath the
    // root without following anything and gives such entries their error result once.
    const std::string relative = it->path().lexically_relative(root).generic_string();
    if (filter.accepts(relative)) out.push_back(Candidate{root_index, relative, Origin::scan});
  }
  return out;
}

}  // namespace inferwatch::watch
