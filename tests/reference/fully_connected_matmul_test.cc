// FullyConnected (including a 4-D input) and MatMul (broadcast batch, transposes, bias).
#include <gtest/gtest.h>

#include <vector>

#include "reference/ops.h"
#include "reference_test_util.h"

namespace qsdk::reference {
namespace {

using namespace testing;  // NOLINT(build/namespaces)

// Sums of products of small integers and halves are exact in double and in float.
constexpr float kExact = 0.0f;

TEST(FullyConnectedTest, FourDimInputIsFlattened) {
  // x [2,1,2,2] flattens to rows x0 = [1,2,3,4], x1 = [-1,0,1,2] (K = 4).
  // w rows: [1,0,0,0] (picks x[0]), [1,1,1,1] (sum), [0.5,-1,0,2]; b = [0, 1, -1].
  // y0 = [1, 10+1, 0.5-2+8-1] = [1, 11, 5.5]; y1 = [-1, 2+1, -0.5+4-1] = [-1, 3, 2.5].
  const Tensor x = MakeTensor({2, 1, 2, 2}, {1, 2, 3, 4, -1, 0, 1, 2});
  const Tensor w = MakeTensor({3, 4}, {1, 0, 0, 0, 1, 1, 1, 1, 0.5f, -1, 0, 2});
  const Tensor b = MakeTensor({3}, {0, 1, -1});
  Tensor y;
  const Status st = FullyConnected(x, w, &b, FusedActivation(), &y);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ExpectTensorNear(y, {2, 3}, {1, 11, 5.5f, -1, 3, 2.5f}, kExact);
}

TEST(FullyConnectedTest, FusedLeakyRelu) {
  // x = [1, -2], w = identity, no bias; LeakyRelu alpha 0.25: [1, -0.5].
  const Tensor x = MakeTensor({1, 2}, {1, -2});
  const Tensor w = MakeTensor({2, 2}, {1, 0, 0, 1});
  FusedActivation act;
  act.type = ActivationType::kLeakyRelu;
  act.alpha = 0.25f;
  Tensor y;
  ASSERT_TRUE(FullyConnected(x, w, nullptr, act, &y).ok());
  ExpectTensorNear(y, {1, 2}, {1, -0.5f}, kExact);
}

TEST(FullyConnectedTest, RejectsMismatchedK) {
  Tensor y;
  const Status st =
      FullyConnected(Iota({2, 1, 2, 2}), Iota({3, 5}), nullptr, FusedActivation(), &y);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("[OC, 4]"), std::string::npos) << st.message();
  EXPECT_FALSE(FullyConnected(Iota({4}), Iota({3, 4}), nullptr, FusedActivation(), &y).ok());
}

TEST(MatMulTest, BroadcastBatch) {
  // a [2,1,1,2]: a0 = [1,2], a1 = [3,4]; b [3,2,1]: columns b0 = [1,0], b1 = [0,1],
  // b2 = [1,1]. Batch dims [2,1] and [3] broadcast to [2,3]; y[i][j] = a_i . b_j:
  // [1, 2, 3, 3, 4, 7].
  const Tensor a = MakeTensor({2, 1, 1, 2}, {1, 2, 3, 4});
  const Tensor b = MakeTensor({3, 2, 1}, {1, 0, 0, 1, 1, 1});
  Tensor y;
  const Status st = MatMul(a, b, nullptr, MatMulParams(), &y);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ExpectTensorNear(y, {2, 3, 1, 1}, {1, 2, 3, 3, 4, 7}, kExact);
}

TEST(MatMulTest, BothTransposedWithRowBias) {
  // a stored [3,2] = [[1,2],[3,4],[5,6]], transposed: A = [[1,3,5],[2,4,6]].
  // b stored [2,3] = [[1,0,-1],[2,1,0]], transposed: B = [[1,2],[0,1],[-1,0]].
  // A.B = [[1-5, 2+3], [2-6, 4+4]] = [[-4,5],[-4,8]]; bias [1,3] on every row.
  const Tensor a = MakeTensor({3, 2}, {1, 2, 3, 4, 5, 6});
  const Tensor b = MakeTensor({2, 3}, {1, 0, -1, 2, 1, 0});
  const Tensor bias = MakeTensor({2}, {1, 3});
  MatMulParams p;
  p.transpose_a = true;
  p.transpose_b = true;
  Tensor y;
  const Status st = MatMul(a, b, &bias, p, &y);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ExpectTensorNear(y, {2, 2}, {-3, 8, -3, 11}, kExact);

  // A bias [2,1] adds per row instead: [[-4+10, 5+10], [-4+20, 8+20]].
  const Tensor column_bias = MakeTensor({2, 1}, {10, 20});
  ASSERT_TRUE(MatMul(a, b, &column_bias, p, &y).ok());
  ExpectTensorNear(y, {2, 2}, {6, 15, 16, 28}, kExact);
}

TEST(MatMulTest, TransposeBWithBroadcastBatchAndFusedRelu6) {
  // a [1,1,2] = [1,2] broadcast over b's batch of 2; b stored [2,2,2] as [N,K]:
  // b0 = [[1,2],[3,4]] -> B0 = [[1,3],[2,4]]: a.B0 = [5, 11] -> Relu6 [5, 6]
  // b1 = [[0,1],[1,0]] -> B1 = [[0,1],[1,0]]: a.B1 = [2, 1].
  // (Without the transpose a.b0 would be [7, 10].)
  const Tensor a = MakeTensor({1, 1, 2}, {1, 2});
  const Tensor b = MakeTensor({2, 2, 2}, {1, 2, 3, 4, 0, 1, 1, 0});
  MatMulParams p;
  p.transpose_b = true;
  p.activation.type = ActivationType::kRelu6;
  Tensor y;
  ASSERT_TRUE(MatMul(a, b, nullptr, p, &y).ok());
  ExpectTensorNear(y, {2, 1, 2}, {5, 6, 2, 1}, kExact);
}

TEST(MatMulTest, RejectsBadShapes) {
  Tensor y;
  // Inner extents 3 vs 2.
  EXPECT_FALSE(MatMul(Iota({2, 3}), Iota({2, 2}), nullptr, MatMulParams(), &y).ok());
  // Rank 1.
  EXPECT_FALSE(MatMul(Iota({3}), Iota({3, 2}), nullptr, MatMulParams(), &y).ok());
  // Batch 2 vs 3.
  EXPECT_FALSE(MatMul(Iota({2, 1, 1}), Iota({3, 1, 1}), nullptr, MatMulParams(), &y).ok());
  // Bias that would enlarge the output: [3] against N = 2, and rank 3 against rank 2.
  const Tensor wide = Iota({3});
  EXPECT_FALSE(MatMul(Iota({2, 2}), Iota({2, 2}), &wide, MatMulParams(), &y).ok());
  const Tensor deep = Iota({2, 2, 2});
  const Status st = MatMul(Iota({2, 2}), Iota({2, 2}), &deep, MatMulParams(), &y);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("does not broadcast to the output"), std::string::npos)
      << st.message();
}

}  // namespace
}  // namespace qsdk::reference
