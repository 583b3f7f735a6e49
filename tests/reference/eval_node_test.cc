// reference::EvalNode on a small hand-built graph: dispatch, attributes, fused
// activations, Const nodes, shapes from concrete inputs, and input validation.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "graph/attributes.h"
#include "graph/graph.h"
#include "graph_builder_util.h"
#include "reference/reference.h"
#include "reference_test_util.h"

namespace qsdk::reference {
namespace {

using namespace testing;  // NOLINT(build/namespaces)

// Small-integer arithmetic in these examples is exact.
constexpr float kExact = 0.0f;

// EvalNode on the example's FullyConnected node with input `x` and the example's weights
// and bias.
Status EvalFc(const FcGraph& f, const Tensor& x, std::vector<Tensor>* out) {
  const Tensor w = MakeTensor({3, 2}, kFcWeights);
  const Tensor b = MakeTensor({3}, kFcBias);
  return EvalNode(f.g, f.fc, {&x, &w, &b}, out);
}

TEST(EvalNodeTest, FullyConnectedWithFusedActivationAndConcreteBatch) {
  FcGraph f = MakeFcGraph();
  // x = [[1,2],[-1,0]]; x.w^T + b = [[1, 2-3, 1-2+0.5], [-1, -3, -1+0.5]]
  //                               = [[1, -1, -0.5], [-1, -3, -0.5]];
  // LeakyRelu(0.5): [[1, -0.5, -0.25], [-0.5, -1.5, -0.25]].
  const Tensor x = MakeTensor({2, 2}, {1, 2, -1, 0});
  std::vector<Tensor> out;
  const Status st = EvalFc(f, x, &out);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].GetName(), "h");
  ExpectTensorNear(out[0], {2, 3}, {1, -0.5f, -0.25f, -0.5f, -1.5f, -0.25f}, kExact);
}

TEST(EvalNodeTest, ConstNodeReturnsACopyOfItsData) {
  FcGraph f = MakeFcGraph();
  const graph::NodeId const_w = f.g.tensors[f.w].producer;
  std::vector<Tensor> out;
  ASSERT_TRUE(EvalNode(f.g, const_w, {}, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].GetName(), "w");
  ExpectTensorNear(out[0], {3, 2}, kFcWeights, kExact);
  EXPECT_TRUE(out[0].OwnsData());
  EXPECT_NE(out[0].GetData(), static_cast<const void*>(f.g.tensors[f.w].data->data()));
}

TEST(EvalNodeTest, ConvReadsGeometryAttributes) {
  // Same example as ConvTest.StrideTwoAsymmetricPadAndDilation, through the graph
  // attributes: [43, 21, 118, 52] + bias 0.5, then a fused Clip(0, 100) caps 118.5.
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 1, 4, 4});
  const TensorId w = AddConst(&g, "w", {1, 1, 2, 2}, {1, 2, 3, 4});
  const TensorId b = AddConst(&g, "b", {1}, {0.5f});
  AttrMap a = ConvAttrs({2, 2}, {1, 0, 0, 1}, {2, 2});
  a.SetInt(attr::kFusedActivation, static_cast<int64_t>(ActivationType::kClip));
  a.SetFloat(attr::kFusedAlpha, 0.0);
  a.SetFloat(attr::kFusedBeta, 100.0);
  const TensorId y = AddOp(&g, NodeType::kConv, "conv", {x, w, b}, a, "y");
  g.outputs = {y};
  const Tensor xv = Iota({1, 1, 4, 4}, 1.0f);
  const Tensor wv = MakeTensor({1, 1, 2, 2}, {1, 2, 3, 4});
  const Tensor bv = MakeTensor({1}, {0.5f});
  std::vector<Tensor> out;
  const Status st = EvalNode(g, g.tensors[y].producer, {&xv, &wv, &bv}, &out);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ExpectTensorNear(out[0], {1, 1, 2, 2}, {43.5f, 21.5f, 100, 52.5f}, kExact);
}

TEST(EvalNodeTest, ReshapeWithDynamicBatchUsesConcreteShape) {
  // Graph input [-1, 6], Reshape to [0, -1, 2]: with a batch of 2 -> [2, 3, 2].
  Graph g;
  const TensorId x = AddInput(&g, "x", {-1, 6});
  AttrMap a;
  a.SetInts(attr::kShape, {0, -1, 2});
  const TensorId y = AddOp(&g, NodeType::kReshape, "reshape", {x}, a, "y");
  g.outputs = {y};
  const Tensor xv = Iota({2, 6});
  std::vector<Tensor> out;
  ASSERT_TRUE(EvalNode(g, g.tensors[y].producer, {&xv}, &out).ok());
  ExpectTensorNear(out[0], {2, 3, 2}, testing::Values(xv), kExact);
}

TEST(EvalNodeTest, AbsentOptionalBiasIsNullptr) {
  // MatMul with an empty bias slot: a [1,2] = [1,2], b [2,1] = [3,4] -> 1*3 + 2*4 = 11.
  Graph g;
  const TensorId a = AddInput(&g, "a", {1, 2});
  const TensorId b = AddInput(&g, "b", {2, 1});
  AttrMap attrs;
  attrs.SetInt(attr::kTransposeA, 0);
  attrs.SetInt(attr::kTransposeB, 0);
  const TensorId y = AddOp(&g, NodeType::kMatMul, "mm", {a, b, graph::kNoTensor}, attrs, "y");
  const graph::NodeId mm = g.tensors[y].producer;
  const Tensor av = MakeTensor({1, 2}, {1, 2});
  const Tensor bv = MakeTensor({2, 1}, {3, 4});
  std::vector<Tensor> out;
  const Status st = EvalNode(g, mm, {&av, &bv, nullptr}, &out);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ExpectTensorNear(out[0], {1, 1}, {11}, kExact);
  // A tensor for the absent slot is a caller error.
  EXPECT_FALSE(EvalNode(g, mm, {&av, &bv, &bv}, &out).ok());
}

TEST(EvalNodeTest, InvalidAttributeIsReportedWithTheNodeName) {
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 1, 4, 4});
  const TensorId y =
      AddOp(&g, NodeType::kPool, "pool1", {x}, PoolAttrs(PoolMode::kMax, {2, 2}, {0, 1}), "y");
  const Tensor xv = Iota({1, 1, 4, 4});
  std::vector<Tensor> out;
  const Status st = EvalNode(g, g.tensors[y].producer, {&xv}, &out);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("pool1"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("strides"), std::string::npos) << st.message();
}

TEST(EvalNodeTest, RejectsWrongDtype) {
  FcGraph f = MakeFcGraph();
  int8_t bytes[4] = {1, 2, 3, 4};
  const Tensor x = Tensor::Wrap(DataType::INT8, Dims({2, 2}), bytes);
  std::vector<Tensor> out;
  const Status st = EvalFc(f, x, &out);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("'fc'"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("INT8"), std::string::npos) << st.message();
}

TEST(EvalNodeTest, RejectsMissingInputAndWrongCount) {
  FcGraph f = MakeFcGraph();
  const Tensor x = MakeTensor({2, 2}, {1, 2, -1, 0});
  const Tensor w = MakeTensor({3, 2}, kFcWeights);
  std::vector<Tensor> out;
  // Slot 2 (bias) is present in the graph, so nullptr there is a missing input.
  Status st = EvalNode(f.g, f.fc, {&x, &w, nullptr}, &out);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("missing"), std::string::npos) << st.message();
  st = EvalNode(f.g, f.fc, {&x, &w}, &out);
  EXPECT_FALSE(st.ok());
  st = EvalNode(f.g, f.fc, {nullptr, &w, &w}, &out);
  EXPECT_FALSE(st.ok());
  // Node id out of range.
  EXPECT_FALSE(EvalNode(f.g, 99, {}, &out).ok());
}

TEST(EvalNodeTest, RejectsShapesThatBreakTheOpRules) {
  FcGraph f = MakeFcGraph();
  // K = 3 does not match the weight's K = 2: shape inference rejects it, naming the node.
  const Tensor x = Iota({2, 3});
  std::vector<Tensor> out;
  const Status st = EvalFc(f, x, &out);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("'fc'"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace qsdk::reference
