#include <inferwatch/store/labelled_results.hpp>

#include "store_error.hpp"
#include "stored_name.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

namespace inferwatch::store {

util::Result<std::vector<LabelledResult>> read_labelled_results(
    const std::filesystem::path& database, const LabelledQuery& query) {
  std::unique_ptr<SQLite::Database> db;
  try {
    // Read-only and never created: a mistyped path is an error, not a new empty database.
    db = std::make_unique<SQLite::Database>(database.string(), SQLite::OPEN_READONLY);
    db->setBusyTimeout(5000);
  } catch (const SQLite::Exception& e) {
    return util::Error{"database_unusable",
                       fmt::format("database {}: {}", database.string(), e.what())};
  }
  return guard(db->getHandle(), "reading the results with feedback", [&] {
    // One statement, so every row comes from one snapshot of the database.
    SQLite::Statement q(*db, R"sql(
      SELECT r.id, r.root, r.path, r.path_bytes, r.dev, r.inode, r.size, r.mtime_ns,
             r.model_version, json_extract(r.json, '$.sha256'),
             json_extract(r.json, '$.predictions[0].score'), f.result_id,
             fb.id, fb.label, fb.predicted_label, fb.user, fb.comment, fb.created_at
      FROM feedback fb JOIN results r ON r.id = fb.result_id
      LEFT JOIN files f ON f.id = r.file_id
      WHERE fb.id = (SELECT MAX(id) FROM feedback WHERE result_id = fb.result_id)
        AND (?1 IS NULL OR fb.created_at >= ?1)
        AND (?2 IS NULL OR r.model_version = ?2)
        AND (?3 IS NULL OR substr(r.model_version, 1, length(?3)) = ?3)
      ORDER BY r.id)sql");
    if (query.since)
      q.bind(1, *query.since);
    else
      q.bind(1);
    if (!query.model.empty() && query.version)
      q.bind(2, query.model + "@" + *query.version);
    else
      q.bind(2);
    if (!query.model.empty() && !query.version)
      q.bind(3, query.model + "@");
    else
      q.bind(3);
    std::vector<LabelledResult> out;
    while (q.executeStep()) {
      LabelledResult r;
      r.result_id = q.getColumn(0).getInt64();
      r.root = q.getColumn(1).getString();
      r.path = q.getColumn(2).getString();
      r.raw_path = raw_name(q, 2);
      r.version = util::FileStat{q.getColumn(4).getInt64(), q.getColumn(5).getInt64(),
                                 q.getColumn(6).getInt64(), q.getColumn(7).getInt64()};
      r.model_version = q.getColumn(8).getString();
      if (!q.getColumn(9).isNull()) r.sha256 = q.getColumn(9).getString();
      if (!q.getColumn(10).isNull()) r.predicted_score = q.getColumn(10).getDouble();
      if (!q.getColumn(11).isNull()) r.current_result_id = q.getColumn(11).getInt64();
      r.feedback.id = q.getColumn(12).getInt64();
      r.feedback.result_id = r.result_id;
      r.feedback.label = q.getColumn(13).getString();
      r.feedback.predicted_label = q.getColumn(14).getString();
      r.feedback.user = q.getColumn(15).getString();
      r.feedback.comment = q.getColumn(16).getString();
      r.feedback.created_at = q.getColumn(17).getString();
      out.push_back(std::move(r));
    }
    return out;
  });
}

}  // namespace inferwatch::store
