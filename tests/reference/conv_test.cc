// Convolution: strides, asymmetric pads, dilations, groups, depthwise, fused activation.
#include <gtest/gtest.h>

#include <vector>

#include "reference/ops.h"
#include "reference_test_util.h"

namespace qsdk::reference {
namespace {

using namespace testing;  // NOLINT(build/namespaces)

// Products and sums of small integers (and .5) are exact in double and in float.
constexpr float kExact = 0.0f;

TEST(ConvTest, StrideTwoAsymmetricPadAndDilation) {
  // x = 1..16 as a 4x4 image:      w = [[1,2],[3,4]], dilation 2 (a 3x3 footprint),
  //    1  2  3  4                  stride 2, pads top 1, bottom 0, left 0, right 1.
  //    5  6  7  8                  OH = (4+1+0-3)/2+1 = 2, OW = (4+0+1-3)/2+1 = 2.
  //    9 10 11 12                  Output (oy,ox) reads rows 2*oy-1 + {0,2},
  //   13 14 15 16                  columns 2*ox + {0,2}:
  // (0,0): rows {-1,1} cols {0,2}:  pad + 5*3 + 7*4              = 43
  // (0,1): rows {-1,1} cols {2,4}:  pad + 7*3 + (col 4 = pad)    = 21
  // (1,0): rows {1,3}  cols {0,2}:  5*1 + 7*2 + 13*3 + 15*4      = 118
  // (1,1): rows {1,3}  cols {2,4}:  7*1 + 15*3                   = 52
  // plus bias 0.5.
  const Tensor x = Iota({1, 1, 4, 4}, 1.0f);
  const Tensor w = MakeTensor({1, 1, 2, 2}, {1, 2, 3, 4});
  const Tensor b = MakeTensor({1}, {0.5f});
  ConvParams p;
  p.stride_h = p.stride_w = 2;
  p.pad_top = 1;
  p.pad_right = 1;
  p.dilation_h = p.dilation_w = 2;
  Tensor y;
  const Status st = Conv2D(x, w, &b, p, &y);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ExpectTensorNear(y, {1, 1, 2, 2}, {43.5f, 21.5f, 118.5f, 52.5f}, kExact);
}

TEST(ConvTest, PlainConvMatchesHandSum) {
  // 3x3 input, 2x2 all-ones kernel, no pad: each output is the sum of a 2x2 block.
  // x = 1..9: blocks (1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9) = (12, 16, 24, 28).
  const Tensor x = Iota({1, 1, 3, 3}, 1.0f);
  const Tensor w = MakeTensor({1, 1, 2, 2}, {1, 1, 1, 1});
  Tensor y;
  ASSERT_TRUE(Conv2D(x, w, nullptr, ConvParams(), &y).ok());
  ExpectTensorNear(y, {1, 1, 2, 2}, {12, 16, 24, 28}, kExact);
}

TEST(ConvTest, GroupedConvOnlyMixesChannelsWithinAGroup) {
  // 4 input channels, 2 groups, 1x1 kernels. Channel c holds 4c+1 .. 4c+4.
  // Output 0 (group 0) = 1*c0 + 2*c1; output 1 (group 1) = 3*c2 - 1*c3.
  // c0 = [1,2,3,4], c1 = [5,6,7,8]   -> [11,14,17,20]
  // c2 = [9,10,11,12], c3 = [13..16] -> [14,16,18,20]
  const Tensor x = Iota({1, 4, 2, 2}, 1.0f);
  const Tensor w = MakeTensor({2, 2, 1, 1}, {1, 2, 3, -1});
  ConvParams p;
  p.group = 2;
  Tensor y;
  const Status st = Conv2D(x, w, nullptr, p, &y);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ExpectTensorNear(y, {1, 2, 2, 2}, {11, 14, 17, 20, 14, 16, 18, 20}, kExact);
}

TEST(ConvTest, DepthwiseWithBiasAndFusedRelu) {
  // group = C = 2, one 2x2 filter per channel, bias [-7, -55], fused Relu.
  // c0 = 1..9, w0 = [[1,0],[0,1]]: x[i][j] + x[i+1][j+1] = 6, 8, 12, 14 -> -1, 1, 5, 7
  // c1 = 10..18, w1 = all ones: 2x2 sums 48, 52, 60, 64               -> -7, -3, 5, 9
  // Relu: [0, 1, 5, 7], [0, 0, 5, 9].
  const Tensor x = Iota({1, 2, 3, 3}, 1.0f);
  const Tensor w = MakeTensor({2, 1, 2, 2}, {1, 0, 0, 1, 1, 1, 1, 1});
  const Tensor b = MakeTensor({2}, {-7, -55});
  ConvParams p;
  p.group = 2;
  p.activation.type = ActivationType::kRelu;
  Tensor y;
  const Status st = Conv2D(x, w, &b, p, &y);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ExpectTensorNear(y, {1, 2, 2, 2}, {0, 1, 5, 7, 0, 0, 5, 9}, kExact);
}

TEST(ConvTest, BatchAndMultipleOutputChannels) {
  // N = 2 (second image = first + 100), 1 channel, two 1x1 filters (x2 and x-1).
  const Tensor x = MakeTensor({2, 1, 1, 2}, {1, 2, 101, 102});
  const Tensor w = MakeTensor({2, 1, 1, 1}, {2, -1});
  Tensor y;
  ASSERT_TRUE(Conv2D(x, w, nullptr, ConvParams(), &y).ok());
  ExpectTensorNear(y, {2, 2, 1, 2}, {2, 4, -1, -2, 202, 204, -101, -102}, kExact);
}

TEST(ConvTest, RejectsBadShapesAndParams) {
  const Tensor x = Iota({1, 4, 3, 3});
  Tensor y;
  // Filter dim 1 must be C/group = 2 with group 2.
  ConvParams p;
  p.group = 2;
  EXPECT_FALSE(Conv2D(x, Iota({2, 4, 1, 1}), nullptr, p, &y).ok());
  // group must divide C.
  p.group = 3;
  EXPECT_FALSE(Conv2D(x, Iota({3, 1, 1, 1}), nullptr, p, &y).ok());
  // Kernel larger than the padded input.
  EXPECT_FALSE(Conv2D(x, Iota({1, 4, 4, 4}), nullptr, ConvParams(), &y).ok());
  // Zero stride.
  ConvParams zero_stride;
  zero_stride.stride_h = 0;
  const Status st = Conv2D(x, Iota({1, 4, 1, 1}), nullptr, zero_stride, &y);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("stride"), std::string::npos) << st.message();
  // Bias of the wrong size.
  const Tensor b = Iota({2});
  EXPECT_FALSE(Conv2D(x, Iota({1, 4, 1, 1}), &b, ConvParams(), &y).ok());
  // Input of rank 3.
  EXPECT_FALSE(Conv2D(Iota({4, 3, 3}), Iota({1, 4, 1, 1}), nullptr, ConvParams(), &y).ok());
  // Huge dilation: reported, not overflowed.
  ConvParams huge;
  huge.dilation_h = int64_t{1} << 62;
  EXPECT_FALSE(Conv2D(x, Iota({1, 4, 3, 3}), nullptr, huge, &y).ok());
}

}  // namespace
}  // namespace qsdk::reference
