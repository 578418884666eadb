#include <inferwatch/models/repository_listing.hpp>

#include <inferwatch/config/model_manifest.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <system_error>
#include <tuple>

#include <sys/stat.h>

namespace inferwatch::models {
namespace {

namespace fs = std::filesystem;

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// Real directories only: a symbolic link could point a version at a folder that changes under it.
std::vector<std::string> subdirectories(const fs::path& dir, std::error_code& ec) {
  std::vector<std::string> out;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->symlink_status(type_ec).type() == fs::file_type::directory) {
      out.push_back(it->path().filename().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

bool valid_repository_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '.' || name.front() == '-' ||
      name.front() == '_') {
    return false;
  }
  if (name.ends_with(".tmp")) return false;
  return std::all_of(name.begin(), name.end(), is_name_char);
}

RepositoryListing list_repository(const fs::path& repository) {
  RepositoryListing listing;
  std::error_code ec;
  const std::vector<std::string> models = subdirectories(repository, ec);
  if (ec) {
    listing.error = fmt::format("cannot list {}: {}", repository.string(), ec.message());
    return listing;
  }
  for (const std::string& model : models) {
    if (model.front() == '.') continue;
    if (!valid_repository_name(model)) {
      listing.invalid.push_back(repository / model);
      continue;
    }
    std::error_code model_ec;  // a model folder that vanished or is unreadable: skip it this time
    std::vector<FoundVersion> found;
    for (const std::string& version : subdirectories(repository / model, model_ec)) {
      if (version.front() == '.') continue;
      const fs::path dir = repository / model / version;
      if (!valid_repository_name(version)) {
        listing.invalid.push_back(dir);
        continue;
      }
      struct ::stat st {};
      const fs::path manifest = dir / config::k_manifest_file;
      if (::stat(manifest.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      found.push_back(
          FoundVersion{model, version, dir,
                       std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec});
    }
    std::sort(found.begin(), found.end(), [](const FoundVersion& a, const FoundVersion& b) {
      return std::tie(a.manifest_mtime_ns, a.version) < std::tie(b.manifest_mtime_ns, b.version);
    });
    for (auto& f : found) listing.versions.push_back(std::move(f));
  }
  return listing;
}

}  // namespace inferwatch::models
