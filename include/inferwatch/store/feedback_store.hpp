#pragma once

// Feedback on results (SPEC §11): a user confirms or corrects a result's label. Append-only in
// the table `feedback` of the daemon's database: a result's current feedback is its latest row,
// the rows before it are its history.
//
// It has its own connection to the database file (WAL lets it write beside the store thread's
// Database, each waiting up to the busy timeout for the other). Errors are values:
// `unknown_result`, `superseded`, and the codes of store.hpp (`store_busy`, `store_full`,
// `store_failed`); no SQLite exception leaves it.
//
// Thread-safe: calls are serialized on one connection.

#include <inferwatch/store/quality.hpp>
#include <inferwatch/util/result.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace SQLite {
class Database;
}

namespace inferwatch::store {

struct FeedbackRow {
  std::int64_t id = 0;
  std::int64_t result_id = 0;
  std::string label;
  std::string predicted_label;  // the result's top-1 label
  std::string user;
  std::string comment;     // empty when none was given
  std::string created_at;  // RFC 3339 UTC
};

// A result's current feedback: its latest row, the one before it, and how many rows it has.
struct Feedback {
  FeedbackRow latest;
  std::optional<FeedbackRow> previous;
  std::int64_t history_count = 0;
};

class FeedbackStore {
 public:
  struct Options {
    // How long a call waits for another connection's write lock before it fails `store_busy`.
    std::chrono::milliseconds busy_timeout{5000};
  };

  // Open the database file (creating it and bringing its schema up to date if needed).
  // Error: `database_unusable`.
  static util::Result<std::unique_ptr<FeedbackStore>> open(const std::filesystem::path& path,
                                                           const Options& options);
  static util::Result<std::unique_ptr<FeedbackStore>> open(const std::filesystem::path& path);
  ~FeedbackStore();

  // Append `row` (its id is ignored, its created_at kept) as the current feedback of
  // row.result_id, and return that result's feedback now. Errors: `unknown_result` (no such
  // result), `superseded` (its file has a newer current result; the message names its id).
  util::Result<Feedback> record(const FeedbackRow& row);

  // The current feedback of each of `result_ids` that has any, by result id (one query).
  util::Result<std::map<std::int64_t, Feedback>> current(std::span<const std::int64_t> result_ids);

  // For quality (store::compute_quality): the (predicted, given) labels of the current feedback
  // of every result made by `model` (`<model>@<version>` in results.model_version), of
  // `version` only when given, whose current feedback was given at or after `since` (RFC 3339
  // UTC with milliseconds, as created_at). A result superseded since its feedback still counts:
  // the feedback judged what that version made of that file.
  util::Result<std::vector<LabelPair>> label_pairs(const std::string& model,
                                                   const std::optional<std::string>& version,
                                                   const std::optional<std::string>& since);

  // Every model_version (`<model>@<version>`) whose results have feedback, sorted.
  util::Result<std::vector<std::string>> versions_with_feedback();

 private:
  explicit FeedbackStore(std::unique_ptr<SQLite::Database> db);

  std::mutex m_mutex;
  std::unique_ptr<SQLite::Database> m_db;  // guarded by m_mutex
};

}  // namespace inferwatch::store
