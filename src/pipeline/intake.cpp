#include <inferwatch/pipeline/intake.hpp>

#include <algorithm>

namespace inferwatch::pipeline {

void Intake::add(std::vector<watch::Candidate> candidates) {
  const bool from_scan =
      std::all_of(candidates.begin(), candidates.end(),
                  [](const watch::Candidate& c) { return c.origin == watch::Origin::scan; });
  {
    std::unique_lock lock(m_mutex);
    if (from_scan && !m_closed && m_queue.size() >= m_capacity) {
      ++m_waiting;
      m_room.wait(lock, [&] { return m_closed || m_queue.size() < m_capacity; });
      --m_waiting;
    }
    if (m_closed) return;
    m_queue.insert(m_queue.end(), std::make_move_iterator(candidates.begin()),
                   std::make_move_iterator(candidates.end()));
  }
  if (m_on_added) m_on_added();
}

std::vector<watch::Candidate> Intake::take(std::size_t max) {
  std::vector<watch::Candidate> out;
  {
    std::lock_guard lock(m_mutex);
    if (m_queue.size() <= max) {
      out.swap(m_queue);
    } else {
      const auto end = m_queue.begin() + static_cast<std::ptrdiff_t>(max);
      out.assign(std::make_move_iterator(m_queue.begin()), std::make_move_iterator(end));
      m_queue.erase(m_queue.begin(), end);
    }
  }
  m_room.notify_all();
  return out;
}

void Intake::put_back(std::vector<watch::Candidate> candidates) {
  std::lock_guard lock(m_mutex);
  m_queue.insert(m_queue.begin(), std::make_move_iterator(candidates.begin()),
                 std::make_move_iterator(candidates.end()));
}

void Intake::close() {
  {
    std::lock_guard lock(m_mutex);
    m_closed = true;
  }
  m_room.notify_all();
}

bool Intake::empty() const {
  std::lock_guard lock(m_mutex);
  return m_queue.empty();
}

std::size_t Intake::size() const {
  std::lock_guard lock(m_mutex);
  return m_queue.size();
}

int Intake::waiting() const {
  std::lock_guard lock(m_mutex);
  return m_waiting;
}

}  // namespace inferwatch::pipeline
