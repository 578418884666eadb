#pragma once

// Read-only queries for the API, on their own SQLite connection (WAL lets them run beside the
// writer). Failures come back as values (`store_busy`, `store_failed`; see store.hpp): nothing
// SQLite throws leaves the store module. Thread-safe: calls are serialized on an internal mutex
// (each is a short indexed query).

#include <inferwatch/util/file.hpp>
#include <inferwatch/util/result.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace SQLite {
class Database;
}

namespace inferwatch::store {

struct ResultQuery {
  std::int64_t after = 0;  // ids greater than this
  std::int64_t limit = 100;
  std::string path_prefix;  // "" for all; compared with the display path (valid UTF-8)
  std::string status;       // "", "ok" or "error"
};

struct StoredJson {
  std::int64_t id = 0;
  std::string path;  // display form (valid UTF-8)
  std::string json;  // the §5 object, valid UTF-8
};

// Where a result's file is, and which version of it the result was made from.
struct ResultSource {
  std::string root;      // the watch root, as configured when the result was made
  std::string raw_path;  // relative to the root, the exact name bytes
  util::FileStat version;
};

struct Counts {
  std::int64_t files = 0;
  std::int64_t pending = 0;
  std::int64_t results_ok = 0;
  std::int64_t results_error = 0;
  std::int64_t max_id = 0;
};

class Reader {
 public:
  // Open `path` read-only. Error: `database_unusable`.
  static util::Result<std::unique_ptr<Reader>> open(const std::filesystem::path& path);
  ~Reader();

  // Results with id > query.after, oldest first, at most query.limit.
  util::Result<std::vector<StoredJson>> results(const ResultQuery& query);
  util::Result<std::optional<StoredJson>> result(std::int64_t id);
  // The file result `id` was made from (nullopt: no such result).
  util::Result<std::optional<ResultSource>> source(std::int64_t id);
  // The current result of the file at `path` (relative to its root), in any root. `path` is the
  // raw name or its display form (SPEC §5); when several files match, the one whose raw name is
  // `path` wins, then the newest result.
  util::Result<std::optional<StoredJson>> latest(const std::string& path);
  // The current result of the file whose raw name is exactly `bytes`, in any root.
  util::Result<std::optional<StoredJson>> latest_by_bytes(const std::string& bytes);
  util::Result<Counts> counts();
  // True when a trivial query succeeds (for readiness).
  bool healthy();

 private:
  explicit Reader(std::unique_ptr<SQLite::Database> db);
  std::mutex m_mutex;
  std::unique_ptr<SQLite::Database> m_db;  // guarded by m_mutex
};

}  // namespace inferwatch::store
