// FuseActivations (src/builder/passes/activation_fusion.cc).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "builder/passes/pass.h"
#include "passes/pass_test_util.h"

namespace qsdk::builder {
namespace {

using namespace ::qsdk::passes_test;  // NOLINT(build/namespaces)

// The reference kernels apply a fused activation to the float-rounded output with the
// same function and float parameters as an Activation node, so fusion is bit-exact:
// tolerance 0.
constexpr double kExact = 0.0;

struct ActCase {
  ActivationType type;
  double alpha;
  double beta;
};

// x -> conv -> act -> y.
Graph ConvAct(const ActCase& act, std::mt19937* rng) {
  Graph g;
  const TensorId x = AddInput(&g, "x", {-1, 3, 6, 6});
  const TensorId w = AddRandomConst(&g, "w", {4, 3, 3, 3}, rng);
  const TensorId b = AddRandomConst(&g, "b", {4}, rng);
  const NodeId conv = AddOp(&g, NodeType::kConv, "conv", {x, w, b}, ConvAttrs(), "conv_out");
  const NodeId a = AddOp(&g, NodeType::kActivation, "act", {Out(g, conv)},
                         ActivationAttrs(act.type, act.alpha, act.beta), "y");
  g.outputs = {Out(g, a)};
  return g;
}

TEST(FuseActivationsTest, EveryActivationTypeFusesIntoConv) {
  const ActCase cases[] = {
      {ActivationType::kRelu, 0.0, 0.0},      {ActivationType::kRelu6, 0.0, 6.0},
      {ActivationType::kClip, -0.3, 0.4},     {ActivationType::kLeakyRelu, 0.1, 0.0},
      {ActivationType::kSigmoid, 0.0, 0.0},   {ActivationType::kTanh, 0.0, 0.0},
      {ActivationType::kHardSwish, 0.0, 0.0}, {ActivationType::kGelu, 0.0, 0.0},
  };
  for (const ActCase& c : cases) {
    SCOPED_TRACE(ActivationTypeName(c.type));
    std::mt19937 rng(static_cast<uint32_t>(c.type));
    Graph g = ConvAct(c, &rng);
    Finish(&g);
    const Graph before = g;
    ASSERT_TRUE(FuseActivations(&g).ok());
    ExpectValidAndInferred(g);
    EXPECT_EQ(CountNodes(g, NodeType::kActivation), 0);
    const NodeId conv = g.FindNode("conv");
    ASSERT_NE(conv, graph::kNoNode);
    const graph::AttrMap& attrs = g.nodes[conv].attrs;
    EXPECT_EQ(attrs.GetInt(graph::attr::kFusedActivation), static_cast<int64_t>(c.type));
    EXPECT_EQ(attrs.GetFloat(graph::attr::kFusedAlpha), c.alpha);
    EXPECT_EQ(attrs.GetFloat(graph::attr::kFusedBeta), c.beta);
    // The conv took over the activation's output: same name, still the graph output.
    EXPECT_EQ(g.tensors[g.outputs[0]].name, "y");
    EXPECT_EQ(g.tensors[g.outputs[0]].producer, conv);
    EXPECT_EQ(g.FindTensor("conv_out"), graph::kNoTensor);
    for (int64_t batch : {1, 2}) {
      ExpectSameResults(g, before, {{batch, 3, 6, 6}},
                        30 + static_cast<uint32_t>(batch), kExact, kExact);
    }
  }
}

TEST(FuseActivationsTest, FullyConnectedAndMatMul) {
  std::mt19937 rng(40);
  Graph g;
  const TensorId x = AddInput(&g, "x", {-1, 8});
  const TensorId w = AddRandomConst(&g, "w", {6, 8}, &rng);
  const NodeId fc = AddOp(&g, NodeType::kFullyConnected, "fc", {x, w}, FcAttrs());
  const NodeId r6 = AddOp(&g, NodeType::kActivation, "r6", {Out(g, fc)},
                          ActivationAttrs(ActivationType::kRelu6, 0.0, 6.0));
  const TensorId m = AddRandomConst(&g, "m", {6, 5}, &rng);
  const TensorId bias = AddRandomConst(&g, "bias", {5}, &rng);
  const NodeId mm = AddOp(&g, NodeType::kMatMul, "mm", {Out(g, r6), m, bias}, MatMulAttrs());
  const NodeId clip = AddOp(&g, NodeType::kActivation, "clip", {Out(g, mm)},
                            ActivationAttrs(ActivationType::kClip, -0.5, 0.25), "out");
  g.outputs = {Out(g, clip)};
  Finish(&g);
  const Graph before = g;
  ASSERT_TRUE(FuseActivations(&g).ok());
  ExpectValidAndInferred(g);
  EXPECT_EQ(CountNodes(g, NodeType::kActivation), 0);
  EXPECT_EQ(g.nodes[g.FindNode("fc")].attrs.GetInt(graph::attr::kFusedActivation),
            static_cast<int64_t>(ActivationType::kRelu6));
  EXPECT_EQ(g.nodes[g.FindNode("mm")].attrs.GetInt(graph::attr::kFusedActivation),
            static_cast<int64_t>(ActivationType::kClip));
  // mm now reads the fc output tensor named after the removed r6 node's output.
  EXPECT_EQ(g.tensors[g.nodes[g.FindNode("mm")].inputs[0]].name, "r6:0");
  ExpectSameResults(g, before, {{3, 8}}, 41, kExact, kExact);
}

TEST(FuseActivationsTest, ActivationOutputWithSeveralConsumersStillFuses) {
  std::mt19937 rng(42);
  Graph g = ConvAct({ActivationType::kRelu, 0.0, 0.0}, &rng);
  const NodeId t = AddOp(&g, NodeType::kActivation, "t", {g.FindTensor("y")},
                         ActivationAttrs(ActivationType::kTanh));
  const NodeId s = AddOp(&g, NodeType::kActivation, "s", {g.FindTensor("y")},
                         ActivationAttrs(ActivationType::kSigmoid));
  g.outputs.push_back(Out(g, t));
  g.outputs.push_back(Out(g, s));
  Finish(&g);
  const Graph before = g;
  ASSERT_TRUE(FuseActivations(&g).ok());
  ExpectValidAndInferred(g);
  // act fused; t and s stay (y has two readers and is a graph output).
  EXPECT_EQ(g.FindNode("act"), graph::kNoNode);
  EXPECT_EQ(CountNodes(g, NodeType::kActivation), 2);
  ExpectSameResults(g, before, {{2, 3, 6, 6}}, 43, kExact, kExact);
}

TEST(FuseActivationsTest, NotFusedWhenConvOutputHasTwoConsumers) {
  std::mt19937 rng(44);
  Graph g = ConvAct({ActivationType::kRelu, 0.0, 0.0}, &rng);
  const NodeId other = AddOp(&g, NodeType::kActivation, "other", {g.FindTensor("conv_out")},
                             ActivationAttrs(ActivationType::kSigmoid));
  g.outputs.push_back(Out(g, other));
  Finish(&g);
  const Graph before = g;
  ASSERT_TRUE(FuseActivations(&g).ok());
  EXPECT_EQ(CountNodes(g, NodeType::kActivation), 2);
  EXPECT_EQ(g.nodes[g.FindNode("conv")].attrs.GetInt(graph::attr::kFusedActivation), 0);
  ExpectSameResults(g, before, {{1, 3, 6, 6}}, 45, kExact, kExact);
}

TEST(FuseActivationsTest, NotFusedWhenConvOutputIsAGraphOutput) {
  std::mt19937 rng(46);
  Graph g = ConvAct({ActivationType::kRelu, 0.0, 0.0}, &rng);
  g.outputs.push_back(g.FindTensor("conv_out"));
  Finish(&g);
  ASSERT_TRUE(FuseActivations(&g).ok());
  EXPECT_EQ(CountNodes(g, NodeType::kActivation), 1);
}

TEST(FuseActivationsTest, OnlyOneActivationPerProducer) {
  std::mt19937 rng(47);
  Graph g = ConvAct({ActivationType::kRelu, 0.0, 0.0}, &rng);
  const NodeId second = AddOp(&g, NodeType::kActivation, "second", {g.FindTensor("y")},
                              ActivationAttrs(ActivationType::kSigmoid), "z");
  g.outputs = {Out(g, second)};
  Finish(&g);
  const Graph before = g;
  ASSERT_TRUE(FuseActivations(&g).ok());
  ExpectValidAndInferred(g);
  EXPECT_EQ(g.FindNode("act"), graph::kNoNode);
  EXPECT_NE(g.FindNode("second"), graph::kNoNode);
  ExpectSameResults(g, before, {{1, 3, 6, 6}}, 48, kExact, kExact);
  // Running the pass again changes nothing: the conv already has a fused activation.
  const size_t nodes = g.nodes.size();
  ASSERT_TRUE(FuseActivations(&g).ok());
  EXPECT_EQ(g.nodes.size(), nodes);
}

TEST(FuseActivationsTest, NotFusedAfterOtherOps) {
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 2, 4, 4});
  const NodeId relu0 = AddOp(&g, NodeType::kActivation, "relu0", {x},
                             ActivationAttrs(ActivationType::kRelu));
  const NodeId pool = AddOp(&g, NodeType::kPool, "pool", {Out(g, relu0)},
                            PoolAttrs(PoolMode::kGlobalAverage));
  const NodeId relu1 = AddOp(&g, NodeType::kActivation, "relu1", {Out(g, pool)},
                             ActivationAttrs(ActivationType::kRelu));
  g.outputs = {Out(g, relu1)};
  Finish(&g);
  ASSERT_TRUE(FuseActivations(&g).ok());
  EXPECT_EQ(CountNodes(g, NodeType::kActivation), 2);
}

TEST(FuseActivationsTest, PrecisionRequestsAreNeverDropped) {
  std::mt19937 rng(49);
  Graph base = ConvAct({ActivationType::kRelu, 0.0, 0.0}, &rng);
  Finish(&base);

  // A request on the activation's output that the conv does not carry blocks fusion.
  Graph out_request = base;
  out_request.nodes[out_request.FindNode("act")].output_types[0] = DataType::QINT8;
  ASSERT_TRUE(FuseActivations(&out_request).ok());
  EXPECT_EQ(CountNodes(out_request, NodeType::kActivation), 1);

  // Same for its input precision.
  Graph in_request = base;
  in_request.nodes[in_request.FindNode("act")].input_precisions[0] = DataType::BFLOAT16;
  ASSERT_TRUE(FuseActivations(&in_request).ok());
  EXPECT_EQ(CountNodes(in_request, NodeType::kActivation), 1);

  // Conflicting requests: the conv wants INT8 out, the activation FLOAT32 out.
  Graph conflict = base;
  conflict.nodes[conflict.FindNode("conv")].output_types[0] = DataType::QINT8;
  conflict.nodes[conflict.FindNode("act")].output_types[0] = DataType::FLOAT32;
  ASSERT_TRUE(FuseActivations(&conflict).ok());
  EXPECT_EQ(CountNodes(conflict, NodeType::kActivation), 1);

  // Identical requests: fused, and the merged node carries the request.
  ASSERT_NO_FATAL_FAILURE(
      ExpectEqualRequestsMerge(base, FuseActivations, "act", NodeType::kActivation));

  // A request on the conv alone is kept as is.
  Graph host_only = base;
  host_only.nodes[host_only.FindNode("conv")].input_precisions[0] = DataType::QUINT8;
  ASSERT_TRUE(FuseActivations(&host_only).ok());
  EXPECT_EQ(CountNodes(host_only, NodeType::kActivation), 0);
  EXPECT_EQ(host_only.nodes[host_only.FindNode("conv")].input_precisions[0], DataType::QUINT8);
}

TEST(FuseActivationsTest, InvalidGraphIsReported) {
  Graph g;
  AddInput(&g, "x", {2});
  EXPECT_FALSE(FuseActivations(&g).ok());  // no outputs
  EXPECT_FALSE(FuseActivations(nullptr).ok());
}

}  // namespace
}  // namespace qsdk::builder
