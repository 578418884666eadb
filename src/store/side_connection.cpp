#include "side_connection.hpp"

#include <inferwatch/store/database.hpp>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

namespace inferwatch::store {

util::Result<std::unique_ptr<SQLite::Database>> open_side_connection(
    const std::filesystem::path& path, std::chrono::milliseconds busy_timeout) {
  {
    auto schema = Database::open(path, Database::Options{busy_timeout});
    if (!schema) return schema.error();
  }
  try {
    auto db = std::make_unique<SQLite::Database>(path.string(), SQLite::OPEN_READWRITE);
    db->setBusyTimeout(static_cast<int>(busy_timeout.count()));
    db->exec("PRAGMA synchronous = NORMAL");
    return db;
  } catch (const std::exception& e) {
    return util::Error{"database_unusable",
                       fmt::format("database {}: {}", path.string(), e.what())};
  }
}

}  // namespace inferwatch::store
