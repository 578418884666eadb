#pragma once

// The model registry's memory (docs/models.md): every version of every repository model the
// daemon has seen, its state, its gate verdict and its rollout, in the table `model_versions` of
// the daemon's database, so a restart resumes each model where it was.
//
// It has its own connection to the database file (WAL lets it write beside the store thread's
// Database, each waiting up to the busy timeout for the other). Errors are values with the codes
// of store.hpp (`store_busy`, `store_full`, `store_failed`); no SQLite exception leaves it.
//
// Thread-safe: calls are serialized on one connection.

#include <inferwatch/util/result.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace SQLite {
class Database;
}

namespace inferwatch::store {

// A version's state in the registry (models/registry.hpp says what each means).
enum class ModelVersionState { candidate, live, retired, refused, rolled_back, waiting };

std::string_view to_string(ModelVersionState state);
std::optional<ModelVersionState> model_version_state_from(std::string_view text);

struct ModelVersionRow {
  std::string model;
  std::string version;
  std::string directory;  // absolute
  ModelVersionState state = ModelVersionState::waiting;
  std::string gate_json;     // the gate verdict (models::to_json); empty if never gated
  std::string rollout_json;  // the rollout snapshot (models::to_json); empty if none
  std::string created_at;    // RFC 3339 UTC, set when first stored
  std::string updated_at;    // RFC 3339 UTC, set at every store
};

class ModelCatalog {
 public:
  struct Options {
    // How long a call waits for another connection's write lock before it fails `store_busy`.
    std::chrono::milliseconds busy_timeout{5000};
  };

  // Open the database file (creating it and bringing its schema up to date if needed).
  // Error: `database_unusable`.
  static util::Result<std::unique_ptr<ModelCatalog>> open(const std::filesystem::path& path,
                                                          const Options& options);
  static util::Result<std::unique_ptr<ModelCatalog>> open(const std::filesystem::path& path);
  ~ModelCatalog();

  // Every stored version, in the order each was first stored.
  util::Result<std::vector<ModelVersionRow>> versions();

  // Insert or update each row (by model and version) in one transaction, at time `now` (RFC
  // 3339): a new row gets created_at = now, every row updated_at = now; the rows' own
  // created_at and updated_at are ignored.
  util::Result<void> put(std::span<const ModelVersionRow> rows, const std::string& now);

 private:
  explicit ModelCatalog(std::unique_ptr<SQLite::Database> db);

  std::mutex m_mutex;
  std::unique_ptr<SQLite::Database> m_db;
};

}  // namespace inferwatch::store
