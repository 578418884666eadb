#include <inferwatch/pipeline/recorder.hpp>

namespace inferwatch::pipeline {

std::optional<store::FileVersion> Recorder::version_of(std::size_t root,
                                                       const std::string& path) const {
  const auto entry = m_roots[root].entry(path);
  if (!entry || entry->type == util::EntryType::directory) return std::nullopt;  // gone, unsafe
  return entry->version;
}

util::Result<Recorder::Taken> Recorder::take(std::span<const watch::Candidate> candidates,
                                             Clock::time_point now) {
  Taken taken;
  std::vector<store::FileSighting> sightings;
  for (const auto& c : candidates) {
    const auto version = version_of(c.root, c.path);
    if (!version) continue;
    if (c.origin == watch::Origin::scan) {
      const auto known = m_store.file_state(m_roots.name(c.root), c.path);
      if (!known) return known.error();
      if (*known && (*known)->version == *version) {  // pending or done already
        taken.sidecar_due = taken.sidecar_due || (*known)->sidecar_missing;
        continue;
      }
      m_settler.hold({c.root, c.path}, *version, now);
    } else {
      sightings.push_back({m_roots.name(c.root), c.path, *version});
    }
  }
  if (auto recorded = m_store.record(sightings); !recorded) return recorded.error();
  return taken;
}

util::Result<std::vector<Recorder::Clock::duration>> Recorder::settle(Clock::time_point now) {
  std::vector<Clock::duration> waited;
  const auto ready = m_settler.due(
      now, [this](const Settler::Key& key) { return version_of(key.first, key.second); });
  for (const auto& r : ready) {
    m_unrecorded.push_back({m_roots.name(r.key.first), r.key.second, r.version});
    waited.push_back(r.waited);
  }
  if (m_unrecorded.empty()) return waited;
  if (auto recorded = m_store.record(m_unrecorded); !recorded) return recorded.error();
  m_unrecorded.clear();
  return waited;
}

}  // namespace inferwatch::pipeline
