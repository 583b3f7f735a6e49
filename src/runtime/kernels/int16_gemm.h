// The INT16 integer GEMM core of the runtime's INT16 kernels (Conv / FullyConnected /
// MatMul, point 4 of the issue-5 contract) and the tensor descriptors INT16 activations
// travel in.
//
//   C[m][n] = sum_k A[m][k] * B[k][n]           exact, int64
//
// A (int16) is row-major with a row stride; B (int16) is packed once into column panels
// (PackInt16B); C is int64. Products of two int16 values are formed exactly: the AVX-512BW
// path multiplies pairs with vpmaddwd into int32 (exact because B never holds -32768, so a
// pair sum is at most 2 * 32768 * 32767 < 2^31) and accumulates them without overflow into
// int64 (see int16_gemm_avx512.cc); the portable path multiplies in int64. Both give the
// same result for every K.
//
// oneDNN 2.6 has no s16 data type, so INT16 activations are described to the context by
// Int16PlainDesc: a plain row-major f16 desc of the same shape (2 bytes per element, which
// is all the context uses a desc's type for: buffer sizes). The bits are int16 values, never
// half floats; only the INT16 kernels and the INT16 Quantize / Dequantize produce and read
// such tensors (shape inference allows nothing else), and each of them requires and produces
// exactly this plain desc, so the context never inserts a reorder (which would convert them
// as halves).
#pragma once

#include <cstdint>
#include <oneapi/dnnl/dnnl.hpp>
#include <vector>

namespace qsdk::runtime {

// The desc of an INT16 activation of `shape` (rank 0 is described as [1]).
dnnl::memory::desc Int16PlainDesc(const std::vector<int64_t>& shape);

// True when `md` is Int16PlainDesc of its own dims.
bool IsInt16PlainDesc(const dnnl::memory::desc& md);

// The code path of the core.
enum class Int16GemmIsa { kScalar, kAvx512 };

// The best path on this CPU: AVX-512 when the CPU has AVX-512F and AVX-512BW and oneDNN's
// effective ISA (DNNL_MAX_CPU_ISA) allows avx512_core, else scalar. Computed once.
Int16GemmIsa BestInt16GemmIsa();
const char* Int16GemmIsaName(Int16GemmIsa isa);

// Packed B: panels of kInt16PanelWidth columns (the last one zero-padded); within a panel,
// for each pair p of rows (K rounded up to even, the missing row 0), the panel's columns in
// order, each as (B[2p][n], B[2p+1][n]).
constexpr int64_t kInt16PanelWidth = 32;

// Number of int16 elements of packed B for a K x N matrix.
int64_t Int16PackedSize(int64_t k, int64_t n);

// Packs B[k][n] = b[k * stride_k + n * stride_n] (k < K, n < N) into `packed`
// (Int16PackedSize(K, N) elements).
void PackInt16B(const int16_t* b, int64_t k, int64_t n, int64_t stride_k, int64_t stride_n,
                int16_t* packed);

// Offset (in int16 elements) of B[k][n] in packed B with K rows: lets a producer (the
// convolution's im2col) write packed data directly.
inline int64_t Int16PackedOffset(int64_t k_rows, int64_t k, int64_t n) {
  const int64_t pairs = (k_rows + 1) / 2;
  return (n / kInt16PanelWidth) * pairs * 2 * kInt16PanelWidth + (k / 2) * 2 * kInt16PanelWidth +
         (n % kInt16PanelWidth) * 2 + (k % 2);
}

// C[i * ldc + j] = sum_k A[i * lda + k] * B[k][j] for i < m, j < n, with B packed for K = k
// rows and at least n columns. Every value of A and B may be any int16 except that B must
// not hold -32768 (the INT16 weights' restricted range guarantees it).
void Int16Gemm(Int16GemmIsa isa, int64_t m, int64_t n, int64_t k, const int16_t* a, int64_t lda,
               const int16_t* b_packed, int64_t* c, int64_t ldc);

// Two-way parallelism for the INT16 kernels without OpenMP and without allocating in
// Execute: one process-wide helper thread (started by PrepareTwoThreads, which may
// allocate: call it at Instantiate). RunOnTwoThreads runs task(context, 1) on the helper
// and task(context, 0) on the caller, and returns when both are done; when the helper is
// busy (another kernel holds it), absent (fewer than 2 hardware threads, or it could not
// start), or `parallel` is false, the caller runs task(context, 0) then task(context, 1)
// itself. Either way both parts run exactly once. `task` must not throw.
void PrepareTwoThreads();
void RunOnTwoThreads(void (*task)(void* context, int part), void* context, bool parallel);

namespace internal {
// The AVX-512BW implementation (int16_gemm_avx512.cc, compiled with AVX-512 flags; call it
// only when BestInt16GemmIsa() says so).
void Int16GemmAvx512(int64_t m, int64_t n, int64_t k, const int16_t* a, int64_t lda,
                     const int16_t* b_packed, int64_t* c, int64_t ldc);
}  // namespace internal

}  // namespace qsdk::runtime
