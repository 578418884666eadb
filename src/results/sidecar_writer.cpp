#include <inferwatch/results/sidecar_writer.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

namespace inferwatch::results {
namespace {

constexpr int k_name_tries = 16;  // fresh random names after a collision

util::Error failure(std::string_view target, std::string_view step, std::string_view why) {
  return util::Error{"sidecar_failed",
                     fmt::format("cannot write sidecar {} ({}): {}", target, step, why)};
}
util::Error failure(std::string_view target, std::string_view step, int err) {
  return failure(target, step, std::strerror(err));
}

std::string random_temp_name() {
  std::uint64_t r = 0;
  if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r)) {
    r = static_cast<std::uint64_t>(::getpid()) ^ static_cast<std::uint64_t>(::time(nullptr));
  }
  return fmt::format("{}{:016x}{}", k_temp_prefix, r, k_temp_suffix);
}

bool write_all(int fd, std::string_view data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Writes all of `data` to `fd` and makes it durable; the errno of the failed step otherwise.
std::pair<std::string_view, int> write_synced(int fd, std::string_view data) {
  if (!write_all(fd, data)) return {"write", errno};
  if (::fsync(fd) != 0) return {"fsync", errno};
  return {"", 0};
}

// The JSON, durable, under a random temp name created O_EXCL|O_NOFOLLOW in `dir`.
util::Result<std::string> write_named_temp(int dir, std::string_view target,
                                           std::string_view data) {
  std::string name;
  int fd = -1;
  for (int i = 0; i < k_name_tries && fd < 0; ++i) {
    name = random_temp_name();
    fd = ::openat(dir, name.c_str(), O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) return failure(target, "create", errno);
  const util::UniqueFd file(fd);
  if (const auto [step, err] = write_synced(file.get(), data); err != 0) {
    ::unlinkat(dir, name.c_str(), 0);
    return failure(target, step, err);
  }
  return name;
}

// The JSON, durable, under a random temp name in `dir`. Returns that name.
util::Result<std::string> write_temp(int dir, std::string_view target, std::string_view data) {
  // Unnamed first: nothing can be planted at a name that does not exist yet. Filesystems without
  // O_TMPFILE (some network mounts) and machines without /proc take the named way.
  const int fd = ::openat(dir, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return write_named_temp(dir, target, data);
  const util::UniqueFd file(fd);
  if (const auto [step, err] = write_synced(file.get(), data); err != 0) {
    return failure(target, step, err);
  }
  // Give it a name: linkat through /proc (AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH).
  const std::string proc = fmt::format("/proc/self/fd/{}", file.get());
  for (int i = 0; i < k_name_tries; ++i) {
    const std::string name = random_temp_name();
    if (::linkat(AT_FDCWD, proc.c_str(), dir, name.c_str(), AT_SYMLINK_FOLLOW) == 0) return name;
    if (errno == ENOENT) return write_named_temp(dir, target, data);  // no /proc
    if (errno != EEXIST) return failure(target, "link", errno);
  }
  return failure(target, "link", EEXIST);
}

// Temp file → target, in `dir`, unless something that is not a regular file holds the target.
util::Result<void> write_one(int dir, std::string_view target_name, std::string_view shown,
                             std::string_view data) {
  const std::string target(target_name);
  struct stat st {};
  if (::fstatat(dir, target.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode)) {
    const auto type = S_ISDIR(st.st_mode)   ? "a directory"
                      : S_ISLNK(st.st_mode) ? "a symbolic link"
                                            : "not a regular file";
    return failure(shown, "target", fmt::format("{} is in the way and is left alone", type));
  }
  auto temp = write_temp(dir, shown, data);
  if (!temp) return temp.error();
  // rename replaces the entry (even one swapped in since the check) and never follows it.
  if (::renameat(dir, temp->c_str(), dir, target.c_str()) != 0) {
    const int err = errno;
    ::unlinkat(dir, temp->c_str(), 0);
    return failure(shown, "rename", err);
  }
  return {};
}

// Split "a/b/c.json" into ("a/b", "c.json").
std::pair<std::string, std::string> split_parent(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return {"", path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

// Depth-first over directories reached by descriptor only; symlinks are never followed.
std::size_t remove_in(int dir_fd, int depth) {
  constexpr int k_max_depth = 256;
  if (depth > k_max_depth) return 0;
  std::size_t removed = 0;
  std::vector<std::string> subdirs;
  const uid_t self = ::geteuid();
  (void)util::for_each_entry(dir_fd, [&](const util::DirEntry& e) {
    if (e.type == util::EntryType::directory) {
      subdirs.emplace_back(e.name);
    } else if (e.type == util::EntryType::regular && is_temp_name(e.name) && e.owner == self) {
      if (::unlinkat(dir_fd, std::string(e.name).c_str(), 0) == 0) ++removed;
    }
  });
  for (const auto& sub : subdirs) {
    const int fd = ::openat(dir_fd, sub.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    const util::UniqueFd child(fd);
    removed += remove_in(child.get(), depth + 1);
  }
  return removed;
}

}  // namespace

bool is_temp_name(std::string_view name) {
  if (name.size() != k_temp_prefix.size() + 16 + k_temp_suffix.size()) return false;
  if (!name.starts_with(k_temp_prefix) || !name.ends_with(k_temp_suffix)) return false;
  const auto hex = name.substr(k_temp_prefix.size(), 16);
  return hex.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::vector<util::Result<void>> write_sidecars(std::span<const SidecarWrite> writes) {
  std::vector<util::Result<void>> out;
  out.reserve(writes.size());
  // One descriptor per directory for the batch: created in, then fsynced once.
  std::map<std::pair<const util::RootDir*, std::string>, util::Result<util::UniqueFd>> dirs;
  std::vector<decltype(dirs)::iterator> dir_of;
  for (const auto& w : writes) {
    auto [parent, name] = split_parent(w.path);
    auto it = dirs.find({w.root, parent});
    if (it == dirs.end()) {
      it = dirs.emplace(std::make_pair(w.root, parent), w.root->open_dir(parent)).first;
    }
    dir_of.push_back(it);
    if (!it->second) {
      out.push_back(failure(w.path, "open directory", it->second.error().message));
      continue;
    }
    out.push_back(write_one(it->second->get(), name, w.path, w.json));
  }
  // The renames are durable once their directories are synced; a failed sync fails them all.
  for (auto& [key, dir] : dirs) {
    if (!dir || ::fsync(dir->get()) == 0) continue;
    const int err = errno;
    if (err == EINVAL) continue;  // this filesystem cannot sync a directory: nothing to wait for
    for (std::size_t i = 0; i < writes.size(); ++i) {
      if (dir_of[i]->first == key && out[i].ok())
        out[i] = failure(writes[i].path, "fsync directory", err);
    }
  }
  return out;
}

std::size_t remove_stale_temp_files(const util::RootDir& root) {
  auto dir = root.open_dir("");
  if (!dir) return 0;
  return remove_in(dir->get(), 0);
}

}  // namespace inferwatch::results
