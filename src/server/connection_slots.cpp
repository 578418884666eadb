#include <inferwatch/server/connection_slots.hpp>

#include <spdlog/spdlog.h>

#include <tuple>

namespace inferwatch::server {
namespace {

// An episode ends once a new connection finds a free slot this long after the last eviction or
// refusal, so an attack that keeps the server just full logs two lines, not one per connection.
constexpr auto k_calm = std::chrono::seconds(60);

}  // namespace

ConnectionSlots::ConnectionSlots(std::size_t max, std::function<Clock::time_point()> clock)
    : m_max(max), m_clock(std::move(clock)) {}

std::uint64_t ConnectionSlots::acquire(std::weak_ptr<Connection> connection) {
  std::shared_ptr<Connection> evicted;
  std::uint64_t slot = 0;
  {
    std::lock_guard lock(m_mutex);
    const auto now = m_clock();
    if (m_entries.size() >= m_max) {
      const auto it = victim();
      note_pressure(now, it != m_entries.end());
      if (it == m_entries.end()) return 0;
      evicted = it->second.connection.lock();  // null: it is being destroyed anyway
      m_entries.erase(it);
    } else {
      note_calm(now);
    }
    slot = m_next++;
    m_entries.emplace(slot, Entry{ConnectionPhase::request, now, std::move(connection)});
  }
  if (evicted) evicted->evict();
  return slot;
}

bool ConnectionSlots::enter(std::uint64_t slot, ConnectionPhase phase) {
  std::lock_guard lock(m_mutex);
  const auto it = m_entries.find(slot);
  if (it == m_entries.end()) return false;
  it->second.phase = phase;
  it->second.since = m_clock();
  return true;
}

void ConnectionSlots::release(std::uint64_t slot) {
  std::lock_guard lock(m_mutex);
  m_entries.erase(slot);
}

std::size_t ConnectionSlots::size() const {
  std::lock_guard lock(m_mutex);
  return m_entries.size();
}

std::unordered_map<std::uint64_t, ConnectionSlots::Entry>::iterator ConnectionSlots::victim() {
  auto best = m_entries.end();
  for (auto it = m_entries.begin(); it != m_entries.end(); ++it) {
    if (it->second.phase == ConnectionPhase::busy) continue;
    // The phase enum is ordered from the most to the least expendable.
    if (best == m_entries.end() || std::tie(it->second.phase, it->second.since) <
                                       std::tie(best->second.phase, best->second.since)) {
      best = it;
    }
  }
  return best;
}

void ConnectionSlots::note_pressure(Clock::time_point now, bool evicted) {
  if (!m_pressure) {
    m_pressure = true;
    spdlog::warn(
        "all {} HTTP connection slots are taken: new connections take the slot of the one that "
        "has waited longest for a request, or are refused while every connection is busy "
        "(summed up when this stops)",
        m_max);
  }
  m_last_pressure = now;
  ++(evicted ? m_evicted : m_refused);
}

void ConnectionSlots::note_calm(Clock::time_point now) {
  if (!m_pressure || now - m_last_pressure < k_calm) return;
  spdlog::info("HTTP connection slots are free again: {} connection(s) evicted, {} refused",
               m_evicted, m_refused);
  m_pressure = false;
  m_evicted = 0;
  m_refused = 0;
}

}  // namespace inferwatch::server
