#pragma once

// The SQLite store (SPEC §4): which file versions exist and which are done (the backlog lives
// here, not in RAM), and the append-only results whose ids are the §5 `id`.
//
// Durability: WAL with synchronous=NORMAL. A process crash loses nothing; a power loss may roll
// back the last commits, whose files are then still pending and are computed again (their
// sidecars are replaced; nothing in the share is trusted), so nothing is lost there either.
//
// Errors: every call returns its failure as a value, with the codes of store.hpp (`store_busy`,
// `store_full`, `store_failed`) and a message naming what the call was doing; no SQLite exception
// leaves a Database. A failed call changed nothing.
//
// Thread-safety: none. One writer thread owns a Database; readers open their own connections.

#include <inferwatch/store/job.hpp>
#include <inferwatch/store/store.hpp>
#include <inferwatch/store/stored_result.hpp>
#include <inferwatch/util/result.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace SQLite {
class Database;
}

namespace inferwatch::store {

class Database final : public Store {
 public:
  struct Options {
    // How long a call waits for another connection's write lock before it fails `store_busy`.
    std::chrono::milliseconds busy_timeout{5000};
  };

  // Open or create the database and bring its schema up to date. Error: `database_unusable`.
  static util::Result<std::unique_ptr<Database>> open(const std::filesystem::path& path);
  static util::Result<std::unique_ptr<Database>> open(const std::filesystem::path& path,
                                                      const Options& options);
  ~Database();

  // Record sightings in one transaction. A new file or a new version becomes pending work (with
  // no attempts counted); a version already pending or done changes nothing. Returns how many
  // became pending.
  util::Result<std::size_t> record(std::span<const FileSighting> sightings) override;

  // The first `limit` pending jobs, in the order they became pending (a new version of a file
  // goes to the back), each with its raw path and its attempts so far.
  util::Result<std::vector<Job>> pending(std::size_t limit) override;

  // Number of pending file versions.
  util::Result<std::int64_t> pending_count() override;

  // Count one more processing attempt of each file's current version, in one transaction (for
  // the crash-loop guard: call before processing starts, so a crash leaves the count behind).
  util::Result<void> count_attempts(std::span<const std::int64_t> file_ids) override;

  // Reserve `n` consecutive result ids; they are never handed out again, even after a crash
  // (ids are monotonic and never reused, but may have gaps). Returns the first.
  util::Result<std::int64_t> reserve_ids(std::int64_t n) override;

  // Give back the unused tail [next, end) of the latest reservation, at a clean stop, unless
  // another process has reserved since. Ids handed out stay taken, so a restart finds no gap
  // between the highest stored id and its own when every handed-out id was committed.
  util::Result<void> release_ids(std::int64_t next, std::int64_t end) override;

  // In one transaction: append the results and make each its file's current result (done, its
  // attempts back to 0), unless the file has moved on to a newer version meanwhile (then the
  // result is kept as history only). Stored JSON is made valid UTF-8 if it is not.
  util::Result<void> commit(std::span<const StoredResult> results) override;

  // Up to `limit` current results whose sidecar could not be written, oldest first.
  util::Result<std::vector<MissingSidecar>> missing_sidecars(std::size_t limit) override;

  // The sidecar of `result_id` is written now: unmark the file (if that is still its current
  // result) and store `json`, the result without its sidecar error.
  util::Result<void> sidecar_written(std::int64_t file_id, std::int64_t result_id,
                                     const std::string& json) override;

  // What the store knows of root/path (`path` raw, exact bytes), if anything.
  util::Result<std::optional<FileState>> file_state(const std::string& root,
                                                    const std::string& path) override;

  // The current result's JSON of root/path, if it has one.
  util::Result<std::optional<std::string>> current_result(const std::string& root,
                                                          const std::string& path);

  // Number of results stored (all versions).
  util::Result<std::int64_t> result_count();

  // Delete results created before `cutoff` (RFC 3339 UTC, as in created_at), except every
  // file's current result. Returns how many were deleted.
  util::Result<std::int64_t> delete_results_before(const std::string& cutoff) override;

  // Drop a file whose job could not run because the file is gone (unless a newer version of it
  // was recorded meanwhile). A later sighting makes it new work again.
  util::Result<void> forget(std::int64_t file_id, std::int64_t generation) override;

  // The schema version this build writes (PRAGMA user_version).
  static constexpr int k_schema_version = 7;

 private:
  explicit Database(std::unique_ptr<SQLite::Database> db);
  void migrate();

  std::unique_ptr<SQLite::Database> m_db;
  std::int64_t m_next_seq = 1;  // next queue position handed to a pending version
};

}  // namespace inferwatch::store
