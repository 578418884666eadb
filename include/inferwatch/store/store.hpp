#pragma once

// What the pipeline needs of its store, as an interface: `Database` is the real one (SQLite);
// tests wrap it to make it busy, failing or slow. Every call returns its failure as a value (no
// SQLite exception leaves the store module); a failed call changed nothing, so the pipeline keeps
// what it was handing over and retries later. Error codes: `store_busy` (locked by another
// process past the busy timeout), `store_full` (disk or quota full), `store_failed` (anything
// else: I/O error, corruption, read-only).
//
// Thread-safety: none. One writer thread owns a Store.

#include <inferwatch/store/job.hpp>
#include <inferwatch/store/stored_result.hpp>
#include <inferwatch/util/result.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace inferwatch::store {

// A file version seen on disk (by an event or a scan).
struct FileSighting {
  std::string root;
  std::string path;  // the raw name, any bytes (the store keeps it exactly)
  FileVersion version;
};

// What the store knows of one file.
struct FileState {
  std::int64_t file_id = 0;
  FileVersion version;
  bool done = false;             // the recorded version has its result
  std::int64_t result_id = 0;    // current result, 0 if none
  bool sidecar_missing = false;  // the current result's sidecar is still to be written
};

class Store {
 public:
  virtual ~Store() = default;

  // Record sightings in one transaction. A new file or a new version becomes pending work (with
  // no attempts counted); a version already pending or done changes nothing. Returns how many
  // became pending.
  virtual util::Result<std::size_t> record(std::span<const FileSighting> sightings) = 0;

  // The first `limit` pending jobs, in the order they became pending.
  virtual util::Result<std::vector<Job>> pending(std::size_t limit) = 0;
  virtual util::Result<std::int64_t> pending_count() = 0;

  // Count one processing start for each file, durably, in one transaction.
  virtual util::Result<void> count_attempts(std::span<const std::int64_t> file_ids) = 0;

  // Reserve `n` consecutive result ids, never handed out again; returns the first.
  virtual util::Result<std::int64_t> reserve_ids(std::int64_t n) = 0;
  // Give back the unused tail [next, end) of the latest reservation, unless reserved since.
  virtual util::Result<void> release_ids(std::int64_t next, std::int64_t end) = 0;

  // In one transaction: append the results and make each its file's current result (unless the
  // file moved on to a newer version meanwhile).
  virtual util::Result<void> commit(std::span<const StoredResult> results) = 0;

  // Current results whose sidecar is still to be written, and marking one written.
  virtual util::Result<std::vector<MissingSidecar>> missing_sidecars(std::size_t limit) = 0;
  virtual util::Result<void> sidecar_written(std::int64_t file_id, std::int64_t result_id,
                                             const std::string& json) = 0;

  // What the store knows of root/path (`path` raw), if anything.
  virtual util::Result<std::optional<FileState>> file_state(const std::string& root,
                                                            const std::string& path) = 0;

  // Delete results created before `cutoff` except current ones; returns how many.
  virtual util::Result<std::int64_t> delete_results_before(const std::string& cutoff) = 0;

  // Drop a file whose job could not run because it is gone (unless a newer version came).
  virtual util::Result<void> forget(std::int64_t file_id, std::int64_t generation) = 0;
};

}  // namespace inferwatch::store
