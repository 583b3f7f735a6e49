// The portable parts of the INT16 GEMM core (int16_gemm.h): descriptors, packing, splitting,
// the ISA choice, the scalar path and parallel execution. Compiled for the baseline ISA; the
// AVX-512 paths live in int16_gemm_avx512.cc.
#include "runtime/kernels/int16_gemm.h"

#include <dlfcn.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>

#include "runtime/kernel.h"

namespace qsdk::runtime {

using dnnl::memory;

memory::desc Int16PlainDesc(const std::vector<int64_t>& shape) {
  // See int16_gemm.h: f16 only sizes the buffer (2 bytes per element).
  return PlainDesc(shape, memory::data_type::f16);
}

bool IsInt16PlainDesc(const memory::desc& md) {
  if (md.is_zero() || md.data_type() != memory::data_type::f16) return false;
  const memory::dims dims = md.dims();
  return md == Int16PlainDesc(std::vector<int64_t>(dims.begin(), dims.end()));
}

Int16GemmIsa BestInt16GemmIsa() {
  static const Int16GemmIsa isa = [] {
    __builtin_cpu_init();
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512dq");
    const bool vnni = avx512 && __builtin_cpu_supports("avx512vnni");
    // dnnl_cpu_isa_t is a bit set (every later ISA includes the bits of the earlier ones):
    // avx512_core = 0x27, avx512_core_vnni = 0x67.
    const auto effective = static_cast<uint32_t>(dnnl::get_effective_cpu_isa());
    if (vnni && (effective & 0x67u) == 0x67u) return Int16GemmIsa::kAvx512Vnni;
    if (avx512 && (effective & 0x27u) == 0x27u) return Int16GemmIsa::kAvx512;
    return Int16GemmIsa::kScalar;
  }();
  return isa;
}

const char* Int16GemmIsaName(Int16GemmIsa isa) {
  switch (isa) {
    case Int16GemmIsa::kAvx512Vnni: return "avx512_vnni";
    case Int16GemmIsa::kAvx512: return "avx512";
    case Int16GemmIsa::kScalar: break;
  }
  return "scalar";
}

int64_t Int16PackedSize(int64_t k, int64_t n) {
  const int64_t panels = (n + kInt16PanelWidth - 1) / kInt16PanelWidth;
  return panels * ((k + 1) / 2) * 2 * kInt16PanelWidth;
}

void PackInt16B(const int16_t* b, int64_t k, int64_t n, int64_t stride_k, int64_t stride_n,
                int16_t* packed) {
  std::memset(packed, 0, static_cast<size_t>(Int16PackedSize(k, n)) * sizeof(int16_t));
  for (int64_t kk = 0; kk < k; ++kk) {
    for (int64_t j = 0; j < n; ++j) {
      packed[Int16PackedOffset(k, kk, j)] = b[kk * stride_k + j * stride_n];
    }
  }
}

void SplitInt16Rows(Int16GemmIsa isa, const int16_t* a, int64_t m, int64_t k, int64_t row_stride,
                    int64_t col_stride, int16_t* out) {
  if (IsAvx512(isa) && col_stride == 1) {
    internal::SplitInt16RowsAvx512(a, m, k, row_stride, out);
    return;
  }
  const int64_t size = Int16SplitRowSize(k);
  for (int64_t i = 0; i < m; ++i) {
    const int16_t* row = a + i * row_stride;
    int16_t* dst = out + i * size;
    for (int64_t p = 0; 2 * p < k; ++p) {
      for (int64_t e = 0; e < 2; ++e) {
        const int64_t kk = 2 * p + e;
        const int32_t v = kk < k ? row[kk * col_stride] : 0;
        dst[4 * p + e] = static_cast<int16_t>(v >> 8);       // [-128, 127]
        dst[4 * p + 2 + e] = static_cast<int16_t>(v & 255);  // [0, 255]
      }
    }
  }
}

namespace {

void Int16GemmScalar(int64_t m, int64_t n, int64_t k, const int16_t* a_split, int64_t lda,
                     const int16_t* b_packed, int64_t* c, int64_t ldc) {
  const int64_t pairs = (k + 1) / 2;
  const int64_t panel_size = pairs * 2 * kInt16PanelWidth;
  for (int64_t j0 = 0; j0 < n; j0 += kInt16PanelWidth) {
    const int16_t* panel = b_packed + (j0 / kInt16PanelWidth) * panel_size;
    const int64_t cols = n - j0 < kInt16PanelWidth ? n - j0 : kInt16PanelWidth;
    for (int64_t i = 0; i < m; ++i) {
      int64_t sums[kInt16PanelWidth] = {};
      const int16_t* row = a_split + i * lda;
      for (int64_t p = 0; p < pairs; ++p) {
        // a = 256 * hi + lo, exactly.
        const int64_t a0 = int64_t{row[4 * p]} * 256 + row[4 * p + 2];
        const int64_t a1 = int64_t{row[4 * p + 1]} * 256 + row[4 * p + 3];
        const int16_t* bp = panel + p * 2 * kInt16PanelWidth;
        for (int64_t j = 0; j < cols; ++j) sums[j] += a0 * bp[2 * j] + a1 * bp[2 * j + 1];
      }
      for (int64_t j = 0; j < cols; ++j) c[i * ldc + j0 + j] = sums[j];
    }
  }
}

// --- The OpenMP runtime oneDNN runs on ----------------------------------------------------
//
// qsdk is not compiled with OpenMP itself; it reaches the runtime through the libgomp ABI
// (GOMP_parallel, the entry point `#pragma omp parallel` compiles to) in the copy of
// libgomp.so.1 that oneDNN already loaded. RTLD_NOLOAD: never load one ourselves.
struct OmpRuntime {
  void (*parallel)(void (*fn)(void*), void* data, unsigned num_threads, unsigned flags) = nullptr;
  int (*max_threads)() = nullptr;
  int (*thread_num)() = nullptr;
  int (*num_threads)() = nullptr;
};

template <typename Fn>
bool Resolve(void* lib, const char* name, Fn* fn) {
  void* symbol = dlsym(lib, name);
  // POSIX guarantees that a data pointer from dlsym converts to a function pointer.
  std::memcpy(fn, &symbol, sizeof(symbol));
  return symbol != nullptr;
}

const OmpRuntime* GetOmp() {
  static const OmpRuntime* const omp = []() -> const OmpRuntime* {
    const dnnl_version_t* version = dnnl_version();
    if (version == nullptr || version->cpu_runtime != DNNL_RUNTIME_OMP) return nullptr;
    void* lib = dlopen("libgomp.so.1", RTLD_LAZY | RTLD_NOLOAD);
    if (lib == nullptr) return nullptr;
    static OmpRuntime runtime;
    if (!Resolve(lib, "GOMP_parallel", &runtime.parallel) ||
        !Resolve(lib, "omp_get_max_threads", &runtime.max_threads) ||
        !Resolve(lib, "omp_get_thread_num", &runtime.thread_num) ||
        !Resolve(lib, "omp_get_num_threads", &runtime.num_threads)) {
      return nullptr;
    }
    return &runtime;
  }();
  return omp;
}

std::atomic<internal::ParallelMode> g_mode{internal::ParallelMode::kAuto};

// The parts of one RunParallelParts call.
struct PartsJob {
  void (*task)(void*, int) = nullptr;
  void* context = nullptr;
  int parts = 0;
};

// Body of the OpenMP parallel region: thread t of T runs parts t, t + T, ... (the team may
// be smaller than asked, e.g. inside another parallel region).
void OmpBody(void* data) {
  const auto* job = static_cast<const PartsJob*>(data);
  const OmpRuntime* omp = GetOmp();
  const int t = omp->thread_num();
  const int team = omp->num_threads() > 0 ? omp->num_threads() : 1;
  for (int part = t; part < job->parts; part += team) job->task(job->context, part);
}

// The helper thread of the fallback: runs the odd parts of one job at a time.
class Helper {
 public:
  Helper() : thread_([this] { Loop(); }) {}

  // Runs the even parts here and the odd ones on the helper, if no one else is using it.
  bool TryRun(const PartsJob& job) {
    std::unique_lock<std::mutex> claim(claim_, std::try_to_lock);
    if (!claim.owns_lock()) return false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      job_ = &job;
      done_ = false;
    }
    wake_.notify_one();
    for (int part = 0; part < job.parts; part += 2) job.task(job.context, part);
    std::unique_lock<std::mutex> lock(mu_);
    finished_.wait(lock, [this] { return done_; });
    return true;
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      wake_.wait(lock, [this] { return job_ != nullptr; });
      const PartsJob* job = job_;
      job_ = nullptr;
      lock.unlock();
      for (int part = 1; part < job->parts; part += 2) job->task(job->context, part);
      lock.lock();
      done_ = true;
      finished_.notify_one();
    }
  }

  std::mutex claim_;  // held by the caller whose job the helper runs
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable finished_;
  const PartsJob* job_ = nullptr;
  bool done_ = true;
  std::thread thread_;
};

// The helper, or nullptr when there is none. Created once and deliberately never
// destroyed: it may be in use by a context until the very end of the process, and a
// thread blocked on its condition variable does not keep the process alive.
Helper* GetHelper() {
  static Helper* const helper = []() -> Helper* {
    if (std::thread::hardware_concurrency() < 2) return nullptr;
    try {
      return new Helper();
    } catch (const std::system_error&) {
      return nullptr;  // no thread: run single-threaded
    } catch (const std::bad_alloc&) {
      return nullptr;
    }
  }();
  return helper;
}

}  // namespace

namespace internal {
void SetParallelModeForTesting(ParallelMode mode) { g_mode.store(mode); }
}  // namespace internal

int PrepareParallelParts(int64_t work) {
  const internal::ParallelMode mode = g_mode.load();
  if (mode == internal::ParallelMode::kSerial) return 1;
  const OmpRuntime* omp = GetOmp();
  if (omp != nullptr && mode == internal::ParallelMode::kAuto) {
    if (work < (int64_t{1} << 19)) return 1;
    const int threads = omp->max_threads();
    return threads > 1 ? threads : 1;
  }
  if (work < (int64_t{1} << 22)) return 1;
  return GetHelper() != nullptr ? 2 : 1;
}

void RunParallelParts(void (*task)(void* context, int part), void* context, int parts) {
  PartsJob job;
  job.task = task;
  job.context = context;
  job.parts = parts;
  const internal::ParallelMode mode = g_mode.load();
  if (parts > 1 && mode != internal::ParallelMode::kSerial) {
    const OmpRuntime* omp = GetOmp();
    if (omp != nullptr && mode == internal::ParallelMode::kAuto) {
      omp->parallel(&OmpBody, &job, static_cast<unsigned>(parts), 0);
      return;
    }
    Helper* helper = GetHelper();
    if (helper != nullptr && helper->TryRun(job)) return;
  }
  for (int part = 0; part < parts; ++part) task(context, part);
}

void Int16Gemm(Int16GemmIsa isa, int64_t m, int64_t n, int64_t k, const int16_t* a_split,
               int64_t lda, const int16_t* b_packed, int64_t* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = 0;
    }
    return;
  }
  if (IsAvx512(isa)) {
    internal::Int16GemmAvx512(isa == Int16GemmIsa::kAvx512Vnni, m, n, k, a_split, lda, b_packed,
                              c, ldc);
  } else {
    Int16GemmScalar(m, n, k, a_split, lda, b_packed, c, ldc);
  }
}

}  // namespace qsdk::runtime
