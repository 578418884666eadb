#pragma once

// Result ids (SPEC §5): handed out in commit order from blocks reserved durably in the store, so
// ids never repeat, even across crashes. A clean stop gives the unused tail of the block back, so
// ids stay dense across clean restarts; a crash leaves a gap, never a reuse. Nothing is reserved
// until the first results need ids, so a store that is busy or failing at startup delays results
// instead of failing the start.
//
// Thread-safety: none (the store thread owns it).

#include <inferwatch/store/store.hpp>
#include <inferwatch/util/result.hpp>

#include <cstdint>

namespace inferwatch::pipeline {

class ResultIds {
 public:
  // `store` must outlive this. `block`: ids reserved per store round trip.
  explicit ResultIds(store::Store& store, std::int64_t block = 1024)
      : m_store(store), m_block(block) {}

  // Make sure at least `n` ids are reserved (a fresh block when not: ids may skip the rest of
  // the old one). On error nothing changed.
  util::Result<void> reserve(std::int64_t n);

  // The next reserved id. reserve() must have made room for it.
  std::int64_t next() { return m_next++; }

  // Give the unused reserved ids back (a clean stop).
  util::Result<void> release();

 private:
  store::Store& m_store;
  const std::int64_t m_block;
  std::int64_t m_next = 0;
  std::int64_t m_end = 0;
};

}  // namespace inferwatch::pipeline
