// INT16 operators (int16_ops.h), dynamically quantized FullyConnected / MatMul
// (dynamic_quant.h), INT16 / per-axis Quantize / Dequantize and the INT16 parameter
// helpers of quant_math.h. Expected values are worked by hand in the comments, or come from
// the FP32 reference operators on inputs whose sums are exact in float (small integers with
// scale 1), which checks the INT16 geometry against the established FP32 one. Every
// comparison is exact (tolerance 0): the INT16 contract defines its results bit for bit.
#include "reference/int16_ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "quantized_test_util.h"
#include "reference/dynamic_quant.h"
#include "reference/ops.h"
#include "reference/quant_math.h"
#include "reference/quantized_ops.h"

namespace qsdk::reference {
namespace {

using namespace testing;  // NOLINT(build/namespaces)

Tensor MakeInt16(const std::vector<int64_t>& shape, const std::vector<int32_t>& values) {
  return MakeTyped(DataType::INT16, shape, values);
}

Tensor MakeFloat(const std::vector<int64_t>& shape, const std::vector<float>& values) {
  return MakeTyped(DataType::FLOAT32, shape, values);
}

std::vector<float> Floats(const Tensor& t) {
  return std::vector<float>(t.Data<float>(), t.Data<float>() + t.GetElementCount());
}

std::vector<int32_t> Int16Values(const Tensor& t) {
  EXPECT_EQ(t.GetDataType(), DataType::INT16);
  std::vector<int32_t> v;
  for (int64_t i = 0; i < t.GetElementCount(); ++i) v.push_back(t.Data<int16_t>()[i]);
  return v;
}

std::vector<float> ToFloats(const std::vector<int32_t>& v, int32_t offset = 0) {
  std::vector<float> f;
  for (int32_t x : v) f.push_back(static_cast<float>(x - offset));
  return f;
}

QuantizedOutputSpec OutInt16(float scale, int32_t zero_point = 0) {
  return Out(DataType::INT16, scale, zero_point);
}

// --- quant_math -----------------------------------------------------------------------------

TEST(Int16QuantMathTest, RangeAndQuantizeValue) {
  EXPECT_EQ(QuantizedMin(DataType::INT16), -32768);
  EXPECT_EQ(QuantizedMax(DataType::INT16), 32767);
  // s = 0.5 (inv 2), z = -3: 100.25 * 2 - 3 = 197.5 -> 198 (tie to even).
  EXPECT_EQ(QuantizeValue(100.25f, InverseScale(0.5f), -3, DataType::INT16), 198);
  // 99.75 * 2 - 3 = 196.5 -> 196 (tie to even).
  EXPECT_EQ(QuantizeValue(99.75f, InverseScale(0.5f), -3, DataType::INT16), 196);
  EXPECT_EQ(QuantizeValue(1e6f, 1.0f, 0, DataType::INT16), 32767);
  EXPECT_EQ(QuantizeValue(-1e6f, 1.0f, 0, DataType::INT16), -32768);
  EXPECT_EQ(QuantizeValue(std::nanf(""), 1.0f, 0, DataType::INT16), -32768);  // NaN -> lo
}

TEST(Int16QuantMathTest, WeightsPerTensorAndPerAxis) {
  // Per tensor: max|w| = 32767 * 2^-4 -> s = 2^-4 exactly; q = w * 16.
  const float m = 32767.0f / 16.0f;
  const std::vector<float> w = {m, -m, 0.5f, -0.03125f, 0.0f, 1.0f};
  std::vector<int16_t> q;
  graph::QuantParams p;
  ASSERT_TRUE(QuantizeWeightsInt16(w.data(), {2, 3}, -1, &q, &p).ok());
  EXPECT_EQ(p.axis, -1);
  ASSERT_EQ(p.scales.size(), 1u);
  EXPECT_EQ(p.scales[0], 0.0625f);
  EXPECT_EQ(p.zero_points, std::vector<int32_t>{0});
  // -0.03125 * 16 = -0.5 -> 0 (tie to even, -0).
  EXPECT_EQ(q, (std::vector<int16_t>{32767, -32767, 8, 0, 0, 16}));
  // Per axis 0: row 1 all zero -> s = 1; row 0 max 32767 * 2 -> s = 2.
  const std::vector<float> w2 = {65534.0f, -3.0f, 0.0f, 0.0f};
  ASSERT_TRUE(QuantizeWeightsInt16(w2.data(), {2, 2}, 0, &q, &p).ok());
  EXPECT_EQ(p.scales, (std::vector<float>{2.0f, 1.0f}));
  EXPECT_EQ(p.axis, 0);
  // -3 / 2 = -1.5 -> -2 (tie to even).
  EXPECT_EQ(q, (std::vector<int16_t>{32767, -2, 0, 0}));
  // Errors: non-finite value, bad axis.
  const std::vector<float> bad = {1.0f, std::nanf("")};
  EXPECT_FALSE(QuantizeWeightsInt16(bad.data(), {2}, -1, &q, &p).ok());
  EXPECT_FALSE(QuantizeWeightsInt16(w2.data(), {2, 2}, 2, &q, &p).ok());
}

TEST(Int16QuantMathTest, ActivationParams) {
  ActivationQuant a;
  // max(|-65534|, |10|) / 32767 = 2.
  ASSERT_TRUE(ChooseInt16ActivationParams(-65534.0f, 10.0f, &a).ok());
  EXPECT_EQ(a.dtype, DataType::INT16);
  EXPECT_EQ(a.params.scales, std::vector<float>{2.0f});
  EXPECT_EQ(a.params.zero_points, std::vector<int32_t>{0});
  EXPECT_EQ(a.params.axis, -1);
  // Non-negative ranges stay INT16 symmetric (unlike INT8, which picks UINT8).
  ASSERT_TRUE(ChooseInt16ActivationParams(0.0f, 32767.0f * 4.0f, &a).ok());
  EXPECT_EQ(a.dtype, DataType::INT16);
  EXPECT_EQ(a.params.scales, std::vector<float>{4.0f});
  // Degenerate ranges: s = 1.
  ASSERT_TRUE(ChooseInt16ActivationParams(0.0f, 0.0f, &a).ok());
  EXPECT_EQ(a.params.scales, std::vector<float>{1.0f});
  ASSERT_TRUE(ChooseInt16ActivationParams(-1e-40f, 1e-40f, &a).ok());
  EXPECT_EQ(a.params.scales, std::vector<float>{1.0f});
  EXPECT_FALSE(ChooseInt16ActivationParams(1.0f, -1.0f, &a).ok());
  EXPECT_FALSE(ChooseInt16ActivationParams(0.0f, std::numeric_limits<float>::infinity(), &a).ok());
}

TEST(Int16QuantMathTest, ChooseActivationScaleMatchesChooseActivationParams) {
  const float ranges[][2] = {{-1.0f, 2.0f},   {0.0f, 0.0f},    {-5.0f, -1.0f}, {0.5f, 3.0f},
                             {-1e-40f, 0.0f}, {-3e38f, 3e38f}, {2.0f, 1.0f}};
  for (const auto& r : ranges) {
    for (QuantScheme scheme : {QuantScheme::kSymmetric, QuantScheme::kAsymmetric}) {
      ActivationQuant a;
      const bool ok = ChooseActivationParams(r[0], r[1], scheme, &a).ok();
      DataType t = DataType::INVALID;
      float s = 0.0f;
      int32_t z = -1;
      EXPECT_EQ(ChooseActivationScale(r[0], r[1], scheme, &t, &s, &z), ok) << r[0] << ", " << r[1];
      if (!ok) continue;
      EXPECT_EQ(t, a.dtype);
      EXPECT_EQ(s, a.params.scales[0]);
      EXPECT_EQ(z, a.params.zero_points[0]);
    }
  }
}

// --- Int16Conv2D ----------------------------------------------------------------------------

TEST(Int16ConvTest, HandWorkedWithZeroPointBiasAndResidual) {
  // x 1x1x2x2 = [100, 200, 300, 400], z_x = 100, s_x = 0.5; w 2x1x2x2 per channel:
  //   w0 = [1, 2, 3, 4] (s 0.25), w1 = [-1, 0, 0, 32767] (s 2).
  // acc0 = 0*1 + 100*2 + 200*3 + 300*4 = 2000 -> 2000 * (0.5*0.25) = 250; + b0 1.5 = 251.5;
  //   + R0 -1.5 = 250.
  // acc1 = 0*-1 + 300*32767 = 9830100 -> 9830100 * 1 = 9830100; + b1 0 = 9830100 + R1 0.
  const Tensor x = MakeInt16({1, 1, 2, 2}, {100, 200, 300, 400});
  const Tensor w = MakeInt16({2, 1, 2, 2}, {1, 2, 3, 4, -1, 0, 0, 32767});
  const Tensor b = MakeFloat({2}, {1.5f, 0.0f});
  const Tensor r = MakeFloat({1, 2, 1, 1}, {-1.5f, 0.0f});
  Tensor y;
  ASSERT_TRUE(Int16Conv2D(Q(x, PerTensor(0.5f, 100)), Q(w, PerAxis({0.25f, 2.0f}, 0)), &b, &r,
                          ConvParams(), OutFloat(), &y)
                  .ok());
  EXPECT_EQ(y.GetDimension().GetDims(), (std::vector<int64_t>{1, 2, 1, 1}));
  EXPECT_EQ(Floats(y), (std::vector<float>{250.0f, 9830100.0f}));
  // INT16 output, s_y = 300, z_y = 5: 250 / 300 + 5 = 5.83 -> 6; 9830100 / 300 + 5 -> 32767.
  ASSERT_TRUE(Int16Conv2D(Q(x, PerTensor(0.5f, 100)), Q(w, PerAxis({0.25f, 2.0f}, 0)), &b, &r,
                          ConvParams(), OutInt16(300.0f, 5), &y)
                  .ok());
  EXPECT_EQ(Int16Values(y), (std::vector<int32_t>{6, 32767}));
  // Fused relu after the residual: a residual of -300 makes channel 0 negative -> 0.
  const Tensor r2 = MakeFloat({1, 2, 1, 1}, {-300.0f, 0.0f});
  ConvParams relu;
  relu.activation.type = ActivationType::kRelu;
  ASSERT_TRUE(Int16Conv2D(Q(x, PerTensor(0.5f, 100)), Q(w, PerAxis({0.25f, 2.0f}, 0)), &b, &r2,
                          relu, OutFloat(), &y)
                  .ok());
  EXPECT_EQ(Floats(y), (std::vector<float>{0.0f, 9830100.0f}));
}

TEST(Int16ConvTest, PaddingIsTheZeroPoint) {
  // Every x equals z_x: every (x - z_x) and every padded tap is 0, so y = bias exactly.
  const Tensor x = MakeInt16({1, 2, 3, 3}, std::vector<int32_t>(18, -32768));
  std::mt19937 rng(7);
  const Tensor w = MakeInt16({3, 2, 3, 3}, RandomInts(&rng, 54, -32767, 32767));
  const Tensor b = MakeFloat({3}, {1.0f, -2.0f, 0.25f});
  ConvParams p;
  p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 2;
  Tensor y;
  ASSERT_TRUE(Int16Conv2D(Q(x, PerTensor(3.0f, -32768)), Q(w, PerTensor(1.0f)), &b, nullptr, p,
                          OutFloat(), &y)
                  .ok());
  ASSERT_EQ(y.GetDimension().GetDims(), (std::vector<int64_t>{1, 3, 5, 5}));
  for (int64_t i = 0; i < y.GetElementCount(); ++i) {
    EXPECT_EQ(y.Data<float>()[i], b.Data<float>()[i / 25]) << i;
  }
}

// Geometry against the FP32 reference: small integers, s = 1, z = 0 (and a shifted copy
// with z_x != 0), so every sum is an exact integer below 2^24 in both.
TEST(Int16ConvTest, MatchesFloatConvGeometry) {
  struct Case {
    int64_t n, c, h, w, oc, kh, kw, group, sh, sw, pt, pb, pl, pr, dh, dw;
  };
  const Case cases[] = {
      {1, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  // plain 3x3 pad 1
      {2, 4, 9, 8, 6, 3, 2, 2, 2, 1, 0, 2, 1, 0, 2, 1},  // groups, strides, pads, dilation
      {1, 5, 8, 8, 5, 3, 3, 5, 2, 2, 1, 1, 1, 1, 1, 1},  // depthwise, stride 2
      {1, 6, 5, 5, 3, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},  // 1x1
  };
  std::mt19937 rng(11);
  for (const Case& c : cases) {
    const std::vector<int64_t> xs = {c.n, c.c, c.h, c.w};
    const std::vector<int64_t> ws = {c.oc, c.c / c.group, c.kh, c.kw};
    const auto xv = RandomInts(&rng, static_cast<size_t>(c.n * c.c * c.h * c.w), -50, 50);
    const auto wv = RandomInts(&rng, static_cast<size_t>(ws[0] * ws[1] * ws[2] * ws[3]), -40, 40);
    std::vector<float> bv;
    for (int64_t o = 0; o < c.oc; ++o) bv.push_back(static_cast<float>(o) - 2.0f);
    ConvParams p;
    p.stride_h = c.sh;
    p.stride_w = c.sw;
    p.pad_top = c.pt;
    p.pad_bottom = c.pb;
    p.pad_left = c.pl;
    p.pad_right = c.pr;
    p.dilation_h = c.dh;
    p.dilation_w = c.dw;
    p.group = c.group;
    const Tensor xf = MakeFloat(xs, ToFloats(xv));
    const Tensor wf = MakeFloat(ws, ToFloats(wv));
    const Tensor bf = MakeFloat({c.oc}, bv);
    Tensor expected;
    ASSERT_TRUE(Conv2D(xf, wf, &bf, p, &expected).ok());
    const Tensor wq = MakeInt16(ws, wv);
    // z_x = 0, and z_x = 1000 with x shifted by 1000 (same real values).
    for (int32_t z : {0, 1000}) {
      std::vector<int32_t> shifted = xv;
      for (auto& v : shifted) v += z;
      const Tensor xq = MakeInt16(xs, shifted);
      Tensor y;
      ASSERT_TRUE(Int16Conv2D(Q(xq, PerTensor(1.0f, z)), Q(wq, PerTensor(1.0f)), &bf, nullptr, p,
                              OutFloat(), &y)
                      .ok());
      EXPECT_EQ(Floats(y), Floats(expected)) << "group " << c.group << " z " << z;
    }
  }
}

TEST(Int16ConvTest, Int64AccumulatorDoesNotOverflow) {
  // K = 4 * 32 * 32 = 4096 taps, (x - z_x) = -32768 - 32767 = -65535, w = 32767:
  // acc = -65535 * 32767 * 4096 = -8795690373120 (far beyond int32); r = float(acc) * 1.
  const int64_t k = 4 * 32 * 32;
  const Tensor x = MakeInt16({1, 4, 32, 32}, std::vector<int32_t>(k, -32768));
  const Tensor w = MakeInt16({1, 4, 32, 32}, std::vector<int32_t>(k, 32767));
  Tensor y;
  ASSERT_TRUE(Int16Conv2D(Q(x, PerTensor(1.0f, 32767)), Q(w, PerTensor(1.0f)), nullptr, nullptr,
                          ConvParams(), OutFloat(), &y)
                  .ok());
  const int64_t acc = -65535LL * 32767LL * k;
  EXPECT_EQ(acc, -8795690373120LL);
  EXPECT_EQ(Floats(y), std::vector<float>{static_cast<float>(acc)});
}

TEST(Int16ConvTest, Errors) {
  const Tensor x = MakeInt16({1, 1, 2, 2}, {1, 2, 3, 4});
  const Tensor w = MakeInt16({1, 1, 1, 1}, {3});
  const Tensor w_min = MakeInt16({1, 1, 1, 1}, {-32768});
  const Tensor x8 = testing::MakeInt(DataType::INT8, {1, 1, 2, 2}, {1, 2, 3, 4});
  const Tensor b_bad = MakeFloat({2}, {0.0f, 0.0f});
  const Tensor r_bad = MakeFloat({1, 1, 2, 1}, {0.0f, 0.0f});
  Tensor y;
  auto conv = [&](const QuantizedOperand& xo, const QuantizedOperand& wo, const Tensor* b,
                  const Tensor* r, const QuantizedOutputSpec& out) {
    return Int16Conv2D(xo, wo, b, r, ConvParams(), out, &y);
  };
  const auto xo = Q(x, PerTensor(1.0f, 0));
  const auto wo = Q(w, PerTensor(1.0f));
  EXPECT_TRUE(conv(xo, wo, nullptr, nullptr, OutFloat()).ok());
  struct Bad {
    Status status;
    const char* needle;
  };
  const Bad bad[] = {
      {conv(xo, Q(w_min, PerTensor(1.0f)), nullptr, nullptr, OutFloat()), "-32768"},
      {conv(xo, Q(w, PerTensor(1.0f, 1)), nullptr, nullptr, OutFloat()), "zero_point[0] = 1"},
      {conv(Q(x8, PerTensor(1.0f)), wo, nullptr, nullptr, OutFloat()), "type INT8"},
      {conv(Q(x, PerAxis({1.0f}, 1)), wo, nullptr, nullptr, OutFloat()), "per tensor"},
      {conv(Q(x), wo, nullptr, nullptr, OutFloat()), "no quantization parameters"},
      {conv(xo, wo, &b_bad, nullptr, OutFloat()), "bias has shape [2]"},
      {conv(xo, wo, nullptr, &r_bad, OutFloat()), "residual has shape"},
      {conv(xo, wo, nullptr, nullptr, Out(DataType::INT8, 1.0f)), "FLOAT32 or INT16"},
      {conv(xo, Q(w, PerTensor(0.0f)), nullptr, nullptr, OutFloat()), "scale[0] = 0"},
  };
  for (const Bad& b : bad) {
    EXPECT_FALSE(b.status.ok()) << b.needle;
    EXPECT_NE(b.status.message().find(b.needle), std::string::npos) << b.status.message();
    EXPECT_NE(b.status.message().find("Int16Conv"), std::string::npos) << b.status.message();
  }
}

// --- Int16FullyConnected / Int16MatMul --------------------------------------------------------

TEST(Int16FullyConnectedTest, HandWorkedAndAgainstFloat) {
  // x [2, 3] z = -2, s = 0.5: (x - z) rows [1, 2, 3] and [0, -1, 4].
  // w [2, 3] per channel (s 1, 0.5): w0 = [1, 1, 1], w1 = [2, 0, -1].
  // acc = [[6, -1], [3, -4]]; r = acc * (0.5 * s_w) = [[3, -0.25], [1.5, -1]];
  // + b [0.5, 0] = [[3.5, -0.25], [2, -1]]; leaky relu (alpha 0.5): [[3.5, -0.125], [2, -0.5]].
  const Tensor x = MakeInt16({2, 3}, {-1, 0, 1, -2, -3, 2});
  const Tensor w = MakeInt16({2, 3}, {1, 1, 1, 2, 0, -1});
  const Tensor b = MakeFloat({2}, {0.5f, 0.0f});
  FusedActivation act;
  act.type = ActivationType::kLeakyRelu;
  act.alpha = 0.5f;
  Tensor y;
  ASSERT_TRUE(Int16FullyConnected(Q(x, PerTensor(0.5f, -2)), Q(w, PerAxis({1.0f, 0.5f}, 0)), &b,
                                  nullptr, act, OutFloat(), &y)
                  .ok());
  EXPECT_EQ(Floats(y), (std::vector<float>{3.5f, -0.125f, 2.0f, -0.5f}));
  // Residual, INT16 output (s 0.25, z 0): r + R then / 0.25.
  const Tensor r = MakeFloat({2, 2}, {0.25f, 0.0f, -2.0f, 1.0f});
  ASSERT_TRUE(Int16FullyConnected(Q(x, PerTensor(0.5f, -2)), Q(w, PerAxis({1.0f, 0.5f}, 0)), &b, &r,
                                  FusedActivation(), OutInt16(0.25f), &y)
                  .ok());
  // [[3.75, -0.25], [0, 0]] / 0.25 = [[15, -1], [0, 0]].
  EXPECT_EQ(Int16Values(y), (std::vector<int32_t>{15, -1, 0, 0}));
  // A 4-D x is flattened to [N, K].
  std::mt19937 rng(3);
  const auto xv = RandomInts(&rng, 2 * 2 * 3 * 2, -100, 100);
  const auto wv = RandomInts(&rng, 5 * 12, -100, 100);
  Tensor expected;
  const Tensor xf = MakeFloat({2, 2, 3, 2}, ToFloats(xv));
  const Tensor wf = MakeFloat({5, 12}, ToFloats(wv));
  ASSERT_TRUE(FullyConnected(xf, wf, nullptr, FusedActivation(), &expected).ok());
  const Tensor xq = MakeInt16({2, 2, 3, 2}, xv);
  const Tensor wq = MakeInt16({5, 12}, wv);
  ASSERT_TRUE(Int16FullyConnected(Q(xq, PerTensor(1.0f, 0)), Q(wq, PerTensor(1.0f)), nullptr,
                                  nullptr, FusedActivation(), OutFloat(), &y)
                  .ok());
  EXPECT_EQ(Floats(y), Floats(expected));
}

TEST(Int16MatMulTest, AgainstFloatWithTransposesBatchesAndBias) {
  std::mt19937 rng(5);
  struct Case {
    std::vector<int64_t> a, b, bias;
    bool ta, tb;
  };
  const Case cases[] = {
      {{3, 5}, {5, 4}, {4}, false, false},
      {{2, 3, 5}, {4, 5}, {3, 4}, false, true},
      {{2, 5, 3}, {2, 5, 4}, {}, true, false},
      {{2, 1, 3, 5}, {3, 4, 5}, {1, 4}, false, true},
  };
  for (const Case& c : cases) {
    size_t an = 1, bn = 1, biasn = 1;
    for (auto d : c.a) an *= static_cast<size_t>(d);
    for (auto d : c.b) bn *= static_cast<size_t>(d);
    for (auto d : c.bias) biasn *= static_cast<size_t>(d);
    const auto av = RandomInts(&rng, an, -200, 200);
    const auto bv = RandomInts(&rng, bn, -200, 200);
    std::vector<float> biasv;
    for (size_t i = 0; i < biasn; ++i) biasv.push_back(static_cast<float>(i) * 0.5f);
    MatMulParams p;
    p.transpose_a = c.ta;
    p.transpose_b = c.tb;
    const Tensor af = MakeFloat(c.a, ToFloats(av));
    const Tensor bf = MakeFloat(c.b, ToFloats(bv));
    const Tensor biasf = MakeFloat(c.bias.empty() ? std::vector<int64_t>{1} : c.bias, biasv);
    const Tensor* bias = c.bias.empty() ? nullptr : &biasf;
    Tensor expected, y;
    ASSERT_TRUE(MatMul(af, bf, bias, p, &expected).ok());
    std::vector<int32_t> shifted = av;
    for (auto& v : shifted) v -= 7;
    const Tensor aq = MakeInt16(c.a, shifted);
    const Tensor bq = MakeInt16(c.b, bv);
    ASSERT_TRUE(
        Int16MatMul(Q(aq, PerTensor(1.0f, -7)), Q(bq, PerTensor(1.0f)), bias, p, OutFloat(), &y)
            .ok());
    EXPECT_EQ(Floats(y), Floats(expected));
  }
}

TEST(Int16MatMulTest, PerColumnWeights) {
  // a [1, 2] = [1, 2] (s 1, z 0); b [2, 2] = [[1, 2], [3, 4]] per column (axis 1) s = [1, 0.5]:
  // acc = [7, 10] -> [7, 5]. With transpose_b the column axis is 0.
  const Tensor a = MakeInt16({1, 2}, {1, 2});
  const Tensor b = MakeInt16({2, 2}, {1, 2, 3, 4});
  Tensor y;
  ASSERT_TRUE(Int16MatMul(Q(a, PerTensor(1.0f, 0)), Q(b, PerAxis({1.0f, 0.5f}, 1)), nullptr,
                          MatMulParams(), OutFloat(), &y)
                  .ok());
  EXPECT_EQ(Floats(y), (std::vector<float>{7.0f, 5.0f}));
  MatMulParams tb;
  tb.transpose_b = true;
  // b^T = [[1, 3], [2, 4]]: acc = [5, 11] -> [5, 5.5].
  ASSERT_TRUE(Int16MatMul(Q(a, PerTensor(1.0f, 0)), Q(b, PerAxis({1.0f, 0.5f}, 0)), nullptr, tb,
                          OutFloat(), &y)
                  .ok());
  EXPECT_EQ(Floats(y), (std::vector<float>{5.0f, 5.5f}));
  // Quantized along the K axis: refused.
  const Status s = Int16MatMul(Q(a, PerTensor(1.0f, 0)), Q(b, PerAxis({1.0f, 0.5f}, 0)), nullptr,
                               MatMulParams(), OutFloat(), &y);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("output-channel axis 1"), std::string::npos) << s.message();
}

// --- Dynamic quantization ---------------------------------------------------------------------

TEST(DynamicQuantTest, HandWorkedFullyConnected) {
  // x [1, 4] = [-1, 0, 1, 2]: lo = -1, hi = 2, s = 3 / 255 (float), z = round(1 / s) = 85.
  // x_q = round(x / s + 85) = [0, 85, 170, 255]; x_q - z = [-85, 0, 85, 170].
  // w [2, 4] per tensor s_w = 0.5: w0 = [1, 1, 1, 1], w1 = [0, 0, 0, -2].
  // acc = [170, -340]; r = acc * (s * 0.5) + b.
  const Tensor x = MakeFloat({1, 4}, {-1.0f, 0.0f, 1.0f, 2.0f});
  const Tensor w = testing::MakeInt(DataType::INT8, {2, 4}, {1, 1, 1, 1, 0, 0, 0, -2});
  const Tensor b = MakeFloat({2}, {0.25f, -1.0f});
  Tensor y;
  ASSERT_TRUE(
      DynamicQuantizedFullyConnected(x, Q(w, PerTensor(0.5f)), &b, FusedActivation(), &y).ok());
  const float s = 3.0f / 255.0f;
  ASSERT_EQ(QuantizeValue(-1.0f, InverseScale(s), 85, DataType::UINT8), 0);
  ASSERT_EQ(QuantizeValue(2.0f, InverseScale(s), 85, DataType::UINT8), 255);
  const float m = s * 0.5f;
  EXPECT_EQ(Floats(y), (std::vector<float>{170.0f * m + 0.25f, -340.0f * m - 1.0f}));
}

TEST(DynamicQuantTest, AllZeroAndAllNegativeInputs) {
  const Tensor w = testing::MakeInt(DataType::INT8, {2, 3}, {1, 2, 3, -4, 5, -6});
  const Tensor b = MakeFloat({2}, {0.5f, -0.75f});
  Tensor y;
  // All zero: [0, 0] -> s = 1, z = 0, every x_q - z = 0: y = b exactly.
  const Tensor zeros = MakeFloat({2, 3}, std::vector<float>(6, 0.0f));
  ASSERT_TRUE(
      DynamicQuantizedFullyConnected(zeros, Q(w, PerTensor(0.1f)), &b, FusedActivation(), &y).ok());
  EXPECT_EQ(Floats(y), (std::vector<float>{0.5f, -0.75f, 0.5f, -0.75f}));
  // All negative: hi = 0 -> s = 5.1 / 255 = 0.02, z = round(5.1 / s) = 255.
  // x = [-5.1, -2.55, 0] per row... x_q = [0, 127.5 -> 128, 255], x_q - z = [-255, -127, 0].
  const Tensor neg = MakeFloat({1, 3}, {-5.1f, -2.55f, -0.0f});
  FusedActivation relu;
  relu.type = ActivationType::kRelu;
  ASSERT_TRUE(
      DynamicQuantizedFullyConnected(neg, Q(w, PerAxis({0.5f, 0.25f}, 0)), nullptr, relu, &y).ok());
  const float s = 5.1f / 255.0f;
  const float inv = InverseScale(s);
  const int32_t z = 255;
  const int32_t q0 = QuantizeValue(-5.1f, inv, z, DataType::UINT8);
  const int32_t q1 = QuantizeValue(-2.55f, inv, z, DataType::UINT8);
  EXPECT_EQ(q0, 0);
  const int32_t acc0 = (q0 - z) * 1 + (q1 - z) * 2;
  const int32_t acc1 = (q0 - z) * -4 + (q1 - z) * 5;
  const float r0 = static_cast<float>(acc0) * (s * 0.5f);
  const float r1 = static_cast<float>(acc1) * (s * 0.25f);
  EXPECT_EQ(Floats(y), (std::vector<float>{std::max(r0, 0.0f), std::max(r1, 0.0f)}));
  EXPECT_LT(acc0, 0);  // the relu really clamps one of them
  EXPECT_GT(acc1, 0);
}

TEST(DynamicQuantTest, MatMulMatchesFullyConnectedAndErrors) {
  // MatMul a [2, 3, 4] x b^T (b [5, 4], transpose_b) equals FullyConnected of a viewed as
  // [6, 4]: the dynamic range is over the whole tensor in both.
  std::mt19937 rng(9);
  std::vector<float> av;
  std::uniform_real_distribution<float> dist(-3.0f, 1.0f);
  for (int i = 0; i < 24; ++i) av.push_back(dist(rng));
  const Tensor a = MakeFloat({2, 3, 4}, av);
  const Tensor a2 = MakeFloat({6, 4}, av);
  const auto wv = RandomInts(&rng, 20, -127, 127);
  const Tensor w = testing::MakeInt(DataType::INT8, {5, 4}, wv);
  const Tensor bias = MakeFloat({5}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f});
  MatMulParams p;
  p.transpose_b = true;
  Tensor ym, yf;
  const auto wq = Q(w, PerAxis({0.1f, 0.2f, 0.3f, 0.4f, 0.5f}, 0));
  ASSERT_TRUE(DynamicQuantizedMatMul(a, wq, &bias, p, &ym).ok());
  ASSERT_TRUE(DynamicQuantizedFullyConnected(a2, wq, &bias, FusedActivation(), &yf).ok());
  EXPECT_EQ(ym.GetDimension().GetDims(), (std::vector<int64_t>{2, 3, 5}));
  EXPECT_EQ(Floats(ym), Floats(yf));
  // Errors: a non-finite input, INT16 weights, a nonzero weight zero point.
  const Tensor inf = MakeFloat({1, 4}, {1.0f, std::numeric_limits<float>::infinity(), 0, 0});
  Status s = DynamicQuantizedMatMul(inf, wq, nullptr, p, &ym);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("finite"), std::string::npos) << s.message();
  const Tensor w16 = MakeInt16({5, 4}, wv);
  s = DynamicQuantizedMatMul(a, Q(w16, PerTensor(1.0f)), nullptr, p, &ym);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("INT8"), std::string::npos) << s.message();
  s = DynamicQuantizedFullyConnected(a2, Q(w, PerTensor(1.0f, 3)), nullptr, FusedActivation(), &yf);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("zero_point"), std::string::npos) << s.message();
}

// --- Quantize / Dequantize INT16 and per axis -------------------------------------------------

TEST(Int16QuantizeTest, QuantizeDequantizeRequantize) {
  // Per tensor s = 0.5, z = -100: 1.25 * 2 - 100 = -97.5 -> -98 (even); 20000 -> saturates.
  const Tensor x = MakeFloat({4}, {1.25f, 0.0f, 20000.0f, -20000.0f});
  Tensor q;
  ASSERT_TRUE(Quantize(Q(x), OutInt16(0.5f, -100), &q).ok());
  EXPECT_EQ(Int16Values(q), (std::vector<int32_t>{-98, -100, 32767, -32768}));
  Tensor d;
  ASSERT_TRUE(Dequantize(Q(q, PerTensor(0.5f, -100)), &d).ok());
  // 0.5 * (-98 + 100) = 1; 0; 0.5 * 32867 = 16433.5; 0.5 * -32668 = -16334.
  EXPECT_EQ(Floats(d), (std::vector<float>{1.0f, 0.0f, 16433.5f, -16334.0f}));
  // Per axis 1 of [2, 2]: scales [1, 0.25], zero points [0, 10].
  const Tensor x2 = MakeFloat({2, 2}, {3.0f, 1.0f, -2.5f, -0.125f});
  ASSERT_TRUE(Quantize(
                  Q(x2),
                  [] {
                    QuantizedOutputSpec o;
                    o.dtype = DataType::INT16;
                    o.quant = PerAxis({1.0f, 0.25f}, 1, {0, 10});
                    return o;
                  }(),
                  &q)
                  .ok());
  // 3 -> 3; 1 * 4 + 10 = 14; -2.5 -> -2 (even); -0.5 + 10 = 9.5 -> 10 (even).
  EXPECT_EQ(Int16Values(q), (std::vector<int32_t>{3, 14, -2, 10}));
  ASSERT_TRUE(Dequantize(Q(q, PerAxis({1.0f, 0.25f}, 1, {0, 10})), &d).ok());
  EXPECT_EQ(Floats(d), (std::vector<float>{3.0f, 1.0f, -2.0f, 0.0f}));
  // Requantize INT16 (s 0.5, z -100) -> INT8 (s 1, z 0): [-98 -> 1, -100 -> 0, 32767 -> 127].
  const Tensor q3 = MakeInt16({3}, {-98, -100, 32767});
  Tensor r;
  ASSERT_TRUE(Quantize(Q(q3, PerTensor(0.5f, -100)), Out(DataType::INT8, 1.0f), &r).ok());
  EXPECT_EQ(testing::IntValues(r), (std::vector<int32_t>{1, 0, 127}));
  // INT8 per axis -> INT16: s_in [1, 2] axis 0, out s 0.5 z 0: [1, -1] * 1 * 2, [3] * 2 * 2.
  const Tensor q8 = testing::MakeInt(DataType::INT8, {2, 1}, {1, 3});
  ASSERT_TRUE(Quantize(Q(q8, PerAxis({1.0f, 2.0f}, 0)), OutInt16(0.5f), &r).ok());
  EXPECT_EQ(Int16Values(r), (std::vector<int32_t>{2, 12}));
  // INT32 dequantize (bias-like, zero point 0), per axis.
  const Tensor q32 = testing::MakeInt(DataType::INT32, {2}, {1 << 20, -3});
  ASSERT_TRUE(Dequantize(Q(q32, PerAxis({0.5f, 4.0f}, 0)), &d).ok());
  EXPECT_EQ(Floats(d), (std::vector<float>{524288.0f, -12.0f}));
  // Errors: INT16 zero point out of range; FLOAT32 dequantize; output INT32.
  EXPECT_FALSE(Dequantize(Q(q3, PerTensor(1.0f, 40000)), &d).ok());
  EXPECT_FALSE(Dequantize(Q(x), &d).ok());
  const Status s = Quantize(Q(x), Out(DataType::INT32, 1.0f), &q);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("INT16, INT8 or UINT8"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace qsdk::reference
