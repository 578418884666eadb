#include <inferwatch/results/sidecar_writer.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <set>

namespace inferwatch::results {
namespace {

util::Error failure(const std::filesystem::path& target, std::string_view step, int err) {
  return util::Error{"sidecar_failed", fmt::format("cannot write sidecar {} ({}): {}",
                                                   target.string(), step, std::strerror(err))};
}

// Write all of `data` to a new temp file and fsync it. Returns the open-error or write-error.
util::Result<void> write_synced(const std::filesystem::path& temp,
                                const std::filesystem::path& target, std::string_view data) {
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return failure(target, "create", errno);
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      return failure(target, "write", err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    return failure(target, "fsync", err);
  }
  ::close(fd);
  return {};
}

}  // namespace

std::filesystem::path temp_path_for(const std::filesystem::path& target) {
  return target.parent_path() / ("." + target.filename().string() + std::string(k_temp_suffix));
}

std::vector<util::Result<void>> write_sidecars(std::span<const SidecarWrite> writes) {
  std::vector<util::Result<void>> out;
  out.reserve(writes.size());
  std::set<std::filesystem::path> dirs;
  for (const auto& w : writes) {
    const auto temp = temp_path_for(w.target);
    auto written = write_synced(temp, w.target, w.json);
    if (written.ok() && ::rename(temp.c_str(), w.target.c_str()) != 0) {
      written = failure(w.target, "rename", errno);
      ::unlink(temp.c_str());
    }
    if (written.ok()) dirs.insert(w.target.parent_path());
    out.push_back(std::move(written));
  }
  // The renames are durable once their directories are synced (once per directory per batch).
  for (const auto& dir : dirs) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
  }
  return out;
}

std::size_t remove_stale_temp_files(const std::filesystem::path& dir) {
  std::size_t removed = 0;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator
           it(dir, std::filesystem::directory_options::skip_permission_denied, ec),
       end;
       !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with(".") && name.ends_with(k_temp_suffix) && it->is_regular_file(ec)) {
      if (std::filesystem::remove(it->path(), ec)) ++removed;
    }
  }
  return removed;
}

}  // namespace inferwatch::results
