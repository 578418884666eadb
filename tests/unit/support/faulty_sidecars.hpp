#pragma once

// A results::SidecarSink that writes real sidecars, except while switched to failing: then every
// write fails as on a read-only or full share. Counts attempts, so tests can tell whether a
// sidecar was written again. Thread-safe switches.

#include <inferwatch/results/sidecar_sink.hpp>

#include <atomic>

namespace inferwatch::test {

class FaultySidecars final : public results::SidecarSink {
 public:
  void fail(bool on) { m_failing = on; }
  int attempts() const { return m_attempts; }

  std::vector<util::Result<void>> write(std::span<const results::SidecarWrite> writes) override {
    m_attempts += static_cast<int>(writes.size());
    if (!m_failing) return m_real.write(writes);
    std::vector<util::Result<void>> out;
    for (const auto& w : writes) {
      out.emplace_back(util::Error{"sidecar_failed", w.path + ": Read-only file system"});
    }
    return out;
  }

 private:
  results::FileSidecars m_real;
  std::atomic<bool> m_failing{false};
  std::atomic<int> m_attempts{0};
};

}  // namespace inferwatch::test
