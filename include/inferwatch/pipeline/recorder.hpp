#pragma once

// Turns candidates into recorded file versions (the backlog in the store). A file reported by an
// event is recorded at once: its writer is done. A file found by a scan is skipped when the store
// already has that version, and otherwise waits in the Settler until its size and mtime have
// stayed unchanged for the settle time. Anything but a directory is recorded: a symlink, FIFO or
// socket at an image's name gets its error result once (reading refuses it), instead of being
// silently ignored.
//
// Nothing is lost when the store fails: a failed call returns the error, and what was not
// recorded is kept (candidates are the caller's to put back; settled sightings are kept here and
// recorded first on the next call). Time comes in as arguments.
//
// Thread-safety: none (the store thread owns it).

#include <inferwatch/pipeline/settler.hpp>
#include <inferwatch/pipeline/watch_roots.hpp>
#include <inferwatch/store/store.hpp>
#include <inferwatch/util/result.hpp>
#include <inferwatch/watch/candidate.hpp>

#include <chrono>
#include <span>
#include <vector>

namespace inferwatch::pipeline {

class Recorder {
 public:
  using Clock = std::chrono::steady_clock;

  // `roots` and `store` must outlive the recorder.
  Recorder(const WatchRoots& roots, store::Store& store, std::chrono::milliseconds settle)
      : m_roots(roots), m_store(store), m_settler(settle) {}

  struct Taken {
    // Scan-found files whose current result still lacks its sidecar: a scan passing by is the
    // moment to retry it.
    bool sidecar_due = false;
  };

  // Record event candidates now; hold new scan finds until stable. On error nothing of
  // `candidates` was recorded (the caller keeps them), though some may be held already.
  util::Result<Taken> take(std::span<const watch::Candidate> candidates, Clock::time_point now);

  // Record the held files that became stable (and any left from a failed call). Each comes
  // with how long it waited, for the settle metric.
  util::Result<std::vector<Clock::duration>> settle(Clock::time_point now);

  // When the next held file is due, if any.
  std::optional<Clock::time_point> next_due() const { return m_settler.next_due(); }
  // Scan-found files waiting to be stable.
  std::size_t settling() const { return m_settler.size(); }

 private:
  std::optional<store::FileVersion> version_of(std::size_t root, const std::string& path) const;

  const WatchRoots& m_roots;
  store::Store& m_store;
  Settler m_settler;
  std::vector<store::FileSighting> m_unrecorded;  // settled, not yet recorded
};

}  // namespace inferwatch::pipeline
