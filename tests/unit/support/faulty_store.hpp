#pragma once

// A store::Store that forwards to a real one, except while a fault is switched on: then every
// call (or only commits) returns the error the real store returns when the database is locked
// past its timeout (`store_busy`) or failing (`store_failed`), and changes nothing. Counts the
// calls that failed, so tests wait for a fault to be seen instead of sleeping. Thread-safe
// switches; the forwarded calls come from the pipeline's store thread.

#include <inferwatch/store/store.hpp>

#include <atomic>
#include <optional>
#include <string>

namespace inferwatch::test {

enum class Fault {
  none,
  everything,       // every call fails `store_failed` (an I/O error, say)
  commits,          // only commits fail `store_failed`
  busy_everything,  // every call fails `store_busy` (another process holds the lock)
};

class FaultyStore final : public store::Store {
 public:
  explicit FaultyStore(store::Store& real) : m_real(real) {}

  void set(Fault fault) { m_fault = fault; }
  int failures() const { return m_failures; }
  int commits() const { return m_commits; }

  util::Result<std::size_t> record(std::span<const store::FileSighting> s) override {
    if (auto e = fault("recording file sightings", false)) return *e;
    return m_real.record(s);
  }
  util::Result<std::vector<store::Job>> pending(std::size_t limit) override {
    if (auto e = fault("listing pending jobs", false)) return *e;
    return m_real.pending(limit);
  }
  util::Result<std::int64_t> pending_count() override {
    if (auto e = fault("counting pending jobs", false)) return *e;
    return m_real.pending_count();
  }
  util::Result<void> count_attempts(std::span<const std::int64_t> ids) override {
    if (auto e = fault("counting attempts", false)) return *e;
    return m_real.count_attempts(ids);
  }
  util::Result<std::int64_t> reserve_ids(std::int64_t n) override {
    if (auto e = fault("reserving result ids", false)) return *e;
    return m_real.reserve_ids(n);
  }
  util::Result<void> release_ids(std::int64_t next, std::int64_t end) override {
    if (auto e = fault("releasing unused result ids", false)) return *e;
    return m_real.release_ids(next, end);
  }
  util::Result<void> commit(std::span<const store::StoredResult> results) override {
    if (auto e = fault("committing results", true)) return *e;
    auto done = m_real.commit(results);
    if (done) m_commits += static_cast<int>(results.size());
    return done;
  }
  util::Result<std::vector<store::MissingSidecar>> missing_sidecars(std::size_t limit) override {
    if (auto e = fault("listing missing sidecars", false)) return *e;
    return m_real.missing_sidecars(limit);
  }
  util::Result<void> sidecar_written(std::int64_t file_id, std::int64_t result_id,
                                     const std::string& json) override {
    if (auto e = fault("marking a sidecar written", false)) return *e;
    return m_real.sidecar_written(file_id, result_id, json);
  }
  util::Result<std::optional<store::FileState>> file_state(const std::string& root,
                                                           const std::string& path) override {
    if (auto e = fault("looking up a file's state", false)) return *e;
    return m_real.file_state(root, path);
  }
  util::Result<std::int64_t> delete_results_before(const std::string& cutoff) override {
    if (auto e = fault("deleting old results", false)) return *e;
    return m_real.delete_results_before(cutoff);
  }
  util::Result<void> forget(std::int64_t file_id, std::int64_t generation) override {
    if (auto e = fault("forgetting a vanished file", false)) return *e;
    return m_real.forget(file_id, generation);
  }

 private:
  // The error this call returns under the current fault, if any (counted).
  std::optional<util::Error> fault(const char* what, bool is_commit) {
    const Fault f = m_fault;
    if (f == Fault::busy_everything) {
      ++m_failures;
      return util::Error{"store_busy", std::string(what) + ": database is locked"};
    }
    if (f == Fault::everything || (f == Fault::commits && is_commit)) {
      ++m_failures;
      return util::Error{"store_failed", std::string(what) + ": disk I/O error"};
    }
    return std::nullopt;
  }

  store::Store& m_real;
  std::atomic<Fault> m_fault{Fault::none};
  std::atomic<int> m_failures{0};
  std::atomic<int> m_commits{0};
};

}  // namespace inferwatch::test
