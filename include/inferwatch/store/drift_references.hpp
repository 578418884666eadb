#pragma once

// Each model version's drift reference (SPEC §11, docs/models.md "Drift"), in the table
// `drift_references` of the daemon's database: one row per version, written once when the
// reference is complete and read back at start, so a restart never rebases a version's reference
// on the results it has made since.
//
// It has its own connection to the database file (like FeedbackStore). Errors are values with the
// codes of store.hpp (`store_busy`, `store_full`, `store_failed`) or `database_unusable` from
// open(); no SQLite exception leaves it. Thread-safe: calls are serialized on one connection.

#include <inferwatch/util/result.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace SQLite {
class Database;
}

namespace inferwatch::store {

struct DriftReferenceRow {
  std::string model;
  std::string version;
  std::string source;     // golden or first_results
  std::string histogram;  // JSON text (models::to_json of a DriftHistogram)
  std::string created_at;
};

class DriftReferences {
 public:
  struct Options {
    std::chrono::milliseconds busy_timeout{5000};
  };

  // Open the database file (creating it and bringing its schema up to date if needed).
  static util::Result<std::unique_ptr<DriftReferences>> open(const std::filesystem::path& path,
                                                             const Options& options);
  static util::Result<std::unique_ptr<DriftReferences>> open(const std::filesystem::path& path);
  ~DriftReferences();

  // Store `row` as its version's reference, replacing the one stored before (if any).
  util::Result<void> save(const DriftReferenceRow& row);

  // Every stored reference, by model and version.
  util::Result<std::vector<DriftReferenceRow>> load_all();

 private:
  explicit DriftReferences(std::unique_ptr<SQLite::Database> db);
  std::mutex m_mutex;
  std::unique_ptr<SQLite::Database> m_db;  // m_mutex
};

}  // namespace inferwatch::store
