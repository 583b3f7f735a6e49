// FoldBatchNorm (src/builder/passes/batchnorm_folding.cc).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "builder/passes/pass.h"
#include "passes/pass_test_util.h"

namespace qsdk::builder {
namespace {

using namespace ::qsdk::passes_test;  // NOLINT(build/namespaces)

// Folding moves the per-channel multiply from the output into the weights and rounds the
// new weights and bias to float once: the results differ from the unfolded graph only by
// float rounding of those values (relative ~1e-7 each) propagated through sums of a few
// dozen terms of magnitude <= ~4. 1e-5 relative plus 1e-5 absolute (for outputs near 0
// after cancellation) bounds that with a wide margin, while any wrong formula (a missing
// sqrt, mean not subtracted, wrong channel) is off by >= 1e-2.
constexpr double kRtol = 1e-5;
constexpr double kAtol = 1e-5;

// Adds the four BatchNorm parameters for `channels` with var > 0 and returns the node.
NodeId AddBatchNorm(Graph* g, const std::string& name, TensorId x, int64_t channels,
                    std::mt19937* rng, double epsilon = 1e-3) {
  const TensorId mean = AddRandomConst(g, name + "_mean", {channels}, rng, -0.5f, 0.5f);
  const TensorId var = AddRandomConst(g, name + "_var", {channels}, rng, 0.5f, 2.0f);
  const TensorId scale = AddRandomConst(g, name + "_scale", {channels}, rng, -2.0f, 2.0f);
  const TensorId bias = AddRandomConst(g, name + "_bias", {channels}, rng, -1.0f, 1.0f);
  return AddOp(g, NodeType::kBatchNorm, name, {x, mean, var, scale, bias},
               BatchNormAttrs(epsilon), name + "_out");
}

TEST(FoldBatchNormTest, ConvWithBias) {
  std::mt19937 rng(1);
  Graph g;
  const TensorId x = AddInput(&g, "x", {-1, 3, 7, 7});
  const TensorId w = AddRandomConst(&g, "w", {4, 3, 3, 3}, &rng);
  const TensorId b = AddRandomConst(&g, "b", {4}, &rng);
  const NodeId conv = AddOp(&g, NodeType::kConv, "conv", {x, w, b},
                            ConvAttrs({2, 1}, {1, 0, 1, 1}), "conv_out");
  const NodeId bn = AddBatchNorm(&g, "bn", Out(g, conv), 4, &rng);
  const NodeId relu = AddOp(&g, NodeType::kActivation, "relu", {Out(g, bn)},
                            ActivationAttrs(ActivationType::kRelu), "y");
  g.outputs = {Out(g, relu)};
  Finish(&g);
  const Graph before = g;

  ASSERT_TRUE(FoldBatchNorm(&g).ok());
  ExpectValidAndInferred(g);
  EXPECT_EQ(CountNodes(g, NodeType::kBatchNorm), 0);
  const NodeId c = g.FindNode("conv");
  ASSERT_NE(c, graph::kNoNode);
  // The conv now produces the BatchNorm's output tensor, read by relu.
  EXPECT_EQ(g.tensors[g.nodes[c].outputs[0]].name, "bn_out");
  EXPECT_EQ(g.FindTensor("conv_out"), graph::kNoTensor);
  EXPECT_EQ(g.nodes[g.FindNode("relu")].inputs[0], g.nodes[c].outputs[0]);
  // New constants replaced the weights; the old ones and the BN parameters are gone.
  ASSERT_EQ(g.nodes[c].inputs.size(), 3u);
  EXPECT_TRUE(g.tensors[g.nodes[c].inputs[1]].is_constant());
  EXPECT_TRUE(g.tensors[g.nodes[c].inputs[2]].is_constant());
  for (const char* gone : {"w", "b", "bn_mean", "bn_var", "bn_scale", "bn_bias"}) {
    EXPECT_EQ(g.FindTensor(gone), graph::kNoTensor) << gone;
    EXPECT_EQ(g.FindNode(gone), graph::kNoNode) << gone;
  }
  EXPECT_EQ(g.tensors[g.nodes[c].inputs[1]].shape, (std::vector<int64_t>{4, 3, 3, 3}));

  for (int64_t batch : {1, 3}) {
    ExpectSameResults(g, before, {{batch, 3, 7, 7}},
                      100 + static_cast<uint32_t>(batch), kRtol, kAtol);
  }
}

TEST(FoldBatchNormTest, ConvWithoutBiasGetsOne) {
  std::mt19937 rng(2);
  Graph g;
  const TensorId x = AddInput(&g, "x", {2, 4, 6, 6});
  const TensorId w = AddRandomConst(&g, "w", {4, 1, 3, 3}, &rng);
  // Depthwise with two inputs only (no bias slot at all).
  const NodeId conv = AddOp(&g, NodeType::kConv, "dw", {x, w},
                            ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 4));
  const NodeId bn = AddBatchNorm(&g, "bn", Out(g, conv), 4, &rng);
  g.outputs = {Out(g, bn)};
  Finish(&g);
  const Graph before = g;

  ASSERT_TRUE(FoldBatchNorm(&g).ok());
  ExpectValidAndInferred(g);
  const NodeId c = g.FindNode("dw");
  ASSERT_EQ(g.nodes[c].inputs.size(), 3u);
  ASSERT_NE(g.nodes[c].inputs[2], graph::kNoTensor);
  EXPECT_EQ(g.tensors[g.nodes[c].inputs[2]].shape, (std::vector<int64_t>{4}));
  EXPECT_EQ(g.nodes[c].input_precisions.size(), 3u);
  // The graph output is still the tensor named bn_out, now produced by the conv.
  EXPECT_EQ(g.tensors[g.outputs[0]].name, "bn_out");
  EXPECT_EQ(g.tensors[g.outputs[0]].producer, c);
  ExpectSameResults(g, before, {{2, 4, 6, 6}}, 7, kRtol, kAtol);
}

TEST(FoldBatchNormTest, FullyConnected) {
  std::mt19937 rng(3);
  Graph g;
  const TensorId x = AddInput(&g, "x", {-1, 2, 2, 3});
  const TensorId w = AddRandomConst(&g, "w", {5, 12}, &rng);
  const TensorId b = AddRandomConst(&g, "b", {5}, &rng);
  const NodeId fc = AddOp(&g, NodeType::kFullyConnected, "fc", {x, w, b}, FcAttrs());
  const NodeId bn = AddBatchNorm(&g, "bn", Out(g, fc), 5, &rng, 1e-5);
  g.outputs = {Out(g, bn)};
  Finish(&g);
  const Graph before = g;

  ASSERT_TRUE(FoldBatchNorm(&g).ok());
  ExpectValidAndInferred(g);
  EXPECT_EQ(CountNodes(g, NodeType::kBatchNorm), 0);
  EXPECT_EQ(g.tensors[g.outputs[0]].shape, (std::vector<int64_t>{-1, 5}));
  ExpectSameResults(g, before, {{4, 2, 2, 3}}, 9, kRtol, kAtol);
}

TEST(FoldBatchNormTest, ChainedBatchNormsBothFold) {
  std::mt19937 rng(4);
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 2, 5, 5});
  const TensorId w = AddRandomConst(&g, "w", {3, 2, 1, 1}, &rng);
  const NodeId conv = AddOp(&g, NodeType::kConv, "conv", {x, w}, ConvAttrs());
  const NodeId bn1 = AddBatchNorm(&g, "bn1", Out(g, conv), 3, &rng);
  const NodeId bn2 = AddBatchNorm(&g, "bn2", Out(g, bn1), 3, &rng);
  g.outputs = {Out(g, bn2)};
  Finish(&g);
  const Graph before = g;

  ASSERT_TRUE(FoldBatchNorm(&g).ok());
  ExpectValidAndInferred(g);
  EXPECT_EQ(CountNodes(g, NodeType::kBatchNorm), 0);
  // Only the conv and its two final constants remain: the intermediate folded weights
  // were removed once nothing read them.
  EXPECT_EQ(g.nodes.size(), 3u);
  EXPECT_EQ(g.tensors[g.outputs[0]].name, "bn2_out");
  ExpectSameResults(g, before, {{1, 2, 5, 5}}, 11, kRtol, kAtol);
}

TEST(FoldBatchNormTest, SharedWeightsAreNotModifiedInPlace) {
  std::mt19937 rng(5);
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 2, 4, 4});
  const TensorId w = AddRandomConst(&g, "w", {2, 2, 3, 3}, &rng);
  const NodeId c1 = AddOp(&g, NodeType::kConv, "c1", {x, w}, ConvAttrs());
  const NodeId bn = AddBatchNorm(&g, "bn", Out(g, c1), 2, &rng);
  // c2 shares w and has no BatchNorm: it must still see the original weights.
  const NodeId c2 = AddOp(&g, NodeType::kConv, "c2", {x, w}, ConvAttrs());
  g.outputs = {Out(g, bn), Out(g, c2)};
  Finish(&g);
  const Graph before = g;

  ASSERT_TRUE(FoldBatchNorm(&g).ok());
  ExpectValidAndInferred(g);
  EXPECT_NE(g.FindTensor("w"), graph::kNoTensor);  // still read by c2
  EXPECT_EQ(g.nodes[g.FindNode("c2")].inputs[1], g.FindTensor("w"));
  EXPECT_NE(g.nodes[g.FindNode("c1")].inputs[1], g.FindTensor("w"));
  ExpectSameResults(g, before, {{1, 2, 4, 4}}, 12, kRtol, kAtol);
}

// Builds x -> conv -> bn -> out; returns the graph.
Graph ConvBn(std::mt19937* rng) {
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 2, 4, 4});
  const TensorId w = AddRandomConst(&g, "w", {2, 2, 3, 3}, rng);
  const NodeId conv = AddOp(&g, NodeType::kConv, "conv", {x, w}, ConvAttrs(), "conv_out");
  const NodeId bn = AddBatchNorm(&g, "bn", Out(g, conv), 2, rng);
  g.outputs = {Out(g, bn)};
  return g;
}

TEST(FoldBatchNormTest, NotFoldedWhenConvOutputIsAGraphOutput) {
  std::mt19937 rng(6);
  Graph g = ConvBn(&rng);
  g.outputs.push_back(g.FindTensor("conv_out"));
  Finish(&g);
  const Graph before = g;
  ASSERT_TRUE(FoldBatchNorm(&g).ok());
  EXPECT_EQ(g.nodes.size(), before.nodes.size());
  EXPECT_EQ(CountNodes(g, NodeType::kBatchNorm), 1);
  ExpectSameResults(g, before, {{1, 2, 4, 4}}, 13, 0.0, 0.0);
}

TEST(FoldBatchNormTest, NotFoldedWhenConvOutputHasAnotherConsumer) {
  std::mt19937 rng(7);
  Graph g = ConvBn(&rng);
  const NodeId other = AddOp(&g, NodeType::kActivation, "other", {g.FindTensor("conv_out")},
                             ActivationAttrs(ActivationType::kTanh));
  g.outputs.push_back(Out(g, other));
  Finish(&g);
  ASSERT_TRUE(FoldBatchNorm(&g).ok());
  EXPECT_EQ(CountNodes(g, NodeType::kBatchNorm), 1);
}

TEST(FoldBatchNormTest, NotFoldedAfterFusedActivation) {
  std::mt19937 rng(8);
  Graph g = ConvBn(&rng);
  g.nodes[g.FindNode("conv")].attrs.SetInt(graph::attr::kFusedActivation,
                                           static_cast<int64_t>(ActivationType::kRelu));
  Finish(&g);
  ASSERT_TRUE(FoldBatchNorm(&g).ok());
  EXPECT_EQ(CountNodes(g, NodeType::kBatchNorm), 1);
}

TEST(FoldBatchNormTest, NotFoldedAfterOtherOps) {
  std::mt19937 rng(9);
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 2, 4, 4});
  const NodeId bn0 = AddBatchNorm(&g, "bn0", x, 2, &rng);  // reads a graph input
  const NodeId pool = AddOp(&g, NodeType::kPool, "pool", {Out(g, bn0)},
                            PoolAttrs(PoolMode::kMax, {2, 2}, {2, 2}));
  const NodeId bn1 = AddBatchNorm(&g, "bn1", Out(g, pool), 2, &rng);
  g.outputs = {Out(g, bn1)};
  Finish(&g);
  ASSERT_TRUE(FoldBatchNorm(&g).ok());
  EXPECT_EQ(CountNodes(g, NodeType::kBatchNorm), 2);
}

TEST(FoldBatchNormTest, PrecisionRequestOnBatchNormBlocksFoldUnlessHostCarriesIt) {
  std::mt19937 rng(10);
  Graph g = ConvBn(&rng);
  g.nodes[g.FindNode("bn")].output_types[0] = DataType::QINT8;
  Finish(&g);
  Graph blocked = g;
  ASSERT_TRUE(FoldBatchNorm(&blocked).ok());
  EXPECT_EQ(CountNodes(blocked, NodeType::kBatchNorm), 1);

  // A request on a parameter input always blocks.
  Graph param = g;
  param.nodes[param.FindNode("bn")].output_types[0] = DataType::INVALID;
  param.nodes[param.FindNode("bn")].input_precisions[2] = DataType::BFLOAT16;
  ASSERT_TRUE(FoldBatchNorm(&param).ok());
  EXPECT_EQ(CountNodes(param, NodeType::kBatchNorm), 1);

  // The conv already requests the same output type: the merged node keeps the request.
  g.nodes[g.FindNode("conv")].output_types[0] = DataType::QINT8;
  ASSERT_TRUE(FoldBatchNorm(&g).ok());
  EXPECT_EQ(CountNodes(g, NodeType::kBatchNorm), 0);
  EXPECT_EQ(g.nodes[g.FindNode("conv")].output_types[0], DataType::QINT8);
}

TEST(FoldBatchNormTest, InvalidGraphIsReported) {
  Graph g;
  EXPECT_FALSE(FoldBatchNorm(&g).ok());  // no outputs
  EXPECT_FALSE(FoldBatchNorm(nullptr).ok());
}

}  // namespace
}  // namespace qsdk::builder
