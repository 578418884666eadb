#include "out_dir.hpp"

#include <inferwatch/dataset/names.hpp>
#include <inferwatch/util/file.hpp>
#include <inferwatch/util/root_dir.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <vector>

namespace inferwatch::dataset {
namespace {

constexpr const char* k_lock_name = ".inferwatch-export.lock";

util::Error failed(std::string_view what, std::string_view name, int err) {
  return util::Error{"write_failed",
                     fmt::format("cannot {} {}: {}", what, name, std::strerror(err))};
}

bool safe_component(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

// Write all of `bytes` to `fd`.
bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Remove the temp files an interrupted run left in the folder `dir`.
void remove_temps(int dir) {
  std::vector<std::string> temps;
  (void)util::for_each_entry(dir, [&](const util::DirEntry& e) {
    if (e.type == util::EntryType::regular && is_temp_name(e.name)) temps.emplace_back(e.name);
  });
  for (const auto& name : temps) ::unlinkat(dir, name.c_str(), 0);
}

}  // namespace

util::Result<OutDir> OutDir::open(const std::filesystem::path& out) {
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec) {
    return util::Error{"out_unusable",
                       fmt::format("cannot create {}: {}", out.string(), ec.message())};
  }
  const int fd = ::open(out.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return util::Error{"out_unusable",
                       fmt::format("cannot open {}: {}", out.string(), std::strerror(errno))};
  }
  util::UniqueFd dir(fd);
  const int lock_fd =
      ::openat(dir.get(), k_lock_name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (lock_fd < 0) {
    return util::Error{"out_unusable", fmt::format("cannot create {}/{}: {}", out.string(),
                                                   k_lock_name, std::strerror(errno))};
  }
  util::UniqueFd lock(lock_fd);
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    return util::Error{"export_running",
                       fmt::format("another export is writing {} (it holds {}); wait for it",
                                   out.string(), k_lock_name)};
  }
  (void)util::for_each_entry(dir.get(), [&](const util::DirEntry& e) {
    if (e.type != util::EntryType::directory) return;
    const int sub = ::openat(dir.get(), std::string(e.name).c_str(),
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) return;
    const util::UniqueFd folder(sub);
    remove_temps(folder.get());
  });
  return OutDir(out, std::move(dir), std::move(lock));
}

util::Result<int> OutDir::folder(std::string_view name) {
  if (const auto it = m_folders.find(name); it != m_folders.end()) return it->second.get();
  if (!safe_component(name)) {
    return util::Error{"write_failed", fmt::format("{} is not a folder name", name)};
  }
  const std::string n(name);
  if (::mkdirat(m_fd.get(), n.c_str(), 0755) != 0 && errno != EEXIST) {
    return failed("create the folder", n, errno);
  }
  const int fd = ::openat(m_fd.get(), n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ELOOP || err == ENOTDIR) {
      return util::Error{"write_failed",
                         fmt::format("{}/{} is not a folder (a symlink or a file is in the way; "
                                     "symlinks in the export are not followed)",
                                     m_path.string(), n)};
    }
    return failed("open the folder", n, err);
  }
  const int got = fd;
  m_folders.emplace(n, util::UniqueFd(fd));
  return got;
}

std::optional<std::pair<util::UniqueFd, std::string>> OutDir::locate(std::string_view file) const {
  const auto slash = file.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string folder(file.substr(0, slash));
  std::string name(file.substr(slash + 1));
  if (!safe_component(folder) || !safe_component(name)) return std::nullopt;
  const int fd =
      ::openat(m_fd.get(), folder.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  return std::pair{util::UniqueFd(fd), std::move(name)};
}

bool OutDir::has_file(std::string_view file) const {
  const auto at = locate(file);
  if (!at) return false;
  struct stat st {};
  return ::fstatat(at->first.get(), at->second.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
         S_ISREG(st.st_mode);
}

util::Result<void> OutDir::link(int source, int dir, std::string_view name) {
  const std::string final_name(name);
  const std::string temp = temp_name(name);
  const std::string proc = fmt::format("/proc/self/fd/{}", source);
  ::unlinkat(dir, temp.c_str(), 0);
  if (::linkat(AT_FDCWD, proc.c_str(), dir, temp.c_str(), AT_SYMLINK_FOLLOW) != 0) {
    const int err = errno;
    // EXDEV: another file system. EPERM/EACCES: protected_hardlinks (a file the exporting user
    // does not own). ENOENT: no /proc. EMLINK: the file has too many links already.
    if (err == EXDEV || err == EPERM || err == EACCES || err == ENOENT || err == EMLINK ||
        err == EOPNOTSUPP) {
      return util::Error{"link_unsupported", std::strerror(err)};
    }
    return failed("link", final_name, err);
  }
  if (::renameat(dir, temp.c_str(), dir, final_name.c_str()) != 0) {
    const int err = errno;
    ::unlinkat(dir, temp.c_str(), 0);
    return failed("rename into", final_name, err);
  }
  // rename(2) does nothing when both names are links to one inode (a rerun after a crash):
  // the temp name would stay.
  ::unlinkat(dir, temp.c_str(), 0);
  return {};
}

util::Result<void> OutDir::write(int dir, std::string_view name, std::string_view bytes) {
  const std::string final_name(name);
  const std::string temp = temp_name(name);
  ::unlinkat(dir, temp.c_str(), 0);
  const int fd =
      ::openat(dir, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return failed("create", temp, errno);
  util::UniqueFd file(fd);
  if (!write_all(file.get(), bytes) || ::fsync(file.get()) != 0) {
    const int err = errno;
    ::unlinkat(dir, temp.c_str(), 0);
    return failed("write", final_name, err);
  }
  if (::renameat(dir, temp.c_str(), dir, final_name.c_str()) != 0) {
    const int err = errno;
    ::unlinkat(dir, temp.c_str(), 0);
    return failed("rename into", final_name, err);
  }
  return {};
}

util::Result<void> OutDir::move(std::string_view file, int dir, std::string_view name) {
  const auto at = locate(file);
  if (!at) return util::Error{"write_failed", fmt::format("{} is not in the export", file)};
  if (::renameat(at->first.get(), at->second.c_str(), dir, std::string(name).c_str()) != 0) {
    return failed("move", file, errno);
  }
  return {};
}

void OutDir::remove(int dir, std::string_view name) {
  ::unlinkat(dir, std::string(name).c_str(), 0);
}

util::Result<std::optional<std::string>> OutDir::read_top(std::string_view name,
                                                          std::int64_t max_bytes) {
  const std::string n(name);
  const int fd = ::openat(m_fd.get(), n.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>{};
    return util::Error{"manifest_unreadable", fmt::format("cannot open {}/{}: {}", m_path.string(),
                                                          n, std::strerror(errno))};
  }
  const util::UniqueFd file(fd);
  struct stat st {};
  if (::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return util::Error{"manifest_unreadable",
                       fmt::format("{}/{} is not a regular file", m_path.string(), n)};
  }
  auto text = util::read_to_end(file.get(), st.st_size, max_bytes, n);
  if (!text) return util::Error{"manifest_unreadable", text.error().message};
  return std::optional<std::string>(std::move(*text));
}

util::Result<void> OutDir::replace_top(std::string_view name, std::string_view text) {
  if (auto written = write(m_fd.get(), name, text); !written) return written;
  if (::fsync(m_fd.get()) != 0) return failed("sync", m_path.string(), errno);
  return {};
}

util::Result<void> OutDir::sync_folders() {
  for (const auto& [name, fd] : m_folders) {
    if (::fsync(fd.get()) != 0) return failed("sync the folder", name, errno);
  }
  return {};
}

std::int64_t OutDir::count_folders() const {
  std::int64_t n = 0;
  (void)util::for_each_entry(m_fd.get(), [&](const util::DirEntry& e) {
    if (e.type == util::EntryType::directory) ++n;
  });
  return n;
}

}  // namespace inferwatch::dataset
