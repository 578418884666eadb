#pragma once

// The server's max_connections slots, and who gives one up when all are taken: a new connection
// takes the slot of the connection that has waited longest without a request to work on (one
// closing first, then an idle keep-alive, then one still sending its request), so clients that
// hold connections without using them cannot lock out others. A connection with an admitted
// request is never taken back; when every slot holds one, the new connection is refused.
// Pressure is logged once per episode, not per connection.
// Thread-safe: one mutex, held for O(1), or O(max) to find whom to evict when all are taken.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace inferwatch::server {

enum class ConnectionPhase {
  closing,  // answered with Connection: close; draining what the client still sends
  idle,     // keep-alive, waiting for its next request, nothing of it received yet
  request,  // receiving a request header (or the small body of a request without the token)
  busy,     // an admitted request: reading its body, running it, writing its response
};

// What ConnectionSlots can take a slot back from.
class Connection {
 public:
  virtual ~Connection() = default;
  // Close at once: the slot went to a newer connection. Called from any thread, without the
  // slots' lock held.
  virtual void evict() = 0;
};

class ConnectionSlots {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ConnectionSlots(std::size_t max, std::function<Clock::time_point()> clock = Clock::now);

  // A slot for a new connection, in phase `request`; 0 when refused (every slot is busy). When
  // all slots are taken, the longest-waiting expendable connection loses its slot and is evicted.
  std::uint64_t acquire(std::weak_ptr<Connection> connection);
  // Move `slot` into `phase` (its waiting time starts now); false when the slot was taken back,
  // and the connection must close.
  bool enter(std::uint64_t slot, ConnectionPhase phase);
  // Give `slot` back (no-op when it was taken back or is 0).
  void release(std::uint64_t slot);
  // Slots held now.
  std::size_t size() const;

 private:
  struct Entry {
    ConnectionPhase phase;
    Clock::time_point since;
    std::weak_ptr<Connection> connection;
  };
  // The slot to take back, or m_entries.end(). m_mutex must be held.
  std::unordered_map<std::uint64_t, Entry>::iterator victim();
  // Log the start and the end of a period when slots ran out. m_mutex must be held.
  void note_pressure(Clock::time_point now, bool evicted);
  void note_calm(Clock::time_point now);

  const std::size_t m_max;
  const std::function<Clock::time_point()> m_clock;
  mutable std::mutex m_mutex;
  std::unordered_map<std::uint64_t, Entry> m_entries;
  std::uint64_t m_next = 1;
  bool m_pressure = false;  // an episode is running: evictions or refusals not yet summed up
  Clock::time_point m_last_pressure{};
  std::uint64_t m_evicted = 0;
  std::uint64_t m_refused = 0;
};

}  // namespace inferwatch::server
