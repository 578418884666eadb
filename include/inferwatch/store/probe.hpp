#pragma once

#include <inferwatch/util/result.hpp>

#include <filesystem>

namespace inferwatch::store {

// Check that the database at `path` can be opened for writing (or, if it does not exist yet,
// created in its directory) without creating anything. Error: `database_unusable`.
util::Result<void> probe_database(const std::filesystem::path& path);

}  // namespace inferwatch::store
