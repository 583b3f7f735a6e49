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
// The INT16 kernels split their work into parts that the workers claim one at a time. The
// workers are the caller and either an OpenMP team of the OpenMP runtime oneDNN uses (qsdk
// links the same GNU libgomp Debian's oneDNN runs on) or a process-wide pool of helper
// threads, one per further hardware thread, started on first use. The team is preferred: between oneDNN's primitives its threads
// spin waiting for work, so they pick parts up at once, whereas helper threads would have
// to share the cores with those spinning threads. But a run on the team waits for every
// team thread to finish, and a busy machine may not schedule one for milliseconds; after
// three such runs in a row (the caller waited more than 2 ms past its own last part) the
// pool takes over for 500 ms. The caller never waits for a pool helper to start: it claims
// the remaining parts itself and waits only for parts already running. The pool serves one
// kernel at a time; other callers meanwhile run their parts alone. Execute allocates
// nothing.

// How many workers a kernel instance doing `work` multiply-adds per execution should use:
// 1 when the work is too small to repay the hand-over (2^19 multiply-adds), else up to
// omp_get_max_threads() (the context's thread count, ContextOptions::num_threads, which
// limits the INT16 kernels as it limits oneDNN's), bounded by the pool. Call it at
// Instantiate (it may start the pool) and size per-worker scratch for the result.
int PrepareParallelWorkers(int64_t work);

// Runs task(context, part, worker) for every part in [0, parts), each exactly once, on at
// most `workers` workers (worker in [0, workers): per-worker scratch; the caller is worker
// 0), and returns when all are done. `task` must not throw.
void RunParallel(void (*task)(void* context, int64_t part, int worker), void* context,
                 int64_t parts, int workers);

namespace internal {

// How RunParallel runs: kAuto as described above; tests force the OpenMP team, the pool or
// serial execution.
enum class ParallelMode { kAuto, kOpenMp, kPool, kSerial };
void SetParallelModeForTesting(ParallelMode mode);
// Whether kAuto currently avoids the OpenMP team (the back-off), and ending the back-off.
bool TeamBackOffActiveForTesting();
void EndTeamBackOffForTesting();
// True when the OpenMP team is available (qsdk is built with OpenMP).
bool HasOpenMpTeam();

// --- AVX-512 entry points (int16_gemm_avx512.cc, compiled for AVX-512 F/BW/DQ; call them
// only when BestInt16GemmIsa() is an AVX-512 path; `vnni` only for kAvx512Vnni). They take
// plain data only: that file must not instantiate inline library code (see its top).

void Int16GemmAvx512(bool vnni, int64_t m, int64_t n, int64_t k, const int16_t* a_split,
                     int64_t lda, const int16_t* b_packed, int64_t* c, int64_t ldc);

// SplitInt16Rows for col_stride 1.
void SplitInt16RowsAvx512(const int16_t* a, int64_t m, int64_t k, int64_t row_stride, int16_t* out);

// The float epilogue of the INT16 kernels (int16_kernel_util.h) on a block of rows: the
// node-level operation, and the operands of the block's first row with the strides to the
// next rows. Within a row, per-element operands have step 0 (one value) or 1.
struct EpilogueOp {
  int32_t activation = 0;  // ActivationType
  float alpha = 0.0f;
  float beta = 0.0f;
  bool int16_output = false;
  float output_inv_scale = 1.0f;
  int32_t output_zero_point = 0;
};
struct EpilogueOperands {
  const int64_t* acc = nullptr;         // contiguous within a row
  const int64_t* correction = nullptr;  // z_x * wsum; nullptr: none
  int64_t correction_step = 0;
  const float* multiplier = nullptr;
  int64_t multiplier_step = 0;
  const float* bias = nullptr;  // nullptr: none
  int64_t bias_step = 0;
  const float* residual = nullptr;  // contiguous within a row; nullptr: none
  void* out = nullptr;              // float or int16_t, contiguous within a row
  // Rows of the block, and the distance (in elements) from one row's operands to the next's.
  int64_t rows = 1;
  int64_t acc_row_stride = 0;
  int64_t correction_row_step = 0;
  int64_t multiplier_row_step = 0;
  int64_t bias_row_step = 0;
  int64_t residual_row_stride = 0;
  int64_t out_row_stride = 0;
};
void Int16EpilogueAvx512(const EpilogueOp& op, const EpilogueOperands& block, int64_t count);

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
// The same for columns whose offsets form runs of consecutive words: run r of panel q
// (runs [panel_runs[q], panel_runs[q + 1])) copies words src[offset + pair_offsets[p] + i]
// to columns start + i (i < len <= 16) of the panel, for `panels` panels. Columns no run
// covers are left as they are.
struct PackRun {
  int64_t offset = 0;
  int32_t start = 0;
  uint16_t len = 0;
  uint16_t mask = 0;  // the low `len` bits
};
void CopyRunsPackedAvx512(const int32_t* src, const PackRun* runs, const int64_t* panel_runs,
                          int64_t panels, const int64_t* pair_offsets, int64_t pairs,
                          int32_t* packed);

}  // namespace internal

}  // namespace qsdk::runtime
