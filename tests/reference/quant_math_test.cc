// Quantization parameter helpers and scalar steps (src/reference/quant_math.h). Every
// expected value is worked by hand in the comments; the inputs are chosen so that the
// float arithmetic is exact (scales that are powers of two or exact quotients), so the
// comparisons are exact.
#include "reference/quant_math.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "graph/graph_test_util.h"

namespace qsdk::reference {
namespace {

using graph::testing::PerAxis;
using graph::testing::PerTensor;

TEST(QuantMathTest, RoundAndSaturateIsHalfEvenAndClamps) {
  EXPECT_EQ(RoundAndSaturate(2.5f, -128, 127), 2);    // tie -> even
  EXPECT_EQ(RoundAndSaturate(3.5f, -128, 127), 4);    // tie -> even
  EXPECT_EQ(RoundAndSaturate(-2.5f, -128, 127), -2);  // tie -> even
  EXPECT_EQ(RoundAndSaturate(-0.5f, -128, 127), 0);
  EXPECT_EQ(RoundAndSaturate(2.6f, -128, 127), 3);
  EXPECT_EQ(RoundAndSaturate(127.5f, -128, 127), 127);  // saturates (would round to 128)
  EXPECT_EQ(RoundAndSaturate(-1000.0f, -128, 127), -128);
  EXPECT_EQ(RoundAndSaturate(std::numeric_limits<float>::infinity(), 0, 255), 255);
  EXPECT_EQ(RoundAndSaturate(-std::numeric_limits<float>::infinity(), 0, 255), 0);
  // NaN -> the lower bound (oneDNN's max/min saturation order).
  EXPECT_EQ(RoundAndSaturate(std::nanf(""), -128, 127), -128);
  EXPECT_EQ(RoundAndSaturate(std::nanf(""), 0, 255), 0);
}

TEST(QuantMathTest, QuantizeDequantizeRequantizeValues) {
  // s = 0.5 (inv 2), z = 10: 1.0 * 2 + 10 = 12; 1.25 * 2 + 10 = 12.5 -> 12 (tie to even).
  EXPECT_EQ(QuantizeValue(1.0f, InverseScale(0.5f), 10, DataType::UINT8), 12);
  EXPECT_EQ(QuantizeValue(1.25f, InverseScale(0.5f), 10, DataType::UINT8), 12);
  EXPECT_EQ(QuantizeValue(1.75f, InverseScale(0.5f), 10, DataType::UINT8), 14);  // 13.5 -> 14
  // UINT8 saturates at 0 and 255, INT8 at -128 and 127.
  EXPECT_EQ(QuantizeValue(-6.0f, InverseScale(0.5f), 10, DataType::UINT8), 0);  // -2
  EXPECT_EQ(QuantizeValue(200.0f, InverseScale(0.5f), 10, DataType::UINT8), 255);
  EXPECT_EQ(QuantizeValue(-100.0f, InverseScale(0.5f), 0, DataType::INT8), -128);  // -200
  EXPECT_EQ(QuantizeValue(100.0f, InverseScale(0.5f), 0, DataType::INT8), 127);
  // Dequantize: 0.5 * (12 - 10) = 1; 0.25 * (-128 - 0) = -32.
  EXPECT_EQ(DequantizeValue(12, 0.5f, 10), 1.0f);
  EXPECT_EQ(DequantizeValue(-128, 0.25f, 0), -32.0f);
  // Requantize 7 from (s 0.5, z 1) = 3.0 to (s 0.25, z -4) as INT8: 3 * 4 - 4 = 8.
  EXPECT_EQ(RequantizeValue(7, 0.5f, 1, InverseScale(0.25f), -4, DataType::INT8), 8);
  EXPECT_EQ(InverseScale(0.25f), 4.0f);
}

TEST(QuantMathTest, BiasValueRoundsAndSaturatesToInt32) {
  EXPECT_EQ(QuantizeBiasValue(1.25f, 0.5f), 2);    // 2.5 -> 2
  EXPECT_EQ(QuantizeBiasValue(-3.75f, 0.5f), -8);  // -7.5 -> -8
  EXPECT_EQ(QuantizeBiasValue(1e10f, 1.0f), std::numeric_limits<int32_t>::max());
  EXPECT_EQ(QuantizeBiasValue(-1e10f, 1.0f), std::numeric_limits<int32_t>::min());
  // 2^31 itself does not fit; -2^31 does.
  EXPECT_EQ(QuantizeBiasValue(2147483648.0f, 1.0f), std::numeric_limits<int32_t>::max());
  EXPECT_EQ(QuantizeBiasValue(-2147483648.0f, 1.0f), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(QuantizeBiasValue(std::nanf(""), 1.0f), 0);
}

// Expects a per-tensor result of ChooseActivationParams.
void ExpectActivation(float min, float max, QuantScheme scheme, DataType dtype, float scale,
                      int32_t zero) {
  SCOPED_TRACE(testing::Message() << "[" << min << ", " << max << "] scheme "
                                  << static_cast<int>(scheme));
  ActivationQuant q;
  const Status s = ChooseActivationParams(min, max, scheme, &q);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(q.dtype, dtype);
  EXPECT_EQ(q.params.axis, -1);
  ASSERT_EQ(q.params.scales.size(), 1u);
  ASSERT_EQ(q.params.zero_points.size(), 1u);
  EXPECT_EQ(q.params.scales[0], scale);  // exact: the same float expression
  EXPECT_EQ(q.params.zero_points[0], zero);
}

TEST(QuantMathTest, ActivationParamsFromKnownRanges) {
  const auto sym = QuantScheme::kSymmetric;
  const auto asym = QuantScheme::kAsymmetric;
  // Non-negative (after ReLU): UINT8, s = max / 255, z = 0, whatever the scheme; min > 0 is
  // not used (the range [0, max] keeps real 0 exact).
  ExpectActivation(0.0f, 6.0f, sym, DataType::UINT8, 6.0f / 255.0f, 0);
  ExpectActivation(0.5f, 2.0f, asym, DataType::UINT8, 2.0f / 255.0f, 0);
  ExpectActivation(-0.0f, 255.0f, sym, DataType::UINT8, 1.0f, 0);
  // Symmetric, negative min: INT8, s = max(|-1|, |3|) / 127, z = 0.
  ExpectActivation(-1.0f, 3.0f, sym, DataType::INT8, 3.0f / 127.0f, 0);
  ExpectActivation(-254.0f, 2.0f, sym, DataType::INT8, 2.0f, 0);  // 254 / 127 = 2
  // Asymmetric: [-1, 3]: s = 4 / 255, z = round(1 / (4/255)) = round(63.75) = 64.
  ExpectActivation(-1.0f, 3.0f, asym, DataType::UINT8, 4.0f / 255.0f, 64);
  // [-0.5, 254.5]: s = 255 / 255 = 1, z = round_half_even(0.5) = 0.
  ExpectActivation(-0.5f, 254.5f, asym, DataType::UINT8, 1.0f, 0);
  // [-1.5, 253.5]: s = 1, z = round_half_even(1.5) = 2.
  ExpectActivation(-1.5f, 253.5f, asym, DataType::UINT8, 1.0f, 2);
  // [-2, -1]: max' = 0, so [-2, 0]: s = 2 / 255, z = round(2 / (2/255)) = 255 (clamped if
  // the float quotient lands above).
  ExpectActivation(-2.0f, -1.0f, asym, DataType::UINT8, 2.0f / 255.0f, 255);
  // Degenerate [0, 0] and a range whose scale would not be a normal float: s = 1.
  ExpectActivation(0.0f, 0.0f, sym, DataType::UINT8, 1.0f, 0);
  ExpectActivation(0.0f, 1e-40f, asym, DataType::UINT8, 1.0f, 0);
  ExpectActivation(-1e-40f, 1e-40f, sym, DataType::INT8, 1.0f, 0);
  ExpectActivation(-1e-40f, 0.0f, asym, DataType::UINT8, 1.0f, 0);
}

TEST(QuantMathTest, ActivationParamsRejectBadRanges) {
  ActivationQuant q;
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(ChooseActivationParams(1.0f, -1.0f, QuantScheme::kSymmetric, &q).ok());
  EXPECT_FALSE(ChooseActivationParams(std::nanf(""), 1.0f, QuantScheme::kSymmetric, &q).ok());
  EXPECT_FALSE(ChooseActivationParams(0.0f, inf, QuantScheme::kSymmetric, &q).ok());
  EXPECT_FALSE(ChooseActivationParams(-FLT_MAX, FLT_MAX, QuantScheme::kAsymmetric, &q).ok());
  EXPECT_FALSE(ChooseActivationParams(0.0f, 1.0f, static_cast<QuantScheme>(7), &q).ok());
  EXPECT_FALSE(ChooseActivationParams(0.0f, 1.0f, QuantScheme::kSymmetric, nullptr).ok());
  const Status s = ChooseActivationParams(2.0f, 1.0f, QuantScheme::kSymmetric, &q);
  EXPECT_NE(s.message().find("min > max"), std::string::npos) << s.message();
}

TEST(QuantMathTest, WeightsPerChannel) {
  // Channel 0: max|w| = 127 -> s = 1: q = {127, round(-63.5) = -64, round(0.5) = 0}.
  // Channel 1: max|w| = 254 -> s = 2 (inv 0.5): q = {127, round(-1.5) = -2, round(2.5) = 2}.
  // Channel 2: all zero -> s = 1, q = 0.
  const std::vector<float> w = {127.0f, -63.5f, 0.5f, 254.0f, -3.0f, 5.0f, 0.0f, 0.0f, 0.0f};
  std::vector<int8_t> q;
  graph::QuantParams p;
  ASSERT_TRUE(QuantizeWeights(w.data(), {3, 3}, 0, &q, &p).ok());
  EXPECT_EQ(q, (std::vector<int8_t>{127, -64, 0, 127, -2, 2, 0, 0, 0}));
  EXPECT_EQ(p.axis, 0);
  EXPECT_EQ(p.scales, (std::vector<float>{1.0f, 2.0f, 1.0f}));
  EXPECT_EQ(p.zero_points, (std::vector<int32_t>{0, 0, 0}));
}

TEST(QuantMathTest, WeightsPerTensorAndAlongLastAxis) {
  const std::vector<float> w = {127.0f, -63.5f, 0.5f, 254.0f, -3.0f, 5.0f};
  std::vector<int8_t> q;
  graph::QuantParams p;
  // Per tensor: s = 254 / 127 = 2: {63.5 -> 64, -31.75 -> -32, 0.25 -> 0, 127, -1.5 -> -2,
  // 2.5 -> 2}.
  ASSERT_TRUE(QuantizeWeights(w.data(), {2, 3}, -1, &q, &p).ok());
  EXPECT_EQ(q, (std::vector<int8_t>{64, -32, 0, 127, -2, 2}));
  EXPECT_EQ(p.axis, -1);
  EXPECT_EQ(p.scales, (std::vector<float>{2.0f}));
  // Along axis 1 (a MatMul's output columns of b [K=2, N=3]): column max|w| = {254, 63.5, 5}
  // -> s = {2, 0.5, 5/127}; column 0: {63.5 -> 64, 127}; column 1: {-127, -6}; column 2:
  // {0.5 * 127/5 = 12.7 -> 13, 127}.
  ASSERT_TRUE(QuantizeWeights(w.data(), {2, 3}, 1, &q, &p).ok());
  EXPECT_EQ(p.axis, 1);
  EXPECT_EQ(p.scales, (std::vector<float>{2.0f, 0.5f, 5.0f / 127.0f}));
  EXPECT_EQ(q, (std::vector<int8_t>{64, -127, 13, 127, -6, 127}));
}

TEST(QuantMathTest, WeightsNeverUseMinus128) {
  // The most negative value maps to exactly -127 (restricted symmetric range), also when
  // the float quotient is a hair above 127.
  const std::vector<float> w = {-0.3f, 0.1f, 0.3f, -0.7f, 0.7f, 0.69999f};
  std::vector<int8_t> q;
  graph::QuantParams p;
  ASSERT_TRUE(QuantizeWeights(w.data(), {6}, -1, &q, &p).ok());
  for (int8_t v : q) {
    EXPECT_GE(v, -127);
    EXPECT_LE(v, 127);
  }
  EXPECT_EQ(q[3], -127);
  EXPECT_EQ(q[4], 127);
}

TEST(QuantMathTest, WeightsRejectBadInput) {
  const std::vector<float> w = {1.0f, std::nanf("")};
  std::vector<int8_t> q;
  graph::QuantParams p;
  EXPECT_FALSE(QuantizeWeights(w.data(), {2}, 0, &q, &p).ok());    // NaN
  EXPECT_FALSE(QuantizeWeights(w.data(), {1}, 1, &q, &p).ok());    // axis out of range
  EXPECT_FALSE(QuantizeWeights(w.data(), {1}, -2, &q, &p).ok());   // axis < -1
  EXPECT_FALSE(QuantizeWeights(nullptr, {1}, 0, &q, &p).ok());     // no data
  EXPECT_FALSE(QuantizeWeights(w.data(), {-1}, 0, &q, &p).ok());   // dynamic shape
  EXPECT_FALSE(QuantizeWeights(w.data(), {1}, 0, nullptr, &p).ok());
}

TEST(QuantMathTest, BiasPerChannelPerTensorAndMatMulLayout) {
  std::vector<int32_t> q;
  graph::QuantParams p;
  // s_x = 0.5, s_w = {1, 2} -> s_b = {0.5, 1}; b = {1.25, -2.5} -> {2.5 -> 2, -2.5 -> -2}.
  const graph::QuantParams w = PerAxis({1.0f, 2.0f}, 0);
  const std::vector<float> b = {1.25f, -2.5f};
  ASSERT_TRUE(QuantizeBias(b.data(), {2}, 0.5f, w, &q, &p).ok());
  EXPECT_EQ(q, (std::vector<int32_t>{2, -2}));
  EXPECT_EQ(p.scales, (std::vector<float>{0.5f, 1.0f}));
  EXPECT_EQ(p.zero_points, (std::vector<int32_t>{0, 0}));
  EXPECT_EQ(p.axis, 0);
  // A MatMul bias [2, 2] with per-column weights: along its last axis. Row-major
  // {1.25, -2.5, 3, 3} with s_b = {0.5, 1} per column: {2, -2, 6, 3}.
  const std::vector<float> b2 = {1.25f, -2.5f, 3.0f, 3.0f};
  ASSERT_TRUE(QuantizeBias(b2.data(), {2, 2}, 0.5f, w, &q, &p).ok());
  EXPECT_EQ(p.axis, 1);
  EXPECT_EQ(q, (std::vector<int32_t>{2, -2, 6, 3}));
  // Per-tensor weights (s_w = 4): per-tensor bias s_b = 2; b = {5, -3} -> {2.5 -> 2, -1.5 -> -2}.
  const graph::QuantParams wt = PerTensor(4.0f);
  const std::vector<float> b3 = {5.0f, -3.0f};
  ASSERT_TRUE(QuantizeBias(b3.data(), {2}, 0.5f, wt, &q, &p).ok());
  EXPECT_EQ(p.axis, -1);
  EXPECT_EQ(p.scales, (std::vector<float>{2.0f}));
  EXPECT_EQ(q, (std::vector<int32_t>{2, -2}));
  // A bias too large for the accumulator scale saturates to int32.
  const std::vector<float> big = {3e9f, -3e9f};
  ASSERT_TRUE(QuantizeBias(big.data(), {2}, 0.5f, w, &q, &p).ok());
  EXPECT_EQ(q[0], std::numeric_limits<int32_t>::max());  // 6e9
  EXPECT_EQ(q[1], std::numeric_limits<int32_t>::min());  // -3e9
}

TEST(QuantMathTest, BiasRejectsBadInput) {
  std::vector<int32_t> q;
  graph::QuantParams p;
  const graph::QuantParams w = PerAxis({1.0f, 2.0f}, 0);
  const std::vector<float> b = {1.0f, 2.0f, 3.0f};
  // Three values along an axis with two scales.
  EXPECT_FALSE(QuantizeBias(b.data(), {3}, 0.5f, w, &q, &p).ok());
  // Scales: input scale <= 0, and a bias scale that underflows to 0 (1e-30 * 1e-30).
  EXPECT_FALSE(QuantizeBias(b.data(), {2}, 0.0f, w, &q, &p).ok());
  const graph::QuantParams tiny = PerTensor(1e-30f);
  const Status s = QuantizeBias(b.data(), {1}, 1e-30f, tiny, &q, &p);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("bias scale"), std::string::npos) << s.message();
  const std::vector<float> inf = {std::numeric_limits<float>::infinity(), 0.0f};
  EXPECT_FALSE(QuantizeBias(inf.data(), {2}, 0.5f, w, &q, &p).ok());
  EXPECT_FALSE(QuantizeBias(b.data(), {2}, 0.5f, graph::QuantParams(), &q, &p).ok());
}

}  // namespace
}  // namespace qsdk::reference
