// A context's thread count (ContextOptions::num_threads) applied to the OpenMP runtime
// oneDNN 2.6 runs on (Debian's libdnnl uses GNU OpenMP, DNNL_RUNTIME_OMP).
//
// oneDNN reads omp_get_max_threads() of the calling thread when it creates a primitive
// (the work split is fixed then, and the thread count is part of its primitive-cache key)
// and when it runs one; the INT16 kernels read the same value. That value is an OpenMP
// per-thread setting, so a context sets it on the calling thread around each Execute
// (plan building and running) and restores the caller's value afterwards: contexts with
// different counts can run side by side on different threads.
#pragma once

#include "qsdk/status.h"

namespace qsdk::runtime {

// Largest accepted ContextOptions::num_threads.
constexpr int kMaxContextThreads = 1024;

// Resolves a requested count: 0 -> the calling thread's OpenMP default
// (omp_get_max_threads(): OMP_NUM_THREADS, else every hardware thread); 1..1024 as is.
// InvalidArgument naming the option, the value and the rule otherwise, and Unimplemented
// when oneDNN does not run on OpenMP (the count could not reach its kernels).
Status ResolveContextThreads(int requested, int* resolved);

// Sets the calling thread's OpenMP thread count for the scope's lifetime.
class ScopedOmpThreads {
 public:
  explicit ScopedOmpThreads(int threads);
  ~ScopedOmpThreads();
  ScopedOmpThreads(const ScopedOmpThreads&) = delete;
  ScopedOmpThreads& operator=(const ScopedOmpThreads&) = delete;

 private:
  int saved_;
  bool changed_;
};

}  // namespace qsdk::runtime
