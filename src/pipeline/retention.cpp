#include <inferwatch/pipeline/retention.hpp>

#include <inferwatch/util/time.hpp>

#include <spdlog/spdlog.h>

namespace inferwatch::pipeline {

util::Result<std::int64_t> Retention::apply(std::chrono::steady_clock::time_point now,
                                            std::chrono::system_clock::time_point wall) {
  if (m_days <= 0 || now < m_next) return std::int64_t{0};
  const auto cutoff = wall - std::chrono::hours(24) * m_days;
  auto deleted = m_store.delete_results_before(util::format_utc(cutoff));
  if (!deleted) return deleted.error();
  m_next = now + std::chrono::hours(1);
  if (*deleted > 0) {
    spdlog::info("retention: deleted {} result(s) older than {} days", *deleted, m_days);
  }
  return deleted;
}

}  // namespace inferwatch::pipeline
