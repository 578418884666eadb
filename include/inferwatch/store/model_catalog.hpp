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
#include <inferwatch/util/unique_fd.hpp>

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
// `removed`: its directory was deleted by model.keep_versions; the row stays so the API and the
// log say why it is gone, and the repository poll never takes a half-deleted copy for a new one.
enum class ModelVersionState { candidate, live, retired, refused, rolled_back, waiting, removed };

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

// The lock is a flock(2) on `<database>.lock` held as long as the catalog is open: the daemons
// (serve, scan) hold it shared, `inferwatch models --offline` exclusive, so the CLI never changes
// the versions under a running daemon, and a daemon started meanwhile waits for it.
enum class CatalogLock { none, shared, exclusive };

// The lock file of the database at `database`.
std::filesystem::path catalog_lock_path(const std::filesystem::path& database);

class ModelCatalog {
 public:
  struct Options {
    // How long a call waits for another connection's write lock before it fails `store_busy`.
    std::chrono::milliseconds busy_timeout{5000};
    // Who else may change the versions while this catalog is open: `shared` (a daemon: it waits
    // up to `lock_wait` for an exclusive holder to finish), `exclusive` (the offline CLI: refused
    // at once while a daemon holds it), `none` (read only, or tests).
    CatalogLock lock = CatalogLock::shared;
    std::chrono::milliseconds lock_wait{30000};
  };

  // Open the database file (creating it and bringing its schema up to date if needed), after
  // taking options.lock. Errors: `database_unusable`; `catalog_locked` when another process
  // holds the lock (the message says which kind), `lock_failed` when the lock file cannot be
  // opened.
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
  ModelCatalog(std::unique_ptr<SQLite::Database> db, util::UniqueFd lock);

  util::UniqueFd m_lock;  // released when the catalog closes
  std::mutex m_mutex;
  std::unique_ptr<SQLite::Database> m_db;
};

}  // namespace inferwatch::store
