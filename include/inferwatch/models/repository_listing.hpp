#pragma once

// What a model repository folder holds (docs/models.md): `<repository>/<name>/<version>/`
// directories, each complete once its model.toml exists (written last, by rename).

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace inferwatch::models {

// Whether `name` may be a model or version name: 1 to 64 bytes of [A-Za-z0-9._-], starting with
// a letter or digit, not ending in ".tmp" (so it is safe in a URL, a file name and a metric
// label). Names starting with '.' are hidden or temporary (uploads being staged).
bool valid_repository_name(std::string_view name);

struct FoundVersion {
  std::string model;
  std::string version;
  std::filesystem::path directory;  // <repository>/<model>/<version>
  std::int64_t manifest_mtime_ns = 0;
};

struct RepositoryListing {
  // Complete versions, by model name, then by model.toml's modification time (oldest first),
  // then by version name.
  std::vector<FoundVersion> versions;
  // Paths skipped because their name is not valid (names starting with '.' are not listed).
  std::vector<std::filesystem::path> invalid;
  // Set when the repository itself could not be read.
  std::string error;
};

// List `repository`. Folders without model.toml are incomplete and left out; files and symbolic
// links at the model and version levels are left out.
RepositoryListing list_repository(const std::filesystem::path& repository);

}  // namespace inferwatch::models
