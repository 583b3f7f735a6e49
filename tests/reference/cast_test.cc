// FLOAT16 / BFLOAT16 element conversions and the Cast operator (reference/float_types.h):
// round to nearest even with its ties, overflow, NaN, subnormals, every direction of Cast,
// and agreement with the oneDNN reorders the runtime uses.
#include <gtest/gtest.h>

#include <oneapi/dnnl/dnnl.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "reference/float_types.h"
#include "reference/reference_test_util.h"

namespace qsdk::reference {
namespace {

using testing::BitsToFloat;
using testing::FloatBits;

// The value of binary16 `h`, computed independently of the code under test (in double).
double HalfValue(uint16_t h) {
  const int sign = (h & 0x8000) != 0 ? -1 : 1;
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  if (exponent == 0) return sign * std::ldexp(static_cast<double>(mantissa), -24);
  if (exponent == 31) {
    return mantissa == 0 ? sign * std::numeric_limits<double>::infinity()
                         : std::numeric_limits<double>::quiet_NaN();
  }
  return sign * std::ldexp(static_cast<double>(1024 + mantissa), exponent - 25);
}

// ----- FLOAT16 ---------------------------------------------------------------------------

TEST(Float16Test, WideningIsExactForEveryValue) {
  // All 65536 encodings: the binary32 result equals the binary16 value (computed in
  // double, exactly), NaNs stay NaNs of the same sign, and narrowing back gives the same
  // bits for every non-NaN (round trip).
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const auto bits = static_cast<uint16_t>(h);
    const float f = HalfBitsToFloat(bits);
    const double expected = HalfValue(bits);
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(f)) << std::hex << h;
      EXPECT_EQ(std::signbit(f), (h & 0x8000) != 0) << std::hex << h;
      EXPECT_TRUE(std::isnan(HalfBitsToFloat(FloatToHalfBits(f)))) << std::hex << h;
      continue;
    }
    ASSERT_EQ(static_cast<double>(f), expected) << std::hex << h;
    ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << std::hex << h;  // -0 stays -0
    ASSERT_EQ(FloatToHalfBits(f), bits) << std::hex << h;
  }
}

TEST(Float16Test, RoundsToNearestEvenAtTies) {
  // Near 1 the binary16 step is 2^-10. 1 + 2^-11 is halfway between 1 (even mantissa 0)
  // and 1 + 2^-10 (odd): it goes down. 1 + 3 * 2^-11 is halfway between 1 + 2^-10 (odd)
  // and 1 + 2^-9 (even): it goes up.
  EXPECT_EQ(FloatToHalfBits(1.0f + 0x1p-11f), 0x3c00);
  EXPECT_EQ(FloatToHalfBits(1.0f + 3 * 0x1p-11f), 0x3c02);
  // Just above a tie rounds up, just below rounds down.
  EXPECT_EQ(FloatToHalfBits(BitsToFloat(FloatBits(1.0f + 0x1p-11f) + 1)), 0x3c01);
  EXPECT_EQ(FloatToHalfBits(BitsToFloat(FloatBits(1.0f + 0x1p-11f) - 1)), 0x3c00);
  // Negative values round by magnitude.
  EXPECT_EQ(FloatToHalfBits(-(1.0f + 3 * 0x1p-11f)), 0xbc02);
  // A carry out of the mantissa bumps the exponent: 2 - 2^-12 rounds to 2.
  EXPECT_EQ(FloatToHalfBits(2.0f - 0x1p-12f), 0x4000);
}

TEST(Float16Test, OverflowsToInfinity) {
  EXPECT_EQ(FloatToHalfBits(65504.0f), 0x7bff);  // the largest binary16
  EXPECT_EQ(FloatToHalfBits(65519.0f), 0x7bff);  // below the halfway point 65520
  EXPECT_EQ(FloatToHalfBits(65520.0f), 0x7c00);  // the tie goes to the even "65536" = inf
  EXPECT_EQ(FloatToHalfBits(-65520.0f), 0xfc00);
  EXPECT_EQ(FloatToHalfBits(1.0e6f), 0x7c00);
  EXPECT_EQ(FloatToHalfBits(std::numeric_limits<float>::max()), 0x7c00);
  EXPECT_EQ(FloatToHalfBits(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(FloatToHalfBits(-std::numeric_limits<float>::infinity()), 0xfc00);
}

TEST(Float16Test, NanStaysQuietNanWithSignAndPayload) {
  const float qnan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(FloatToHalfBits(qnan), 0x7e00);
  EXPECT_EQ(FloatToHalfBits(-qnan), 0xfe00);
  // A signalling NaN whose payload lies only in the low 13 bits would truncate to an inf
  // pattern: the quiet bit keeps it a NaN.
  const uint16_t h = FloatToHalfBits(BitsToFloat(0x7f800001u));
  EXPECT_EQ(h, 0x7e00);
  // Upper payload bits are kept (vcvtps2ph): 0x7fa00000 has payload bit 21 -> bit 8.
  EXPECT_EQ(FloatToHalfBits(BitsToFloat(0xffa00000u)), 0xff00);
}

TEST(Float16Test, SubnormalsRoundGradually) {
  // The binary16 subnormal step is 2^-24.
  EXPECT_EQ(FloatToHalfBits(0x1p-24f), 0x0001);
  EXPECT_EQ(FloatToHalfBits(0x1p-25f), 0x0000);         // tie between 0 and 1: even 0
  EXPECT_EQ(FloatToHalfBits(-0x1p-25f), 0x8000);        // signed zero
  EXPECT_EQ(FloatToHalfBits(1.5f * 0x1p-25f), 0x0001);  // above the tie
  EXPECT_EQ(FloatToHalfBits(3 * 0x1p-25f), 0x0002);     // tie between 1 and 2: even 2
  EXPECT_EQ(FloatToHalfBits(5 * 0x1p-25f), 0x0002);     // tie between 2 and 3: even 2
  EXPECT_EQ(FloatToHalfBits(1023 * 0x1p-24f), 0x03ff);  // the largest subnormal
  // Halfway between the largest subnormal (1023 steps) and the smallest normal (1024
  // steps, 0x0400): the even one is the normal.
  EXPECT_EQ(FloatToHalfBits(1023.5f * 0x1p-24f), 0x0400);
  EXPECT_EQ(FloatToHalfBits(0x1p-14f), 0x0400);
  // A binary32 subnormal is far below 2^-25.
  EXPECT_EQ(FloatToHalfBits(BitsToFloat(0x00000001u)), 0x0000);
  EXPECT_EQ(FloatToHalfBits(BitsToFloat(0x807fffffu)), 0x8000);
  EXPECT_EQ(HalfBitsToFloat(0x0001), 0x1p-24f);
  EXPECT_EQ(HalfBitsToFloat(0x83ff), -1023 * 0x1p-24f);
}

TEST(Float16Test, NarrowingPicksTheNearestValue) {
  // Random binary32 values across the binary16 range (fixed seed): the result is at least
  // as close as both neighbouring finite binary16 values, and on a tie it has an even
  // mantissa; infinity only from the halfway point 65520 up. Distances are computed in
  // double, where they are exact (the difference of two nearby values whose lowest bits
  // are >= 2^-47 and highest <= 2^16 needs far fewer than 53 bits).
  std::mt19937 rng(1234);
  std::uniform_int_distribution<uint32_t> exponent(103, 142);  // 2^-24 .. 2^16 (excl.)
  std::uniform_int_distribution<uint32_t> mantissa(0, 0x7fffff);
  for (int i = 0; i < 200000; ++i) {
    const uint32_t sign = (i & 1) != 0 ? 0x80000000u : 0;
    const float x = BitsToFloat(sign | (exponent(rng) << 23) | mantissa(rng));
    const uint16_t h = FloatToHalfBits(x);
    if (std::isinf(HalfValue(h))) {
      ASSERT_GE(std::fabs(x), 65520.0f) << x;
      continue;
    }
    ASSERT_LT(std::fabs(x), 65520.0f) << x;
    const double d = std::fabs(HalfValue(h) - static_cast<double>(x));
    for (const int step : {-1, 1}) {
      const auto magnitude = static_cast<int>(h & 0x7fff) + step;
      if (magnitude < 0 || magnitude > 0x7bff) continue;
      const auto neighbour = static_cast<uint16_t>((h & 0x8000) | magnitude);
      const double dn = std::fabs(HalfValue(neighbour) - static_cast<double>(x));
      ASSERT_LE(d, dn) << "x = " << x << " bits " << std::hex << h;
      if (d == dn) {
        ASSERT_EQ(h & 1, 0) << "tie not to even: x = " << x;
      }
    }
  }
}

// ----- BFLOAT16 --------------------------------------------------------------------------

TEST(Bfloat16Test, WideningIsExactForEveryValue) {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const float f = Bfloat16BitsToFloat(static_cast<uint16_t>(h));
    ASSERT_EQ(FloatBits(f), h << 16) << std::hex << h;
  }
}

TEST(Bfloat16Test, RoundsToNearestEvenAtTies) {
  // Near 1 the bf16 step is 2^-7 (low 16 binary32 bits dropped).
  EXPECT_EQ(FloatToBfloat16Bits(BitsToFloat(0x3f808000u)), 0x3f80);  // tie, even below
  EXPECT_EQ(FloatToBfloat16Bits(BitsToFloat(0x3f818000u)), 0x3f82);  // tie, even above
  EXPECT_EQ(FloatToBfloat16Bits(BitsToFloat(0x3f808001u)), 0x3f81);  // above the tie
  EXPECT_EQ(FloatToBfloat16Bits(BitsToFloat(0x3f807fffu)), 0x3f80);  // below the tie
  EXPECT_EQ(FloatToBfloat16Bits(BitsToFloat(0xbf818000u)), 0xbf82);  // by magnitude
  EXPECT_EQ(FloatToBfloat16Bits(BitsToFloat(0x3fff8000u)), 0x4000);  // carry into the exponent
}

TEST(Bfloat16Test, OverflowNanAndSubnormals) {
  EXPECT_EQ(FloatToBfloat16Bits(BitsToFloat(0x7f7f7fffu)), 0x7f7f);  // stays finite
  EXPECT_EQ(FloatToBfloat16Bits(std::numeric_limits<float>::max()), 0x7f80);  // rounds to inf
  EXPECT_EQ(FloatToBfloat16Bits(-std::numeric_limits<float>::max()), 0xff80);
  EXPECT_EQ(FloatToBfloat16Bits(std::numeric_limits<float>::infinity()), 0x7f80);
  // NaN: truncated with the quiet bit set, so a low-payload NaN cannot become inf.
  EXPECT_EQ(FloatToBfloat16Bits(BitsToFloat(0x7f800001u)), 0x7fc0);
  EXPECT_EQ(FloatToBfloat16Bits(BitsToFloat(0xffa00000u)), 0xffe0);
  EXPECT_TRUE(std::isnan(Bfloat16BitsToFloat(FloatToBfloat16Bits(
      std::numeric_limits<float>::quiet_NaN()))));
  // binary32 subnormals become a zero of the same sign (as vcvtneps2bf16 and oneDNN's
  // reorder on this CPU family); the smallest normal is kept.
  EXPECT_EQ(FloatToBfloat16Bits(BitsToFloat(0x007fffffu)), 0x0000);
  EXPECT_EQ(FloatToBfloat16Bits(BitsToFloat(0x80400000u)), 0x8000);
  EXPECT_EQ(FloatToBfloat16Bits(BitsToFloat(0x00800000u)), 0x0080);
  EXPECT_EQ(FloatToBfloat16Bits(-0.0f), 0x8000);
  // Widening a bf16 subnormal is exact all the same (it is a binary32 subnormal).
  EXPECT_EQ(FloatBits(Bfloat16BitsToFloat(0x0001)), 0x00010000u);
}

// ----- Cast ------------------------------------------------------------------------------

Tensor FloatTensor(const std::vector<float>& v) {
  Tensor t = Tensor::Allocate(DataType::FLOAT32, Dims({static_cast<int64_t>(v.size())}), "x");
  std::memcpy(t.GetData(), v.data(), v.size() * sizeof(float));
  return t;
}

Tensor Bits16Tensor(DataType type, const std::vector<uint16_t>& v) {
  Tensor t = Tensor::Allocate(type, Dims({1, static_cast<int64_t>(v.size())}), "x");
  std::memcpy(t.GetData(), v.data(), v.size() * sizeof(uint16_t));
  return t;
}

std::vector<uint16_t> Bits16(const Tensor& t) {
  const auto* p = t.Data<uint16_t>();
  return std::vector<uint16_t>(p, p + t.GetElementCount());
}

std::vector<uint32_t> Bits32(const Tensor& t) {
  const auto* p = t.Data<uint32_t>();
  return std::vector<uint32_t>(p, p + t.GetElementCount());
}

TEST(CastTest, Float32ToFloat16AndBack) {
  const Tensor x = FloatTensor({1.0f + 0x1p-11f, 65520.0f, -0x1p-24f, 3.0f});
  Tensor h;
  ASSERT_TRUE(Cast(x, DataType::FLOAT16, &h).ok());
  EXPECT_EQ(h.GetDataType(), DataType::FLOAT16);
  EXPECT_EQ(h.GetDimension().GetDims(), std::vector<int64_t>({4}));
  EXPECT_EQ(h.GetName(), "x");
  EXPECT_EQ(Bits16(h), std::vector<uint16_t>({0x3c00, 0x7c00, 0x8001, 0x4200}));
  Tensor back;
  ASSERT_TRUE(Cast(h, DataType::FLOAT32, &back).ok());
  EXPECT_EQ(back.GetDataType(), DataType::FLOAT32);
  EXPECT_EQ(Bits32(back), std::vector<uint32_t>({0x3f800000u, 0x7f800000u, FloatBits(-0x1p-24f),
                                                 0x40400000u}));
}

TEST(CastTest, Float32ToBfloat16AndBack) {
  const Tensor x = FloatTensor({BitsToFloat(0x3f818000u), BitsToFloat(0x00400000u),
                                std::numeric_limits<float>::max(), -2.5f});
  Tensor b;
  ASSERT_TRUE(Cast(x, DataType::BFLOAT16, &b).ok());
  EXPECT_EQ(b.GetDataType(), DataType::BFLOAT16);
  EXPECT_EQ(Bits16(b), std::vector<uint16_t>({0x3f82, 0x0000, 0x7f80, 0xc020}));
  Tensor back;
  ASSERT_TRUE(Cast(b, DataType::FLOAT32, &back).ok());
  EXPECT_EQ(Bits32(back),
            std::vector<uint32_t>({0x3f820000u, 0x00000000u, 0x7f800000u, 0xc0200000u}));
}

TEST(CastTest, Float16ToBfloat16GoesThroughFloat32) {
  // f16 1 + 2^-10 (0x3c01) is 1.0009765625: bf16 keeps 7 mantissa bits, so it rounds to
  // 1.0. f16 1 + 2^-8 + 2^-10 (0x3c05) is above the bf16 tie 1 + 2^-8 and rounds up to
  // 1 + 2^-7 (0x3f81). f16 65504 (0x7bff) is 1.1111111111b * 2^15: bf16 rounds the 10
  // mantissa bits to 7, carrying into 2^16 (0x4780). f16 subnormal 2^-24 is a normal
  // binary32 (0x33800000), kept. A f16 NaN stays NaN.
  const Tensor x = Bits16Tensor(DataType::FLOAT16, {0x3c01, 0x3c05, 0x7bff, 0x0001, 0x7e00});
  Tensor b;
  ASSERT_TRUE(Cast(x, DataType::BFLOAT16, &b).ok());
  EXPECT_EQ(b.GetDataType(), DataType::BFLOAT16);
  EXPECT_EQ(b.GetDimension().GetDims(), std::vector<int64_t>({1, 5}));
  const std::vector<uint16_t> bits = Bits16(b);
  EXPECT_EQ(bits[0], 0x3f80);
  EXPECT_EQ(bits[1], 0x3f81);
  EXPECT_EQ(bits[2], 0x4780);
  EXPECT_EQ(bits[3], 0x3380);
  EXPECT_TRUE(std::isnan(Bfloat16BitsToFloat(bits[4])));
}

TEST(CastTest, Bfloat16ToFloat16GoesThroughFloat32) {
  // bf16 65536 (0x4780) overflows f16 to inf; bf16 1.5 is exact; bf16 2^-20 (0x3580) is a
  // f16 subnormal (16 steps of 2^-24, 0x0010); bf16 0x0001 (a binary32 subnormal, 2^-133)
  // underflows to f16 zero; a bf16 NaN stays NaN.
  const Tensor x = Bits16Tensor(DataType::BFLOAT16, {0x4780, 0x3fc0, 0x3580, 0x0001, 0xffc0});
  Tensor h;
  ASSERT_TRUE(Cast(x, DataType::FLOAT16, &h).ok());
  const std::vector<uint16_t> bits = Bits16(h);
  EXPECT_EQ(bits[0], 0x7c00);
  EXPECT_EQ(bits[1], 0x3e00);
  EXPECT_EQ(bits[2], 0x0010);
  EXPECT_EQ(bits[3], 0x0000);
  EXPECT_TRUE(std::isnan(HalfBitsToFloat(bits[4])));
  EXPECT_NE(bits[4] & 0x8000, 0);  // the sign is kept
}

TEST(CastTest, SameTypeCopies) {
  const Tensor x = Bits16Tensor(DataType::BFLOAT16, {0x1234, 0xffc1});
  Tensor y;
  ASSERT_TRUE(Cast(x, DataType::BFLOAT16, &y).ok());
  EXPECT_EQ(Bits16(y), Bits16(x));
  EXPECT_NE(y.GetData(), x.GetData());
}

TEST(CastTest, RejectsNonFloatTypes) {
  Tensor ints = Tensor::Allocate(DataType::INT8, Dims({2}));
  Tensor y;
  Status st = Cast(ints, DataType::FLOAT32, &y);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("INT8"), std::string::npos) << st.message();
  st = Cast(FloatTensor({1.0f}), DataType::INT16, &y);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("INT16"), std::string::npos) << st.message();
  EXPECT_FALSE(Cast(FloatTensor({1.0f}), DataType::FLOAT16, nullptr).ok());
  const Tensor no_data = Tensor::Wrap(DataType::FLOAT32, Dims({3}), nullptr);
  EXPECT_FALSE(Cast(no_data, DataType::FLOAT16, &y).ok());
}

// ----- Agreement with oneDNN's reorders (what the runtime's Cast executes) ---------------

// Converts `src` (FLOAT32) to `dt` with a oneDNN reorder.
std::vector<uint16_t> OneDnnNarrow(const std::vector<float>& src, dnnl::memory::data_type dt) {
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  const dnnl::memory::dims dims = {static_cast<dnnl::memory::dim>(src.size())};
  std::vector<uint16_t> dst(src.size());
  dnnl::memory a({dims, dnnl::memory::data_type::f32, dnnl::memory::format_tag::a}, eng,
                 const_cast<float*>(src.data()));
  dnnl::memory b({dims, dt, dnnl::memory::format_tag::a}, eng, dst.data());
  dnnl::reorder(a, b).execute(strm, a, b);
  strm.wait();
  return dst;
}

TEST(CastOneDnnTest, NarrowingMatchesTheReorderBitForBit) {
  // Random binary32 bit patterns (fixed seed) of every exponent, plus the edge cases above.
  // Excluded: binary32 subnormals for bf16, whose flush to zero depends on the CPU's bf16
  // support (checked explicitly in Bfloat16Test), and NaN payloads, where only NaN-ness
  // is the contract.
  std::mt19937 rng(99);
  std::vector<float> values = {0.0f, -0.0f, 1.0f + 0x1p-11f, 65504.0f, 65519.0f, 65520.0f,
                               0x1p-25f, 3 * 0x1p-25f, 1023.5f * 0x1p-24f,
                               BitsToFloat(0x3f808000u), BitsToFloat(0x3f818000u),
                               std::numeric_limits<float>::max(),
                               std::numeric_limits<float>::infinity(),
                               -std::numeric_limits<float>::infinity()};
  for (int i = 0; i < 100000; ++i) {
    const uint32_t u = rng();
    if ((u & 0x7f800000u) == 0x7f800000u || (u & 0x7f800000u) == 0) continue;
    values.push_back(BitsToFloat(u));
  }
  const std::vector<uint16_t> bf16 = OneDnnNarrow(values, dnnl::memory::data_type::bf16);
  const std::vector<uint16_t> f16 = OneDnnNarrow(values, dnnl::memory::data_type::f16);
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_EQ(FloatToBfloat16Bits(values[i]), bf16[i]) << std::hex << FloatBits(values[i]);
    // oneDNN's generic f32->f16 reorder computes alpha * x + beta, which turns -0 into +0;
    // the reference keeps IEEE's -0. Zeros are compared as values.
    const uint16_t ours = FloatToHalfBits(values[i]);
    if ((ours & 0x7fff) == 0 && (f16[i] & 0x7fff) == 0) continue;
    ASSERT_EQ(ours, f16[i]) << std::hex << FloatBits(values[i]);
  }
  // NaNs stay NaNs on both sides.
  const std::vector<float> nans = {BitsToFloat(0x7fc00000u), BitsToFloat(0x7f800001u),
                                   BitsToFloat(0xffa00000u)};
  for (const auto dt : {dnnl::memory::data_type::bf16, dnnl::memory::data_type::f16}) {
    const std::vector<uint16_t> got = OneDnnNarrow(nans, dt);
    for (size_t i = 0; i < nans.size(); ++i) {
      const bool is_bf16 = dt == dnnl::memory::data_type::bf16;
      const uint16_t ours = is_bf16 ? FloatToBfloat16Bits(nans[i]) : FloatToHalfBits(nans[i]);
      const float theirs_value = is_bf16 ? Bfloat16BitsToFloat(got[i]) : HalfBitsToFloat(got[i]);
      const float ours_value = is_bf16 ? Bfloat16BitsToFloat(ours) : HalfBitsToFloat(ours);
      EXPECT_TRUE(std::isnan(theirs_value));
      EXPECT_TRUE(std::isnan(ours_value));
    }
  }
}

}  // namespace
}  // namespace qsdk::reference
