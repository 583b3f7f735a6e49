// The AVX-512BW path of the INT16 GEMM core (int16_gemm.h). This file is compiled with
// -mavx512f -mavx512bw -mavx512dq (src/runtime/kernels/CMakeLists.txt) and is only called
// when BestInt16GemmIsa() found those extensions.
//
// Exact accumulation. vpmaddwd multiplies 16-bit pairs and adds each pair into an int32
// lane: v = a0*b0 + a1*b1 is exact since |v| <= 2 * 32768 * 32767 < 2^31 (B never holds
// -32768). Summing such v in int32 could overflow after two terms, and widening every v to
// int64 costs shuffles, so each lane keeps two int32 accumulators over a segment of at most
// kSegmentPairs pairs:
//   all = sum v  (mod 2^32, wrapping)      hi = sum (v >> 16)  (arithmetic shift)
// With lo_i = v_i - (v_i >> 16) * 65536 in [0, 65535], the exact sum is
//   S = 65536 * hi + L,   L = sum lo_i in [0, L_max],   L = (all - (hi << 16)) mod 2^32.
// For a segment of P <= 32768 pairs, |hi| <= 32768 * P <= 2^30 fits int32 and
// L_max = 65535 * P < 2^32, so L is recovered exactly from the wrapped difference. At the
// end of each segment S is added to int64 sums; any K is exact.
// GCC 12 reports -Wmaybe-uninitialized inside avx512fintrin.h for intrinsics built on
// _mm512_undefined_epi32 (GCC bug 105593, a false positive); it would break -Werror.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include <cstring>

#include "runtime/kernels/int16_gemm.h"

namespace qsdk::runtime::internal {
namespace {

constexpr int64_t kSegmentPairs = 32768;
constexpr int64_t kPanel = kInt16PanelWidth;  // 32 columns = 2 vectors of 16 int32 lanes

inline __m512i BroadcastPair(const int16_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return _mm512_set1_epi32(v);
}

// Adds S = 65536 * hi + (all - (hi << 16)) mod 2^32 (16 lanes) to sums[0..15].
inline void FlushSegment(__m512i all, __m512i hi, int64_t* sums) {
  const __m512i lo = _mm512_sub_epi32(all, _mm512_slli_epi32(hi, 16));
  const __m512i hi_a = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(hi));
  const __m512i hi_b = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(hi, 1));
  const __m512i lo_a = _mm512_cvtepu32_epi64(_mm512_castsi512_si256(lo));
  const __m512i lo_b = _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(lo, 1));
  const __m512i s_a = _mm512_add_epi64(_mm512_slli_epi64(hi_a, 16), lo_a);
  const __m512i s_b = _mm512_add_epi64(_mm512_slli_epi64(hi_b, 16), lo_b);
  _mm512_storeu_si512(sums, _mm512_add_epi64(_mm512_loadu_si512(sums), s_a));
  _mm512_storeu_si512(sums + 8, _mm512_add_epi64(_mm512_loadu_si512(sums + 8), s_b));
}

// MR rows of A times one 32-column panel of B; writes `cols` (<= 32) columns of C.
template <int MR>
void Block(int64_t k, const int16_t* a, int64_t lda, const int16_t* panel, int64_t* c, int64_t ldc,
           int64_t cols) {
  alignas(64) int64_t sums[MR][kPanel] = {};
  const int64_t full_pairs = k / 2;
  const bool odd = (k % 2) != 0;
  const int64_t pairs = full_pairs + (odd ? 1 : 0);
  for (int64_t p0 = 0; p0 < pairs; p0 += kSegmentPairs) {
    const int64_t p1 = p0 + kSegmentPairs < pairs ? p0 + kSegmentPairs : pairs;
    __m512i all[MR][2], hi[MR][2];
    for (int r = 0; r < MR; ++r) {
      all[r][0] = all[r][1] = hi[r][0] = hi[r][1] = _mm512_setzero_si512();
    }
    const int64_t main_end = p1 < full_pairs ? p1 : full_pairs;
    for (int64_t p = p0; p < main_end; ++p) {
      const __m512i b0 = _mm512_loadu_si512(panel + p * 2 * kPanel);
      const __m512i b1 = _mm512_loadu_si512(panel + p * 2 * kPanel + kPanel);
      for (int r = 0; r < MR; ++r) {
        const __m512i ar = BroadcastPair(a + r * lda + 2 * p);
        const __m512i v0 = _mm512_madd_epi16(ar, b0);
        const __m512i v1 = _mm512_madd_epi16(ar, b1);
        all[r][0] = _mm512_add_epi32(all[r][0], v0);
        hi[r][0] = _mm512_add_epi32(hi[r][0], _mm512_srai_epi32(v0, 16));
        all[r][1] = _mm512_add_epi32(all[r][1], v1);
        hi[r][1] = _mm512_add_epi32(hi[r][1], _mm512_srai_epi32(v1, 16));
      }
    }
    if (odd && p1 == pairs) {
      // The last row of an odd K: A's element alone (the pair's second half is 0, and so is
      // the packed B row after it); never read past A's row.
      const int64_t p = full_pairs;
      const __m512i b0 = _mm512_loadu_si512(panel + p * 2 * kPanel);
      const __m512i b1 = _mm512_loadu_si512(panel + p * 2 * kPanel + kPanel);
      for (int r = 0; r < MR; ++r) {
        const auto bits = static_cast<uint16_t>(a[r * lda + 2 * p]);
        const __m512i ar = _mm512_set1_epi32(static_cast<int32_t>(bits));
        const __m512i v0 = _mm512_madd_epi16(ar, b0);
        const __m512i v1 = _mm512_madd_epi16(ar, b1);
        all[r][0] = _mm512_add_epi32(all[r][0], v0);
        hi[r][0] = _mm512_add_epi32(hi[r][0], _mm512_srai_epi32(v0, 16));
        all[r][1] = _mm512_add_epi32(all[r][1], v1);
        hi[r][1] = _mm512_add_epi32(hi[r][1], _mm512_srai_epi32(v1, 16));
      }
    }
    for (int r = 0; r < MR; ++r) {
      FlushSegment(all[r][0], hi[r][0], sums[r]);
      FlushSegment(all[r][1], hi[r][1], sums[r] + 16);
    }
  }
  for (int r = 0; r < MR; ++r) {
    std::memcpy(c + r * ldc, sums[r], static_cast<size_t>(cols) * sizeof(int64_t));
  }
}

constexpr int kRows = 4;  // MR of the main block: 16 accumulators + 5 temporaries

}  // namespace

void Int16GemmAvx512(int64_t m, int64_t n, int64_t k, const int16_t* a, int64_t lda,
                     const int16_t* b_packed, int64_t* c, int64_t ldc) {
  const int64_t panel_size = ((k + 1) / 2) * 2 * kPanel;
  for (int64_t j0 = 0; j0 < n; j0 += kPanel) {
    const int16_t* panel = b_packed + (j0 / kPanel) * panel_size;
    const int64_t cols = n - j0 < kPanel ? n - j0 : kPanel;
    int64_t i = 0;
    for (; i + kRows <= m; i += kRows) {
      Block<kRows>(k, a + i * lda, lda, panel, c + i * ldc + j0, ldc, cols);
    }
    switch (m - i) {
      case 3:
        Block<3>(k, a + i * lda, lda, panel, c + i * ldc + j0, ldc, cols);
        break;
      case 2:
        Block<2>(k, a + i * lda, lda, panel, c + i * ldc + j0, ldc, cols);
        break;
      case 1:
        Block<1>(k, a + i * lda, lda, panel, c + i * ldc + j0, ldc, cols);
        break;
      default:
        break;
    }
  }
}

}  // namespace qsdk::runtime::internal
