// The AVX-512 conversion loops of the Cast kernel (cast_convert.h). This file is compiled
// with -mavx512f -mavx512bw -mavx512vl (src/runtime/kernels/CMakeLists.txt) and is only
// called when BestCastIsa() found those extensions; the loops using AVX512_BF16 carry it as
// a function target attribute, so that nothing else here can contain its instructions (the
// integer bf16 path runs on AVX-512 CPUs without it).
//
// Each loop converts 16 elements per step through a f32 vector and finishes with one
// masked step (no scalar tail, so every element takes the same instructions). Why the
// instructions give the reference's bits (src/reference/float_types.h):
//   vcvtph2ps     exact widening; a NaN is quieted with its payload kept; MXCSR.DAZ is
//                 ignored (f16 subnormals widen exactly).
//   vcvtps2ph     with imm _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC: round to nearest
//                 even whatever MXCSR.RC says, overflow to inf, f16 subnormal results kept
//                 (MXCSR.FTZ is ignored), NaN -> sign | 0x7e00 | upper 9 payload bits. With
//                 MXCSR.DAZ set a f32 subnormal input reads as zero of its sign, which is
//                 also the correctly rounded result (every f32 subnormal < 2^-25).
//   vcvtneps2bf16 round to nearest even, f32 subnormals -> zero of their sign, NaN ->
//                 (bits >> 16) | 0x40; independent of MXCSR.
//   bf16 -> f32   a 16-bit left shift.
// The integer f32 -> bf16 sequence (Bf16FromBits) is the reference's rule, lane-wise.
//
// Only <immintrin.h> and cast_convert.h are included: see cast_convert.h on inline
// functions in a translation unit compiled with extra ISA flags.

// GCC 12 reports -Wmaybe-uninitialized inside avx512fintrin.h for intrinsics built on
// _mm512_undefined_* (GCC bug 105593, a false positive); it would break -Werror.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include "runtime/kernels/cast_convert.h"

namespace qsdk::runtime::internal {
namespace {

constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

// Mask of the first `n` (< 16) lanes.
inline __mmask16 TailMask(size_t n) { return static_cast<__mmask16>((1u << n) - 1u); }

// 16 elements of type `from` at element `i` of `src`, as f32 (exact). kTail: only the lanes
// of `mask` are read (the others are zero).
template <CastType kFrom, bool kTail>
inline __m512 Load(const void* src, size_t i, __mmask16 mask) {
  if constexpr (kFrom == CastType::kF32) {
    const float* p = static_cast<const float*>(src) + i;
    return kTail ? _mm512_maskz_loadu_ps(mask, p) : _mm512_loadu_ps(p);
  } else {
    const uint16_t* p = static_cast<const uint16_t*>(src) + i;
    const __m256i half = kTail ? _mm256_maskz_loadu_epi16(mask, p)
                               : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    if constexpr (kFrom == CastType::kF16) {
      return _mm512_cvtph_ps(half);
    } else {
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(half), 16));
    }
  }
}

// Stores 16 16-bit values (the lanes of `mask` when kTail) at element `i` of `dst`.
template <bool kTail>
inline void Store16(void* dst, size_t i, __m256i bits, __mmask16 mask) {
  uint16_t* p = static_cast<uint16_t*>(dst) + i;
  if (kTail) {
    _mm256_mask_storeu_epi16(p, mask, bits);
  } else {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), bits);
  }
}

// bf16 bits of 16 f32 values by the reference's rule (float_types.h), on the integers:
//   NaN                        (x >> 16) | 0x40 (quiet, sign and upper payload kept)
//   zero or f32 subnormal      (x >> 16) & 0x8000 (a zero of the sign)
//   otherwise                  (x + 0x7fff + ((x >> 16) & 1)) >> 16 (nearest even; a carry
//                              bumps the exponent, up to inf; inf stays inf)
inline __m256i Bf16FromBits(__m512i x) {
  const __m512i high = _mm512_srli_epi32(x, 16);
  const __m512i odd = _mm512_and_si512(high, _mm512_set1_epi32(1));
  const __m512i rounded =
      _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(x, _mm512_set1_epi32(0x7fff)), odd), 16);
  const __m512i magnitude = _mm512_and_si512(x, _mm512_set1_epi32(0x7fffffff));
  const __mmask16 nan = _mm512_cmpgt_epu32_mask(magnitude, _mm512_set1_epi32(0x7f800000));
  const __mmask16 tiny = _mm512_testn_epi32_mask(x, _mm512_set1_epi32(0x7f800000));
  __m512i result = _mm512_mask_or_epi32(rounded, nan, high, _mm512_set1_epi32(0x40));
  result = _mm512_mask_and_epi32(result, tiny, high, _mm512_set1_epi32(0x8000));
  return _mm512_cvtepi32_epi16(result);  // every lane is < 2^16: truncation is exact
}

// One step of a conversion to f32, f16 or bf16 (integer sequence).
template <CastType kFrom, CastType kTo, bool kTail>
inline void Step(const void* src, void* dst, size_t i, __mmask16 mask) {
  const __m512 wide = Load<kFrom, kTail>(src, i, mask);
  if constexpr (kTo == CastType::kF32) {
    float* p = static_cast<float*>(dst) + i;
    if (kTail) {
      _mm512_mask_storeu_ps(p, mask, wide);
    } else {
      _mm512_storeu_ps(p, wide);
    }
  } else if constexpr (kTo == CastType::kF16) {
    Store16<kTail>(dst, i, _mm512_cvtps_ph(wide, kRound), mask);
  } else {
    Store16<kTail>(dst, i, Bf16FromBits(_mm512_castps_si512(wide)), mask);
  }
}

template <CastType kFrom, CastType kTo>
void Loop(const void* src, void* dst, size_t count) {
  size_t i = 0;
  // Two vectors per iteration: the loop overhead is then small next to the memory traffic.
  for (; i + 32 <= count; i += 32) {
    Step<kFrom, kTo, false>(src, dst, i, 0xffff);
    Step<kFrom, kTo, false>(src, dst, i + 16, 0xffff);
  }
  if (i + 16 <= count) {
    Step<kFrom, kTo, false>(src, dst, i, 0xffff);
    i += 16;
  }
  if (i < count) Step<kFrom, kTo, true>(src, dst, i, TailMask(count - i));
}

// f32 or f16 -> bf16 with vcvtneps2bf16 (AVX512_BF16).
template <CastType kFrom, bool kTail>
__attribute__((target("avx512bf16"))) inline void StepNativeBf16(const void* src, void* dst,
                                                                  size_t i, __mmask16 mask) {
  const __m512 wide = Load<kFrom, kTail>(src, i, mask);
  // __m256bh and __m256i are both 32-byte vectors: a bit-preserving vector cast.
  Store16<kTail>(dst, i, (__m256i)_mm512_cvtneps_pbh(wide), mask);
}

template <CastType kFrom>
__attribute__((target("avx512bf16"))) void LoopNativeBf16(const void* src, void* dst,
                                                          size_t count) {
  size_t i = 0;
  for (; i + 32 <= count; i += 32) {
    StepNativeBf16<kFrom, false>(src, dst, i, 0xffff);
    StepNativeBf16<kFrom, false>(src, dst, i + 16, 0xffff);
  }
  if (i + 16 <= count) {
    StepNativeBf16<kFrom, false>(src, dst, i, 0xffff);
    i += 16;
  }
  if (i < count) StepNativeBf16<kFrom, true>(src, dst, i, TailMask(count - i));
}

}  // namespace

void ConvertFloatBufferAvx512(CastType from, CastType to, const void* src, void* dst,
                              size_t count, bool native_bf16) {
  using T = CastType;
  if (from == to) {
    __builtin_memcpy(dst, src, count * (from == T::kF32 ? 4 : 2));
    return;
  }
  switch (from) {
    case T::kF32:
      if (to == T::kF16) return Loop<T::kF32, T::kF16>(src, dst, count);
      if (native_bf16) return LoopNativeBf16<T::kF32>(src, dst, count);
      return Loop<T::kF32, T::kBf16>(src, dst, count);
    case T::kF16:
      if (to == T::kF32) return Loop<T::kF16, T::kF32>(src, dst, count);
      if (native_bf16) return LoopNativeBf16<T::kF16>(src, dst, count);
      return Loop<T::kF16, T::kBf16>(src, dst, count);
    case T::kBf16:
      if (to == T::kF32) return Loop<T::kBf16, T::kF32>(src, dst, count);
      return Loop<T::kBf16, T::kF16>(src, dst, count);
  }
}

}  // namespace qsdk::runtime::internal
