// FLOAT16 / BFLOAT16 element conversions (rules in float_types.h). Written
// on the bit patterns rather than with Eigen::half / Eigen::bfloat16: Eigen rounds binary32
// subnormals to bf16 subnormals and canonicalizes NaNs, while the contract is the bits the
// runtime's oneDNN conversions produce.
#include "reference/float_types.h"

#include <cstring>

namespace qsdk::reference {

namespace {

uint32_t BitsOf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

float FloatOf(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

}  // namespace

bool IsFloatType(DataType type) {
  return type == DataType::FLOAT32 || type == DataType::FLOAT16 || type == DataType::BFLOAT16;
}

float HalfBitsToFloat(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  const uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0x1f) {
    // Inf, or NaN: the payload moves to the top of binary32's mantissa, quieted (the
    // quiet bit is binary32's bit 22), as vcvtph2ps does.
    return FloatOf(mantissa == 0 ? (sign | 0x7f800000u)
                                 : (sign | 0x7fc00000u | (mantissa << 13)));
  }
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in binary32 (at most 10 significant bits,
    // and 2^-24 is far above binary32's smallest normal).
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return FloatOf(sign | BitsOf(magnitude));
  }
  // Normal: rebias the exponent (15 -> 127).
  return FloatOf(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

uint16_t FloatToHalfBits(float value) {
  const uint32_t bits = BitsOf(value);
  const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude > 0x7f800000u) {
    // NaN: quiet (binary16 bit 9) with the upper payload bits, as vcvtps2ph.
    return static_cast<uint16_t>(sign | 0x7e00u | ((magnitude >> 13) & 0x3ffu));
  }
  // 65520 = 0x477ff000 is halfway between 65504 (the largest binary16) and 65536 (the
  // next step): ties go to the even "65536", which is infinity.
  if (magnitude >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);
  if (magnitude >= 0x38800000u) {
    // A normal binary16 (|x| >= 2^-14): round the 23-bit mantissa to 10 bits, to nearest
    // even. A carry out of the mantissa correctly bumps the exponent.
    const uint32_t odd = (magnitude >> 13) & 1u;
    const uint32_t rounded = magnitude + 0xfffu + odd;
    return static_cast<uint16_t>(sign | ((rounded - (112u << 23)) >> 13));
  }
  // Subnormal binary16 (or zero): the result is round(|x| / 2^-24) units of 2^-24.
  // |x| = m * 2^(e - 150) with m the 24-bit significand, so the unit count is
  // m >> (126 - e), rounded to nearest even on the shifted-out bits.
  const uint32_t e = magnitude >> 23;
  // Below 2^-25 (e < 102) everything rounds to zero; 2^-25 itself is a tie that goes to
  // the even 0. Binary32 subnormals (e = 0) are far below.
  if (e < 102) return sign;
  const uint32_t m = (magnitude & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126u - e;  // 14..24
  uint32_t units = m >> shift;
  const uint32_t rest = m & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1u);
  if (rest > half || (rest == half && (units & 1u) != 0)) ++units;
  // units <= 0x400; 0x400 is the smallest normal's encoding, which is the right result.
  return static_cast<uint16_t>(sign | units);
}

float Bfloat16BitsToFloat(uint16_t bits) { return FloatOf(static_cast<uint32_t>(bits) << 16); }

uint16_t FloatToBfloat16Bits(float value) {
  const uint32_t bits = BitsOf(value);
  const uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude > 0x7f800000u) {
    // NaN: truncate and set the quiet bit (bf16 bit 6) so that it cannot become an inf.
    return static_cast<uint16_t>((bits >> 16) | 0x0040u);
  }
  // Zero and binary32 subnormals: a zero of the same sign (vcvtneps2bf16 semantics).
  if (magnitude < 0x00800000u) return static_cast<uint16_t>((bits >> 16) & 0x8000u);
  // Round to nearest even on the low 16 bits; a carry bumps the exponent (up to inf for
  // values above the largest bf16, and inf stays inf since its low bits are zero).
  const uint32_t odd = (bits >> 16) & 1u;
  return static_cast<uint16_t>((bits + 0x7fffu + odd) >> 16);
}

float RoundToFloatType(float value, DataType type) {
  switch (type) {
    case DataType::FLOAT16:
      return HalfBitsToFloat(FloatToHalfBits(value));
    case DataType::BFLOAT16:
      return Bfloat16BitsToFloat(FloatToBfloat16Bits(value));
    default:
      return value;
  }
}

}  // namespace qsdk::reference
