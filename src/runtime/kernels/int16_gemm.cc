// The portable parts of the INT16 GEMM core (int16_gemm.h): descriptors, packing, splitting,
// the ISA choice, the scalar path and parallel execution. Compiled for the baseline ISA; the
// AVX-512 paths live in int16_gemm_avx512.cc.
#include "runtime/kernels/int16_gemm.h"

#include <omp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

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
    case Int16GemmIsa::kAvx512Vnni:
      return "avx512_vnni";
    case Int16GemmIsa::kAvx512:
      return "avx512";
    case Int16GemmIsa::kScalar:
      break;
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

// --- Running the parts ------------------------------------------------------------------
//
// The OpenMP team is GNU libgomp's, the runtime Debian's oneDNN runs on, linked by qsdk: the
// same threads oneDNN's primitives use, and omp_get_max_threads() is the context's count.

std::atomic<internal::ParallelMode> g_mode{internal::ParallelMode::kAuto};

// The parts of one RunParallel call: whoever is free claims the next one.
struct PartsJob {
  void (*task)(void*, int64_t, int) = nullptr;
  void* context = nullptr;
  int64_t parts = 0;
  std::atomic<int64_t> next{0};
  std::chrono::steady_clock::time_point caller_done;  // OpenMP: when worker 0 ran out of parts

  // Claims and runs parts until none is left.
  void Work(int worker) {
    for (int64_t part = next.fetch_add(1); part < parts; part = next.fetch_add(1)) {
      task(context, part, worker);
    }
  }
};

// kAuto runs on the OpenMP team except during a back-off. A run is late when the caller,
// out of parts, waited more than kLateTeam for the team to finish: a team thread was not
// being scheduled. An occasional late run (a brief burst of other work on the machine)
// costs one scheduling delay; but when kLateRuns runs in a row are late, the machine is busy
// and every further run would wait as long, so the pool (whose helpers the caller never
// waits for unless they are running a part) takes over for kTeamBackOff, after which the
// team is tried again (one late run then starts the next back-off).
constexpr auto kLateTeam = std::chrono::milliseconds(2);
constexpr int kLateRuns = 3;
constexpr auto kTeamBackOff = std::chrono::milliseconds(500);
std::atomic<int> g_late_runs{0};                // consecutive late team runs
std::atomic<int64_t> g_team_back_off_until{0};  // steady_clock ticks

int64_t Ticks(std::chrono::steady_clock::time_point t) {
  return static_cast<int64_t>(t.time_since_epoch().count());
}

// The helper threads: a process-wide pool that works on one job at a time alongside its
// caller, each helper claiming parts like the caller. The caller never waits for a helper
// to start: if helpers are slow to be scheduled (a busy machine, another runtime's threads
// spinning on the other cores), the caller claims every part itself and then waits only for
// parts helpers are running.
class HelperPool {
 public:
  // Starts up to `helpers` threads (fewer if the system refuses more).
  explicit HelperPool(int helpers) {
    for (int i = 0; i < helpers; ++i) {
      try {
        threads_.emplace_back([this, i] { Loop(i); });
      } catch (const std::exception&) {
        break;  // no thread (std::system_error) or no memory: run with the threads we have
      }
    }
  }

  int size() const { return static_cast<int>(threads_.size()); }

  // Runs `job` with up to `helpers` helpers, if no one else is using the pool.
  bool TryRun(PartsJob* job, int helpers) {
    std::unique_lock<std::mutex> claim(claim_, std::try_to_lock);
    if (!claim.owns_lock()) return false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      job_ = job;
      job_helpers_ = helpers;
      ++generation_;
    }
    wake_.notify_all();
    job->Work(0);
    std::unique_lock<std::mutex> lock(mu_);
    job_ = nullptr;  // helpers waking up later find nothing
    finished_.wait(lock, [this] { return in_job_ == 0; });
    return true;
  }

 private:
  void Loop(int index) {
    uint64_t served = 0;  // the last generation this helper looked at
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      wake_.wait(lock, [&] { return job_ != nullptr && generation_ != served; });
      served = generation_;
      if (index >= job_helpers_) continue;  // not wanted for this job
      // The caller keeps the job alive until in_job_ is 0 again.
      PartsJob* job = job_;
      ++in_job_;
      lock.unlock();
      job->Work(index + 1);
      lock.lock();
      if (--in_job_ == 0) finished_.notify_one();
    }
  }

  std::mutex claim_;  // held by the caller whose job the pool may work on
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable finished_;
  PartsJob* job_ = nullptr;  // the current job; nullptr once its caller is done claiming
  int job_helpers_ = 0;      // helpers wanted for it
  uint64_t generation_ = 0;  // counts published jobs
  int in_job_ = 0;           // helpers working on the current job
  std::vector<std::thread> threads_;
};

// The number of workers the INT16 kernels may use: omp_get_max_threads() (the context's
// thread count applies to the INT16 kernels as to oneDNN's).
int MaxWorkers() {
  const int64_t threads = omp_get_max_threads();
  return static_cast<int>(threads < 1 ? 1 : (threads > 64 ? 64 : threads));
}

// The pool, or nullptr when there is none (one hardware thread). Created once with a helper
// per further hardware thread and deliberately never destroyed: it may be in use by a
// context until the very end of the process, and threads blocked on its condition variable
// do not keep the process alive.
HelperPool* GetPool() {
  static HelperPool* const pool = []() -> HelperPool* {
    const int64_t hardware = std::thread::hardware_concurrency();
    const int helpers = static_cast<int>((hardware > 64 ? 64 : hardware) - 1);
    if (helpers < 1) return nullptr;
    try {
      auto* p = new HelperPool(helpers);
      if (p->size() > 0) return p;
      delete p;
    } catch (const std::bad_alloc&) {
    }
    return nullptr;  // no helper thread: run single-threaded
  }();
  return pool;
}

}  // namespace

namespace internal {
void SetParallelModeForTesting(ParallelMode mode) { g_mode.store(mode); }
bool TeamBackOffActiveForTesting() {
  return Ticks(std::chrono::steady_clock::now()) < g_team_back_off_until.load();
}
void EndTeamBackOffForTesting() {
  g_team_back_off_until.store(0);
  g_late_runs.store(0);
}
bool HasOpenMpTeam() { return true; }
}  // namespace internal

int PrepareParallelWorkers(int64_t work) {
  const internal::ParallelMode mode = g_mode.load();
  if (mode == internal::ParallelMode::kSerial || work < (int64_t{1} << 19)) return 1;
  const int workers = MaxWorkers();
  if (workers < 2) return 1;
  if (mode == internal::ParallelMode::kOpenMp) return workers;
  // kAuto and kPool may run on the pool: no more workers than it has threads (+ the caller).
  const HelperPool* pool = GetPool();
  if (pool == nullptr)
    return mode == internal::ParallelMode::kAuto ? workers : 1;
  return pool->size() + 1 < workers ? pool->size() + 1 : workers;
}

void RunParallel(void (*task)(void* context, int64_t part, int worker), void* context,
                 int64_t parts, int workers) {
  PartsJob job;
  job.task = task;
  job.context = context;
  job.parts = parts;
  const internal::ParallelMode mode = g_mode.load();
  if (parts > 1 && workers > 1 && mode != internal::ParallelMode::kSerial) {
    const int64_t team = parts < workers ? parts : workers;
    const auto start = std::chrono::steady_clock::now();
    const bool use_team =
        mode == internal::ParallelMode::kOpenMp ||
        (mode == internal::ParallelMode::kAuto &&
         Ticks(start) >= g_team_back_off_until.load(std::memory_order_relaxed));
    if (use_team) {
      job.caller_done = start;
#pragma omp parallel num_threads(static_cast<int>(team))
      {
        const int worker = omp_get_thread_num();
        job.Work(worker);
        if (worker == 0) job.caller_done = std::chrono::steady_clock::now();
      }
      const auto end = std::chrono::steady_clock::now();
      if (end - job.caller_done <= kLateTeam) {
        g_late_runs.store(0, std::memory_order_relaxed);
      } else if (g_late_runs.fetch_add(1, std::memory_order_relaxed) + 1 >= kLateRuns) {
        g_team_back_off_until.store(Ticks(end + kTeamBackOff), std::memory_order_relaxed);
      }
      return;
    }
    if (mode != internal::ParallelMode::kOpenMp) {
      HelperPool* pool = GetPool();
      if (pool != nullptr && pool->TryRun(&job, static_cast<int>(team) - 1)) return;
    }
  }
  job.Work(0);
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
    internal::Int16GemmAvx512(isa == Int16GemmIsa::kAvx512Vnni, m, n, k, a_split, lda, b_packed, c,
                              ldc);
  } else {
    Int16GemmScalar(m, n, k, a_split, lda, b_packed, c, ldc);
  }
}

}  // namespace qsdk::runtime
