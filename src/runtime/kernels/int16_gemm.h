// The INT16 integer GEMM core of the runtime's INT16 kernels (Conv / FullyConnected /
// MatMul, point 4 of the issue-5 contract), the tensor descriptors INT16 activations travel
// in, and the kernels' parallel execution.
//
//   C[m][n] = sum_k A[m][k] * B[k][n]           exact, int64, for any int16 A and B
//
// A (int16) is given in split form (SplitInt16Rows): every value a = 256 * hi + lo with
// hi = a >> 8 in [-128, 127] and lo = a & 255 in [0, 255]. B (int16) is packed into column
// panels (PackInt16B, or a producer writing Int16PackedOffset directly); C is int64. The
// split bounds every 16-bit pair product sum the AVX-512 paths form: |hi0*b0 + hi1*b1| <=
// 2^23 and |lo0*b0 + lo1*b1| <= 2 * 255 * 32768 < 2^24, so 128 pairs sum exactly in an
// int32 lane before they are widened into int64 (int16_gemm_avx512.cc); the portable path
// multiplies in int64. All paths give the same result for every K.
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

#include "qsdk/data_type.h"

namespace qsdk::runtime {

// The desc of an INT16 activation of `shape` (rank 0 is described as [1]).
dnnl::memory::desc Int16PlainDesc(const std::vector<int64_t>& shape);

// True when `md` is Int16PlainDesc of its own dims.
bool IsInt16PlainDesc(const dnnl::memory::desc& md);

// The code path of the INT16 kernels: portable scalar code, AVX-512 (F, BW, DQ) with
// vpmaddwd, or AVX-512 with VNNI (vpdpwssd) in the GEMM core.
enum class Int16GemmIsa { kScalar, kAvx512, kAvx512Vnni };

// The best path on this CPU, computed once: kAvx512Vnni when the CPU has AVX-512 F, BW,
// DQ and VNNI and oneDNN's effective ISA (DNNL_MAX_CPU_ISA) allows avx512_core_vnni;
// kAvx512 when it has AVX-512 F, BW and DQ and avx512_core is allowed; else kScalar.
// Honouring DNNL_MAX_CPU_ISA lets tests run every path on one machine.
Int16GemmIsa BestInt16GemmIsa();
const char* Int16GemmIsaName(Int16GemmIsa isa);
// True for the AVX-512 paths (the vector epilogue, quantize loops and im2col).
inline bool IsAvx512(Int16GemmIsa isa) { return isa != Int16GemmIsa::kScalar; }

// Packed B: panels of kInt16PanelWidth columns (the last one padded); within a panel,
// for each pair p of rows (K rounded up to even, the missing row 0), the panel's columns in
// order, each as (B[2p][n], B[2p+1][n]).
constexpr int64_t kInt16PanelWidth = 32;

// Number of int16 elements of packed B for a K x N matrix.
int64_t Int16PackedSize(int64_t k, int64_t n);

// Packs B[k][n] = b[k * stride_k + n * stride_n] (k < K, n < N) into `packed`
// (Int16PackedSize(K, N) elements; padding is 0).
void PackInt16B(const int16_t* b, int64_t k, int64_t n, int64_t stride_k, int64_t stride_n,
                int16_t* packed);

// Offset (in int16 elements) of B[k][n] in packed B with K rows.
inline int64_t Int16PackedOffset(int64_t k_rows, int64_t k, int64_t n) {
  const int64_t pairs = (k_rows + 1) / 2;
  return (n / kInt16PanelWidth) * pairs * 2 * kInt16PanelWidth + (k / 2) * 2 * kInt16PanelWidth +
         (n % kInt16PanelWidth) * 2 + (k % 2);
}

// Split A: each row holds, for each pair p of its K values (K rounded up to even, the
// missing value 0), four int16: hi(a[2p]), hi(a[2p+1]), lo(a[2p]), lo(a[2p+1]), with
// hi(a) = a >> 8 (arithmetic) and lo(a) = a & 255. Int16SplitRowSize(K) int16 per row.
inline int64_t Int16SplitRowSize(int64_t k) { return 4 * ((k + 1) / 2); }

// Splits the m x k matrix A[i][p] = a[i * row_stride + p * col_stride] into `out` (rows of
// Int16SplitRowSize(k), back to back). `isa` picks a vector path for col_stride 1.
void SplitInt16Rows(Int16GemmIsa isa, const int16_t* a, int64_t m, int64_t k, int64_t row_stride,
                    int64_t col_stride, int16_t* out);

// C[i * ldc + j] = sum_k A[i][k] * B[k][j] for i < m, j < n, with A split (row stride
// lda >= Int16SplitRowSize(k) in int16) and B packed for K = k rows and at least n columns.
void Int16Gemm(Int16GemmIsa isa, int64_t m, int64_t n, int64_t k, const int16_t* a_split,
               int64_t lda, const int16_t* b_packed, int64_t* c, int64_t ldc);

// --- Parallel execution ----------------------------------------------------------------------
//
// The INT16 kernels split their work into parts and run them on the OpenMP thread team
// oneDNN itself uses (its threads spin between oneDNN primitives waiting for work; a second
// pool of our own would compete with them for the cores), found at run time in the already
// loaded OpenMP runtime when oneDNN was built for OpenMP. Without one, a process-wide helper
// thread (started on first use) runs every second part. Execute allocates nothing either way.

// How many parts a kernel instance doing `work` multiply-adds per execution should split
// it into: 1 when the work is too small to repay the hand-over (about 2^19 multiply-adds
// with OpenMP, whose idle threads spin; 2^22 with the helper thread, woken through a
// condition variable), else the OpenMP runtime's omp_get_max_threads() (so OMP_NUM_THREADS
// applies to the INT16 kernels as to oneDNN's), or 2 with the helper thread (1 with fewer
// than 2 hardware threads). Call it at Instantiate (it may start the helper thread) and
// size per-part scratch for the result.
int PrepareParallelParts(int64_t work);

// Runs task(context, part) for every part in [0, parts), each exactly once, in parallel
// where possible, and returns when all are done. `task` must not throw.
void RunParallelParts(void (*task)(void* context, int part), void* context, int parts);

namespace internal {

// How RunParallelParts runs (tests force each mechanism; the default is kAuto).
enum class ParallelMode { kAuto, kHelperThread, kSerial };
void SetParallelModeForTesting(ParallelMode mode);

// --- AVX-512 entry points (int16_gemm_avx512.cc, compiled for AVX-512 F/BW/DQ; call them
// only when BestInt16GemmIsa() is an AVX-512 path; `vnni` only for kAvx512Vnni). They take
// plain data only: that file must not instantiate inline library code (see its top).

void Int16GemmAvx512(bool vnni, int64_t m, int64_t n, int64_t k, const int16_t* a_split,
                     int64_t lda, const int16_t* b_packed, int64_t* c, int64_t ldc);

// SplitInt16Rows for col_stride 1.
void SplitInt16RowsAvx512(const int16_t* a, int64_t m, int64_t k, int64_t row_stride,
                          int16_t* out);

// The float epilogue of the INT16 kernels on one row (int16_kernel_util.h): the node-level
// operation and one row of operands. Per-element operands have step 0 or 1.
struct EpilogueOp {
  int32_t activation = 0;  // ActivationType
  float alpha = 0.0f;
  float beta = 0.0f;
  bool int16_output = false;
  float output_inv_scale = 1.0f;
  int32_t output_zero_point = 0;
};
struct EpilogueOperands {
  const int64_t* acc = nullptr;         // contiguous
  const int64_t* correction = nullptr;  // z_x * wsum; nullptr: none
  int64_t correction_step = 0;
  const float* multiplier = nullptr;
  int64_t multiplier_step = 0;
  const float* bias = nullptr;  // nullptr: none
  int64_t bias_step = 0;
  const float* residual = nullptr;  // contiguous; nullptr: none
  void* out = nullptr;              // float or int16_t, contiguous
};
void Int16EpilogueAvx512(const EpilogueOp& op, const EpilogueOperands& row, int64_t count);

// One conversion of Quantize / Dequantize on `count` contiguous elements with one set of
// parameters: x of type `in` (FLOAT32, INT8, UINT8 or INT16) to y of type `out`, as
// reference::DequantizeValue / QuantizeValue / RequantizeValue (an integer input is first
// dequantized with in_scale / in_zero_point; an integer output is quantized with
// out_inv_scale / out_zero_point and saturated to [lo, hi]).
struct ConvertParams {
  DataType in = DataType::FLOAT32;
  DataType out = DataType::FLOAT32;
  float in_scale = 1.0f;
  int32_t in_zero_point = 0;
  float out_inv_scale = 1.0f;
  int32_t out_zero_point = 0;
  int32_t lo = 0, hi = 0;
};
void ConvertAvx512(const ConvertParams& params, const void* x, void* y, int64_t count);

// The INT16 convolution's operand preparation (int16_conv.cc).
// Interleaves two int16 planes [h][w] (plane1 nullptr: the value z) into 32-bit words
// (plane0 in the low half) within a border of words (z, z): dst is [pt + h + pb][pl + w + pr].
void InterleavePlanesAvx512(const int16_t* plane0, const int16_t* plane1, int64_t h, int64_t w,
                            int64_t pt, int64_t pb, int64_t pl, int64_t pr, int16_t z,
                            int32_t* dst);
// Packed B (as 32-bit words, one per pair of rows) for `pairs` pairs and `cols` columns:
// word (pair p, column j) = src[col_offsets[j] + pair_offsets[p]]; col_offsets holds
// `cols` rounded up to the panel width entries.
void GatherPackedAvx512(const int32_t* src, const int64_t* col_offsets, int64_t cols,
                        const int64_t* pair_offsets, int64_t pairs, int32_t* packed);

}  // namespace internal

}  // namespace qsdk::runtime
