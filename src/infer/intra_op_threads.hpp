#pragma once

// LibTorch's intra-op parallelism (OpenMP in Debian's build) is a per-thread setting: each thread
// that runs ATen ops gets its own OpenMP team. The decode pool already keeps every core busy with
// one file per worker, so preprocessing must not fan out again (2 workers × N OpenMP threads
// fight for the same cores); the model's forward, on the batcher thread, uses model.threads.
// Only the LibTorch translation units include this.

#include <ATen/Parallel.h>
#include <omp.h>

namespace inferwatch::infer {

// Let ATen ops issued from the calling thread use `n` threads from now on.
inline void set_intra_op_threads_here(int n) {
  at::internal::lazy_init_num_threads();  // else ATen's own first-use init would reset it
  if (omp_get_max_threads() != n) omp_set_num_threads(n);
}

}  // namespace inferwatch::infer
