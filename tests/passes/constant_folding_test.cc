// FoldConstants (src/builder/passes/constant_folding.cc).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "builder/passes/pass.h"
#include "passes/pass_test_util.h"

namespace qsdk::builder {
namespace {

using namespace ::qsdk::passes_test;  // NOLINT(build/namespaces)

// Folding evaluates a node with the same reference kernel the interpreter would run, on
// the same values: the results are bit-identical (tolerance 0).
constexpr double kExact = 0.0;

// x [-1,2,3] + transpose(reshape(c1 * c2 + c3)) where the constant branch folds.
Graph ConstantBranch(std::mt19937* rng) {
  Graph g;
  const TensorId x = AddInput(&g, "x", {-1, 2, 3});
  const TensorId c1 = AddRandomConst(&g, "c1", {6}, rng);
  const TensorId c2 = AddRandomConst(&g, "c2", {6}, rng);
  const TensorId c3 = AddRandomConst(&g, "c3", {1}, rng);
  const NodeId mul = AddOp(&g, NodeType::kElementwise, "mul", {c1, c2},
                           ElementwiseAttrs(ElementwiseOp::kMul), "prod");
  const NodeId add = AddOp(&g, NodeType::kElementwise, "add", {Out(g, mul), c3},
                           ElementwiseAttrs(ElementwiseOp::kAdd), "sum");
  const NodeId reshape = AddOp(&g, NodeType::kReshape, "reshape", {Out(g, add)},
                               ReshapeAttrs({3, 2}), "r");
  const NodeId transpose = AddOp(&g, NodeType::kTranspose, "transpose", {Out(g, reshape)},
                                 TransposeAttrs({1, 0}), "t");
  const NodeId out = AddOp(&g, NodeType::kElementwise, "out", {x, Out(g, transpose)},
                           ElementwiseAttrs(ElementwiseOp::kAdd), "y");
  g.outputs = {Out(g, out)};
  return g;
}

TEST(FoldConstantsTest, FoldsAChainOfConstantNodes) {
  std::mt19937 rng(60);
  Graph g = ConstantBranch(&rng);
  Finish(&g);
  const Graph before = g;
  const std::vector<float> c1(g.tensors[g.FindTensor("c1")].data->As<float>(),
                              g.tensors[g.FindTensor("c1")].data->As<float>() + 6);
  const std::vector<float> c2(g.tensors[g.FindTensor("c2")].data->As<float>(),
                              g.tensors[g.FindTensor("c2")].data->As<float>() + 6);
  const float c3 = g.tensors[g.FindTensor("c3")].data->As<float>()[0];

  ASSERT_TRUE(FoldConstants(&g).ok());
  ExpectValidAndInferred(g);
  for (const char* name : {"mul", "add", "reshape", "transpose"}) {
    const NodeId n = g.FindNode(name);
    ASSERT_NE(n, graph::kNoNode) << name;
    EXPECT_EQ(g.nodes[n].type, NodeType::kConst) << name;
    EXPECT_TRUE(g.nodes[n].inputs.empty()) << name;
    EXPECT_TRUE(g.nodes[n].input_precisions.empty()) << name;
    EXPECT_TRUE(g.tensors[g.nodes[n].outputs[0]].is_constant()) << name;
  }
  // The folded tensor keeps its name and feeds the node reading the graph input.
  const TensorId t = g.FindTensor("t");
  ASSERT_NE(t, graph::kNoTensor);
  EXPECT_EQ(g.tensors[t].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(g.nodes[g.FindNode("out")].type, NodeType::kElementwise);
  EXPECT_EQ(g.nodes[g.FindNode("out")].inputs[1], t);
  // t[i][j] = r[j][i] = sum[j * 2 + i] = c1 * c2 + c3 (products rounded to float first, as
  // the reference does).
  const float* tv = g.tensors[t].data->As<float>();
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 3; ++j) {
      const int k = j * 2 + i;
      const float expected = static_cast<float>(c1[k] * c2[k]) + c3;
      EXPECT_EQ(tv[i * 3 + j], expected) << i << "," << j;
    }
  }
  for (int64_t batch : {1, 4}) {
    ExpectSameResults(g, before, {{batch, 2, 3}},
                      61 + static_cast<uint32_t>(batch), kExact, kExact);
  }

  // The original constants are now unread; dead node removal drops them and the folded
  // intermediates, leaving the input, the final constant and the add.
  ASSERT_TRUE(RemoveDeadNodes(&g).ok());
  EXPECT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(CountNodes(g, NodeType::kConst), 1);
  EXPECT_NE(g.FindTensor("t"), graph::kNoTensor);
  EXPECT_EQ(g.FindTensor("c1"), graph::kNoTensor);
  ExpectSameResults(g, before, {{2, 2, 3}}, 65, kExact, kExact);
}

TEST(FoldConstantsTest, FoldsConvWithConstantInput) {
  std::mt19937 rng(66);
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 2, 2, 2});
  const TensorId img = AddRandomConst(&g, "img", {1, 3, 4, 4}, &rng);
  const TensorId w = AddRandomConst(&g, "w", {2, 3, 3, 3}, &rng);
  const TensorId b = AddRandomConst(&g, "b", {2}, &rng);
  graph::AttrMap attrs = ConvAttrs();
  attrs.SetInt(graph::attr::kFusedActivation, static_cast<int64_t>(ActivationType::kRelu));
  const NodeId conv = AddOp(&g, NodeType::kConv, "conv", {img, w, b}, attrs, "feat");
  const NodeId mul = AddOp(&g, NodeType::kElementwise, "mul", {x, Out(g, conv)},
                           ElementwiseAttrs(ElementwiseOp::kMul), "y");
  g.outputs = {Out(g, mul)};
  Finish(&g);
  const Graph before = g;
  ASSERT_TRUE(FoldConstants(&g).ok());
  ExpectValidAndInferred(g);
  EXPECT_EQ(g.nodes[g.FindNode("conv")].type, NodeType::kConst);
  EXPECT_TRUE(g.nodes[g.FindNode("conv")].attrs.values().empty());
  // The fused ReLU was applied while folding.
  const graph::Tensor& feat = g.tensors[g.FindTensor("feat")];
  for (int i = 0; i < 8; ++i) EXPECT_GE(feat.data->As<float>()[i], 0.0f);
  ExpectSameResults(g, before, {{1, 2, 2, 2}}, 67, kExact, kExact);
}

TEST(FoldConstantsTest, NodesReadingGraphInputsAreNotFolded) {
  Graph g = AddThenRelu(68);
  const TensorId x = g.FindTensor("x");
  g.outputs = {Out(g, g.FindNode("relu"))};
  Finish(&g);
  const Graph before = g;
  ASSERT_TRUE(FoldConstants(&g).ok());
  ASSERT_EQ(g.nodes.size(), before.nodes.size());
  for (size_t n = 0; n < g.nodes.size(); ++n) EXPECT_EQ(g.nodes[n].type, before.nodes[n].type);
  EXPECT_FALSE(g.tensors[x].is_constant());
  EXPECT_TRUE(g.IsGraphInput(x));
}

TEST(FoldConstantsTest, GraphOutputsAndPrecisionRequestsAreNotFolded) {
  std::mt19937 rng(69);
  Graph g;
  const TensorId x = AddInput(&g, "x", {3});
  const TensorId c = AddRandomConst(&g, "c", {3}, &rng);
  // A constant node whose output is a graph output.
  const NodeId neg = AddOp(&g, NodeType::kActivation, "tanh", {c},
                           ActivationAttrs(ActivationType::kTanh), "const_out");
  // A constant node with a precision request.
  const NodeId req = AddOp(&g, NodeType::kActivation, "sig", {c},
                           ActivationAttrs(ActivationType::kSigmoid), "s");
  g.nodes[req].output_types[0] = DataType::BFLOAT16;
  const NodeId add = AddOp(&g, NodeType::kElementwise, "add", {x, Out(g, req)},
                           ElementwiseAttrs(ElementwiseOp::kAdd), "y");
  g.outputs = {Out(g, add), Out(g, neg)};
  Finish(&g);
  const Graph before = g;
  ASSERT_TRUE(FoldConstants(&g).ok());
  EXPECT_EQ(g.nodes[g.FindNode("tanh")].type, NodeType::kActivation);
  EXPECT_EQ(g.nodes[g.FindNode("sig")].type, NodeType::kActivation);
  EXPECT_EQ(g.nodes[g.FindNode("sig")].output_types[0], DataType::BFLOAT16);
  ExpectSameResults(g, before, {{3}}, 70, kExact, kExact);
}

TEST(FoldConstantsTest, InvalidGraphIsReported) {
  Graph g;
  EXPECT_FALSE(FoldConstants(&g).ok());  // no outputs
  EXPECT_FALSE(FoldConstants(nullptr).ok());
}

}  // namespace
}  // namespace qsdk::builder
