// Quantized reference operators (src/reference/quantized_ops.h), worked by hand. Scales
// are powers of two so that every float step of the contract is exact: results are
// compared exactly (tolerance 0), and a tie (x.5) is a real tie that must round to even.
#include "reference/quantized_ops.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "reference/reference_test_util.h"
#include "reference/quantized_test_util.h"

namespace qsdk::reference {
namespace {

using namespace testing;  // NOLINT(build/namespaces)

constexpr float kExact = 0.0f;  // see the file comment

// --- Quantize / Dequantize ----------------------------------------------------------------

TEST(QuantizeTest, FloatToUint8AndInt8) {
  const Tensor x = MakeTensor({6}, {-1.0f, 0.0f, 0.25f, 0.75f, 1.0f, 100.0f});
  Tensor y;
  // s = 0.5 (x * 2), z = 2: {0, 2, 2.5 -> 2, 3.5 -> 4, 4, 202}.
  ASSERT_TRUE(Quantize(Q(x), Out(DataType::UINT8, 0.5f, 2), &y).ok());
  ExpectInts(y, DataType::UINT8, {6}, {0, 2, 2, 4, 4, 202});
  // INT8, z = 0: {-2, 0, 0.5 -> 0, 1.5 -> 2, 2, 200 -> 127 (saturated)}.
  ASSERT_TRUE(Quantize(Q(x), Out(DataType::INT8, 0.5f, 0), &y).ok());
  ExpectInts(y, DataType::INT8, {6}, {-2, 0, 0, 2, 2, 127});
  // UINT8 saturates below at 0: -1 * 2 + 0 = -2 -> 0.
  ASSERT_TRUE(Quantize(Q(x), Out(DataType::UINT8, 0.5f, 0), &y).ok());
  EXPECT_EQ(IntValues(y)[0], 0);
}

TEST(QuantizeTest, PerAxisOutput) {
  // [2, 2] along axis 0 with scales {1, 0.5}: row 0 x * 1: {1.5 -> 2, 2.5 -> 2};
  // row 1 x * 2: {3, 5}.
  const Tensor x = MakeTensor({2, 2}, {1.5f, 2.5f, 1.5f, 2.5f});
  QuantizedOutputSpec out;
  out.dtype = DataType::INT8;
  out.quant = PerAxis({1.0f, 0.5f}, 0);
  Tensor y;
  ASSERT_TRUE(Quantize(Q(x), out, &y).ok());
  ExpectInts(y, DataType::INT8, {2, 2}, {2, 2, 3, 5});
}

TEST(QuantizeTest, Requantize) {
  // UINT8 (s 0.5, z 2) {0, 2, 5, 255} = {-1, 0, 1.5, 126.5} -> INT8 (s 1, z 0):
  // {-1, 0, 1.5 -> 2, 126.5 -> 126}.
  const Tensor x = MakeInt(DataType::UINT8, {4}, {0, 2, 5, 255});
  Tensor y;
  ASSERT_TRUE(Quantize(Q(x, PerTensor(0.5f, 2)), Out(DataType::INT8, 1.0f, 0), &y).ok());
  ExpectInts(y, DataType::INT8, {4}, {-1, 0, 2, 126});
}

TEST(QuantizeTest, Errors) {
  const Tensor x = MakeTensor({2}, {1.0f, 2.0f});
  Tensor y;
  Status s = Quantize(Q(x), OutFloat(), &y);  // output not quantized
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("INT8 or UINT8"), std::string::npos) << s.message();
  s = Quantize(Q(x, PerTensor(1.0f)), Out(DataType::INT8, 1.0f), &y);  // params on a float
  EXPECT_FALSE(s.ok());
  s = Quantize(Q(x), Out(DataType::UINT8, 0.0f), &y);  // scale 0
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("scale"), std::string::npos) << s.message();
  s = Quantize(Q(x), Out(DataType::UINT8, 1.0f, 300), &y);  // zero point out of range
  EXPECT_FALSE(s.ok());
  const Tensor i32 = MakeInt(DataType::INT32, {2}, {1, 2});
  EXPECT_FALSE(Quantize(Q(i32, PerTensor(1.0f)), Out(DataType::INT8, 1.0f), &y).ok());
  EXPECT_FALSE(Quantize(Q(x), Out(DataType::INT8, 1.0f), nullptr).ok());
}

TEST(DequantizeTest, PerTensorAndPerAxis) {
  // 0.5 * ({0, 2, 5, 255} - 2) = {-1, 0, 1.5, 126.5}.
  const Tensor u = MakeInt(DataType::UINT8, {4}, {0, 2, 5, 255});
  Tensor y;
  ASSERT_TRUE(Dequantize(Q(u, PerTensor(0.5f, 2)), &y).ok());
  ExpectTensorNear(y, {4}, {-1.0f, 0.0f, 1.5f, 126.5f}, kExact);
  // [2, 2] INT8 along axis 1, scales {1, 0.25}: {-4 * 1, 4 * 0.25, 8 * 1, -128 * 0.25}.
  const Tensor s8 = MakeInt(DataType::INT8, {2, 2}, {-4, 4, 8, -128});
  ASSERT_TRUE(Dequantize(Q(s8, PerAxis({1.0f, 0.25f}, 1)), &y).ok());
  ExpectTensorNear(y, {2, 2}, {-4.0f, 1.0f, 8.0f, -32.0f}, kExact);
  // Three scales on an axis of extent 2.
  EXPECT_FALSE(Dequantize(Q(s8, PerAxis({1.0f, 1.0f, 1.0f}, 1)), &y).ok());
  const Tensor f = MakeTensor({1}, {1.0f});
  EXPECT_FALSE(Dequantize(Q(f), &y).ok());
}

// --- Conv ---------------------------------------------------------------------------------

// x UINT8 [1,1,3,3], s 0.5, z 10: q = 10..18, so x_q - z = 0..8 (rows {0,1,2},{3,4,5},{6,7,8}).
// w INT8 [2,1,2,2] per channel, s_w = {0.25, 0.5}: oc0 {1,0,0,1}, oc1 {-1,2,1,0}.
// b INT32, s_b = s_x * s_w = {0.125, 0.25}: {4, -8}.
// Windows (2x2, stride 1) of x_q - z: (0,0) {0,1,3,4}, (0,1) {1,2,4,5}, (1,0) {3,4,6,7},
// (1,1) {4,5,7,8}.
//   oc0: 0+4 = 4, 1+5 = 6, 3+7 = 10, 4+8 = 12; + 4 -> {8, 10, 14, 16}; * 0.125 ->
//        {1, 1.25, 1.75, 2}.
//   oc1: 2+3 = 5, -1+4+4 = 7, -3+8+6 = 11, -4+10+7 = 13; - 8 -> {-3, -1, 3, 5}; * 0.25 ->
//        {-0.75, -0.25, 0.75, 1.25}.
struct ConvCase {
  Tensor x = MakeInt(DataType::UINT8, {1, 1, 3, 3}, {10, 11, 12, 13, 14, 15, 16, 17, 18});
  Tensor w = MakeInt(DataType::INT8, {2, 1, 2, 2}, {1, 0, 0, 1, -1, 2, 1, 0});
  Tensor b = MakeInt(DataType::INT32, {2}, {4, -8});
  graph::QuantParams xq = PerTensor(0.5f, 10);
  graph::QuantParams wq = PerAxis({0.25f, 0.5f}, 0);
  graph::QuantParams bq = PerAxis({0.125f, 0.25f}, 0);
};

TEST(QuantizedConvTest, FloatOutput) {
  ConvCase c;
  Tensor y;
  const Status s =
      QuantizedConv2D(Q(c.x, c.xq), Q(c.w, c.wq), Q(c.b, c.bq), {}, ConvParams(), OutFloat(), &y);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectTensorNear(y, {1, 2, 2, 2}, {1.0f, 1.25f, 1.75f, 2.0f, -0.75f, -0.25f, 0.75f, 1.25f},
                   kExact);
}

TEST(QuantizedConvTest, QuantizedOutputAndFusedRelu) {
  ConvCase c;
  Tensor y;
  // UINT8 s 0.25, z 4 (r * 4 + 4): oc0 {8, 9, 11, 12}; oc1 {1, 3, 7, 9}.
  ASSERT_TRUE(QuantizedConv2D(Q(c.x, c.xq), Q(c.w, c.wq), Q(c.b, c.bq), {}, ConvParams(),
                              Out(DataType::UINT8, 0.25f, 4), &y)
                  .ok());
  ExpectInts(y, DataType::UINT8, {1, 2, 2, 2}, {8, 9, 11, 12, 1, 3, 7, 9});
  // ReLU then INT8 s 0.5 (r * 2): relu -> {1,1.25,1.75,2, 0,0,0.75,1.25};
  // * 2 -> {2, 2.5 -> 2, 3.5 -> 4, 4, 0, 0, 1.5 -> 2, 2.5 -> 2}.
  ConvParams relu;
  relu.activation.type = ActivationType::kRelu;
  ASSERT_TRUE(QuantizedConv2D(Q(c.x, c.xq), Q(c.w, c.wq), Q(c.b, c.bq), {}, relu,
                              Out(DataType::INT8, 0.5f, 0), &y)
                  .ok());
  ExpectInts(y, DataType::INT8, {1, 2, 2, 2}, {2, 2, 4, 4, 0, 0, 2, 2});
}

TEST(QuantizedConvTest, FusedResidualQuantizedOrFloatThenActivation) {
  ConvCase c;
  // Residual UINT8 s 0.25, z 8: {8,9,10,11, 4,5,6,7} = {0,0.25,0.5,0.75, -1,-0.75,-0.5,-0.25}.
  // Sum: oc0 {1, 1.5, 2.25, 2.75}; oc1 {-1.75, -1, 0.25, 1}; ReLU: oc1 {0, 0, 0.25, 1}.
  const Tensor rq = MakeInt(DataType::UINT8, {1, 2, 2, 2}, {8, 9, 10, 11, 4, 5, 6, 7});
  const Tensor rf = MakeTensor({1, 2, 2, 2}, {0, 0.25f, 0.5f, 0.75f, -1, -0.75f, -0.5f, -0.25f});
  ConvParams relu;
  relu.activation.type = ActivationType::kRelu;
  for (const QuantizedOperand& residual : {Q(rq, PerTensor(0.25f, 8)), Q(rf)}) {
    Tensor y;
    ASSERT_TRUE(QuantizedConv2D(Q(c.x, c.xq), Q(c.w, c.wq), Q(c.b, c.bq), residual, ConvParams(),
                                OutFloat(), &y)
                    .ok());
    ExpectTensorNear(y, {1, 2, 2, 2}, {1, 1.5f, 2.25f, 2.75f, -1.75f, -1, 0.25f, 1}, kExact);
    ASSERT_TRUE(QuantizedConv2D(Q(c.x, c.xq), Q(c.w, c.wq), Q(c.b, c.bq), residual, relu,
                                OutFloat(), &y)
                    .ok());
    ExpectTensorNear(y, {1, 2, 2, 2}, {1, 1.5f, 2.25f, 2.75f, 0, 0, 0.25f, 1}, kExact);
  }
  // A residual of another shape is rejected.
  const Tensor bad = MakeTensor({1, 2, 2, 1}, {0, 0, 0, 0});
  Tensor y;
  const Status s = QuantizedConv2D(Q(c.x, c.xq), Q(c.w, c.wq), Q(c.b, c.bq), Q(bad), ConvParams(),
                                   OutFloat(), &y);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("residual"), std::string::npos) << s.message();
}

TEST(QuantizedConvTest, PerTensorWeights) {
  ConvCase c;
  // Same q, s_w = 0.25 for both channels and s_b = 0.125: oc1 becomes {-3,-1,3,5} * 0.125.
  Tensor y;
  ASSERT_TRUE(QuantizedConv2D(Q(c.x, c.xq), Q(c.w, PerTensor(0.25f)), Q(c.b, PerTensor(0.125f)),
                              {}, ConvParams(), OutFloat(), &y)
                  .ok());
  ExpectTensorNear(y, {1, 2, 2, 2},
                   {1.0f, 1.25f, 1.75f, 2.0f, -0.375f, -0.125f, 0.375f, 0.625f}, kExact);
}

TEST(QuantizedConvTest, PaddingIsTheZeroPoint) {
  // x UINT8 [1,1,2,2], z 10: x_q - z = {1,2,3,4}; w = all 1 (2x2), pad 1: 3x3 output,
  // each the sum of the in-range part of its window. If padding were q = 0 instead of
  // z, every border output would pick up -10 per padded tap.
  const Tensor x = MakeInt(DataType::UINT8, {1, 1, 2, 2}, {11, 12, 13, 14});
  const Tensor w = MakeInt(DataType::INT8, {1, 1, 2, 2}, {1, 1, 1, 1});
  ConvParams p;
  p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
  Tensor y;
  ASSERT_TRUE(QuantizedConv2D(Q(x, PerTensor(1.0f, 10)), Q(w, PerTensor(1.0f)), {}, {}, p,
                              OutFloat(), &y)
                  .ok());
  ExpectTensorNear(y, {1, 1, 3, 3}, {1, 3, 2, 4, 10, 6, 3, 7, 4}, kExact);
}

TEST(QuantizedConvTest, DepthwiseWithStrideAndDilation) {
  // x INT8 [1,2,3,3] (s 1, z 0): ch0 = 1..9, ch1 = -1..-9. group = 2 (depthwise),
  // w [2,1,2,2]: oc0 {1,1,1,1}, oc1 {2,0,0,-1}; dilation 2 -> the 2x2 taps are the
  // corners of the 3x3 plane: ch0 {1,3,7,9} -> 20; ch1 {-1,-3,-7,-9} -> -2 + 9 = 7.
  // Per-channel s_w {1, 0.5}: {20, 3.5}.
  std::vector<int32_t> xs;
  for (int i = 1; i <= 9; ++i) xs.push_back(i);
  for (int i = 1; i <= 9; ++i) xs.push_back(-i);
  const Tensor x = MakeInt(DataType::INT8, {1, 2, 3, 3}, xs);
  const Tensor w = MakeInt(DataType::INT8, {2, 1, 2, 2}, {1, 1, 1, 1, 2, 0, 0, -1});
  ConvParams p;
  p.group = 2;
  p.dilation_h = p.dilation_w = 2;
  Tensor y;
  ASSERT_TRUE(QuantizedConv2D(Q(x, PerTensor(1.0f)), Q(w, PerAxis({1.0f, 0.5f}, 0)), {}, {}, p,
                              OutFloat(), &y)
                  .ok());
  ExpectTensorNear(y, {1, 2, 1, 1}, {20.0f, 3.5f}, kExact);
}

TEST(QuantizedConvTest, SaturatedBiasDoesNotWrap) {
  // b = INT32_MAX and a positive window sum: the exact sum exceeds int32; the reference
  // keeps it exact (float(2^31 - 1 + 4) = 2^31).
  const Tensor x = MakeInt(DataType::UINT8, {1, 1, 1, 1}, {4});
  const Tensor w = MakeInt(DataType::INT8, {1, 1, 1, 1}, {1});
  const Tensor b = MakeInt(DataType::INT32, {1}, {2147483647});
  Tensor y;
  ASSERT_TRUE(QuantizedConv2D(Q(x, PerTensor(1.0f)), Q(w, PerTensor(1.0f)), Q(b, PerTensor(1.0f)),
                              {}, ConvParams(), OutFloat(), &y)
                  .ok());
  ExpectTensorNear(y, {1, 1, 1, 1}, {2147483648.0f}, kExact);
}

TEST(QuantizedConvTest, Errors) {
  ConvCase c;
  Tensor y;
  const auto run = [&](const QuantizedOperand& x, const QuantizedOperand& w,
                       const QuantizedOperand& b, const QuantizedOutputSpec& out) {
    return QuantizedConv2D(x, w, b, {}, ConvParams(), out, &y);
  };
  // Weights with a zero point.
  Status s = run(Q(c.x, c.xq), Q(c.w, PerAxis({0.25f, 0.5f}, 0, {1, 0})), Q(c.b, c.bq), OutFloat());
  EXPECT_NE(s.message().find("zero_point"), std::string::npos) << s.message();
  // Bias in another scale than s_x * s_w.
  s = run(Q(c.x, c.xq), Q(c.w, c.wq), Q(c.b, PerAxis({0.125f, 0.5f}, 0)), OutFloat());
  EXPECT_NE(s.message().find("accumulator scale"), std::string::npos) << s.message();
  // A FLOAT32 bias.
  const Tensor fb = MakeTensor({2}, {0, 0});
  s = run(Q(c.x, c.xq), Q(c.w, c.wq), Q(fb), OutFloat());
  EXPECT_NE(s.message().find("INT32"), std::string::npos) << s.message();
  // A FLOAT32 input.
  const Tensor fx = MakeTensor({1, 1, 3, 3}, std::vector<float>(9, 0.0f));
  s = run(Q(fx), Q(c.w, c.wq), Q(c.b, c.bq), OutFloat());
  EXPECT_NE(s.message().find("input x"), std::string::npos) << s.message();
  // An input quantized per axis.
  s = run(Q(c.x, PerAxis({0.5f}, 1, {10})), Q(c.w, c.wq), Q(c.b, c.bq), OutFloat());
  EXPECT_NE(s.message().find("per tensor"), std::string::npos) << s.message();
  // Weights along a non-channel axis; UINT8 weights.
  s = run(Q(c.x, c.xq), Q(c.w, PerAxis({1.0f, 1.0f}, 2)), {}, OutFloat());
  EXPECT_NE(s.message().find("axis"), std::string::npos) << s.message();
  const Tensor uw = MakeInt(DataType::UINT8, {2, 1, 2, 2}, std::vector<int32_t>(8, 1));
  s = run(Q(c.x, c.xq), Q(uw, PerTensor(1.0f)), {}, OutFloat());
  EXPECT_NE(s.message().find("INT8"), std::string::npos) << s.message();
  // An output spec with per-axis parameters or INT32.
  QuantizedOutputSpec out;
  out.dtype = DataType::INT32;
  out.quant = PerTensor(1.0f);
  EXPECT_FALSE(run(Q(c.x, c.xq), Q(c.w, c.wq), Q(c.b, c.bq), out).ok());
}

// --- FullyConnected and MatMul ------------------------------------------------------------

// x UINT8 [2,3] s 0.5 z 128: {128,130,132, 126,128,129} -> x_q - z = {0,2,4, -2,0,1}.
// w INT8 [2,3] per tensor s 0.25: {1,2,3, -1,0,1}; b INT32 s 0.125: {8, -8}. M = 0.125.
// row 0: oc0 0+4+12 = 16 + 8 = 24 -> 3; oc1 0+0+4 = 4 - 8 = -4 -> -0.5.
// row 1: oc0 -2+0+3 = 1 + 8 = 9 -> 1.125; oc1 2+0+1 = 3 - 8 = -5 -> -0.625.
TEST(QuantizedFullyConnectedTest, HandWorked) {
  const Tensor x = MakeInt(DataType::UINT8, {2, 3}, {128, 130, 132, 126, 128, 129});
  const Tensor x3 = MakeInt(DataType::UINT8, {2, 1, 3}, {128, 130, 132, 126, 128, 129});
  const Tensor w = MakeInt(DataType::INT8, {2, 3}, {1, 2, 3, -1, 0, 1});
  const Tensor b = MakeInt(DataType::INT32, {2}, {8, -8});
  const graph::QuantParams xq = PerTensor(0.5f, 128);
  Tensor y;
  for (const Tensor* in : {&x, &x3}) {  // [N, d1, d2] is flattened to [N, K]
    ASSERT_TRUE(QuantizedFullyConnected(Q(*in, xq), Q(w, PerTensor(0.25f)),
                                        Q(b, PerTensor(0.125f)), {}, FusedActivation(),
                                        OutFloat(), &y)
                    .ok());
    ExpectTensorNear(y, {2, 2}, {3.0f, -0.5f, 1.125f, -0.625f}, kExact);
  }
  // + residual 1, ReLU: {4, 0.5, 2.125, 0.375}; as INT8 s 0.25: {16, 2, 8.5 -> 8, 1.5 -> 2}.
  const Tensor r = MakeTensor({2, 2}, {1, 1, 1, 1});
  FusedActivation relu;
  relu.type = ActivationType::kRelu;
  ASSERT_TRUE(QuantizedFullyConnected(Q(x, xq), Q(w, PerTensor(0.25f)), Q(b, PerTensor(0.125f)),
                                      Q(r), relu, Out(DataType::INT8, 0.25f), &y)
                  .ok());
  ExpectInts(y, DataType::INT8, {2, 2}, {16, 2, 8, 2});
  // Without bias: {16, 4, 1, 3} * 0.125.
  ASSERT_TRUE(QuantizedFullyConnected(Q(x, xq), Q(w, PerTensor(0.25f)), {}, {}, FusedActivation(),
                                      OutFloat(), &y)
                  .ok());
  ExpectTensorNear(y, {2, 2}, {2.0f, 0.5f, 0.125f, 0.375f}, kExact);
  // Weight shape mismatch.
  const Tensor w4 = MakeInt(DataType::INT8, {2, 4}, std::vector<int32_t>(8, 1));
  EXPECT_FALSE(QuantizedFullyConnected(Q(x, xq), Q(w4, PerTensor(1.0f)), {}, {}, FusedActivation(),
                                       OutFloat(), &y)
                   .ok());
}

// a INT8 [1,2,2] s 0.5: {1,2, 3,4}. b INT8 [2,3] per column (axis 1) s {1, 0.5, 0.25}:
// {1,0,2, 0,1,-2}. bias INT32 [3] along its last axis, s = 0.5 * s_b = {0.5, 0.25, 0.125}:
// {2, 4, 8} (real 1 each).
// row {1,2}: col0 1 + 2 = 3 -> 1.5; col1 2 + 4 = 6 -> 1.5; col2 2 - 4 + 8 = 6 -> 0.75.
// row {3,4}: col0 3 + 2 = 5 -> 2.5; col1 4 + 4 = 8 -> 2;   col2 6 - 8 + 8 = 6 -> 0.75.
TEST(QuantizedMatMulTest, PerColumnWeightsAndBias) {
  const Tensor a = MakeInt(DataType::INT8, {1, 2, 2}, {1, 2, 3, 4});
  const Tensor b = MakeInt(DataType::INT8, {2, 3}, {1, 0, 2, 0, 1, -2});
  const Tensor bt = MakeInt(DataType::INT8, {3, 2}, {1, 0, 0, 1, 2, -2});  // b transposed
  const Tensor bias = MakeInt(DataType::INT32, {3}, {2, 4, 8});
  const graph::QuantParams aq = PerTensor(0.5f);
  const graph::QuantParams biasq = PerAxis({0.5f, 0.25f, 0.125f}, 0);
  const std::vector<float> expected = {1.5f, 1.5f, 0.75f, 2.5f, 2.0f, 0.75f};
  Tensor y;
  ASSERT_TRUE(QuantizedMatMul(Q(a, aq), Q(b, PerAxis({1.0f, 0.5f, 0.25f}, 1)), Q(bias, biasq),
                              MatMulParams(), OutFloat(), &y)
                  .ok());
  ExpectTensorNear(y, {1, 2, 3}, expected, kExact);
  // transpose_b: b stored [N, K]; the column axis is then 0.
  MatMulParams tb;
  tb.transpose_b = true;
  ASSERT_TRUE(QuantizedMatMul(Q(a, aq), Q(bt, PerAxis({1.0f, 0.5f, 0.25f}, 0)), Q(bias, biasq),
                              tb, OutFloat(), &y)
                  .ok());
  ExpectTensorNear(y, {1, 2, 3}, expected, kExact);
  // Per-column scales on the K axis are rejected.
  const Status s = QuantizedMatMul(Q(a, aq), Q(b, PerAxis({1.0f, 1.0f}, 0)), {}, MatMulParams(),
                                   OutFloat(), &y);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("axis"), std::string::npos) << s.message();
  // Clip(-1, 2) fused, UINT8 s 0.125 z 8: clip -> {1.5,1.5,0.75, 2,2,0.75}; * 8 + 8 ->
  // {20, 20, 14, 24, 24, 14}.
  MatMulParams clip;
  clip.activation.type = ActivationType::kClip;
  clip.activation.alpha = -1.0f;
  clip.activation.beta = 2.0f;
  ASSERT_TRUE(QuantizedMatMul(Q(a, aq), Q(b, PerAxis({1.0f, 0.5f, 0.25f}, 1)), Q(bias, biasq),
                              clip, Out(DataType::UINT8, 0.125f, 8), &y)
                  .ok());
  ExpectInts(y, DataType::UINT8, {1, 2, 3}, {20, 20, 14, 24, 24, 14});
}

// --- Pool ---------------------------------------------------------------------------------

PoolParams Window(PoolMode mode, int64_t kh, int64_t kw, int64_t stride, int64_t pad,
                  bool include_pad = false, bool ceil = false) {
  PoolParams p;
  p.mode = mode;
  p.kernel_h = kh;
  p.kernel_w = kw;
  p.stride_h = p.stride_w = stride;
  p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = pad;
  p.count_include_pad = include_pad;
  p.ceil_mode = ceil;
  return p;
}

TEST(QuantizedPoolTest, MaxAndAverageRoundHalfToEven) {
  // x UINT8 [1,1,2,3] (z 0): {1,2,3, 3,4,5}; 2x2 windows: {1,2,3,4} and {2,3,4,5}.
  // Max: {4, 5}. Average: 10/4 = 2.5 -> 2, 14/4 = 3.5 -> 4.
  const Tensor x = MakeInt(DataType::UINT8, {1, 1, 2, 3}, {1, 2, 3, 3, 4, 5});
  const graph::QuantParams xq = PerTensor(0.1f, 0);
  Tensor y;
  ASSERT_TRUE(QuantizedPool(Q(x, xq), Window(PoolMode::kMax, 2, 2, 1, 0), &y).ok());
  ExpectInts(y, DataType::UINT8, {1, 1, 1, 2}, {4, 5});
  ASSERT_TRUE(QuantizedPool(Q(x, xq), Window(PoolMode::kAverage, 2, 2, 1, 0), &y).ok());
  ExpectInts(y, DataType::UINT8, {1, 1, 1, 2}, {2, 4});
}

TEST(QuantizedPoolTest, PaddingCountsAsTheZeroPoint) {
  // x UINT8 [1,1,1,1] = {9}, z 5; 2x2 windows, pad 1, stride 1 -> 2x2 output, each window
  // holding x and 3 padding elements. Including padding: (9 + 3*5)/4 = 6; excluding: 9.
  const Tensor x = MakeInt(DataType::UINT8, {1, 1, 1, 1}, {9});
  const graph::QuantParams xq = PerTensor(1.0f, 5);
  Tensor y;
  ASSERT_TRUE(QuantizedPool(Q(x, xq), Window(PoolMode::kAverage, 2, 2, 1, 1, true), &y).ok());
  ExpectInts(y, DataType::UINT8, {1, 1, 2, 2}, {6, 6, 6, 6});
  ASSERT_TRUE(QuantizedPool(Q(x, xq), Window(PoolMode::kAverage, 2, 2, 1, 1, false), &y).ok());
  ExpectInts(y, DataType::UINT8, {1, 1, 2, 2}, {9, 9, 9, 9});
  // Max ignores padding: 9 everywhere, although z = 5 < 9 would not matter either way;
  // with x below z (3 < 5, real -2) padding must still not win.
  const Tensor low = MakeInt(DataType::UINT8, {1, 1, 1, 1}, {3});
  ASSERT_TRUE(QuantizedPool(Q(low, xq), Window(PoolMode::kMax, 2, 2, 1, 1), &y).ok());
  ExpectInts(y, DataType::UINT8, {1, 1, 2, 2}, {3, 3, 3, 3});
}

TEST(QuantizedPoolTest, CeilModeAndGlobal) {
  // x [1,1,1,3] = {1,2,4}, kernel 1x2 stride 2 ceil_mode: windows [0,2) and [2,4) (the
  // latter holds only x[2]): {1.5 -> 2, 4}.
  const Tensor x = MakeInt(DataType::UINT8, {1, 1, 1, 3}, {1, 2, 4});
  Tensor y;
  ASSERT_TRUE(
      QuantizedPool(Q(x, PerTensor(1.0f)), Window(PoolMode::kAverage, 1, 2, 2, 0, false, true), &y)
          .ok());
  ExpectInts(y, DataType::UINT8, {1, 1, 1, 2}, {2, 4});
  // Global over INT8 [1,2,1,2], z -3: ch0 {1,2}, ch1 {-3,-4}. Average: 1.5 -> 2,
  // -3.5 -> -4. Max: {2, -3}.
  const Tensor g = MakeInt(DataType::INT8, {1, 2, 1, 2}, {1, 2, -3, -4});
  ASSERT_TRUE(QuantizedPool(Q(g, PerTensor(0.5f, -3)), Window(PoolMode::kGlobalAverage, 1, 1, 1, 0),
                            &y)
                  .ok());
  ExpectInts(y, DataType::INT8, {1, 2, 1, 1}, {2, -4});
  ASSERT_TRUE(
      QuantizedPool(Q(g, PerTensor(0.5f, -3)), Window(PoolMode::kGlobalMax, 1, 1, 1, 0), &y).ok());
  ExpectInts(y, DataType::INT8, {1, 2, 1, 1}, {2, -3});
  // A FLOAT32 input is not for this kernel.
  const Tensor f = MakeTensor({1, 1, 1, 1}, {1.0f});
  EXPECT_FALSE(QuantizedPool(Q(f), Window(PoolMode::kMax, 1, 1, 1, 0), &y).ok());
}

// --- Elementwise, Concat, Reshape, Flatten ------------------------------------------------

TEST(QuantizedElementwiseTest, DequantizeOperateQuantize) {
  // a UINT8 s 0.5 z 1: {3, 5} = {1, 2}; b INT8 [1] s 0.25: {-4} = {-1} (broadcast).
  const Tensor a = MakeInt(DataType::UINT8, {2}, {3, 5});
  const Tensor b = MakeInt(DataType::INT8, {1}, {-4});
  const auto qa = Q(a, PerTensor(0.5f, 1));
  const auto qb = Q(b, PerTensor(0.25f));
  Tensor y;
  ASSERT_TRUE(QuantizedElementwise(qa, qb, ElementwiseOp::kAdd, OutFloat(), &y).ok());
  ExpectTensorNear(y, {2}, {0.0f, 1.0f}, kExact);
  ASSERT_TRUE(QuantizedElementwise(qa, qb, ElementwiseOp::kSub, OutFloat(), &y).ok());
  ExpectTensorNear(y, {2}, {2.0f, 3.0f}, kExact);
  ASSERT_TRUE(QuantizedElementwise(qa, qb, ElementwiseOp::kMul, OutFloat(), &y).ok());
  ExpectTensorNear(y, {2}, {-1.0f, -2.0f}, kExact);
  // add as UINT8 s 0.5 z 2: {0 * 2 + 2, 1 * 2 + 2} = {2, 4}.
  ASSERT_TRUE(
      QuantizedElementwise(qa, qb, ElementwiseOp::kAdd, Out(DataType::UINT8, 0.5f, 2), &y).ok());
  ExpectInts(y, DataType::UINT8, {2}, {2, 4});
  // A FLOAT32 operand mixes in as its value: {1, 2} + 0.25, INT8 s 0.5: {2.5 -> 2, 4.5 -> 4}.
  const Tensor f = MakeTensor({1}, {0.25f});
  ASSERT_TRUE(
      QuantizedElementwise(qa, Q(f), ElementwiseOp::kAdd, Out(DataType::INT8, 0.5f), &y).ok());
  ExpectInts(y, DataType::INT8, {2}, {2, 4});
}

TEST(QuantizedConcatTest, CopiesValuesWithSharedParameters) {
  const Tensor a = MakeInt(DataType::UINT8, {1, 1, 2}, {1, 2});
  const Tensor b = MakeInt(DataType::UINT8, {1, 2, 2}, {3, 4, 5, 6});
  const graph::QuantParams q = PerTensor(0.5f, 3);
  Tensor y;
  ASSERT_TRUE(QuantizedConcat({Q(a, q), Q(b, q)}, 1, &y).ok());
  ExpectInts(y, DataType::UINT8, {1, 3, 2}, {1, 2, 3, 4, 5, 6});
  ASSERT_TRUE(QuantizedConcat({Q(a, q), Q(a, q)}, 2, &y).ok());
  ExpectInts(y, DataType::UINT8, {1, 1, 4}, {1, 2, 1, 2});
  // Different parameters (or types) are rejected: the builder must unify them.
  Status s = QuantizedConcat({Q(a, q), Q(b, PerTensor(0.5f, 4))}, 1, &y);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("identical parameters"), std::string::npos) << s.message();
  const Tensor c = MakeInt(DataType::INT8, {1, 1, 2}, {1, 2});
  EXPECT_FALSE(QuantizedConcat({Q(a, q), Q(c, q)}, 1, &y).ok());
}

TEST(QuantizedReshapeFlattenTest, KeepValues) {
  const Tensor x = MakeInt(DataType::INT8, {2, 1, 3}, {-128, -1, 0, 1, 2, 127});
  const graph::QuantParams q = PerTensor(0.5f, -1);
  Tensor y;
  ASSERT_TRUE(QuantizedReshape(Q(x, q), {3, -1}, &y).ok());
  ExpectInts(y, DataType::INT8, {3, 2}, {-128, -1, 0, 1, 2, 127});
  ASSERT_TRUE(QuantizedFlatten(Q(x, q), 1, &y).ok());
  ExpectInts(y, DataType::INT8, {2, 3}, {-128, -1, 0, 1, 2, 127});
  EXPECT_FALSE(QuantizedReshape(Q(x, q), {4, -1}, &y).ok());  // 6 is not a multiple of 4
  EXPECT_FALSE(QuantizedFlatten(Q(x, q), 4, &y).ok());
}

}  // namespace
}  // namespace qsdk::reference
