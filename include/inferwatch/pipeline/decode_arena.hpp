#pragma once

// The decode pool's oneTBB arena: one worker per core, named "iw-decode" (top -H, perf, gdb).
// No thread of ours joins it (work is enqueued), so oneTBB's default of cores - 1 workers (it
// expects a master) would leave a core idle whenever the model is not running: half the machine
// on 2 cores. The daemon's pipeline and `inferwatch bench` both decode here.
//
// Thread-safety: enqueue() from any thread.

#include <tbb/global_control.h>
#include <tbb/task_arena.h>
#include <tbb/task_scheduler_observer.h>

#include <utility>

namespace inferwatch::pipeline {

class DecodeArena {
 public:
  DecodeArena();
  ~DecodeArena();
  DecodeArena(const DecodeArena&) = delete;
  DecodeArena& operator=(const DecodeArena&) = delete;

  // The machine's cores: the arena's workers, and what a CoreBudget shares out.
  static int cores();

  template <class F>
  void enqueue(F&& work) {
    m_arena.enqueue(std::forward<F>(work));
  }

 private:
  class WorkerNames final : public tbb::task_scheduler_observer {
   public:
    explicit WorkerNames(tbb::task_arena& arena);
    ~WorkerNames() override;
    void on_scheduler_entry(bool worker) override;
  };

  tbb::global_control m_parallelism;
  tbb::task_arena m_arena;
  WorkerNames m_names;
};

}  // namespace inferwatch::pipeline
