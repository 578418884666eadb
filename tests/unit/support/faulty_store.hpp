#pragma once

// A store::Store that forwards to a real one, except while a fault is switched on: then every
// call (or only commits) throws as SQLite does when the database is locked past its timeout, full
// or failing. Counts the calls that failed, so tests wait for a fault to be seen instead of
// sleeping. Thread-safe switches; the forwarded calls come from the pipeline's store thread.

#include <inferwatch/store/store.hpp>

#include <atomic>
#include <stdexcept>

namespace inferwatch::test {

enum class Fault { none, everything, commits };

class FaultyStore final : public store::Store {
 public:
  explicit FaultyStore(store::Store& real) : m_real(real) {}

  void set(Fault fault) { m_fault = fault; }
  int failures() const { return m_failures; }
  int commits() const { return m_commits; }

  std::size_t record(std::span<const store::FileSighting> s) override {
    check(false);
    return m_real.record(s);
  }
  std::vector<store::Job> pending(std::size_t limit) override {
    check(false);
    return m_real.pending(limit);
  }
  std::int64_t pending_count() override {
    check(false);
    return m_real.pending_count();
  }
  void count_attempts(std::span<const std::int64_t> ids) override {
    check(false);
    m_real.count_attempts(ids);
  }
  std::int64_t reserve_ids(std::int64_t n) override {
    check(false);
    return m_real.reserve_ids(n);
  }
  void release_ids(std::int64_t next, std::int64_t end) override {
    check(false);
    m_real.release_ids(next, end);
  }
  void commit(std::span<const store::StoredResult> results) override {
    check(true);
    m_real.commit(results);
    m_commits += static_cast<int>(results.size());
  }
  std::vector<store::MissingSidecar> missing_sidecars(std::size_t limit) override {
    check(false);
    return m_real.missing_sidecars(limit);
  }
  void sidecar_written(std::int64_t file_id, std::int64_t result_id,
                       const std::string& json) override {
    check(false);
    m_real.sidecar_written(file_id, result_id, json);
  }
  std::optional<store::FileState> file_state(const std::string& root,
                                             const std::string& path) override {
    check(false);
    return m_real.file_state(root, path);
  }
  std::int64_t delete_results_before(const std::string& cutoff) override {
    check(false);
    return m_real.delete_results_before(cutoff);
  }
  void forget(std::int64_t file_id, std::int64_t generation) override {
    check(false);
    m_real.forget(file_id, generation);
  }

 private:
  void check(bool is_commit) {
    const Fault fault = m_fault;
    if (fault == Fault::everything || (fault == Fault::commits && is_commit)) {
      ++m_failures;
      throw std::runtime_error("database is locked");
    }
  }

  store::Store& m_real;
  std::atomic<Fault> m_fault{Fault::none};
  std::atomic<int> m_failures{0};
  std::atomic<int> m_commits{0};
};

}  // namespace inferwatch::test
