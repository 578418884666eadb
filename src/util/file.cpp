#include <inferwatch/util/file.hpp>

#include <fmt/format.h>
#include <fmt/std.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace inferwatch::util {
namespace {

Error errno_error(const std::filesystem::path& path, int err, std::string_view what) {
  std::string code = "read_failed";
  if (err == ENOENT || err == ENOTDIR) code = "not_found";
  if (err == EACCES || err == EPERM) code = "permission_denied";
  return Error{code, fmt::format("cannot {} {}: {}", what, path.string(), std::strerror(err))};
}

// Closes the descriptor on every path out of read_file.
struct FdGuard {
  int fd;
  ~FdGuard() { ::close(fd); }
};

FileStat to_file_stat(const struct stat& st) {
  return FileStat{
      static_cast<std::int64_t>(st.st_dev), static_cast<std::int64_t>(st.st_ino),
      static_cast<std::int64_t>(st.st_size),
      static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

}  // namespace

Result<std::string> read_file(const std::filesystem::path& path, std::int64_t max_bytes,
                              FileStat* stat_out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_error(path, errno, "open");
  FdGuard guard{fd};

  struct stat st {};
  if (::fstat(fd, &st) != 0) return errno_error(path, errno, "stat");
  if (stat_out) *stat_out = to_file_stat(st);
  if (S_ISDIR(st.st_mode))
    return Error{"read_failed", fmt::format("{} is a directory", path.string())};
  if (st.st_size > max_bytes) {
    return Error{"file_too_large", fmt::format("{} is {} bytes, over the limit of {} bytes",
                                               path.string(), st.st_size, max_bytes)};
  }

  return read_to_end(fd, st.st_size, max_bytes, path.string());
}

Result<std::string> read_to_end(int fd, std::int64_t size, std::int64_t max_bytes,
                                std::string_view name) {
  std::string data;
  data.resize(static_cast<std::size_t>(size));
  std::size_t done = 0;
  for (;;) {
    if (done == data.size()) data.resize(data.size() + 64 * 1024);  // file grew or size was 0
    const ssize_t n = ::read(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error(std::string(name), errno, "read");
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
    if (static_cast<std::int64_t>(done) > max_bytes) {
      return Error{"file_too_large",
                   fmt::format("{} grew past the limit of {} bytes", name, max_bytes)};
    }
  }
  data.resize(done);
  return data;
}

}  // namespace inferwatch::util
