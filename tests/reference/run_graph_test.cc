// reference::RunGraph on small hand-built graphs: a chain of ops with a dynamic batch,
// outputs that are graph inputs or constants, and input validation.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "graph/attributes.h"
#include "graph/graph.h"
#include "graph_builder_util.h"
#include "reference/reference.h"
#include "reference_test_util.h"

namespace qsdk::reference {
namespace {

using namespace testing;  // NOLINT(build/namespaces)

// Small-integer and quarter arithmetic in these examples is exact.
constexpr float kExact = 0.0f;

// The FullyConnected example (MakeFcGraph: x [-1,2] -> FC with fused LeakyRelu 0.5 -> h)
// followed by an Elementwise add of c [3] -> y. Outputs: y, x (a graph input) and c (a
// constant).
struct Net {
  Graph g;
  TensorId x, c, h, y;
};

Net MakeNet() {
  FcGraph f = MakeFcGraph();
  Net n;
  n.g = std::move(f.g);
  n.x = f.x;
  n.h = f.h;
  n.c = AddConst(&n.g, "c", {3}, {10, 20, 30});
  AttrMap add;
  add.SetInt(attr::kElementwiseOp, static_cast<int64_t>(ElementwiseOp::kAdd));
  n.y = AddOp(&n.g, NodeType::kElementwise, "add", {n.h, n.c}, add, "y");
  n.g.outputs = {n.y, n.x, n.c};
  return n;
}

TEST(RunGraphTest, ChainWithDynamicBatch) {
  const Net n = MakeNet();
  // h = LeakyRelu_0.5(x.w^T + b) = [[1, -0.5, -0.25], [-0.5, -1.5, -0.25]] for
  // x = [[1,2],[-1,0]] (see EvalNodeTest); y = h + [10, 20, 30].
  const Tensor x = MakeTensor({2, 2}, {1, 2, -1, 0});
  std::vector<Tensor> out;
  const Status st = RunGraph(n.g, {x}, &out);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].GetName(), "y");
  ExpectTensorNear(out[0], {2, 3}, {11, 19.5f, 29.75f, 9.5f, 18.5f, 29.75f}, kExact);
  // The input itself, copied (the caller's buffer is not handed back).
  EXPECT_EQ(out[1].GetName(), "x");
  ExpectTensorNear(out[1], {2, 2}, {1, 2, -1, 0}, kExact);
  EXPECT_NE(out[1].GetData(), x.GetData());
  // The constant, copied.
  EXPECT_EQ(out[2].GetName(), "c");
  ExpectTensorNear(out[2], {3}, {10, 20, 30}, kExact);
  EXPECT_TRUE(out[2].OwnsData());

  // Another batch size through the same graph: one row x = [0, 0] -> h = [0, -1.5, 0.5]
  // -> y = [10, 18.5, 30.5].
  ASSERT_TRUE(RunGraph(n.g, {MakeTensor({1, 2}, {0, 0})}, &out).ok());
  ExpectTensorNear(out[0], {1, 3}, {10, 18.5f, 30.5f}, kExact);
}

TEST(RunGraphTest, ConvPoolFlattenChainMatchesEvalNodeChain) {
  // x [1,1,4,4] -> Conv (2x2 ones, bias -10, stride 1) -> Pool max 3x3 -> Flatten.
  // Conv output (3x3) of x = 1..16: 2x2 block sums 14, 18, 22, 30, 34, 38, 46, 50, 54,
  // minus 10; the 3x3 max is the last one: 44. Flatten -> [1, 1].
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 1, 4, 4});
  const TensorId w = AddConst(&g, "w", {1, 1, 2, 2}, {1, 1, 1, 1});
  const TensorId b = AddConst(&g, "b", {1}, {-10});
  const TensorId c = AddOp(&g, NodeType::kConv, "conv", {x, w, b},
                           ConvAttrs({1, 1}, {0, 0, 0, 0}, {1, 1}), "c");
  const TensorId p =
      AddOp(&g, NodeType::kPool, "pool", {c}, PoolAttrs(PoolMode::kMax, {3, 3}, {1, 1}), "p");
  AttrMap flatten;
  flatten.SetInt(attr::kAxis, 1);
  const TensorId y = AddOp(&g, NodeType::kFlatten, "flatten", {p}, flatten, "y");
  g.outputs = {y, c};

  std::vector<Tensor> out;
  const Status st = RunGraph(g, {Iota({1, 1, 4, 4}, 1.0f)}, &out);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(out.size(), 2u);
  ExpectTensorNear(out[0], {1, 1}, {44}, kExact);
  // The intermediate c is also an output: kept although the pool consumed it.
  ExpectTensorNear(out[1], {1, 1, 3, 3}, {4, 8, 12, 20, 24, 28, 36, 40, 44}, kExact);
}

TEST(RunGraphTest, NodeReadingOneTensorTwice) {
  // y = (x * x) - x for x = [1, 2, 3]: [0, 2, 6]. x is released only after its last use.
  Graph g;
  const TensorId x = AddInput(&g, "x", {3});
  AttrMap mul;
  mul.SetInt(attr::kElementwiseOp, static_cast<int64_t>(ElementwiseOp::kMul));
  const TensorId sq = AddOp(&g, NodeType::kElementwise, "square", {x, x}, mul, "sq");
  AttrMap sub;
  sub.SetInt(attr::kElementwiseOp, static_cast<int64_t>(ElementwiseOp::kSub));
  const TensorId y = AddOp(&g, NodeType::kElementwise, "sub", {sq, x}, sub, "y");
  g.outputs = {y};
  std::vector<Tensor> out;
  const Status st = RunGraph(g, {MakeTensor({3}, {1, 2, 3})}, &out);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ExpectTensorNear(out[0], {3}, {0, 2, 6}, kExact);
}

TEST(RunGraphTest, RejectsWrongInputCount) {
  const Net n = MakeNet();
  std::vector<Tensor> out;
  const Status st = RunGraph(n.g, {}, &out);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("1 inputs"), std::string::npos) << st.message();
}

TEST(RunGraphTest, RejectsWrongDtypeNamingTheTensor) {
  const Net n = MakeNet();
  int32_t data[4] = {1, 2, 3, 4};
  std::vector<Tensor> out;
  const Status st = RunGraph(n.g, {Tensor::Wrap(DataType::INT32, Dims({2, 2}), data)}, &out);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("'x'"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("INT32"), std::string::npos) << st.message();
}

TEST(RunGraphTest, RejectsWrongRankAndFixedExtent) {
  const Net n = MakeNet();
  std::vector<Tensor> out;
  // Graph declares [-1, 2]: extent 1 is fixed.
  Status st = RunGraph(n.g, {Iota({2, 3})}, &out);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("'x'"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("must be 2"), std::string::npos) << st.message();
  st = RunGraph(n.g, {Iota({2, 2, 1})}, &out);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("rank"), std::string::npos) << st.message();
  // An empty tensor (no data).
  st = RunGraph(n.g, {Tensor()}, &out);
  EXPECT_FALSE(st.ok());
}

TEST(RunGraphTest, RejectsInvalidGraph) {
  Net n = MakeNet();
  n.g.outputs.clear();
  std::vector<Tensor> out;
  EXPECT_FALSE(RunGraph(n.g, {MakeTensor({1, 2}, {0, 0})}, &out).ok());
}

}  // namespace
}  // namespace qsdk::reference
