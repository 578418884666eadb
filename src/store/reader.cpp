#include <inferwatch/store/reader.hpp>

#include "store_error.hpp"
#include "stored_name.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

namespace inferwatch::store {
namespace {

StoredJson row_at(SQLite::Statement& q) {
  return StoredJson{q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                    q.getColumn(2).getString()};
}

}  // namespace

util::Result<std::unique_ptr<Reader>> Reader::open(const std::filesystem::path& path) {
  try {
    auto db = std::make_unique<SQLite::Database>(path.string(), SQLite::OPEN_READONLY);
    db->setBusyTimeout(5000);
    return std::unique_ptr<Reader>(new Reader(std::move(db)));
  } catch (const SQLite::Exception& e) {
    return util::Error{"database_unusable",
                       fmt::format("database {}: {}", path.string(), e.what())};
  }
}

Reader::Reader(std::unique_ptr<SQLite::Database> db) : m_db(std::move(db)) {}
Reader::~Reader() = default;

util::Result<std::vector<StoredJson>> Reader::results(const ResultQuery& query) {
  std::lock_guard lock(m_mutex);
  return guard(m_db->getHandle(), "listing results", [&] {
    SQLite::Statement q(*m_db, R"sql(
    SELECT id, path, json FROM results
    WHERE id > ?1 AND (?2 = '' OR substr(path, 1, length(?2)) = ?2) AND (?3 = '' OR status = ?3)
    ORDER BY id LIMIT ?4)sql");
    q.bind(1, query.after);
    q.bind(2, util::to_valid_utf8(query.path_prefix));
    q.bind(3, query.status);
    q.bind(4, query.limit);
    std::vector<StoredJson> out;
    while (q.executeStep()) out.push_back(row_at(q));
    return out;
  });
}

util::Result<std::optional<StoredJson>> Reader::result(std::int64_t id) {
  std::lock_guard lock(m_mutex);
  return guard(m_db->getHandle(), "reading a result", [&]() -> std::optional<StoredJson> {
    SQLite::Statement q(*m_db, "SELECT id, path, json FROM results WHERE id = ?1");
    q.bind(1, id);
    if (!q.executeStep()) return std::nullopt;
    return row_at(q);
  });
}

util::Result<std::optional<ResultSource>> Reader::source(std::int64_t id) {
  std::lock_guard lock(m_mutex);
  return guard(m_db->getHandle(), "finding a result's file", [&]() -> std::optional<ResultSource> {
    SQLite::Statement q(*m_db, R"sql(
    SELECT root, CASE WHEN length(path_bytes) > 0 THEN path_bytes ELSE path END,
           dev, inode, size, mtime_ns FROM results WHERE id = ?1)sql");
    q.bind(1, id);
    if (!q.executeStep()) return std::nullopt;
    const auto raw = q.getColumn(1);
    return ResultSource{q.getColumn(0).getString(),
                        std::string(static_cast<const char*>(raw.getBlob()),
                                    static_cast<std::size_t>(raw.getBytes())),
                        util::FileStat{q.getColumn(2).getInt64(), q.getColumn(3).getInt64(),
                                       q.getColumn(4).getInt64(), q.getColumn(5).getInt64()}};
  });
}

util::Result<std::optional<StoredJson>> Reader::latest(const std::string& path) {
  // Invalid UTF-8 can only be a raw name; valid text is a raw name or a display form.
  if (!util::is_valid_utf8(path)) return latest_by_bytes(path);
  std::lock_guard lock(m_mutex);
  return guard(m_db->getHandle(), "finding a file's result", [&]() -> std::optional<StoredJson> {
    SQLite::Statement q(*m_db, R"sql(
    SELECT r.id, r.path, r.json FROM files f JOIN results r ON r.id = f.result_id
    WHERE f.path = ?1 ORDER BY f.path_bytes = x'' DESC, r.id DESC LIMIT 1)sql");
    q.bind(1, path);
    if (!q.executeStep()) return std::nullopt;
    return row_at(q);
  });
}

util::Result<std::optional<StoredJson>> Reader::latest_by_bytes(const std::string& bytes) {
  const StoredName name = stored_name(bytes);
  std::lock_guard lock(m_mutex);
  return guard(m_db->getHandle(), "finding a file's result", [&]() -> std::optional<StoredJson> {
    SQLite::Statement q(*m_db, R"sql(
    SELECT r.id, r.path, r.json FROM files f JOIN results r ON r.id = f.result_id
    WHERE f.path = ?1 AND f.path_bytes = ?2 ORDER BY r.id DESC LIMIT 1)sql");
    q.bind(1, name.path);
    bind_bytes(q, 2, name.bytes);
    if (!q.executeStep()) return std::nullopt;
    return row_at(q);
  });
}

util::Result<Counts> Reader::counts() {
  std::lock_guard lock(m_mutex);
  return guard(m_db->getHandle(), "counting files and results", [&] {
    Counts c;
    SQLite::Statement files(*m_db, "SELECT COUNT(*), COALESCE(SUM(done = 0), 0) FROM files");
    if (files.executeStep()) {
      c.files = files.getColumn(0).getInt64();
      c.pending = files.getColumn(1).getInt64();
    }
    SQLite::Statement results(*m_db, R"sql(
    SELECT COALESCE(SUM(status = 'ok'), 0), COALESCE(SUM(status = 'error'), 0), COALESCE(MAX(id), 0)
    FROM results)sql");
    if (results.executeStep()) {
      c.results_ok = results.getColumn(0).getInt64();
      c.results_error = results.getColumn(1).getInt64();
      c.max_id = results.getColumn(2).getInt64();
    }
    return c;
  });
}

bool Reader::healthy() {
  try {
    std::lock_guard lock(m_mutex);
    return m_db->execAndGet("SELECT 1").getInt() == 1;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace inferwatch::store
