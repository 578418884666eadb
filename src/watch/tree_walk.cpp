#include <inferwatch/watch/tree_walk.hpp>

#include <inferwatch/util/root_dir.hpp>

#include <deque>

namespace inferwatch::watch {

std::vector<Candidate> list_tree(const std::filesystem::path& root, std::size_t root_index,
                                 bool recursive, const NameFilter& filter) {
  std::vector<Candidate> out;
  auto tree = util::RootDir::open(root);
  if (!tree) return out;
  // Each directory is opened beneath the root with no symlink on the way and listed through that
  // descriptor, so a directory swapped for a symlink mid-walk is skipped, never followed.
  std::deque<std::string> dirs{""};
  while (!dirs.empty()) {
    const std::string dir = std::move(dirs.front());
    dirs.pop_front();
    auto fd = tree->open_dir(dir);
    if (!fd) continue;  // gone, unreadable, or no longer a plain directory
    // A listing that fails midway keeps what it found: the walk is best effort, like before.
    (void)util::for_each_entry(fd->get(), [&](const util::DirEntry& e) {
      const std::string relative =
          dir.empty() ? std::string(e.name) : dir + "/" + std::string(e.name);
      if (e.type == util::EntryType::directory) {
        if (recursive) dirs.push_back(relative);
      } else if (filter.accepts(relative)) {
        // Symlinks, FIFOs and sockets too: the pipeline gives each its error result once.
        out.push_back(Candidate{root_index, relative, Origin::scan});
      }
    });
  }
  return out;
}

}  // namespace inferwatch::watch
