#include <inferwatch/util/root_dir.hpp>

#include <fmt/format.h>

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

namespace inferwatch::util {
namespace {

constexpr int k_eagain_retries = 8;  // openat2 says EAGAIN when a rename raced the lookup

std::string shown(std::string_view relative) {
  return relative.empty() ? std::string(".") : std::string(relative);
}

Error errno_error(std::string_view relative, int err, std::string_view what) {
  std::string code = "read_failed";
  if (err == ENOENT) code = "not_found";
  if (err == EACCES || err == EPERM) code = "permission_denied";
  if (err == ELOOP || err == EXDEV || err == ENOTDIR) code = "unsafe_path";
  if (code == "unsafe_path") {
    return Error{code, fmt::format("cannot {} {}: a symbolic link or a non-directory is in the "
                                   "way (symlinks in a watched tree are not followed)",
                                   what, shown(relative))};
  }
  return Error{code, fmt::format("cannot {} {}: {}", what, shown(relative), std::strerror(err))};
}

EntryType type_of(mode_t mode) {
  if (S_ISREG(mode)) return EntryType::regular;
  if (S_ISDIR(mode)) return EntryType::directory;
  if (S_ISLNK(mode)) return EntryType::symlink;
  if (S_ISFIFO(mode)) return EntryType::fifo;
  if (S_ISSOCK(mode)) return EntryType::socket;
  if (S_ISCHR(mode) || S_ISBLK(mode)) return EntryType::device;
  return EntryType::other;
}

FileStat to_file_stat(const struct stat& st) {
  return FileStat{
      static_cast<std::int64_t>(st.st_dev), static_cast<std::int64_t>(st.st_ino),
      static_cast<std::int64_t>(st.st_size),
      static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

Error not_regular(std::string_view relative, EntryType type) {
  return Error{
      "not_regular_file",
      fmt::format(
          "{} is a {}, not a regular file{}", shown(relative), to_string(type),
          type == EntryType::symlink ? " (symlinks in a watched tree are not followed)" : "")};
}

// Components of a relative path; empty, "." and ".." components make it unusable.
bool split(std::string_view relative, std::vector<std::string>& out) {
  if (relative.empty()) return true;
  if (relative.front() == '/') return false;
  std::size_t start = 0;
  for (;;) {
    const auto slash = relative.find('/', start);
    const auto part =
        relative.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    out.emplace_back(part);
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

}  // namespace

std::string_view to_string(EntryType type) {
  switch (type) {
    case EntryType::regular:
      return "regular file";
    case EntryType::directory:
      return "directory";
    case EntryType::symlink:
      return "symbolic link";
    case EntryType::fifo:
      return "FIFO";
    case EntryType::socket:
      return "socket";
    case EntryType::device:
      return "device node";
    case EntryType::other:
      break;
  }
  return "special file";
}

Result<RootDir> RootDir::open(const std::filesystem::path& root) {
  auto dir = open(root, Resolver::openat2);
  if (!dir) return dir;
  // Probe once: an old kernel says ENOSYS, a seccomp filter may say ENOSYS or EPERM.
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  const long fd = ::syscall(SYS_openat2, dir->fd(), ".", &how, sizeof how);
  if (fd >= 0) {
    ::close(static_cast<int>(fd));
    return dir;
  }
  dir->m_resolver = Resolver::walk;
  return dir;
}

Result<RootDir> RootDir::open(const std::filesystem::path& root, Resolver resolver) {
  const int fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    Error e = errno_error(root.string(), err, "open watch root");
    if (err == ENOTDIR) e = Error{"not_found", fmt::format("{} is not a directory", root.string())};
    return e;
  }
  return RootDir(root, UniqueFd(fd), resolver);
}

Result<UniqueFd> RootDir::resolve(std::string_view relative, int flags) const {
  if (relative.empty()) {
    const int fd = ::openat(m_fd.get(), ".", flags | O_CLOEXEC);
    if (fd < 0) return errno_error(relative, errno, "open");
    return UniqueFd(fd);
  }
  return m_resolver == Resolver::openat2 ? resolve_openat2(relative, flags)
                                         : resolve_walk(relative, flags);
}

Result<UniqueFd> RootDir::resolve_openat2(std::string_view relative, int flags) const {
  std::vector<std::string> parts;
  if (!split(relative, parts)) {
    return Error{"unsafe_path", fmt::format("{} is not a plain relative path", relative)};
  }
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_NOFOLLOW | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  const std::string path(relative);
  for (int attempt = 0;; ++attempt) {
    const long fd = ::syscall(SYS_openat2, m_fd.get(), path.c_str(), &how, sizeof how);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    if (errno == EAGAIN && attempt < k_eagain_retries) continue;
    if (errno == EINTR) continue;
    return errno_error(relative, errno, "open");
  }
}

Result<UniqueFd> RootDir::resolve_walk(std::string_view relative, int flags) const {
  std::vector<std::string> parts;
  if (!split(relative, parts)) {
    return Error{"unsafe_path", fmt::format("{} is not a plain relative path", relative)};
  }
  UniqueFd dir;
  int at = m_fd.get();
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    // O_PATH|O_NOFOLLOW opens a symlink itself instead of failing: check what came back.
    const int fd = ::openat(at, parts[i].c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno_error(relative, errno, "open");
    UniqueFd next(fd);
    struct stat st {};
    if (::fstat(next.get(), &st) != 0) return errno_error(relative, errno, "stat");
    if (!S_ISDIR(st.st_mode))
      return errno_error(relative, S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR, "open");
    dir = std::move(next);
    at = dir.get();
  }
  const int fd = ::openat(at, parts.back().c_str(), flags | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errno_error(relative, errno, "open");
  return UniqueFd(fd);
}

Result<Entry> RootDir::entry(std::string_view relative) const {
  auto pinned = resolve(relative, O_PATH);
  if (!pinned) return pinned.error();
  struct stat st {};
  if (::fstat(pinned->get(), &st) != 0) return errno_error(relative, errno, "stat");
  return Entry{type_of(st.st_mode), to_file_stat(st)};
}

Result<FileStat> RootDir::stat(std::string_view relative) const {
  auto e = entry(relative);
  if (!e) return e.error();
  if (e->type != EntryType::regular) return not_regular(relative, e->type);
  return e->version;
}

Result<UniqueFd> RootDir::open_file(std::string_view relative, std::int64_t max_bytes,
                                    FileStat* stat_out) const {
  // Pin first: a FIFO, socket or device is refused without ever being opened.
  auto pinned = resolve(relative, O_PATH);
  if (!pinned) return pinned.error();
  struct stat st {};
  if (::fstat(pinned->get(), &st) != 0) return errno_error(relative, errno, "stat");
  if (!S_ISREG(st.st_mode)) return not_regular(relative, type_of(st.st_mode));

  // Reopen the pinned inode itself for reading. Without /proc, open the name again (no symlink
  // is followed, O_NONBLOCK cannot wait on a FIFO swapped in) and check it is the same inode.
  const std::string proc = fmt::format("/proc/self/fd/{}", pinned->get());
  int fd = ::open(proc.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    auto again = resolve(relative, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    if (!again) return again.error();
    fd = ::dup(again->get());
  }
  if (fd < 0) return errno_error(relative, errno, "open");
  UniqueFd file(fd);
  struct stat opened {};
  if (::fstat(file.get(), &opened) != 0) return errno_error(relative, errno, "stat");
  if (!S_ISREG(opened.st_mode)) return not_regular(relative, type_of(opened.st_mode));
  if (opened.st_ino != st.st_ino || opened.st_dev != st.st_dev) {
    return Error{"read_failed", fmt::format("{} was replaced while it was opened", relative)};
  }
  if (stat_out) *stat_out = to_file_stat(opened);
  if (opened.st_size > max_bytes) {
    return Error{"file_too_large", fmt::format("{} is {} bytes, over the limit of {} bytes",
                                               relative, opened.st_size, max_bytes)};
  }
  return file;
}

Result<std::string> RootDir::read(std::string_view relative, std::int64_t max_bytes,
                                  FileStat* stat_out) const {
  FileStat local;
  FileStat* opened = stat_out ? stat_out : &local;  // set even when the file is too large
  auto file = open_file(relative, max_bytes, opened);
  if (!file) return file.error();
  return read_to_end(file->get(), opened->size, max_bytes, relative);
}

Result<UniqueFd> RootDir::open_dir(std::string_view relative) const {
  return resolve(relative, O_RDONLY | O_DIRECTORY);
}

Result<void> for_each_entry(int dir, const std::function<void(const DirEntry&)>& visit) {
  const auto failed = [](int err) {
    return Error{err == EACCES || err == EPERM ? "permission_denied" : "read_failed",
                 fmt::format("cannot list a directory: {}", std::strerror(err))};
  };
  // List through a descriptor of our own (closedir closes it): a dup would share the caller's
  // read position, so a second listing of `dir` would start where the first ended.
  const int own = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (own < 0) return failed(errno);
  const std::unique_ptr<DIR, int (*)(DIR*)> listing(::fdopendir(own), &::closedir);
  if (!listing) {
    const int err = errno;
    ::close(own);
    return failed(err);
  }
  for (;;) {
    errno = 0;  // readdir says end and failure both with nullptr; only a failure sets errno
    const dirent* e = ::readdir(listing.get());
    if (!e) {
      if (errno != 0) return failed(errno);
      return {};
    }
    const std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(dir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    visit(DirEntry{name, type_of(st.st_mode), to_file_stat(st), st.st_uid});
  }
}

}  // namespace inferwatch::util
