#include "runtime/omp_threads.h"

#include <omp.h>

#include <oneapi/dnnl/dnnl.h>

#include "common/status_macros.h"

namespace qsdk::runtime {

Status ResolveContextThreads(int requested, int* resolved) {
  if (requested < 0 || requested > kMaxContextThreads) {
    return InvalidArgument("ContextOptions::num_threads = ", requested,
                           "; it must be 0 (the OpenMP default: OMP_NUM_THREADS, else every "
                           "hardware thread) or between 1 and ",
                           kMaxContextThreads);
  }
  const dnnl_version_t* version = dnnl_version();
  if (version == nullptr || version->cpu_runtime != DNNL_RUNTIME_OMP) {
    if (requested != 0) {
      return Status(StatusCode::kUnimplemented,
                    StrCat("ContextOptions::num_threads = ", requested,
                           ": this oneDNN build does not run on OpenMP, so qsdk cannot set its "
                           "thread count; use 0 (oneDNN's own default)"));
    }
  }
  *resolved = requested != 0 ? requested : omp_get_max_threads();
  if (*resolved < 1) *resolved = 1;
  return Status::Ok();
}

ScopedOmpThreads::ScopedOmpThreads(int threads) : saved_(omp_get_max_threads()) {
  changed_ = threads >= 1 && threads != saved_;
  if (changed_) omp_set_num_threads(threads);
}

ScopedOmpThreads::~ScopedOmpThreads() {
  if (changed_) omp_set_num_threads(saved_);
}

}  // namespace qsdk::runtime
