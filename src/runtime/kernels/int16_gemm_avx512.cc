// The AVX-512 code paths of the INT16 kernels (int16_gemm.h, namespace internal): the GEMM
// core, A splitting, the float epilogue, the Quantize / Dequantize conversions and the
// convolution's operand preparation. This file is compiled with -mavx512f -mavx512bw
// -mavx512dq -ffp-contract=off (src/runtime/kernels/CMakeLists.txt); the VNNI GEMM
// functions add avx512vnni by attribute. Everything here is called only after the run-time
// CPU check of BestInt16GemmIsa().
//
// Because of those flags this file must not instantiate inline library code shared with
// other files (std::vector, std::min, ...): the linker keeps one copy of such a function,
// possibly this file's AVX-512 one, and a CPU without AVX-512 would then run it. It uses
// intrinsics, plain pointers, functions with internal linkage and out-of-line functions
// only.
//
// Exact GEMM accumulation. A is split (int16_gemm.h): a = 256 * hi + lo with hi in
// [-128, 127] and lo in [0, 255]. vpmaddwd / vpdpwssd form, per int32 lane, the pair sums
// hi0*b0 + hi1*b1 (|.| <= 2 * 128 * 32768 = 2^23) and lo0*b0 + lo1*b1
// (|.| <= 2 * 255 * 32768 = 16711680) exactly. Over a segment of at most 128 pairs the int32
// sums stay below 128 * 16711680 = 2139095040 < 2^31 (hi: <= 2^30), so they never wrap; at
// the end of each segment S = 256 * hi + lo is formed in int64 and added to the int64 sums.
// Any K is exact, and -32768 may appear in A and B alike.
//
// Float epilogue and conversions: each float operation of the scalar definition
// (reference/quant_math.h, int16_kernel_util.h) is one vector instruction with the same
// operands in the same order (no FMA: -ffp-contract=off, and none is written), int64 -> float
// and float -> int32 conversions round to nearest even under the default MXCSR as the scalar
// conversions and std::nearbyint do, and vmaxps / vminps are given their operands so that
// NaN and signed zeros come out as the scalar std::max / std::min expressions give them.
//
// GCC 12 reports -Wmaybe-uninitialized / -Wuninitialized inside avx512fintrin.h for
// intrinsics built on _mm512_undefined_epi32 (GCC bug 105593, a false positive); it would
// break -Werror.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <immintrin.h>

#include <cstring>

#include "qsdk/node_type.h"
#include "reference/ops.h"
#include "runtime/kernels/int16_gemm.h"

namespace qsdk::runtime::internal {
namespace {

constexpr int64_t kPanel = kInt16PanelWidth;  // 32 columns = 2 vectors of 16 int32 lanes
constexpr int64_t kSegmentPairs = 128;        // see the top of this file

inline int64_t MinI(int64_t a, int64_t b) { return a < b ? a : b; }

inline __m512i Broadcast32(const int16_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return _mm512_set1_epi32(v);
}

// The first `n` (0..8) bits.
inline __mmask8 Mask8(int64_t n) {
  return n >= 8 ? static_cast<__mmask8>(0xFF)
                : static_cast<__mmask8>(n <= 0 ? 0 : (1u << static_cast<unsigned>(n)) - 1u);
}
inline __mmask16 Mask16(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF)
                 : static_cast<__mmask16>(n <= 0 ? 0 : (1u << static_cast<unsigned>(n)) - 1u);
}
inline __mmask32 Mask32(int64_t n) {
  return n >= 32 ? static_cast<__mmask32>(0xFFFFFFFFu)
                 : static_cast<__mmask32>(n <= 0 ? 0u : (1u << static_cast<unsigned>(n)) - 1u);
}

// 256 * hi + lo for the 16 lanes, as two vectors of 8 int64 (lanes 0-7, 8-15).
inline void Widen(__m512i hi, __m512i lo, __m512i* s0, __m512i* s1) {
  const __m512i h0 = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(hi));
  const __m512i h1 = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(hi, 1));
  const __m512i l0 = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(lo));
  const __m512i l1 = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(lo, 1));
  *s0 = _mm512_add_epi64(_mm512_slli_epi64(h0, 8), l0);
  *s1 = _mm512_add_epi64(_mm512_slli_epi64(h1, 8), l1);
}

// Ends a segment of one row: the 32 int64 sums of the segment's hi / lo accumulators (two
// vectors of 16 columns each) are stored to `out` (first segment) or added to it.
inline void FlushRow(__m512i hi0, __m512i lo0, __m512i hi1, __m512i lo1, bool add, int64_t* out) {
  __m512i s[4];
  Widen(hi0, lo0, &s[0], &s[1]);
  Widen(hi1, lo1, &s[2], &s[3]);
  for (int v = 0; v < 4; ++v) {
    if (add) s[v] = _mm512_add_epi64(s[v], _mm512_load_si512(out + 8 * v));
    _mm512_store_si512(out + 8 * v, s[v]);
  }
}

// Stores the first `cols` of the 32 int64 sums of one row.
inline void StoreRow(__m512i hi0, __m512i lo0, __m512i hi1, __m512i lo1, int64_t cols, int64_t* c) {
  __m512i s[4];
  Widen(hi0, lo0, &s[0], &s[1]);
  Widen(hi1, lo1, &s[2], &s[3]);
  for (int v = 0; v < 4; ++v) _mm512_mask_storeu_epi64(c + 8 * v, Mask8(cols - 8 * v), s[v]);
}

// One segment [p0, p1) of pairs for MR (<= 6) rows of split A and one 32-column panel of
// B: acc[4r .. 4r + 3] = the int32 sums hi x cols 0-15, hi x cols 16-31, lo x cols 0-15,
// lo x cols 16-31 of row r. The accumulators are named variables (GCC copies arrays of
// vector accumulators between registers on every iteration); rows >= MR are dead code.
// (Widening and storing the results here too makes GCC spill accumulators in the loop.)
// clang-format off
#define QSDK_DECLARE_ROW(r) \
  __m512i h##r##0 = _mm512_setzero_si512(), h##r##1 = h##r##0, l##r##0 = h##r##0, l##r##1 = h##r##0;
#define QSDK_ACCUMULATE_ROW(r, MAC)                         \
  if constexpr (MR > r) {                                   \
    const __m512i ah = Broadcast32(ap + r * lda);           \
    const __m512i al = Broadcast32(ap + r * lda + 2);       \
    h##r##0 = MAC(h##r##0, ah, b0);                         \
    h##r##1 = MAC(h##r##1, ah, b1);                         \
    l##r##0 = MAC(l##r##0, al, b0);                         \
    l##r##1 = MAC(l##r##1, al, b1);                         \
  }
#define QSDK_STORE_ROW(r)   \
  if constexpr (MR > r) {     \
    acc[4 * r] = h##r##0;     \
    acc[4 * r + 1] = h##r##1; \
    acc[4 * r + 2] = l##r##0; \
    acc[4 * r + 3] = l##r##1; \
  }
#define QSDK_SEGMENT_BODY(MAC)                                                           \
  QSDK_DECLARE_ROW(0) QSDK_DECLARE_ROW(1) QSDK_DECLARE_ROW(2)                            \
  QSDK_DECLARE_ROW(3) QSDK_DECLARE_ROW(4) QSDK_DECLARE_ROW(5)                            \
  const int16_t* bp = panel + p0 * 2 * kPanel;                                           \
  const int16_t* ap = a + 4 * p0;                                                        \
  for (int64_t p = p0; p < p1; ++p) {                                                    \
    const __m512i b0 = _mm512_loadu_si512(bp);                                           \
    const __m512i b1 = _mm512_loadu_si512(bp + kPanel);                                  \
    QSDK_ACCUMULATE_ROW(0, MAC) QSDK_ACCUMULATE_ROW(1, MAC) QSDK_ACCUMULATE_ROW(2, MAC)  \
    QSDK_ACCUMULATE_ROW(3, MAC) QSDK_ACCUMULATE_ROW(4, MAC) QSDK_ACCUMULATE_ROW(5, MAC)  \
    bp += 2 * kPanel;                                                                    \
    ap += 4;                                                                             \
  }                                                                                      \
  QSDK_STORE_ROW(0) QSDK_STORE_ROW(1) QSDK_STORE_ROW(2)                                  \
  QSDK_STORE_ROW(3) QSDK_STORE_ROW(4) QSDK_STORE_ROW(5)
// clang-format on

// MAC(acc, a, b): acc + the pair sums of a and b.
inline __m512i MacMadd(__m512i acc, __m512i a, __m512i b) {
  return _mm512_add_epi32(acc, _mm512_madd_epi16(a, b));
}
__attribute__((target("avx512vnni"), always_inline)) inline __m512i MacVnni(__m512i acc, __m512i a,
                                                                            __m512i b) {
  return _mm512_dpwssd_epi32(acc, a, b);
}

template <int MR>
__attribute__((noinline)) void SegmentMadd(int64_t p0, int64_t p1, const int16_t* a, int64_t lda,
                                           const int16_t* panel, __m512i* acc) {
  QSDK_SEGMENT_BODY(MacMadd)
}
template <int MR>
__attribute__((noinline, target("avx512vnni"))) void SegmentVnni(int64_t p0, int64_t p1,
                                                                 const int16_t* a, int64_t lda,
                                                                 const int16_t* panel,
                                                                 __m512i* acc) {
  QSDK_SEGMENT_BODY(MacVnni)
}
#undef QSDK_SEGMENT_BODY
#undef QSDK_STORE_ROW
#undef QSDK_ACCUMULATE_ROW
#undef QSDK_DECLARE_ROW

// MR rows of split A times one 32-column panel of B; writes `cols` (<= 32) columns of C.
template <int MR, bool kVnni>
void Block(int64_t pairs, const int16_t* a, int64_t lda, const int16_t* panel, int64_t* c,
           int64_t ldc, int64_t cols) {
  alignas(64) __m512i acc[4 * MR];
  auto segment = [&](int64_t p0, int64_t p1) {
    if constexpr (kVnni) {
      SegmentVnni<MR>(p0, p1, a, lda, panel, acc);
    } else {
      SegmentMadd<MR>(p0, p1, a, lda, panel, acc);
    }
  };
  if (pairs <= kSegmentPairs) {
    segment(0, pairs);
    for (int r = 0; r < MR; ++r) {
      StoreRow(acc[4 * r], acc[4 * r + 2], acc[4 * r + 1], acc[4 * r + 3], cols, c + r * ldc);
    }
    return;
  }
  alignas(64) int64_t sums[MR][kPanel];
  for (int64_t p0 = 0; p0 < pairs; p0 += kSegmentPairs) {
    segment(p0, MinI(p0 + kSegmentPairs, pairs));
    for (int r = 0; r < MR; ++r) {
      FlushRow(acc[4 * r], acc[4 * r + 2], acc[4 * r + 1], acc[4 * r + 3], p0 > 0, sums[r]);
    }
  }
  for (int r = 0; r < MR; ++r) {
    std::memcpy(c + r * ldc, sums[r], static_cast<size_t>(cols) * sizeof(int64_t));
  }
}

// MR of the main block: 24 accumulators, 2 B vectors and 2 broadcasts of the 32 registers.
constexpr int kRows = 6;

// Rows [0, m) of C for one panel, in blocks of kRows, then one block of the rest.
template <bool kVnni>
void Panel(int64_t m, int64_t pairs, const int16_t* a, int64_t lda, const int16_t* panel,
           int64_t* c, int64_t ldc, int64_t cols) {
  int64_t i = 0;
  for (; i + kRows <= m; i += kRows) {
    Block<kRows, kVnni>(pairs, a + i * lda, lda, panel, c + i * ldc, ldc, cols);
  }
  a += i * lda;
  c += i * ldc;
  switch (m - i) {
    case 5:
      Block<5, kVnni>(pairs, a, lda, panel, c, ldc, cols);
      break;
    case 4:
      Block<4, kVnni>(pairs, a, lda, panel, c, ldc, cols);
      break;
    case 3:
      Block<3, kVnni>(pairs, a, lda, panel, c, ldc, cols);
      break;
    case 2:
      Block<2, kVnni>(pairs, a, lda, panel, c, ldc, cols);
      break;
    case 1:
      Block<1, kVnni>(pairs, a, lda, panel, c, ldc, cols);
      break;
    default:
      break;
  }
}

// --- Epilogue ------------------------------------------------------------------------------

// reference::ApplyActivation for the vector activations, operand for operand:
//   std::max(x, c) = (x < c) ? c : x   = _mm512_max_ps(c, x)  (vmaxps: c > x ? c : x)
//   std::min(x, c) = (c < x) ? c : x   = _mm512_min_ps(c, x)  (vminps: c < x ? c : x)
// (NaN x stays x, as in the scalar expressions).
inline __m512 Activate(int32_t act, __m512 x, __m512 alpha, __m512 beta) {
  const __m512 zero = _mm512_setzero_ps();
  switch (static_cast<ActivationType>(act)) {
    case ActivationType::kRelu:
      return _mm512_max_ps(zero, x);
    case ActivationType::kRelu6:
      return _mm512_min_ps(_mm512_set1_ps(6.0f), _mm512_max_ps(zero, x));
    case ActivationType::kClip:
      return _mm512_min_ps(beta, _mm512_max_ps(alpha, x));
    case ActivationType::kLeakyRelu: {
      // x >= 0 ? x : alpha * x (ordered compare: NaN takes alpha * x, as the scalar does).
      const __mmask16 keep = _mm512_cmp_ps_mask(x, zero, _CMP_GE_OQ);
      return _mm512_mask_blend_ps(keep, _mm512_mul_ps(alpha, x), x);
    }
    default:
      return x;
  }
}

// reference::RoundAndSaturate(v, lo, hi) on 16 lanes: NaN -> lo (vmaxps returns its second
// operand for NaN), clamp in float, round to nearest even.
inline __m512i RoundAndSaturate(__m512 v, __m512 lo, __m512 hi) {
  const __m512 clamped = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
  return _mm512_cvtps_epi32(clamped);
}

inline __m512i LoadInt64Pair(const int64_t* p, __mmask16 m, __m512i* second) {
  *second = _mm512_maskz_loadu_epi64(static_cast<__mmask8>(m >> 8), p + 8);
  return _mm512_maskz_loadu_epi64(static_cast<__mmask8>(m & 0xFF), p);
}

}  // namespace

void Int16GemmAvx512(bool vnni, int64_t m, int64_t n, int64_t k, const int16_t* a_split,
                     int64_t lda, const int16_t* b_packed, int64_t* c, int64_t ldc) {
  const int64_t pairs = (k + 1) / 2;
  const int64_t panel_size = pairs * 2 * kPanel;
  for (int64_t j0 = 0; j0 < n; j0 += kPanel) {
    const int16_t* panel = b_packed + (j0 / kPanel) * panel_size;
    const int64_t cols = MinI(n - j0, kPanel);
    if (vnni) {
      Panel<true>(m, pairs, a_split, lda, panel, c + j0, ldc, cols);
    } else {
      Panel<false>(m, pairs, a_split, lda, panel, c + j0, ldc, cols);
    }
  }
}

void SplitInt16RowsAvx512(const int16_t* a, int64_t m, int64_t k, int64_t row_stride,
                          int16_t* out) {
  const int64_t pairs = (k + 1) / 2;
  const int64_t size = 4 * pairs;
  // Output word 2p = hi pair p, word 2p + 1 = lo pair p.
  const __m512i first = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  const __m512i second =
      _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
  const __m512i low_byte = _mm512_set1_epi16(0xFF);
  for (int64_t i = 0; i < m; ++i) {
    const int16_t* row = a + i * row_stride;
    auto* dst = reinterpret_cast<int32_t*>(out + i * size);
    for (int64_t p0 = 0; p0 < pairs; p0 += 16) {
      // 16 pairs = 32 values; a missing value (odd K, the end of the row) loads as 0.
      const __m512i v = _mm512_maskz_loadu_epi16(Mask32(k - 2 * p0), row + 2 * p0);
      const __m512i hi = _mm512_srai_epi16(v, 8);
      const __m512i lo = _mm512_and_si512(v, low_byte);
      const int64_t here = MinI(16, pairs - p0);
      _mm512_mask_storeu_epi32(dst + 2 * p0, Mask16(2 * here),
                               _mm512_permutex2var_epi32(hi, first, lo));
      _mm512_mask_storeu_epi32(dst + 2 * p0 + 16, Mask16(2 * (here - 8)),
                               _mm512_permutex2var_epi32(hi, second, lo));
    }
  }
}

namespace {

// The epilogue for one activation (kAct: an ActivationType with a vector form, or -1 for the
// others, which run the scalar reference function) and output type, so that neither is
// decided per vector.
template <int kAct, bool kInt16Output>
void EpilogueRows(const EpilogueOp& op, const EpilogueOperands& block, int64_t count) {
  const __m512 alpha = _mm512_set1_ps(op.alpha);
  const __m512 beta = _mm512_set1_ps(op.beta);
  const __m512 inv_scale = _mm512_set1_ps(op.output_inv_scale);
  const __m512 zero_point = _mm512_set1_ps(static_cast<float>(op.output_zero_point));
  const __m512 lo = _mm512_set1_ps(-32768.0f);
  const __m512 hi = _mm512_set1_ps(32767.0f);
  const int64_t out_size = kInt16Output ? sizeof(int16_t) : sizeof(float);
  for (int64_t r = 0; r < block.rows; ++r) {
    const int64_t* acc = block.acc + r * block.acc_row_stride;
    const int64_t* correction =
        block.correction != nullptr ? block.correction + r * block.correction_row_step : nullptr;
    const float* multiplier = block.multiplier + r * block.multiplier_row_step;
    const float* bias = block.bias != nullptr ? block.bias + r * block.bias_row_step : nullptr;
    const float* residual =
        block.residual != nullptr ? block.residual + r * block.residual_row_stride : nullptr;
    char* out = static_cast<char*>(block.out) + r * block.out_row_stride * out_size;
    const __m512i corr_all =
        correction != nullptr ? _mm512_set1_epi64(correction[0]) : _mm512_setzero_si512();
    const __m512 mult_all = _mm512_set1_ps(multiplier[0]);
    const __m512 bias_all = bias != nullptr ? _mm512_set1_ps(bias[0]) : _mm512_setzero_ps();
    for (int64_t j = 0; j < count; j += 16) {
      const __mmask16 m = Mask16(count - j);
      __m512i acc1;
      __m512i acc0 = LoadInt64Pair(acc + j, m, &acc1);
      if (correction != nullptr) {
        __m512i c0 = corr_all, c1 = corr_all;
        if (block.correction_step != 0) c0 = LoadInt64Pair(correction + j, m, &c1);
        acc0 = _mm512_sub_epi64(acc0, c0);
        acc1 = _mm512_sub_epi64(acc1, c1);
      }
      // float(acc): int64 -> float, rounded to nearest even.
      const __m512 f = _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtepi64_ps(acc0)),
                                          _mm512_cvtepi64_ps(acc1), 1);
      const __m512 mult =
          block.multiplier_step != 0 ? _mm512_maskz_loadu_ps(m, multiplier + j) : mult_all;
      __m512 v = _mm512_mul_ps(f, mult);
      if (bias != nullptr) {
        v = _mm512_add_ps(v, block.bias_step != 0 ? _mm512_maskz_loadu_ps(m, bias + j) : bias_all);
      }
      if (residual != nullptr) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, residual + j));
      if constexpr (kAct >= 0) {
        v = Activate(kAct, v, alpha, beta);
      } else {
        alignas(64) float lanes[16];
        _mm512_store_ps(lanes, v);
        const int64_t n = MinI(16, count - j);
        for (int64_t l = 0; l < n; ++l) {
          lanes[l] = reference::ApplyActivation(static_cast<ActivationType>(op.activation),
                                                lanes[l], op.alpha, op.beta);
        }
        v = _mm512_load_ps(lanes);
      }
      if constexpr (kInt16Output) {
        const __m512 shifted = _mm512_add_ps(_mm512_mul_ps(v, inv_scale), zero_point);
        _mm512_mask_cvtepi32_storeu_epi16(reinterpret_cast<int16_t*>(out) + j, m,
                                          RoundAndSaturate(shifted, lo, hi));
      } else {
        _mm512_mask_storeu_ps(reinterpret_cast<float*>(out) + j, m, v);
      }
    }
  }
}

template <bool kInt16Output>
void EpilogueForOutput(const EpilogueOp& op, const EpilogueOperands& block, int64_t count) {
  switch (static_cast<ActivationType>(op.activation)) {
    case ActivationType::kNone:
      return EpilogueRows<static_cast<int>(ActivationType::kNone), kInt16Output>(op, block, count);
    case ActivationType::kRelu:
      return EpilogueRows<static_cast<int>(ActivationType::kRelu), kInt16Output>(op, block, count);
    case ActivationType::kRelu6:
      return EpilogueRows<static_cast<int>(ActivationType::kRelu6), kInt16Output>(op, block, count);
    case ActivationType::kClip:
      return EpilogueRows<static_cast<int>(ActivationType::kClip), kInt16Output>(op, block, count);
    case ActivationType::kLeakyRelu:
      return EpilogueRows<static_cast<int>(ActivationType::kLeakyRelu), kInt16Output>(op, block,
                                                                                      count);
    default:
      return EpilogueRows<-1, kInt16Output>(op, block, count);
  }
}

}  // namespace

void Int16EpilogueAvx512(const EpilogueOp& op, const EpilogueOperands& block, int64_t count) {
  if (op.int16_output) {
    EpilogueForOutput<true>(op, block, count);
  } else {
    EpilogueForOutput<false>(op, block, count);
  }
}

void ConvertAvx512(const ConvertParams& p, const void* x, void* y, int64_t count) {
  const bool in_float = p.in == DataType::FLOAT32;
  const bool out_float = p.out == DataType::FLOAT32;
  const __m512 in_scale = _mm512_set1_ps(p.in_scale);
  const __m512 in_zero = _mm512_set1_ps(static_cast<float>(p.in_zero_point));
  const __m512 inv_scale = _mm512_set1_ps(p.out_inv_scale);
  const __m512 out_zero = _mm512_set1_ps(static_cast<float>(p.out_zero_point));
  const __m512 lo = _mm512_set1_ps(static_cast<float>(p.lo));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(p.hi));
  for (int64_t j = 0; j < count; j += 16) {
    const __mmask16 m = Mask16(count - j);
    __m512 v;
    if (in_float) {
      v = _mm512_maskz_loadu_ps(m, static_cast<const float*>(x) + j);
    } else {
      __m512i q;
      if (p.in == DataType::INT16) {
        q = _mm512_cvtepi16_epi32(_mm512_castsi512_si256(
            _mm512_maskz_loadu_epi16(m, static_cast<const int16_t*>(x) + j)));
      } else if (p.in == DataType::INT8) {
        q = _mm512_cvtepi8_epi32(
            _mm512_castsi512_si128(_mm512_maskz_loadu_epi8(m, static_cast<const int8_t*>(x) + j)));
      } else {
        q = _mm512_cvtepu8_epi32(
            _mm512_castsi512_si128(_mm512_maskz_loadu_epi8(m, static_cast<const uint8_t*>(x) + j)));
      }
      // reference::DequantizeValue: scale * (float(q) - float(z)); float(q) is exact.
      v = _mm512_mul_ps(in_scale, _mm512_sub_ps(_mm512_cvtepi32_ps(q), in_zero));
    }
    if (out_float) {
      _mm512_mask_storeu_ps(static_cast<float*>(y) + j, m, v);
      continue;
    }
    // reference::QuantizeValue: RoundAndSaturate(x * inv_scale + z) with two roundings.
    const __m512i q =
        RoundAndSaturate(_mm512_add_ps(_mm512_mul_ps(v, inv_scale), out_zero), lo, hi);
    if (p.out == DataType::INT16) {
      _mm512_mask_cvtepi32_storeu_epi16(static_cast<int16_t*>(y) + j, m, q);
    } else if (p.out == DataType::INT8) {
      _mm512_mask_cvtepi32_storeu_epi8(static_cast<int8_t*>(y) + j, m, q);
    } else {
      // UINT8: q is within [0, 255] after the saturation; the narrowing keeps the low byte.
      _mm512_mask_cvtepi32_storeu_epi8(static_cast<uint8_t*>(y) + j, m, q);
    }
  }
}

void InterleavePlanesAvx512(const int16_t* plane0, const int16_t* plane1, int64_t h, int64_t w,
                            int64_t pt, int64_t pb, int64_t pl, int64_t pr, int16_t z,
                            int32_t* dst) {
  const int64_t wp = pl + w + pr;
  const auto zu = static_cast<uint32_t>(static_cast<uint16_t>(z));
  const __m512i border = _mm512_set1_epi32(static_cast<int32_t>(zu | (zu << 16)));
  const __m512i z_high = _mm512_set1_epi32(static_cast<int32_t>(zu << 16));
  auto fill = [&](int32_t* p, int64_t n) {
    for (int64_t j = 0; j < n; j += 16) _mm512_mask_storeu_epi32(p + j, Mask16(n - j), border);
  };
  fill(dst, pt * wp);
  for (int64_t iy = 0; iy < h; ++iy) {
    int32_t* row = dst + (pt + iy) * wp;
    fill(row, pl);
    const int16_t* s0 = plane0 + iy * w;
    const int16_t* s1 = plane1 != nullptr ? plane1 + iy * w : nullptr;
    for (int64_t ix = 0; ix < w; ix += 16) {
      const __mmask16 m = Mask16(w - ix);
      const __m512i a = _mm512_cvtepu16_epi32(
          _mm512_castsi512_si256(_mm512_maskz_loadu_epi16(static_cast<__mmask32>(m), s0 + ix)));
      __m512i b = z_high;
      if (s1 != nullptr) {
        b = _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(
                                  _mm512_maskz_loadu_epi16(static_cast<__mmask32>(m), s1 + ix))),
                              16);
      }
      _mm512_mask_storeu_epi32(row + pl + ix, m, _mm512_or_si512(a, b));
    }
    fill(row + pl + w, pr);
  }
  fill(dst + (pt + h) * wp, pb * wp);
}

void GatherPackedAvx512(const int32_t* src, const int64_t* col_offsets, int64_t cols,
                        const int64_t* pair_offsets, int64_t pairs, int32_t* packed) {
  const int64_t panels = (cols + kPanel - 1) / kPanel;
  for (int64_t q = 0; q < panels; ++q) {
    const int64_t* offsets = col_offsets + q * kPanel;
    const __m512i i0 = _mm512_loadu_si512(offsets);
    const __m512i i1 = _mm512_loadu_si512(offsets + 8);
    const __m512i i2 = _mm512_loadu_si512(offsets + 16);
    const __m512i i3 = _mm512_loadu_si512(offsets + 24);
    int32_t* dst = packed + q * pairs * kPanel;
    for (int64_t p = 0; p < pairs; ++p) {
      const __m512i t = _mm512_set1_epi64(pair_offsets[p]);
      const __m256i w0 = _mm512_i64gather_epi32(_mm512_add_epi64(i0, t), src, 4);
      const __m256i w1 = _mm512_i64gather_epi32(_mm512_add_epi64(i1, t), src, 4);
      const __m256i w2 = _mm512_i64gather_epi32(_mm512_add_epi64(i2, t), src, 4);
      const __m256i w3 = _mm512_i64gather_epi32(_mm512_add_epi64(i3, t), src, 4);
      _mm512_storeu_si512(dst + p * kPanel, _mm512_inserti64x4(_mm512_castsi256_si512(w0), w1, 1));
      _mm512_storeu_si512(dst + p * kPanel + 16,
                          _mm512_inserti64x4(_mm512_castsi256_si512(w2), w3, 1));
    }
  }
}

void CopyRunsPackedAvx512(const int32_t* src, const PackRun* runs, const int64_t* panel_runs,
                          int64_t panels, const int64_t* pair_offsets, int64_t pairs,
                          int32_t* packed) {
  for (int64_t q = 0; q < panels; ++q) {
    const PackRun* begin = runs + panel_runs[q];
    const PackRun* end = runs + panel_runs[q + 1];
    int32_t* dst = packed + q * pairs * kPanel;
    for (int64_t p = 0; p < pairs; ++p, dst += kPanel) {
      const int32_t* tap = src + pair_offsets[p];
      for (const PackRun* r = begin; r != end; ++r) {
        const __mmask16 m = r->mask;
        _mm512_mask_storeu_epi32(dst + r->start, m, _mm512_maskz_loadu_epi32(m, tap + r->offset));
      }
    }
  }
}

}  // namespace qsdk::runtime::internal
