#pragma once

// Old results go (database.retention_days), at start and then hourly; every file's current
// result stays, whatever its age.
//
// Thread-safety: none (the store thread owns it). Time comes in as arguments.

#include <inferwatch/store/store.hpp>
#include <inferwatch/util/result.hpp>

#include <chrono>

namespace inferwatch::pipeline {

class Retention {
 public:
  // `store` must outlive this. `days` <= 0 keeps everything.
  Retention(store::Store& store, std::int64_t days) : m_store(store), m_days(days) {}

  // Delete what is older than the retention if a pass is due at `now` (steady; `wall` is the
  // time results are stamped with). Returns how many were deleted. A failed pass is tried again
  // on the next call.
  util::Result<std::int64_t> apply(std::chrono::steady_clock::time_point now,
                                   std::chrono::system_clock::time_point wall);

 private:
  store::Store& m_store;
  const std::int64_t m_days;
  std::chrono::steady_clock::time_point m_next{};
};

}  // namespace inferwatch::pipeline
