#include <inferwatch/pipeline/settler.hpp>

namespace inferwatch::pipeline {

void Settler::hold(Key key, store::FileVersion version, Clock::time_point now) {
  auto [it, inserted] = m_held.try_emplace(std::move(key), Held{version, now, now});
  if (!inserted && !(it->second.version == version)) {
    it->second.version = version;
    it->second.since = now;
  }
}

std::vector<Settler::Ready> Settler::due(Clock::time_point now, const Restat& restat) {
  std::vector<Ready> out;
  for (auto it = m_held.begin(); it != m_held.end();) {
    if (now - it->second.since < m_settle) {
      ++it;
      continue;
    }
    const auto current = restat(it->first);
    if (!current) {
      it = m_held.erase(it);
    } else if (*current == it->second.version) {
      out.push_back(Ready{it->first, *current, now - it->second.first_held});
      it = m_held.erase(it);
    } else {
      it->second.version = *current;
      it->second.since = now;
      ++it;
    }
  }
  return out;
}

std::optional<Settler::Clock::time_point> Settler::next_due() const {
  std::optional<Clock::time_point> first;
  for (const auto& [key, held] : m_held) {
    const auto at = held.since + m_settle;
    if (!first || at < *first) first = at;
  }
  return first;
}

}  // namespace inferwatch::pipeline
