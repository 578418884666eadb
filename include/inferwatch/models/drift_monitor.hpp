#pragma once

// Drift per model version (SPEC §11, docs/models.md "Drift"): for each version, a sliding window
// of its latest results' top-1 predictions and a reference to compare it with: the predictions it
// made on its golden set in the gate, or else its first results. The reference is stored once
// complete (store::DriftReferences) and read back at start, so a restart never rebases it.
//
// Threads: observe() runs on the pipeline's threads for every result (a lock, O(1) work, no I/O);
// the monitor's own thread writes completed references; status() runs on the scrape and API
// threads. All public calls are thread-safe.

#include <inferwatch/models/drift.hpp>
#include <inferwatch/util/result.hpp>

#include <boost/json/object.hpp>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace inferwatch::store {
class DriftReferences;
}

namespace inferwatch::models {

enum class DriftReferenceSource { golden, first_results };
std::string_view to_string(DriftReferenceSource source);

// [drift] in the configuration.
struct DriftOptions {
  std::size_t window = 500;     // the latest results of a version that are compared
  std::size_t reference = 500;  // first results that make the reference without a golden set
};

// One version's drift as it stands.
struct DriftStatus {
  std::string model;
  std::string version;
  DriftReferenceSource source = DriftReferenceSource::first_results;
  std::uint64_t reference_results = 0;  // predictions in the reference (so far)
  bool reference_complete = false;      // golden: at once; first results: after `reference`
  std::size_t window_results = 0;
  std::size_t window_capacity = 0;
  // Measured once the reference is complete and the window full.
  std::optional<DriftScore> score;
};

// {"reference": {"source", "results", "complete"}, "window": {"results", "capacity"},
//  "score": null | {"value", "labels", "scores"}}
boost::json::object to_json(const DriftStatus& status);

class DriftMonitor;

// Add "drift" (to_json of its status, or null when it has made no result and has no golden
// reference) to every version of a Registry::describe() object.
void add_drift(boost::json::object& described, const DriftMonitor& monitor);

class DriftMonitor {
 public:
  // `references` (may be null: nothing is stored) must outlive the monitor.
  DriftMonitor(DriftOptions options, store::DriftReferences* references);
  ~DriftMonitor();  // stop()
  DriftMonitor(const DriftMonitor&) = delete;
  DriftMonitor& operator=(const DriftMonitor&) = delete;

  // Take the stored references (call before the first observe()). A row that does not read back
  // is skipped (the version then gathers a new one) and named in the returned warnings.
  util::Result<std::vector<std::string>> restore();

  // A version's predictions on its golden set (from the gate): its reference from now on,
  // replacing any other. An empty histogram is ignored.
  void set_golden_reference(const std::string& model, const std::string& version,
                            const DriftHistogram& predictions);

  // One result's top-1 prediction (label index, probability) made by `model`@`version`.
  void observe(const std::string& model, const std::string& version, int label_index, double score);

  // Every version seen, by model and version.
  std::vector<DriftStatus> status() const;
  std::optional<DriftStatus> status(const std::string& model, const std::string& version) const;

  // Store the references completed since the last call (the monitor's thread does this by itself;
  // stop() and tests call it). Error: the store's; those not stored stay pending.
  util::Result<void> flush();

  // End the thread after a last flush(). Idempotent.
  void stop();

 private:
  struct Entry {
    explicit Entry(std::size_t capacity) : window(capacity) {}
    DriftReferenceSource source = DriftReferenceSource::first_results;
    DriftHistogram reference;
    bool complete = false;
    DriftWindow window;
  };
  using Key = std::pair<std::string, std::string>;

  Entry& entry(const Key& key);  // m_mutex held
  DriftStatus status_of(const Key& key, const Entry& e) const;
  void run();

  DriftOptions m_options;
  store::DriftReferences* m_references;

  mutable std::mutex m_mutex;
  std::map<Key, Entry> m_entries;  // m_mutex
  std::vector<Key> m_pending;      // m_mutex: complete, not yet stored
  bool m_stopping = false;         // m_mutex
  std::condition_variable m_wake;

  std::mutex m_flush_mutex;  // one flush at a time, so rows land in the order they completed
  std::thread m_thread;
};

}  // namespace inferwatch::models
