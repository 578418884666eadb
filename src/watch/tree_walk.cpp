#include <inferwatch/watch/tree_walk.hpp>

#include <inferwatch/util/root_dir.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
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
    const int own = ::dup(fd->get());
    DIR* listing = own >= 0 ? ::fdopendir(own) : nullptr;
    if (!listing) {
      if (own >= 0) ::close(own);
      continue;
    }
    while (const dirent* e = ::readdir(listing)) {
      const std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      struct stat st {};
      if (::fstatat(fd->get(), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      const std::string relative = dir.empty() ? std::string(name) : dir + "/" + std::string(name);
      if (S_ISDIR(st.st_mode)) {
        if (recursive) dirs.push_back(relative);
      } else if (filter.accepts(relative)) {
        // Symlinks, FIFOs and sockets too: the pipeline gives each its error result once.
        out.push_back(Candidate{root_index, relative, Origin::scan});
      }
    }
    ::closedir(listing);
  }
  return out;
}

}  // namespace inferwatch::watch
