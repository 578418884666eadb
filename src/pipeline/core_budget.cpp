#include <inferwatch/pipeline/core_budget.hpp>

#include <algorithm>

namespace inferwatch::pipeline {

CoreBudget::CoreBudget(int cores) : m_total(std::max(1, cores)) {}

CoreBudget::Decode::Decode(CoreBudget& budget) : m_budget(budget) {
  std::unique_lock lock(m_budget.m_mutex);
  ++m_budget.m_decodes_waiting;
  m_budget.m_changed.wait(lock, [&] { return m_budget.m_used < m_budget.m_total; });
  --m_budget.m_decodes_waiting;
  ++m_budget.m_used;
  if (m_budget.m_decodes_waiting == 0) {
    lock.unlock();
    m_budget.m_changed.notify_all();  // a forward may be waiting for the last waiting decode
  }
}

CoreBudget::Decode::~Decode() { m_budget.release(1); }

CoreBudget::Forward::Forward(CoreBudget& budget, int threads)
    : m_budget(budget), m_cores(threads <= 1 ? 0 : std::min(threads, budget.m_total)) {
  if (m_cores == 0) return;
  std::unique_lock lock(m_budget.m_mutex);
  m_budget.m_changed.wait(lock, [&] {
    return m_budget.m_decodes_waiting == 0 && m_budget.m_used + m_cores <= m_budget.m_total;
  });
  m_budget.m_used += m_cores;
}

CoreBudget::Forward::~Forward() { m_budget.release(m_cores); }

void CoreBudget::release(int cores) {
  if (cores == 0) return;
  {
    std::lock_guard lock(m_mutex);
    m_used -= cores;
  }
  m_changed.notify_all();
}

int CoreBudget::in_use() const {
  std::lock_guard lock(m_mutex);
  return m_used;
}

}  // namespace inferwatch::pipeline
