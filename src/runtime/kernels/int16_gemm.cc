// The portable parts of the INT16 GEMM core (int16_gemm.h): descriptors, packing, the ISA
// choice and the scalar path. Compiled for the baseline ISA; the AVX-512 path lives in
// int16_gemm_avx512.cc.
#include "runtime/kernels/int16_gemm.h"

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
    const bool cpu = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
    // avx512_core = 0x27 in dnnl_cpu_isa_t (a bit set: every later ISA includes its bits);
    // honouring DNNL_MAX_CPU_ISA lets tests run the scalar path on this machine too.
    const auto effective = static_cast<uint32_t>(dnnl::get_effective_cpu_isa());
    const bool allowed = (effective & 0x27u) == 0x27u;
    return cpu && allowed ? Int16GemmIsa::kAvx512 : Int16GemmIsa::kScalar;
  }();
  return isa;
}

const char* Int16GemmIsaName(Int16GemmIsa isa) {
  return isa == Int16GemmIsa::kAvx512 ? "avx512" : "scalar";
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

namespace {

// The helper thread of RunOnTwoThreads.
class Helper {
 public:
  Helper() : thread_([this] { Loop(); }) {}

  // Runs the two parts, the second on this helper, if no one else is using it.
  bool TryRun(void (*task)(void*, int), void* context) {
    std::unique_lock<std::mutex> claim(claim_, std::try_to_lock);
    if (!claim.owns_lock()) return false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      task_ = task;
      context_ = context;
      done_ = false;
    }
    wake_.notify_one();
    task(context, 0);
    std::unique_lock<std::mutex> lock(mu_);
    finished_.wait(lock, [this] { return done_; });
    return true;
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      wake_.wait(lock, [this] { return task_ != nullptr; });
      void (*task)(void*, int) = task_;
      void* context = context_;
      task_ = nullptr;
      lock.unlock();
      task(context, 1);
      lock.lock();
      done_ = true;
      finished_.notify_one();
    }
  }

  std::mutex claim_;  // held by the caller whose task the helper runs
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable finished_;
  void (*task_)(void*, int) = nullptr;
  void* context_ = nullptr;
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

void Int16GemmScalar(int64_t m, int64_t n, int64_t k, const int16_t* a, int64_t lda,
                     const int16_t* b_packed, int64_t* c, int64_t ldc) {
  const int64_t pairs = (k + 1) / 2;
  const int64_t panel_size = pairs * 2 * kInt16PanelWidth;
  for (int64_t j0 = 0; j0 < n; j0 += kInt16PanelWidth) {
    const int16_t* panel = b_packed + (j0 / kInt16PanelWidth) * panel_size;
    const int64_t cols = n - j0 < kInt16PanelWidth ? n - j0 : kInt16PanelWidth;
    for (int64_t i = 0; i < m; ++i) {
      int64_t sums[kInt16PanelWidth] = {};
      const int16_t* row = a + i * lda;
      for (int64_t kk = 0; kk < k; ++kk) {
        const int64_t av = row[kk];
        const int16_t* bp = panel + (kk / 2) * 2 * kInt16PanelWidth + (kk % 2);
        for (int64_t j = 0; j < cols; ++j) sums[j] += av * bp[2 * j];
      }
      for (int64_t j = 0; j < cols; ++j) c[i * ldc + j0 + j] = sums[j];
    }
  }
}

}  // namespace

void PrepareTwoThreads() { GetHelper(); }

void RunOnTwoThreads(void (*task)(void* context, int part), void* context, bool parallel) {
  Helper* helper = parallel ? GetHelper() : nullptr;
  if (helper != nullptr && helper->TryRun(task, context)) return;
  task(context, 0);
  task(context, 1);
}

void Int16Gemm(Int16GemmIsa isa, int64_t m, int64_t n, int64_t k, const int16_t* a, int64_t lda,
               const int16_t* b_packed, int64_t* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = 0;
    }
    return;
  }
  if (isa == Int16GemmIsa::kAvx512) {
    internal::Int16GemmAvx512(m, n, k, a, lda, b_packed, c, ldc);
  } else {
    Int16GemmScalar(m, n, k, a, lda, b_packed, c, ldc);
  }
}

}  // namespace qsdk::runtime
