#pragma once

// A second writer connection to the daemon's database, for stores that write beside the store
// thread's Database (ModelCatalog, FeedbackStore). Private to the store module.

#include <inferwatch/util/result.hpp>

#include <chrono>
#include <filesystem>
#include <memory>

namespace SQLite {
class Database;
}

namespace inferwatch::store {

// Bring the schema up to date (Database::open owns the migrations; a no-op when the daemon's
// store already did), then open a read-write connection with `busy_timeout`. Error:
// `database_unusable`.
util::Result<std::unique_ptr<SQLite::Database>> open_side_connection(
    const std::filesystem::path& path, std::chrono::milliseconds busy_timeout);

}  // namespace inferwatch::store
