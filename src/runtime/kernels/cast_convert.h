// The element conversion loops of the Cast kernel (cast.cc) between FLOAT32, FLOAT16 and
// BFLOAT16 buffers: a portable scalar loop and an AVX-512 one (cast_avx512.cc), chosen once
// at run time. Every path gives the bits of src/reference/float_types.h:
//   f16 -> f32, bf16 -> f32   exact; a f16 NaN becomes a quiet NaN keeping its payload
//                             (vcvtph2ps).
//   f32 -> f16                round to nearest even, binary16 subnormals kept, |x| >= 65520
//                             -> inf, -0 kept, NaN -> quiet NaN with the upper 9 payload
//                             bits (vcvtps2ph).
//   f32 -> bf16               round to nearest even, binary32 subnormals -> a zero of their
//                             sign, NaN -> quiet NaN (vcvtneps2bf16).
//   f16 <-> bf16              through f32.
//
// This header is included by the AVX-512 translation unit, which is compiled with AVX-512
// flags: it must stay free of inline functions and templates from other headers (an inline
// function emitted there with AVX-512 instructions could be the copy the linker keeps for
// the whole program, and fault on an older CPU).
#pragma once

#include <cstddef>
#include <cstdint>

namespace qsdk::runtime::internal {

// The element types of a Cast buffer.
enum class CastType { kF32, kF16, kBf16 };

// Conversion implementations, best last.
enum class CastIsa {
  kScalar,      // portable C++ (onednn_util.h's element conversions)
  kAvx512,      // AVX-512F/BW/VL + F16C; f32 -> bf16 by an integer rounding sequence
  kAvx512Bf16,  // the same, f32 -> bf16 by vcvtneps2bf16 (AVX512_BF16)
};

// The best implementation this CPU runs, also allowed by oneDNN's effective ISA
// (DNNL_MAX_CPU_ISA limits it, as for every other kernel, so tests can take the scalar
// path on any machine). Computed once.
CastIsa BestCastIsa();

// "scalar", "avx512" or "avx512_bf16".
const char* CastIsaName(CastIsa isa);

// Converts `count` elements of type `from` at `src` to type `to` at `dst` with `isa`, which
// the CPU must support (the scalar path runs anywhere). The buffers must not overlap;
// `from` == `to` copies.
void ConvertFloatBuffer(CastIsa isa, CastType from, CastType to, const void* src, void* dst,
                        size_t count);

// The AVX-512 loops (cast_avx512.cc): `native_bf16` selects vcvtneps2bf16 for f32 -> bf16
// (the CPU must have AVX512_BF16), else the integer sequence. Call only on
// a CPU with AVX-512F/BW/VL; ConvertFloatBuffer does the dispatching.
void ConvertFloatBufferAvx512(CastType from, CastType to, const void* src, void* dst,
                              size_t count, bool native_bf16);

}  // namespace qsdk::runtime::internal
