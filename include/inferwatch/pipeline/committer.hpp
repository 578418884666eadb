#pragma once

// Makes finished work durable, exactly once (SPEC §4, §5). For each round of finished items:
// ids in commit order, sidecars written first (through the SidecarSink), then every result row,
// "done" state, new version and vanished file in the store, then the listener hears each result.
// A crash between sidecar and commit leaves a sidecar whose id was never committed: the next run
// computes the file again and replaces it.
//
// When the store fails, the prepared round (ids taken, sidecars written) waits here whole and is
// committed first on the next call, before anything newer, so ids stay in commit order and
// nothing is decoded or written twice. A sidecar that cannot be written keeps its result, with
// `sidecar_error`, in the store, marked for a later retry (SidecarRetry).
//
// Thread-safety: none (the store thread owns it).

#include <inferwatch/metrics/metrics.hpp>
#include <inferwatch/pipeline/result_ids.hpp>
#include <inferwatch/pipeline/work_item.hpp>
#include <inferwatch/results/sidecar_sink.hpp>
#include <inferwatch/store/store.hpp>
#include <inferwatch/util/result.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace inferwatch::pipeline {

class Committer {
 public:
  using Clock = std::chrono::steady_clock;
  // Called for each committed result: its id, path and §5 JSON text.
  using Listener =
      std::function<void(std::int64_t id, const std::string& path, const std::string& json)>;

  struct Options {
    bool sidecars = true;
    std::string sidecar_suffix = ".result.json";
  };

  // Every reference must outlive the committer; `metrics` may be null.
  Committer(store::Store& store, ResultIds& ids, results::SidecarSink& sidecars, Options options,
            Listener listener, metrics::Metrics* metrics);

  // What one successful call made durable.
  struct Committed {
    std::vector<ItemPtr> items;        // every item of the round (results, changes, vanished)
    std::uint64_t ok = 0, errors = 0;  // results by status
    std::size_t sidecars_missing = 0;  // results stored without their sidecar
  };

  // Commit the round left by a failed call, if any, then `finished` (taken from the vector).
  // On error, everything is kept for the next call.
  util::Result<std::vector<Committed>> commit(std::vector<ItemPtr>& finished);

  // A prepared round is waiting for the store.
  bool holding() const { return m_unsaved.has_value(); }

 private:
  struct Round {
    std::vector<ItemPtr> items;
    std::vector<store::StoredResult> rows;
    std::vector<store::FileSighting> changed;
    std::vector<std::pair<std::int64_t, std::int64_t>> forgotten;  // file id, generation
    std::size_t sidecars_missing = 0;
    Clock::time_point write_started;
  };

  util::Result<Round> prepare(std::vector<ItemPtr>& finished);
  util::Result<Committed> save();
  void write_sidecars(Round& round, const std::vector<const util::RootDir*>& roots);

  store::Store& m_store;
  ResultIds& m_ids;
  results::SidecarSink& m_sidecars;
  const Options m_options;
  Listener m_listener;
  metrics::Metrics* m_metrics;
  std::optional<Round> m_unsaved;  // prepared, not yet committed
};

}  // namespace inferwatch::pipeline
