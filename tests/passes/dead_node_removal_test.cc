// RemoveDeadNodes (src/builder/passes/dead_node_removal.cc).
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "builder/passes/pass.h"
#include "passes/pass_test_util.h"

namespace qsdk::builder {
namespace {

using namespace ::qsdk::passes_test;  // NOLINT(build/namespaces)

// Removing nodes that do not reach an output changes no computed value: tolerance 0.
constexpr double kExact = 0.0;

TEST(RemoveDeadNodesTest, RemovesBranchesThatReachNoOutput) {
  std::mt19937 rng(80);
  Graph g;
  const TensorId x = AddInput(&g, "x", {-1, 4});
  const TensorId unused = AddInput(&g, "unused", {2});
  const TensorId w = AddRandomConst(&g, "w", {3, 4}, &rng);
  const NodeId fc = AddOp(&g, NodeType::kFullyConnected, "fc", {x, w}, FcAttrs(), "fc_out");
  // Dead branch: x -> sig -> mul(sig, dead_c) ; and a dead consumer of fc_out.
  const TensorId dead_c = AddRandomConst(&g, "dead_c", {4}, &rng);
  const NodeId sig = AddOp(&g, NodeType::kActivation, "sig", {x},
                           ActivationAttrs(ActivationType::kSigmoid));
  const NodeId mul = AddOp(&g, NodeType::kElementwise, "mul", {Out(g, sig), dead_c},
                           ElementwiseAttrs(ElementwiseOp::kMul));
  const NodeId tail = AddOp(&g, NodeType::kActivation, "tail", {Out(g, fc)},
                            ActivationAttrs(ActivationType::kTanh));
  const NodeId relu = AddOp(&g, NodeType::kActivation, "relu", {Out(g, fc)},
                            ActivationAttrs(ActivationType::kRelu), "y");
  g.outputs = {Out(g, relu)};
  Finish(&g);
  const Graph before = g;
  (void)mul;
  (void)tail;

  ASSERT_TRUE(RemoveDeadNodes(&g).ok());
  ExpectValidAndInferred(g);
  for (const char* dead : {"sig", "mul", "tail", "dead_c"}) {
    EXPECT_EQ(g.FindNode(dead), graph::kNoNode) << dead;
  }
  EXPECT_EQ(g.FindTensor("dead_c"), graph::kNoTensor);
  EXPECT_EQ(g.FindTensor("sig:0"), graph::kNoTensor);
  for (const char* live : {"fc", "relu", "w"}) EXPECT_NE(g.FindNode(live), graph::kNoNode);
  EXPECT_EQ(g.nodes.size(), 3u);
  // Graph inputs are kept, even the unused one, in order.
  ASSERT_EQ(g.inputs.size(), 2u);
  EXPECT_EQ(g.tensors[g.inputs[0]].name, "x");
  EXPECT_EQ(g.tensors[g.inputs[1]].name, "unused");
  (void)unused;
  EXPECT_EQ(g.tensors[g.outputs[0]].name, "y");

  ExpectSameResults(g, before, {{3, 4}, {2}}, 81, kExact, kExact);
}

TEST(RemoveDeadNodesTest, KeepsEverythingWhenAllIsLive) {
  Graph g = AddThenRelu(82);
  // Two outputs, one of them intermediate.
  g.outputs = {Out(g, g.FindNode("relu")), Out(g, g.FindNode("add"))};
  Finish(&g);
  const Graph before = g;
  ASSERT_TRUE(RemoveDeadNodes(&g).ok());
  EXPECT_EQ(g.nodes.size(), before.nodes.size());
  EXPECT_EQ(g.tensors.size(), before.tensors.size());
  ExpectSameResults(g, before, {{2, 3}}, 83, kExact, kExact);
}

TEST(RemoveDeadNodesTest, DropsOrphanTensors) {
  Graph g;
  const TensorId x = AddInput(&g, "x", {2});
  const NodeId relu = AddOp(&g, NodeType::kActivation, "relu", {x},
                            ActivationAttrs(ActivationType::kRelu));
  graph::Tensor orphan;
  orphan.name = "orphan";
  orphan.shape = {2};
  g.AddTensor(orphan);
  g.outputs = {Out(g, relu)};
  Finish(&g);
  ASSERT_TRUE(RemoveDeadNodes(&g).ok());
  EXPECT_EQ(g.FindTensor("orphan"), graph::kNoTensor);
  EXPECT_EQ(g.tensors.size(), 2u);
}

TEST(RemoveDeadNodesTest, OutputThatIsAnInputOrConstant) {
  std::mt19937 rng(84);
  Graph g;
  const TensorId x = AddInput(&g, "x", {2});
  const TensorId c = AddRandomConst(&g, "c", {2}, &rng);
  AddOp(&g, NodeType::kActivation, "dead", {x}, ActivationAttrs(ActivationType::kRelu));
  g.outputs = {x, c};
  Finish(&g);
  ASSERT_TRUE(RemoveDeadNodes(&g).ok());
  ExpectValidAndInferred(g);
  EXPECT_EQ(g.nodes.size(), 1u);  // the Const producing c
  EXPECT_EQ(CountNodes(g, NodeType::kConst), 1);
  EXPECT_EQ(g.tensors[g.outputs[0]].name, "x");
  EXPECT_EQ(g.tensors[g.outputs[1]].name, "c");
}

TEST(RemoveDeadNodesTest, InvalidGraphIsReported) {
  Graph g;
  AddInput(&g, "x", {2});
  EXPECT_FALSE(RemoveDeadNodes(&g).ok());  // no outputs
  EXPECT_FALSE(RemoveDeadNodes(nullptr).ok());
}

}  // namespace
}  // namespace qsdk::builder
