#pragma once

// The processing pipeline (SPEC §4), from candidate files to committed results:
//
//   Intake ─▶ [store thread] Recorder: stat, settle, record in the store (the backlog);
//             feed at most `capacity` jobs (CrashGuard picks which may start)
//          ─▶ [decode pool, oneTBB work stealing] read beneath the watch root + verify the
//             version, Engine::prepare (decode + preprocess)
//          ─▶ [batcher thread] Engine::run (forward + postprocess)
//          ─▶ [store thread] Committer: ids in commit order (ResultIds), sidecars, result +
//             "done" in one transaction ─▶ listener (pushes); SidecarRetry, Retention
//
// Each part has its own contract in its header; this class owns the threads and moves work
// between the parts. Exactly once: see Committer. A failing store never loses work: every part
// keeps what it could not hand over, and the store thread retries with backoff (store_problem()
// says why meanwhile). Ownership: the store thread owns the Store; models are only used on the
// batcher thread. Hot reload: use_engine() swaps the model for items decoded afterwards; items
// already decoded finish on the engine they were prepared for.

#include <inferwatch/config/config.hpp>
#include <inferwatch/metrics/metrics.hpp>
#include <inferwatch/models/drift_monitor.hpp>
#include <inferwatch/models/engine.hpp>
#include <inferwatch/models/registry.hpp>
#include <inferwatch/results/record.hpp>
#include <inferwatch/results/sidecar_sink.hpp>
#include <inferwatch/store/store.hpp>
#include <inferwatch/util/clock.hpp>
#include <inferwatch/watch/candidate.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace inferwatch::pipeline {

using models::Engine;

struct PipelineStats {
  std::uint64_t detected = 0;  // candidates received
  std::uint64_t ok = 0;        // results committed, by status
  std::uint64_t errors = 0;
  std::int64_t pending = 0;    // backlog in the database
  std::int64_t in_flight = 0;  // being decoded, batched or written
  std::int64_t settling = 0;   // scan-found files waiting to be stable
};

// Files the pipeline keeps in memory at once (being decoded, batched or written); the rest of
// the backlog waits in SQLite. Enough for several full batches.
std::int64_t in_flight_capacity(std::int64_t max_batch_size);

class Pipeline {
 public:
  // Called on the store thread for each committed result: its id, path and §5 JSON text.
  using Listener =
      std::function<void(std::int64_t id, const std::string& path, const std::string& json)>;

  // What the pipeline works with. Everything referenced must outlive the pipeline.
  struct Parts {
    store::Store& store;
    std::shared_ptr<Engine> engine;
    Listener listener = {};
    metrics::Metrics* metrics = nullptr;
    results::SidecarSink* sidecars = nullptr;  // null: the real sidecar files
    const util::Clock* clock = nullptr;        // null: the steady clock
    // With a model repository: which engine(s) each file goes to (routes, shadow, canary), and
    // where outcomes are counted. Null: every file goes to `engine`.
    models::Registry* registry = nullptr;
    // Drift per model version (SPEC §11): every result's top-1 prediction is put in its
    // version's window. Null: not measured.
    models::DriftMonitor* drift = nullptr;
  };

  // Only the settings that cannot change while running are read from `config` (the engine
  // carries the model's own settings). Throws std::runtime_error when a root cannot be opened.
  Pipeline(const config::Config& config, const std::vector<std::filesystem::path>& roots,
           Parts parts);
  ~Pipeline();

  void start();

  // Hand over files to consider (thread-safe; called by the watcher). A batch that comes only
  // from a scan waits while a few rounds' worth of candidates are already queued (backpressure
  // on the scan, so memory stays bounded); events are always taken at once.
  void add(std::vector<watch::Candidate> candidates);

  // Run the model on uploaded image bytes on the interactive lane, ahead of the folder backlog;
  // `reply` gets the result (not stored, no id) on a worker thread. False, without calling
  // `reply`, when too many interactive requests are already waiting (the caller answers 503).
  bool infer_now(std::string bytes, std::function<void(results::Record)> reply);

  // Stop taking new work, finish what is in flight (at most `timeout`), commit it, stop threads.
  // Work not finished stays pending in the database for the next run. False when a decode or a
  // model forward was still running shortly after the deadline: it was left running, and the
  // process must then exit without destroying the pipeline (std::_Exit), so a stop stays bounded.
  bool stop(std::chrono::milliseconds timeout);

  // Process files decoded from now on with `engine` (thread-safe). The previous engine is freed
  // when its last item is done.
  void use_engine(std::shared_ptr<Engine> engine);
  std::shared_ptr<Engine> engine() const;

  // Why the pipeline looks stuck (a forward running, or the store thread not turning, for longer
  // than `limit`), or nothing. For the systemd watchdog. Thread-safe.
  std::optional<std::string> stalled(std::chrono::milliseconds limit) const;

  // Take no more candidates, and let a scan waiting in add() go (shutdown: call before stopping
  // the watcher, so a scan held up by a slow or failing store cannot hold up the stop).
  void close_intake();

  // Why the store cannot take results right now (busy past its timeout, full, failing), or
  // nothing. Work waits in memory and is retried with backoff meanwhile. Thread-safe.
  std::optional<std::string> store_problem() const;

  // True when nothing is pending, settling or in flight (used by `scan`).
  bool idle() const;

  PipelineStats stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace inferwatch::pipeline
