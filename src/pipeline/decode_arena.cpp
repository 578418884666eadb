#include <inferwatch/pipeline/decode_arena.hpp>
#include <inferwatch/util/thread_name.hpp>

#include <algorithm>
#include <thread>

namespace inferwatch::pipeline {

DecodeArena::DecodeArena()
    : m_parallelism(tbb::global_control::max_allowed_parallelism, cores() + 1),
      m_arena(cores(), 0),
      m_names(m_arena) {}

DecodeArena::~DecodeArena() = default;

int DecodeArena::cores() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

DecodeArena::WorkerNames::WorkerNames(tbb::task_arena& arena)
    : tbb::task_scheduler_observer(arena) {
  observe(true);
}

DecodeArena::WorkerNames::~WorkerNames() { observe(false); }

void DecodeArena::WorkerNames::on_scheduler_entry(bool worker) {
  if (worker) util::name_this_thread("iw-decode");
}

}  // namespace inferwatch::pipeline
