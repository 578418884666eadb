#pragma once

// The dynamic batcher (Triton's shape): one thread, a condition variable, and a batch that goes
// when it is full or when its oldest item has waited `max_delay` since its own arrival — never
// "since the worker polled". Interactive items are taken before backlog items. With a
// `more_coming` predicate, a partial batch also goes as soon as nothing more is on its way
// (waiting could only add latency); the producer calls poke() when that may have changed.
//
// Thread-safety: submit(), poke(), hold(), release(), queued() and stop() from any thread; `run`
// is called on the batcher thread, one batch at a time, outside the lock.

#include <inferwatch/pipeline/lane.hpp>
#include <inferwatch/util/thread_name.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace inferwatch::pipeline {

template <typename Item>
class Batcher {
 public:
  using Clock = std::chrono::steady_clock;
  using Run = std::function<void(std::vector<Item>)>;

  // `more_coming` (optional) says whether more items are about to be submitted; it is called
  // with the batcher's lock held, so it must only read atomics. `on_start` (optional) runs on the
  // batcher thread before it takes the first batch (e.g. a warm-up forward on this thread).
  Batcher(std::size_t max_batch, std::chrono::microseconds max_delay, Run run,
          std::function<bool()> more_coming = {}, std::function<void()> on_start = {})
      : m_max_batch(max_batch),
        m_max_delay(max_delay),
        m_run(std::move(run)),
        m_more_coming(std::move(more_coming)),
        m_thread([this, on_start = std::move(on_start)] {
          util::name_this_thread("iw-batcher");
          if (on_start) on_start();
          loop();
        }) {}

  ~Batcher() { stop(); }

  void submit(Item item, Lane lane) {
    {
      std::lock_guard lock(m_mutex);
      (lane == Lane::interactive ? m_interactive : m_backlog)
          .push_back({std::move(item), Clock::now()});
    }
    m_changed.notify_one();
  }

  // Re-evaluate `more_coming` now (e.g. the last item in preparation has been submitted).
  void poke() {
    { std::lock_guard lock(m_mutex); }
    m_changed.notify_one();
  }

  // Test hook: while held, no batch is formed (so a test can queue exactly N items first).
  void hold() {
    std::lock_guard lock(m_mutex);
    m_held = true;
  }
  void release() {
    {
      std::lock_guard lock(m_mutex);
      m_held = false;
    }
    m_changed.notify_one();
  }

  std::size_t queued() const {
    std::lock_guard lock(m_mutex);
    return m_interactive.size() + m_backlog.size();
  }

  // Run what is queued, then end the thread.
  void stop() {
    {
      std::lock_guard lock(m_mutex);
      if (m_stopping) return;
      m_stopping = true;
      m_held = false;
    }
    m_changed.notify_one();
    if (m_thread.joinable()) m_thread.join();
  }

 private:
  struct Queued {
    Item item;
    Clock::time_point arrived;
  };

  // m_mutex must be held.
  std::size_t size() const { return m_interactive.size() + m_backlog.size(); }
  Clock::time_point oldest_arrival() const {
    if (m_interactive.empty()) return m_backlog.front().arrived;
    if (m_backlog.empty()) return m_interactive.front().arrived;
    return std::min(m_interactive.front().arrived, m_backlog.front().arrived);
  }

  void loop() {
    std::unique_lock lock(m_mutex);
    for (;;) {
      m_changed.wait(lock, [&] { return (!m_held && size() > 0) || (m_stopping && size() == 0); });
      if (size() == 0) return;  // stopping and drained
      // Wait for a full batch or the oldest item's deadline, whichever comes first.
      while (!m_stopping && !m_held && size() < m_max_batch &&
             (!m_more_coming || m_more_coming())) {
        if (m_changed.wait_until(lock, oldest_arrival() + m_max_delay) == std::cv_status::timeout)
          break;
      }
      if (m_held) continue;
      std::vector<Item> batch;
      batch.reserve(std::min(m_max_batch, size()));
      for (auto* lane : {&m_interactive, &m_backlog}) {
        while (!lane->empty() && batch.size() < m_max_batch) {
          batch.push_back(std::move(lane->front().item));
          lane->pop_front();
        }
      }
      lock.unlock();
      m_run(std::move(batch));
      lock.lock();
    }
  }

  const std::size_t m_max_batch;
  const std::chrono::microseconds m_max_delay;
  Run m_run;
  std::function<bool()> m_more_coming;
  mutable std::mutex m_mutex;
  std::condition_variable m_changed;
  std::deque<Queued> m_interactive;  // guarded by m_mutex
  std::deque<Queued> m_backlog;      // guarded by m_mutex
  bool m_held = false;               // guarded by m_mutex
  bool m_stopping = false;           // guarded by m_mutex
  std::thread m_thread;              // last: starts after everything above exists
};

}  // namespace inferwatch::pipeline
