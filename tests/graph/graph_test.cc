// Structure of the Graph IR (src/graph/graph.cc): Validate, TopologicalOrder, RemoveNodes
// and the helpers.
#include "graph/graph.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "graph/graph_test_util.h"

namespace qsdk::graph {
namespace {

using ::testing::HasSubstr;
using namespace ::qsdk::graph::testing;  // NOLINT(build/namespaces)

AttrMap Relu() { return ActivationAttrs(ActivationType::kRelu); }

// x -> a -> b -> c, output c.
Graph Chain() {
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 4});
  const NodeId a = AddOp(&g, NodeType::kActivation, "a", {x}, Relu());
  const NodeId b = AddOp(&g, NodeType::kActivation, "b", {Out(g, a)}, Relu());
  const NodeId c = AddOp(&g, NodeType::kActivation, "c", {Out(g, b)}, Relu());
  g.outputs = {Out(g, c)};
  return g;
}

TEST(GraphTest, ValidChainValidates) {
  Graph g = Chain();
  const Status s = g.Validate();
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(GraphTest, AddNodeSetsProducerAndSizesPrecisions) {
  Graph g;
  const TensorId x = AddInput(&g, "x", {2});
  const TensorId y = AddInput(&g, "y", {2});
  const NodeId n = AddOp(&g, NodeType::kElementwise, "add", {x, y},
                         ElementwiseAttrs(ElementwiseOp::kAdd));
  EXPECT_EQ(g.tensors[Out(g, n)].producer, n);
  EXPECT_EQ(g.nodes[n].input_precisions.size(), 2u);
  EXPECT_EQ(g.nodes[n].output_types.size(), 1u);
  EXPECT_EQ(g.nodes[n].input_precisions[0], DataType::INVALID);
}

TEST(GraphTest, AddConstantCreatesConstNode) {
  Graph g;
  const std::vector<float> v = {1.0f, 2.0f, 3.0f};
  const TensorId c = AddConst(&g, "c", {3}, v);
  ASSERT_TRUE(g.tensors[c].is_constant());
  ASSERT_NE(g.tensors[c].producer, kNoNode);
  EXPECT_EQ(g.nodes[g.tensors[c].producer].type, NodeType::kConst);
  EXPECT_EQ(g.tensors[c].data->size(), 3 * sizeof(float));
  EXPECT_EQ(g.tensors[c].data->As<float>()[2], 3.0f);
}

TEST(GraphTest, ValidateRejectsBadInputId) {
  Graph g = Chain();
  g.nodes[1].inputs[0] = 77;
  const Status s = g.Validate();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("node 'b' (Activation): input 0 refers to tensor #77"));
}

TEST(GraphTest, ValidateRejectsBadOutputId) {
  Graph g = Chain();
  g.nodes[0].outputs[0] = -5;
  const Status s = g.Validate();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("output 0 refers to tensor #-5"));
}

TEST(GraphTest, ValidateRejectsBadGraphInputAndOutputIds) {
  Graph g = Chain();
  g.inputs.push_back(100);
  EXPECT_THAT(g.Validate().message(), HasSubstr("graph input refers to tensor #100"));
  g = Chain();
  g.outputs.push_back(100);
  EXPECT_THAT(g.Validate().message(), HasSubstr("graph output refers to tensor #100"));
}

TEST(GraphTest, ValidateRejectsTensorProducedTwice) {
  Graph g = Chain();
  // Node c writes b's output as well.
  g.nodes[2].outputs[0] = g.nodes[1].outputs[0];
  const Status s = g.Validate();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("is produced by two nodes"));
  EXPECT_THAT(s.message(), HasSubstr("node 'b'"));
  EXPECT_THAT(s.message(), HasSubstr("node 'c'"));
}

TEST(GraphTest, ValidateRejectsInconsistentProducer) {
  Graph g = Chain();
  g.tensors[g.nodes[0].outputs[0]].producer = 2;
  EXPECT_THAT(g.Validate().message(), HasSubstr("records producer #2"));
}

TEST(GraphTest, ValidateRejectsNoOutputs) {
  Graph g = Chain();
  g.outputs.clear();
  const Status s = g.Validate();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("no outputs"));
}

TEST(GraphTest, ValidateRejectsUnknownNodeType) {
  Graph g = Chain();
  g.nodes[1].type = static_cast<NodeType>(999);
  EXPECT_THAT(g.Validate().message(), HasSubstr("unknown node type 999"));
}

TEST(GraphTest, ValidateRejectsDanglingTensor) {
  Graph g = Chain();
  Tensor orphan;
  orphan.name = "orphan";
  const TensorId t = g.AddTensor(orphan);
  g.nodes[2].inputs[0] = t;
  const Status s = g.Validate();
  EXPECT_THAT(s.message(), HasSubstr("node 'c' (Activation) reads tensor 'orphan'"));
}

TEST(GraphTest, ValidateRejectsPrecisionVectorMismatch) {
  Graph g = Chain();
  g.nodes[0].input_precisions.push_back(DataType::INT8);
  EXPECT_THAT(g.Validate().message(), HasSubstr("precision request count"));
}

TEST(GraphTest, ValidateDetectsCycleNamingANode) {
  Graph g = Chain();
  // a reads c's output: a -> b -> c -> a.
  g.nodes[0].inputs[0] = g.nodes[2].outputs[0];
  const Status s = g.Validate();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("cycle through node '"));
}

TEST(GraphTest, TopologicalOrderSortsProducersFirstAndIsStable) {
  Graph g;
  const TensorId x = AddInput(&g, "x", {2});
  // Nodes added consumer-first: n0 reads n2's output, n1 reads n0's output.
  Tensor t0, t1, t2;
  t0.name = "t0";
  t1.name = "t1";
  t2.name = "t2";
  const TensorId o0 = g.AddTensor(t0);
  const TensorId o1 = g.AddTensor(t1);
  const TensorId o2 = g.AddTensor(t2);
  Node n0, n1, n2, n3;
  n0.type = n1.type = n2.type = n3.type = NodeType::kActivation;
  n0.attrs = n1.attrs = n2.attrs = n3.attrs = Relu();
  n0.name = "n0";
  n0.inputs = {o2};
  n0.outputs = {o0};
  n1.name = "n1";
  n1.inputs = {o0};
  n1.outputs = {o1};
  n2.name = "n2";
  n2.inputs = {x};
  n2.outputs = {o2};
  g.AddNode(n0);
  g.AddNode(n1);
  g.AddNode(n2);
  // An independent node with an unrelated input comes in node order among ready nodes.
  Tensor t3;
  t3.name = "t3";
  const TensorId o3 = g.AddTensor(t3);
  n3.name = "n3";
  n3.inputs = {x};
  n3.outputs = {o3};
  g.AddNode(n3);
  g.outputs = {o1, o3};
  std::vector<NodeId> order;
  ASSERT_TRUE(g.TopologicalOrder(&order).ok());
  EXPECT_EQ(order, (std::vector<NodeId>{2, 0, 1, 3}));
}

TEST(GraphTest, TopologicalOrderReportsCycle) {
  Graph g = Chain();
  g.nodes[1].inputs[0] = g.nodes[2].outputs[0];  // b <-> c
  std::vector<NodeId> order;
  const Status s = g.TopologicalOrder(&order);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("cycle through node 'b' (Activation)"));
}

TEST(GraphTest, ConsumersListsEveryRead) {
  Graph g;
  const TensorId x = AddInput(&g, "x", {2});
  const NodeId mul = AddOp(&g, NodeType::kElementwise, "sq", {x, x},
                           ElementwiseAttrs(ElementwiseOp::kMul));
  const NodeId relu = AddOp(&g, NodeType::kActivation, "r", {x}, Relu());
  const auto consumers = g.Consumers();
  EXPECT_EQ(consumers[x], (std::vector<NodeId>{mul, mul, relu}));
  EXPECT_TRUE(consumers[Out(g, mul)].empty());
}

TEST(GraphTest, RemoveNodesRenumbersNodesAndTensors) {
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 4});
  const NodeId a = AddOp(&g, NodeType::kActivation, "a", {x}, Relu());  // dead
  const TensorId w = AddConst(&g, "w", {3, 4}, std::vector<float>(12, 1.0f));
  const NodeId fc = AddOp(&g, NodeType::kFullyConnected, "fc", {x, w, kNoTensor}, FcAttrs());
  const NodeId b = AddOp(&g, NodeType::kActivation, "b", {Out(g, fc)}, Relu());
  g.outputs = {Out(g, b)};
  ASSERT_TRUE(g.Validate().ok());
  std::vector<bool> remove(g.nodes.size(), false);
  remove[a] = true;
  g.RemoveNodes(remove);
  ASSERT_EQ(g.nodes.size(), 3u);
  EXPECT_EQ(g.FindNode("a"), kNoNode);
  EXPECT_EQ(g.FindTensor("a:0"), kNoTensor);  // no longer referenced
  const NodeId fc2 = g.FindNode("fc");
  const NodeId b2 = g.FindNode("b");
  ASSERT_NE(fc2, kNoNode);
  ASSERT_NE(b2, kNoNode);
  EXPECT_EQ(g.nodes[fc2].inputs[2], kNoTensor);  // absent optional input stays absent
  EXPECT_EQ(g.tensors[g.nodes[fc2].inputs[0]].name, "x");
  EXPECT_EQ(g.tensors[g.nodes[fc2].inputs[1]].name, "w");
  EXPECT_EQ(g.tensors[g.nodes[b2].inputs[0]].producer, fc2);
  EXPECT_EQ(g.tensors[g.outputs[0]].name, "b:0");
  EXPECT_EQ(g.tensors[g.outputs[0]].producer, b2);
  EXPECT_EQ(g.tensors[g.inputs[0]].name, "x");
  const Status s = g.Validate();
  EXPECT_TRUE(s.ok()) << s.ToString();
  for (TensorId t = 0; t < static_cast<TensorId>(g.tensors.size()); ++t) {
    const NodeId p = g.tensors[t].producer;
    if (p != kNoNode) {
      EXPECT_EQ(g.nodes[p].outputs[0], t);
    }
  }
}

TEST(GraphTest, RemoveNodesKeepsGraphInputsAndOutputs) {
  Graph g;
  const TensorId x = AddInput(&g, "x", {2});
  const TensorId unused = AddInput(&g, "unused", {2});
  const NodeId a = AddOp(&g, NodeType::kActivation, "a", {x}, Relu());
  g.outputs = {Out(g, a)};
  g.RemoveNodes(std::vector<bool>(g.nodes.size(), false));
  EXPECT_EQ(g.tensors.size(), 3u);
  EXPECT_EQ(g.tensors[g.inputs[1]].name, "unused");
  (void)unused;
}

TEST(GraphTest, FindAndDescribe) {
  Graph g = Chain();
  EXPECT_EQ(g.FindNode("b"), 1);
  EXPECT_EQ(g.FindNode("zz"), kNoNode);
  EXPECT_EQ(g.FindTensor("x"), 0);
  EXPECT_EQ(g.DescribeNode(1), "node 'b' (Activation)");
  EXPECT_EQ(g.DescribeNode(50), "node #50");
  EXPECT_EQ(g.DescribeTensor(0), "tensor 'x'");
  EXPECT_TRUE(g.IsGraphInput(0));
  EXPECT_FALSE(g.IsGraphInput(1));
  EXPECT_TRUE(g.IsGraphOutput(g.outputs[0]));
}

TEST(GraphTest, ElementCountAndShapeToString) {
  EXPECT_EQ(ElementCount({}), 1);
  EXPECT_EQ(ElementCount({2, 3, 4}), 24);
  EXPECT_EQ(ElementCount({2, -1}), -1);
  const int64_t big = int64_t{1} << 32;
  EXPECT_EQ(ElementCount({big, big}), -1);  // overflow
  EXPECT_EQ(ShapeToString({1, -1, 3}), "[1,-1,3]");
  EXPECT_EQ(ShapeToString({}), "[]");
}

}  // namespace
}  // namespace qsdk::graph
