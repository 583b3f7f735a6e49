// Elementwise (broadcasting), Concat, BatchNorm, Softmax, Reshape, Flatten, Transpose.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "reference/ops.h"
#include "reference_test_util.h"

namespace qsdk::reference {
namespace {

using namespace testing;  // NOLINT(build/namespaces)

// Integer-valued data: additions, subtractions and products are exact.
constexpr float kExact = 0.0f;

// --- Elementwise --------------------------------------------------------------------

// a [2,3,4] = 0..23 (a[i][j][k] = 12i + 4j + k), b [3,1] = [[10],[20],[30]]:
// b broadcasts to b'[i][j][k] = 10 (j + 1).
std::vector<float> BroadcastExpected(ElementwiseOp op) {
  std::vector<float> expected;
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 3; ++j) {
      for (int k = 0; k < 4; ++k) {
        const float a = static_cast<float>(12 * i + 4 * j + k);
        const float b = static_cast<float>(10 * (j + 1));
        expected.push_back(op == ElementwiseOp::kAdd   ? a + b
                           : op == ElementwiseOp::kSub ? a - b
                                                       : a * b);
      }
    }
  }
  return expected;
}

TEST(ElementwiseTest, BroadcastAddSubMul) {
  const Tensor a = Iota({2, 3, 4});
  const Tensor b = MakeTensor({3, 1}, {10, 20, 30});
  for (ElementwiseOp op : {ElementwiseOp::kAdd, ElementwiseOp::kSub, ElementwiseOp::kMul}) {
    Tensor y;
    ASSERT_TRUE(Elementwise(a, b, op, &y).ok());
    ExpectTensorNear(y, {2, 3, 4}, BroadcastExpected(op), kExact);
  }
  // Spot checks by hand: a[1][2][3] = 23, b' = 30.
  Tensor y;
  ASSERT_TRUE(Elementwise(a, b, ElementwiseOp::kAdd, &y).ok());
  EXPECT_EQ(Values(y)[23], 53.0f);
  ASSERT_TRUE(Elementwise(a, b, ElementwiseOp::kSub, &y).ok());
  EXPECT_EQ(Values(y)[4], 4.0f - 20.0f);  // a[0][1][0] = 4, b' = 20
  // Operand order matters for sub: b - a has the same shape, opposite sign.
  ASSERT_TRUE(Elementwise(b, a, ElementwiseOp::kSub, &y).ok());
  EXPECT_EQ(y.GetDimension().GetDims(), (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(Values(y)[23], 30.0f - 23.0f);
}

TEST(ElementwiseTest, BothOperandsBroadcast) {
  // [3,1] + [1,4] -> [3,4], y[i][j] = 10 i + j.
  const Tensor a = MakeTensor({3, 1}, {0, 10, 20});
  const Tensor b = MakeTensor({1, 4}, {0, 1, 2, 3});
  Tensor y;
  ASSERT_TRUE(Elementwise(a, b, ElementwiseOp::kAdd, &y).ok());
  ExpectTensorNear(y, {3, 4}, {0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23}, kExact);
}

TEST(ElementwiseTest, RejectsIncompatibleShapes) {
  Tensor y;
  const Status st = Elementwise(Iota({2, 3}), Iota({4}), ElementwiseOp::kAdd, &y);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("do not broadcast"), std::string::npos) << st.message();
  EXPECT_FALSE(Elementwise(Iota({2}), Iota({2}), static_cast<ElementwiseOp>(9), &y).ok());
}

// --- Concat -------------------------------------------------------------------------

TEST(ConcatTest, AxisOne) {
  // [[1],[2]] ++ [[3,4],[5,6]] on axis 1 = [[1,3,4],[2,5,6]].
  const Tensor a = MakeTensor({2, 1}, {1, 2});
  const Tensor b = MakeTensor({2, 2}, {3, 4, 5, 6});
  Tensor y;
  ASSERT_TRUE(Concat({&a, &b}, 1, &y).ok());
  ExpectTensorNear(y, {2, 3}, {1, 3, 4, 2, 5, 6}, kExact);
}

TEST(ConcatTest, AxisZero) {
  // [[1,2]] ++ [[3,4],[5,6]] on axis 0 = [[1,2],[3,4],[5,6]].
  const Tensor a = MakeTensor({1, 2}, {1, 2});
  const Tensor b = MakeTensor({2, 2}, {3, 4, 5, 6});
  Tensor y;
  ASSERT_TRUE(Concat({&a, &b}, 0, &y).ok());
  ExpectTensorNear(y, {3, 2}, {1, 2, 3, 4, 5, 6}, kExact);
}

TEST(ConcatTest, RejectsMismatchAndBadAxis) {
  const Tensor a = Iota({2, 2});
  const Tensor b = Iota({3, 3});
  Tensor y;
  EXPECT_FALSE(Concat({&a, &b}, 1, &y).ok());
  EXPECT_FALSE(Concat({&a, &a}, 2, &y).ok());
  EXPECT_FALSE(Concat({&a, nullptr}, 0, &y).ok());
  EXPECT_FALSE(Concat({}, 0, &y).ok());
}

// --- BatchNorm ----------------------------------------------------------------------

TEST(BatchNormTest, PerChannelAffine) {
  // x [1,2,1,2]: c0 = [1,3], c1 = [0,4]. mean [2,1], var [3.5,0.5], epsilon 0.5 so that
  // sqrt(var + eps) = [2,1]; scale [2,-1], bias [1,0.5].
  // c0: (1-2)/2*2+1 = 0, (3-2)/2*2+1 = 2.   c1: (0-1)*-1+0.5 = 1.5, (4-1)*-1+0.5 = -2.5.
  const Tensor x = MakeTensor({1, 2, 1, 2}, {1, 3, 0, 4});
  const Tensor mean = MakeTensor({2}, {2, 1});
  const Tensor var = MakeTensor({2}, {3.5f, 0.5f});
  const Tensor scale = MakeTensor({2}, {2, -1});
  const Tensor bias = MakeTensor({2}, {1, 0.5f});
  Tensor y;
  const Status st = BatchNorm(x, mean, var, scale, bias, 0.5, &y);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ExpectTensorNear(y, {1, 2, 1, 2}, {0, 2, 1.5f, -2.5f}, kExact);
}

TEST(BatchNormTest, RejectsWrongParameterShapeAndEpsilon) {
  const Tensor x = Iota({1, 2, 2, 2});
  const Tensor two = MakeTensor({2}, {1, 1});
  const Tensor three = MakeTensor({3}, {1, 1, 1});
  Tensor y;
  EXPECT_FALSE(BatchNorm(x, two, two, three, two, 1e-5, &y).ok());
  EXPECT_FALSE(BatchNorm(x, two, two, two, two, 0.0, &y).ok());
  EXPECT_TRUE(BatchNorm(x, two, two, two, two, 1e-5, &y).ok());
}

// --- Softmax ------------------------------------------------------------------------

TEST(SoftmaxTest, HandValuesAndLargeInputs) {
  // Row [1,2,3]: exp(-2), exp(-1), 1 over their sum 1.50321472:
  // [0.09003057, 0.24472847, 0.66524096]. Row [1000,1000,1000] would overflow exp()
  // without the max subtraction: [1/3, 1/3, 1/3]. Values < 1: float error <= 6e-8.
  const Tensor x = MakeTensor({2, 3}, {1, 2, 3, 1000, 1000, 1000});
  Tensor y;
  ASSERT_TRUE(Softmax(x, 1, &y).ok());
  ExpectTensorNear(y, {2, 3}, {0.09003057f, 0.24472847f, 0.66524096f, 1 / 3.0f, 1 / 3.0f, 1 / 3.0f},
                   1e-7f);
}

TEST(SoftmaxTest, AxisZeroNormalizesColumns) {
  // x = [[0, 0], [ln 3, 0]]: column 0 -> [1/4, 3/4], column 1 -> [1/2, 1/2].
  const Tensor x = MakeTensor({2, 2}, {0, 0, std::log(3.0f), 0});
  Tensor y;
  ASSERT_TRUE(Softmax(x, 0, &y).ok());
  ExpectTensorNear(y, {2, 2}, {0.25f, 0.5f, 0.75f, 0.5f}, 1e-7f);
}

TEST(SoftmaxTest, RowsSumToOne) {
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> dist(-20.0f, 20.0f);
  std::vector<float> values(7 * 13);
  for (float& v : values) v = dist(rng);
  Tensor y;
  ASSERT_TRUE(Softmax(MakeTensor({7, 13}, values), 1, &y).ok());
  const std::vector<float> out = Values(y);
  for (int r = 0; r < 7; ++r) {
    double sum = 0.0;
    for (int c = 0; c < 13; ++c) {
      EXPECT_GE(out[r * 13 + c], 0.0f);
      sum += out[r * 13 + c];
    }
    // 13 values each rounded to float (relative 6e-8): the sum is within 1e-6 of 1.
    EXPECT_NEAR(sum, 1.0, 1e-6) << "row " << r;
  }
}

TEST(SoftmaxTest, RejectsBadAxis) {
  Tensor y;
  EXPECT_FALSE(Softmax(Iota({2, 3}), 2, &y).ok());
  EXPECT_FALSE(Softmax(Iota({2, 3}), -1, &y).ok());
}

// --- Reshape / Flatten --------------------------------------------------------------

TEST(ReshapeTest, ZeroCopiesAndMinusOneInfers) {
  const Tensor x = Iota({2, 3, 4});
  Tensor y;
  // [0, -1]: 0 copies 2; -1 = 24 / 2 = 12.
  ASSERT_TRUE(Reshape(x, {0, -1}, &y).ok());
  ExpectTensorNear(y, {2, 12}, Values(x), kExact);
  // [-1, 0, 2]: 0 copies 3 (index 1); -1 = 24 / (3*2) = 4.
  ASSERT_TRUE(Reshape(x, {-1, 0, 2}, &y).ok());
  ExpectTensorNear(y, {4, 3, 2}, Values(x), kExact);
  // The output is a copy, not a view.
  EXPECT_NE(y.GetData(), x.GetData());
}

TEST(ReshapeTest, RejectsInvalidShapes) {
  const Tensor x = Iota({2, 3, 4});
  Tensor y;
  EXPECT_FALSE(Reshape(x, {-1, -1}, &y).ok());      // two -1
  EXPECT_FALSE(Reshape(x, {-1, 5}, &y).ok());       // 24 not divisible by 5
  EXPECT_FALSE(Reshape(x, {0, 0, 0, 0}, &y).ok());  // 0 beyond the input rank
  EXPECT_FALSE(Reshape(x, {5, 5}, &y).ok());        // 25 != 24
  EXPECT_FALSE(Reshape(x, {-2, 12}, &y).ok());      // negative extent
}

TEST(FlattenTest, Axes) {
  const Tensor x = Iota({2, 3, 4});
  Tensor y;
  ASSERT_TRUE(Flatten(x, 0, &y).ok());
  ExpectTensorNear(y, {1, 24}, Values(x), kExact);
  ASSERT_TRUE(Flatten(x, 2, &y).ok());
  ExpectTensorNear(y, {6, 4}, Values(x), kExact);
  ASSERT_TRUE(Flatten(x, 3, &y).ok());
  ExpectTensorNear(y, {24, 1}, Values(x), kExact);
  EXPECT_FALSE(Flatten(x, 4, &y).ok());
}

// --- Transpose ----------------------------------------------------------------------

TEST(TransposeTest, NchwToNhwc) {
  // x [1,2,3,4] = 0..23, x[0][c][h][w] = 12c + 4h + w. perm [0,2,3,1] gives [1,3,4,2]
  // with y[0][h][w][c] = 12c + 4h + w: 0, 12, 1, 13, 2, 14, ...
  const Tensor x = Iota({1, 2, 3, 4});
  Tensor y;
  ASSERT_TRUE(Transpose(x, {0, 2, 3, 1}, &y).ok());
  std::vector<float> expected;
  for (int h = 0; h < 3; ++h) {
    for (int w = 0; w < 4; ++w) {
      for (int c = 0; c < 2; ++c) expected.push_back(static_cast<float>(12 * c + 4 * h + w));
    }
  }
  ExpectTensorNear(y, {1, 3, 4, 2}, expected, kExact);
  EXPECT_EQ(Values(y)[1], 12.0f);
  EXPECT_EQ(Values(y)[3], 13.0f);
}

TEST(TransposeTest, FullReversal) {
  // [2,1,1,3] -> perm [3,2,1,0] -> [3,1,1,2]: y[k][0][0][i] = x[i][0][0][k] = 3i + k.
  const Tensor x = Iota({2, 1, 1, 3});
  Tensor y;
  ASSERT_TRUE(Transpose(x, {3, 2, 1, 0}, &y).ok());
  ExpectTensorNear(y, {3, 1, 1, 2}, {0, 3, 1, 4, 2, 5}, kExact);
}

TEST(TransposeTest, RejectsNonPermutation) {
  Tensor y;
  EXPECT_FALSE(Transpose(Iota({2, 3}), {0, 0}, &y).ok());
  EXPECT_FALSE(Transpose(Iota({2, 3}), {0, 1, 2}, &y).ok());
  EXPECT_FALSE(Transpose(Iota({2, 3}), {1, 2}, &y).ok());
}

}  // namespace
}  // namespace qsdk::reference
