#include <inferwatch/store/drift_references.hpp>

#include "side_connection.hpp"
#include "store_error.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

namespace inferwatch::store {

util::Result<std::unique_ptr<DriftReferences>> DriftReferences::open(
    const std::filesystem::path& path) {
  return open(path, Options{});
}

util::Result<std::unique_ptr<DriftReferences>> DriftReferences::open(
    const std::filesystem::path& path, const Options& options) {
  auto db = open_side_connection(path, options.busy_timeout);
  if (!db) return db.error();
  return std::unique_ptr<DriftReferences>(new DriftReferences(std::move(*db)));
}

DriftReferences::DriftReferences(std::unique_ptr<SQLite::Database> db) : m_db(std::move(db)) {}
DriftReferences::~DriftReferences() = default;

util::Result<void> DriftReferences::save(const DriftReferenceRow& row) {
  std::lock_guard lock(m_mutex);
  return guard(m_db->getHandle(),
               fmt::format("storing the drift reference of {}@{}", row.model, row.version), [&] {
                 SQLite::Statement q(*m_db, R"sql(
      INSERT INTO drift_references (model, version, source, histogram, created_at)
      VALUES (?1, ?2, ?3, ?4, ?5)
      ON CONFLICT (model, version) DO UPDATE SET
        source = excluded.source, histogram = excluded.histogram,
        created_at = excluded.created_at)sql");
                 q.bind(1, row.model);
                 q.bind(2, row.version);
                 q.bind(3, row.source);
                 q.bind(4, row.histogram);
                 q.bind(5, row.created_at);
                 q.exec();
               });
}

util::Result<std::vector<DriftReferenceRow>> DriftReferences::load_all() {
  std::lock_guard lock(m_mutex);
  return guard(m_db->getHandle(), "reading the drift references", [&] {
    std::vector<DriftReferenceRow> rows;
    SQLite::Statement q(*m_db, R"sql(
      SELECT model, version, source, histogram, created_at FROM drift_references
      ORDER BY model, version)sql");
    while (q.executeStep()) {
      rows.push_back(DriftReferenceRow{q.getColumn(0).getString(), q.getColumn(1).getString(),
                                       q.getColumn(2).getString(), q.getColumn(3).getString(),
                                       q.getColumn(4).getString()});
    }
    return rows;
  });
}

}  // namespace inferwatch::store
