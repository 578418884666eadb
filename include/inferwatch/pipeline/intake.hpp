#pragma once

// Candidates handed over by the watcher, waiting for the store thread. Events are taken at once
// (they come at the pace people save files; beyond inotify's own queue they become a scan), but a
// batch that comes only from a scan waits while `capacity` candidates are already queued: a scan
// may list millions of files, and this backpressure keeps memory bounded.
//
// Thread-safe. `on_added` is called after candidates were queued, without the intake's lock held
// (the pipeline wakes its store thread there).

#include <inferwatch/watch/candidate.hpp>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

namespace inferwatch::pipeline {

class Intake {
 public:
  Intake(std::size_t capacity, std::function<void()> on_added)
      : m_capacity(capacity), m_on_added(std::move(on_added)) {}

  // Queue `candidates` (waiting for room first when all come from a scan). Dropped once closed:
  // the next start's scan finds them.
  void add(std::vector<watch::Candidate> candidates);

  // The oldest `max` candidates (all when fewer), making room for waiting scans.
  std::vector<watch::Candidate> take(std::size_t max);

  // Return candidates that could not be handled, ahead of everything queued since.
  void put_back(std::vector<watch::Candidate> candidates);

  // Take nothing more, and let waiting scans go (shutdown).
  void close();

  bool empty() const;
  std::size_t size() const;
  // Scans waiting for room right now (for tests: wait for a scan to be held up).
  int waiting() const;

 private:
  const std::size_t m_capacity;
  const std::function<void()> m_on_added;
  mutable std::mutex m_mutex;
  std::condition_variable m_room;
  std::vector<watch::Candidate> m_queue;  // guarded by m_mutex
  bool m_closed = false;                  // guarded by m_mutex
  int m_waiting = 0;                      // guarded by m_mutex
};

}  // namespace inferwatch::pipeline
