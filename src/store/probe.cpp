#include <inferwatch/store/probe.hpp>

#include <fmt/format.h>
#include <sqlite3.h>

#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace inferwatch::store {

util::Result<void> probe_database(const std::filesystem::path& path) {
  const auto fail = [&](const std::string& why) {
    return util::Error{"database_unusable", fmt::format("database {}: {}", path.string(), why)};
  };
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    if (!std::filesystem::is_directory(dir, ec))
      return fail(fmt::format("directory {} does not exist", dir.string()));
    if (::access(dir.c_str(), W_OK | X_OK) != 0) {
      return fail(fmt::format("cannot create it in {}: {}", dir.string(), std::strerror(errno)));
    }
    return {};
  }
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  std::string error;
  if (rc != SQLITE_OK) {
    error = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  } else {
    sqlite3_busy_timeout(db, 2000);
    char* message = nullptr;
    // Taking the write lock proves the file and its directory (journal, WAL) are writable.
    if (sqlite3_exec(db, "BEGIN IMMEDIATE; ROLLBACK;", nullptr, nullptr, &message) != SQLITE_OK) {
      error = message ? message : "cannot take the write lock";
      sqlite3_free(message);
    }
  }
  sqlite3_close(db);
  if (!error.empty()) return fail(error);
  return {};
}

}  // namespace inferwatch::store
