#pragma once

// Shares the machine's cores between the decode pool and a multi-threaded model so that they
// never oversubscribe them. LibTorch's OpenMP threads spin at every barrier: when a decode worker
// preempts one of them, the others burn their cores waiting for it. A ResNet-18 forward on 2
// cores beside decoding ran anywhere from as fast as alone to 40 % slower, run to run.
//
// Each decode takes one core; a forward takes the model's intra-op threads. Decoding goes first:
// a forward starts once no decode is running or waiting. That keeps the batcher's queue full, so
// the model runs full batches back to back while decoding fills the gaps between them; the
// decode pool's work is bounded by the pipeline's in-flight capacity, so a forward waits at most
// that long. A forward on one thread has no team to stall, and a GPU forward's thread waits on
// the device: both take nothing and wait for nobody.
//
// Thread-safety: all members from any thread.

#include <condition_variable>
#include <mutex>

namespace inferwatch::pipeline {

class CoreBudget {
 public:
  explicit CoreBudget(int cores);

  // Holds one core for a decode.
  class Decode {
   public:
    explicit Decode(CoreBudget& budget);
    ~Decode();
    Decode(const Decode&) = delete;
    Decode& operator=(const Decode&) = delete;

   private:
    CoreBudget& m_budget;
  };

  // Holds `threads` cores (clamped to the total) for a forward, or none if `threads` <= 1.
  class Forward {
   public:
    Forward(CoreBudget& budget, int threads);
    ~Forward();
    Forward(const Forward&) = delete;
    Forward& operator=(const Forward&) = delete;

   private:
    CoreBudget& m_budget;
    int m_cores;
  };

  int total() const { return m_total; }
  int in_use() const;

 private:
  void release(int cores);

  const int m_total;
  mutable std::mutex m_mutex;
  std::condition_variable m_changed;
  int m_used = 0;             // guarded by m_mutex
  int m_decodes_waiting = 0;  // guarded by m_mutex
};

}  // namespace inferwatch::pipeline
