#include <inferwatch/pipeline/result_ids.hpp>

#include <algorithm>
#include <cassert>

namespace inferwatch::pipeline {

util::Result<void> ResultIds::reserve(std::int64_t n) {
  if (m_end - m_next >= n) return {};
  const std::int64_t size = std::max(m_block, n);
  const auto first = m_store.reserve_ids(size);
  if (!first) return first.error();
  m_next = *first;
  m_end = m_next + size;
  return {};
}

util::Result<void> ResultIds::release() {
  if (m_next == m_end) return {};  // nothing reserved, or all of it used
  auto released = m_store.release_ids(m_next, m_end);
  if (released) m_next = m_end;
  return released;
}

}  // namespace inferwatch::pipeline
