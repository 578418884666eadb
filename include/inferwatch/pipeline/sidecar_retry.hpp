#pragma once

// Writes the sidecars that could not be written with their result (a read-only or full share, a
// directory in the way): the results are in the store, marked. Tried at start, soon after a
// sidecar failed, when a scan passes such a file, and then with backoff (1 s doubling to 5 min)
// while the share keeps refusing. A written sidecar clears the mark and the stored result's
// `sidecar_error`. A file that changed or went away meanwhile is left to its next result.
//
// Thread-safety: none (the store thread owns it). Time comes in as arguments.

#include <inferwatch/pipeline/backoff.hpp>
#include <inferwatch/pipeline/watch_roots.hpp>
#include <inferwatch/results/sidecar_sink.hpp>
#include <inferwatch/store/store.hpp>
#include <inferwatch/util/result.hpp>

#include <chrono>
#include <string>

namespace inferwatch::pipeline {

class SidecarRetry {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t k_per_round = 64;

  // References must outlive this. `enabled` false: sidecars are off, nothing to retry.
  SidecarRetry(const WatchRoots& roots, store::Store& store, results::SidecarSink& sidecars,
               std::string suffix, bool enabled)
      : m_roots(roots),
        m_store(store),
        m_sidecars(sidecars),
        m_suffix(std::move(suffix)),
        // Due at start (the epoch: never `min()`, whose distance to now overflows).
        m_retry_at(enabled ? Clock::time_point{} : Clock::time_point::max()),
        m_enabled(enabled) {}

  // Sidecars were just stored missing: try them soon (unless a retry is already planned).
  void missed(Clock::time_point now);
  // A scan passed a file whose sidecar is missing: try now.
  void look_now(Clock::time_point now);

  // When the next try is due (max: none planned).
  Clock::time_point due() const { return m_retry_at; }

  // Try up to k_per_round missing sidecars if due. Returns how many were written.
  util::Result<std::size_t> run(Clock::time_point now);

 private:
  const WatchRoots& m_roots;
  store::Store& m_store;
  results::SidecarSink& m_sidecars;
  const std::string m_suffix;
  Backoff m_backoff{std::chrono::seconds(1), std::chrono::minutes(5)};
  Clock::time_point m_retry_at;
  const bool m_enabled;
};

}  // namespace inferwatch::pipeline
