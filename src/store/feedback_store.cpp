#include <inferwatch/store/feedback_store.hpp>

#include "store_error.hpp"

#include <inferwatch/store/database.hpp>

#include "side_connection.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include <stdexcept>

namespace inferwatch::store {
namespace {

// A refusal decided inside a transaction: guard() would call it `store_failed`, so it travels
// as its own type and becomes its own code.
struct Refusal {
  util::Error error;
};

FeedbackRow row_at(SQLite::Statement& q) {
  FeedbackRow row;
  row.id = q.getColumn(0).getInt64();
  row.result_id = q.getColumn(1).getInt64();
  row.label = q.getColumn(2).getString();
  row.predicted_label = q.getColumn(3).getString();
  row.user = q.getColumn(4).getString();
  row.comment = q.getColumn(5).getString();
  row.created_at = q.getColumn(6).getString();
  return row;
}

// The latest two rows of each result and its row count; throws what SQLite throws.
std::map<std::int64_t, Feedback> read_current(SQLite::Database& db,
                                              std::span<const std::int64_t> result_ids) {
  std::map<std::int64_t, Feedback> out;
  if (result_ids.empty()) return out;
  // The ids travel as one JSON array (json_each), so a page is one statement whatever its size.
  std::string ids = "[";
  for (std::size_t i = 0; i < result_ids.size(); ++i) {
    ids += fmt::format("{}{}", i ? "," : "", result_ids[i]);
  }
  ids += "]";
  SQLite::Statement q(db, R"sql(
    SELECT id, result_id, label, predicted_label, user, comment, created_at, rank, n FROM (
      SELECT *, ROW_NUMBER() OVER (PARTITION BY result_id ORDER BY id DESC) AS rank,
             COUNT(*) OVER (PARTITION BY result_id) AS n
      FROM feedback WHERE result_id IN (SELECT value FROM json_each(?1)))
    WHERE rank <= 2 ORDER BY result_id, rank)sql");
  q.bind(1, ids);
  while (q.executeStep()) {
    FeedbackRow row = row_at(q);
    const auto rank = q.getColumn(7).getInt64();
    Feedback& f = out[row.result_id];
    f.history_count = q.getColumn(8).getInt64();
    if (rank == 1)
      f.latest = std::move(row);
    else
      f.previous = std::move(row);
  }
  return out;
}

}  // namespace

util::Result<std::unique_ptr<FeedbackStore>> FeedbackStore::open(
    const std::filesystem::path& path) {
  return open(path, Options{});
}

util::Result<std::unique_ptr<FeedbackStore>> FeedbackStore::open(const std::filesystem::path& path,
                                                                 const Options& options) {
  auto db = open_side_connection(path, options.busy_timeout);
  if (!db) return db.error();
  return std::unique_ptr<FeedbackStore>(new FeedbackStore(std::move(*db)));
}

FeedbackStore::FeedbackStore(std::unique_ptr<SQLite::Database> db) : m_db(std::move(db)) {}
FeedbackStore::~FeedbackStore() = default;

util::Result<Feedback> FeedbackStore::record(const FeedbackRow& row) {
  std::lock_guard lock(m_mutex);
  try {
    return guard(
        m_db->getHandle(), fmt::format("storing feedback on result {}", row.result_id), [&] {
          // IMMEDIATE: the check that the result is current and the append see one
          // state, so feedback never lands on a result superseded meanwhile.
          SQLite::Transaction tx(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
          SQLite::Statement target(*m_db, R"sql(
        SELECT f.result_id FROM results r LEFT JOIN files f ON f.id = r.file_id
        WHERE r.id = ?1)sql");
          target.bind(1, row.result_id);
          if (!target.executeStep()) {
            throw Refusal{{"unknown_result", fmt::format("no result {}", row.result_id)}};
          }
          // A file forgotten since (deleted) keeps its last result open to feedback.
          if (!target.getColumn(0).isNull()) {
            const std::int64_t current = target.getColumn(0).getInt64();
            if (current != row.result_id) {
              throw Refusal{
                  {"superseded", fmt::format("result {} is no longer its file's current result: "
                                             "result {} is; give feedback on that one",
                                             row.result_id, current)}};
            }
          }
          SQLite::Statement insert(*m_db, R"sql(
        INSERT INTO feedback (result_id, label, predicted_label, user, comment, created_at)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6))sql");
          insert.bind(1, row.result_id);
          insert.bind(2, row.label);
          insert.bind(3, row.predicted_label);
          insert.bind(4, row.user);
          insert.bind(5, row.comment);
          insert.bind(6, row.created_at);
          insert.exec();
          const std::int64_t id = row.result_id;
          auto now = read_current(*m_db, std::span(&id, 1));
          tx.commit();
          return std::move(now.at(id));
        });
  } catch (const Refusal& refusal) {
    return refusal.error;  // the transaction was rolled back on the way out
  }
}

util::Result<std::map<std::int64_t, Feedback>> FeedbackStore::current(
    std::span<const std::int64_t> result_ids) {
  std::lock_guard lock(m_mutex);
  return guard(m_db->getHandle(), "reading feedback",
               [&] { return read_current(*m_db, result_ids); });
}

util::Result<std::vector<LabelPair>> FeedbackStore::label_pairs(
    const std::string& model, const std::optional<std::string>& version,
    const std::optional<std::string>& since) {
  std::lock_guard lock(m_mutex);
  return guard(m_db->getHandle(), fmt::format("reading the feedback on model {}", model), [&] {
    // A result's current feedback is its row with the highest id (feedback_result's order).
    SQLite::Statement q(*m_db, R"sql(
      SELECT f.predicted_label, f.label FROM feedback f JOIN results r ON r.id = f.result_id
      WHERE f.id = (SELECT MAX(id) FROM feedback WHERE result_id = f.result_id)
        AND (CASE WHEN ?1 IS NOT NULL THEN r.model_version = ?1
                  ELSE substr(r.model_version, 1, length(?2)) = ?2 END)
        AND (?3 IS NULL OR f.created_at >= ?3)
      ORDER BY f.result_id)sql");
    if (version)
      q.bind(1, model + "@" + *version);
    else
      q.bind(1);
    q.bind(2, model + "@");
    if (since)
      q.bind(3, *since);
    else
      q.bind(3);
    std::vector<LabelPair> pairs;
    while (q.executeStep()) {
      pairs.push_back({q.getColumn(0).getString(), q.getColumn(1).getString()});
    }
    return pairs;
  });
}

util::Result<std::vector<std::string>> FeedbackStore::versions_with_feedback() {
  std::lock_guard lock(m_mutex);
  return guard(m_db->getHandle(), "listing the versions with feedback", [&] {
    SQLite::Statement q(*m_db, R"sql(
      SELECT DISTINCT r.model_version FROM results r
      WHERE r.id IN (SELECT DISTINCT result_id FROM feedback) ORDER BY r.model_version)sql");
    std::vector<std::string> versions;
    while (q.executeStep()) versions.push_back(q.getColumn(0).getString());
    return versions;
  });
}

}  // namespace inferwatch::store
