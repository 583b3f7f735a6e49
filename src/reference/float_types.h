// The reduced float types of the reference: conversions between FLOAT32 and the 16-bit
// storage types FLOAT16 (IEEE binary16) and BFLOAT16 (upper half of binary32), element by
// element and on whole tensors, and the Cast operator.
//
// Conversions (the contract of the runtime, whose oneDNN reorders produce these bits):
//   widening  FLOAT16 / BFLOAT16 -> FLOAT32 is exact (every 16-bit value, subnormals
//             included, is a binary32 value; a NaN stays a NaN of the same sign).
//   FLOAT32 -> FLOAT16: IEEE round to nearest even with gradual underflow (binary16
//             subnormals), overflow to +-inf (|x| >= 65520), NaN -> quiet NaN keeping the
//             sign and the upper 9 payload bits (as x86 vcvtps2ph).
//   FLOAT32 -> BFLOAT16: round to nearest even on the upper 16 bits, overflow to +-inf,
//             NaN -> quiet NaN keeping the sign and the upper payload bits; binary32
//             subnormal inputs become a zero of the same sign. That last rule is what
//             oneDNN's f32->bf16 reorder and bf16 destinations do on CPUs with native
//             bf16 conversion (vcvtneps2bf16 treats subnormal inputs as zero), so the
//             reference agrees bit for bit with the runtime's bf16 kernels there.
//   FLOAT16 <-> BFLOAT16 goes through FLOAT32 (widen exactly, then narrow).
#pragma once

#include <cstdint>

#include "qsdk/data_type.h"
#include "qsdk/status.h"
#include "qsdk/tensor.h"

namespace qsdk::reference {

// True for FLOAT32, FLOAT16 and BFLOAT16.
bool IsFloatType(DataType type);

// Element conversions (rules above).
float HalfBitsToFloat(uint16_t bits);
uint16_t FloatToHalfBits(float value);
float Bfloat16BitsToFloat(uint16_t bits);
uint16_t FloatToBfloat16Bits(float value);

// `value` rounded to `type` and widened back (FLOAT32: unchanged; FLOAT16 / BFLOAT16: the
// nearest representable value by the rules above). For computing expected values.
float RoundToFloatType(float value, DataType type);

// Cast operator: y (newly allocated, type `to`, x's shape and name) holds every element of
// x converted to `to`. x and `to` are each FLOAT32, FLOAT16 or BFLOAT16; x needs a fully
// defined shape and data. Same-type casts copy.
Status Cast(const Tensor& x, DataType to, Tensor* y);

}  // namespace qsdk::reference
