#include <inferwatch/server/version_archive.hpp>

#include <inferwatch/util/unique_fd.hpp>
#include <inferwatch/util/utf8.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <system_error>
#include <vector>

namespace inferwatch::server {
namespace {

using ArchivePtr = std::unique_ptr<archive, int (*)(archive*)>;

util::Error unsafe(std::string_view path, std::string_view why) {
  return util::Error{"unsafe_entry", fmt::format("archive entry \"{}\": {}",
                                                 util::to_valid_utf8(std::string(path)), why)};
}

util::Error invalid(archive* a) {
  const char* why = archive_error_string(a);
  return util::Error{"archive_invalid",
                     fmt::format("the body is not a readable tar archive (plain or gzip): {}",
                                 why ? why : "unknown error")};
}

util::Error too_large(std::string message) {
  return util::Error{"archive_too_large", std::move(message)};
}

util::Error failed(std::string_view what, std::string_view path, int error) {
  return util::Error{"extract_failed",
                     fmt::format("{} \"{}\": {}", what, util::to_valid_utf8(std::string(path)),
                                 std::strerror(error))};
}

// Why an entry of this type may not be extracted; empty for files and folders.
std::string_view refused_type(archive_entry* entry) {
  if (archive_entry_hardlink(entry)) return "hard links are not accepted";
  switch (archive_entry_filetype(entry)) {
    case AE_IFREG:
    case AE_IFDIR:
      return {};
    case AE_IFLNK:
      return "symbolic links are not accepted";
    case AE_IFCHR:
    case AE_IFBLK:
      return "devices are not accepted";
    case AE_IFIFO:
      return "FIFOs are not accepted";
    case AE_IFSOCK:
      return "sockets are not accepted";
    default:
      return "only regular files and folders are accepted";
  }
}

// The path's components, "." and empty ones left out; an error for anything that could leave
// the target.
util::Result<std::vector<std::string>> components(std::string_view path,
                                                  const ArchiveLimits& limits) {
  if (path.size() > limits.max_path_bytes)
    return unsafe(path.substr(0, 64),
                  fmt::format("the path is longer than {} bytes", limits.max_path_bytes));
  if (path.starts_with('/')) return unsafe(path, "absolute paths are not accepted");
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view part = path.substr(start, end - start);
    if (part == "..") return unsafe(path, "\"..\" is not accepted in a path");
    if (!part.empty() && part != ".") out.emplace_back(part);
    start = end + 1;
  }
  if (out.size() > limits.max_depth + 1)
    return unsafe(path, fmt::format("more than {} folders deep", limits.max_depth));
  return out;
}

// Open (creating it when missing) the folder `name` inside `parent`, never through a link.
util::Result<util::UniqueFd> open_folder(int parent, const std::string& name, std::string_view path,
                                         bool create) {
  if (create && ::mkdirat(parent, name.c_str(), 0755) != 0 && errno != EEXIST)
    return failed("cannot create folder", path, errno);
  util::UniqueFd fd(
      ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOTDIR || errno == ELOOP)
      return unsafe(path, "a file and a folder have the same name");
    return failed("cannot open folder", path, errno);
  }
  return fd;
}

util::Result<void> write_all(int fd, const char* data, std::size_t size, std::string_view path) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return failed("cannot write", path, errno);
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

struct Extraction {
  archive* a;
  int root;
  const ArchiveLimits& limits;
  ExtractedArchive done{};

  util::Result<void> entry(archive_entry* entry) {
    const char* raw = archive_entry_pathname(entry);
    if (!raw) return util::Error{"archive_invalid", "an archive entry has no path"};
    const std::string_view path(raw);
    if (++entries > limits.max_entries)
      return too_large(fmt::format("the archive has more than {} entries", limits.max_entries));
    if (const auto why = refused_type(entry); !why.empty()) return unsafe(path, why);
    auto parts = components(path, limits);
    if (!parts) return parts.error();
    const bool folder = archive_entry_filetype(entry) == AE_IFDIR;
    if (parts->empty()) {
      if (folder) return {};  // "./": the target itself
      return unsafe(path, "a file needs a name");
    }
    // Walk down from the root, creating missing folders, one descriptor at a time.
    util::UniqueFd parent;
    int at = root;
    for (std::size_t i = 0; i + 1 < parts->size(); ++i) {
      auto next = open_folder(at, (*parts)[i], path, true);
      if (!next) return next.error();
      parent = std::move(*next);
      at = parent.get();
    }
    const std::string& name = parts->back();
    if (folder) {
      auto made = open_folder(at, name, path, true);
      if (!made) return made.error();
      ++done.directories;
      return {};
    }
    return file(entry, at, name, path);
  }

  util::Result<void> file(archive_entry* entry, int at, const std::string& name,
                          std::string_view path) {
    if (archive_entry_size_is_set(entry)) {
      const auto size =
          static_cast<std::uint64_t>(std::max<la_int64_t>(0, archive_entry_size(entry)));
      if (auto over = over_limits(size, path)) return *over;
    }
    util::UniqueFd fd(
        ::openat(at, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd) {
      if (errno == EEXIST) return unsafe(path, "the path is given twice");
      return failed("cannot create", path, errno);
    }
    std::uint64_t written = 0;
    std::array<char, 64 * 1024> buffer{};
    for (;;) {
      const la_ssize_t n = archive_read_data(a, buffer.data(), buffer.size());
      if (n < 0) return invalid(a);
      if (n == 0) break;
      written += static_cast<std::uint64_t>(n);
      if (auto over = over_limits(written, path)) return *over;
      if (auto ok = write_all(fd.get(), buffer.data(), static_cast<std::size_t>(n), path); !ok)
        return ok.error();
    }
    done.bytes += written;
    ++done.files;
    return {};
  }

  // `size` bytes of one file, on top of what the earlier files took.
  std::optional<util::Error> over_limits(std::uint64_t size, std::string_view path) const {
    if (size > limits.max_file_bytes) {
      return too_large(fmt::format("archive entry \"{}\" is larger than {} bytes",
                                   util::to_valid_utf8(std::string(path)), limits.max_file_bytes));
    }
    if (done.bytes + size > limits.max_total_bytes) {
      return too_large(
          fmt::format("the archive's files add up to more than {} bytes", limits.max_total_bytes));
    }
    return std::nullopt;
  }

  std::uint64_t entries = 0;
};

}  // namespace

util::Result<ExtractedArchive> extract_archive(std::string_view bytes,
                                               const std::filesystem::path& into,
                                               const ArchiveLimits& limits) {
  util::UniqueFd root(::open(into.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root) return failed("cannot open", into.string(), errno);
  ArchivePtr a(archive_read_new(), archive_read_free);
  archive_read_support_filter_gzip(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK)
    return invalid(a.get());
  Extraction x{a.get(), root.get(), limits};
  for (;;) {
    archive_entry* entry = nullptr;
    const int status = archive_read_next_header(a.get(), &entry);
    if (status == ARCHIVE_EOF) break;
    if (status < ARCHIVE_WARN) return invalid(a.get());
    if (auto ok = x.entry(entry); !ok) return ok.error();
  }
  return x.done;
}

namespace {

struct Packed {
  std::string relative;
  bool folder = false;
  std::uint64_t size = 0;
};

la_ssize_t append(archive*, void* out, const void* data, std::size_t size) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(data), size);
  return static_cast<la_ssize_t>(size);
}

util::Error write_error(archive* a) {
  const char* why = archive_error_string(a);
  return util::Error{"read_failed", fmt::format("cannot write the archive: {}", why ? why : "?")};
}

util::Result<std::vector<Packed>> list(const std::filesystem::path& dir,
                                       const ArchiveLimits& limits) {
  std::vector<Packed> out;
  std::uint64_t total = 0;
  std::error_code ec;
  std::filesystem::recursive_directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const auto status = it->symlink_status(ec);
    if (ec) break;
    const std::string relative = it->path().lexically_relative(dir).string();
    if (std::filesystem::is_symlink(status) ||
        !(std::filesystem::is_regular_file(status) || std::filesystem::is_directory(status))) {
      return util::Error{"not_packable",
                         fmt::format("{} is not a regular file or folder (symbolic links, devices "
                                     "and FIFOs are not accepted by the daemon)",
                                     it->path().string())};
    }
    Packed p{relative, std::filesystem::is_directory(status), 0};
    if (!p.folder) {
      p.size = it->file_size(ec);
      if (ec) break;
      total += p.size;
      if (p.size > limits.max_file_bytes || total > limits.max_total_bytes)
        return too_large(fmt::format("{} is over the daemon's upload limits", dir.string()));
    }
    out.push_back(std::move(p));
    if (out.size() > limits.max_entries)
      return too_large(
          fmt::format("{} has more than {} entries", dir.string(), limits.max_entries));
  }
  if (ec) return util::Error{"read_failed", fmt::format("{}: {}", dir.string(), ec.message())};
  std::sort(out.begin(), out.end(),
            [](const Packed& a, const Packed& b) { return a.relative < b.relative; });
  return out;
}

}  // namespace

util::Result<std::string> pack_directory(const std::filesystem::path& dir,
                                         const ArchiveLimits& limits) {
  auto entries = list(dir, limits);
  if (!entries) return entries.error();
  std::string out;
  ArchivePtr a(archive_write_new(), archive_write_free);
  archive_write_set_format_pax_restricted(a.get());
  archive_write_add_filter_gzip(a.get());
  archive_write_set_bytes_in_last_block(a.get(), 1);
  if (archive_write_open(a.get(), &out, nullptr, append, nullptr) != ARCHIVE_OK)
    return write_error(a.get());
  std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(archive_entry_new(),
                                                                 archive_entry_free);
  std::array<char, 64 * 1024> buffer{};
  for (const auto& p : *entries) {
    archive_entry_clear(entry.get());
    archive_entry_set_pathname(entry.get(), p.relative.c_str());
    archive_entry_set_filetype(entry.get(), p.folder ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(entry.get(), p.folder ? 0755 : 0644);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(p.size));
    if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK) return write_error(a.get());
    if (p.folder) continue;
    const auto path = dir / p.relative;
    util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd)
      return util::Error{"read_failed",
                         fmt::format("cannot read {}: {}", path.string(), std::strerror(errno))};
    std::uint64_t left = p.size;  // the size in the header: a file that grows is cut there
    while (left > 0) {
      const ssize_t n =
          ::read(fd.get(), buffer.data(), std::min<std::uint64_t>(left, buffer.size()));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0)
        return util::Error{"read_failed",
                           fmt::format("{} changed while it was packed", path.string())};
      if (archive_write_data(a.get(), buffer.data(), static_cast<std::size_t>(n)) < 0)
        return write_error(a.get());
      left -= static_cast<std::uint64_t>(n);
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return write_error(a.get());
  return out;
}

}  // namespace inferwatch::server
