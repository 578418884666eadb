#include <inferwatch/pipeline/sidecar_retry.hpp>

#include <inferwatch/util/json_text.hpp>

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

namespace inferwatch::pipeline {

void SidecarRetry::missed(Clock::time_point now) {
  if (!m_enabled || m_retry_at != Clock::time_point::max()) return;
  m_retry_at = now + std::chrono::seconds(1);
}

void SidecarRetry::look_now(Clock::time_point now) {
  if (m_enabled) m_retry_at = std::min(m_retry_at, now);
}

util::Result<std::size_t> SidecarRetry::run(Clock::time_point now) {
  if (!m_enabled || now < m_retry_at) return std::size_t{0};
  const auto missing = m_store.missing_sidecars(k_per_round);
  if (!missing) return missing.error();
  std::size_t written = 0, skipped = 0;
  for (const auto& m : *missing) {
    const util::RootDir* root = m_roots.named(m.root);
    const auto version = root ? root->stat(m.path) : util::Result<util::FileStat>(util::Error{});
    boost::system::error_code ec;
    auto json = boost::json::parse(m.json, ec);
    if (!version || !(*version == m.version) || ec || !json.is_object()) {
      ++skipped;  // changed or gone: its next result brings its own sidecar
      continue;
    }
    json.as_object().erase("sidecar_error");
    const std::string text = util::to_json_text(json);
    const results::SidecarWrite write{root, m.path + m_suffix, text};
    if (!m_sidecars.write(std::span(&write, 1)).front().ok()) continue;
    if (auto marked = m_store.sidecar_written(m.file_id, m.result_id, text); !marked) {
      return marked.error();  // written again on the next try: a rename, so harmless
    }
    ++written;
  }
  if (written > 0) spdlog::info("wrote {} sidecar(s) that could not be written before", written);
  if (written + skipped < missing->size()) {
    // The share still refuses some: wait longer each time.
    m_backoff.failed(now);
    m_retry_at = m_backoff.retry_at();
  } else {
    m_backoff.succeeded(now);
    if (missing->size() == k_per_round && written > 0) {
      m_retry_at = now;  // more to come at once
    } else if (skipped > 0) {
      m_retry_at = now + std::chrono::minutes(5);  // skipped ones stay marked until they settle
    } else {
      m_retry_at = Clock::time_point::max();
    }
  }
  return written;
}

}  // namespace inferwatch::pipeline
