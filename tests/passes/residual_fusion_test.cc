// FuseResiduals (src/builder/passes/residual_fusion.cc), and the shape-inference rules
// of the fused residual slot it creates (input 3 of Conv / FullyConnected).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "builder/passes/pass.h"
#include "passes/pass_test_util.h"

namespace qsdk::builder {
namespace {

using namespace ::qsdk::passes_test;  // NOLINT(build/namespaces)

// The reference kernels add the residual to the float-rounded Conv / FC result, exactly
// as the unfused Elementwise add does, and apply the fused activation to that same float:
// fusion is bit-exact, tolerance 0.
constexpr double kExact = 0.0;

AttrMap AddAttrs() { return ElementwiseAttrs(ElementwiseOp::kAdd); }

// A ResNet basic block with an identity shortcut:
//   x [-1,4,5,5] -> conv (3x3, pad 1, optional bias) -> c; add(c, x) -> relu -> y.
Graph IdentityBlock(bool with_bias, bool conv_first, std::mt19937* rng) {
  Graph g;
  const TensorId x = AddInput(&g, "x", {-1, 4, 5, 5});
  const TensorId w = AddRandomConst(&g, "w", {4, 4, 3, 3}, rng);
  std::vector<TensorId> conv_in = {x, w};
  if (with_bias) conv_in.push_back(AddRandomConst(&g, "b", {4}, rng));
  const NodeId conv =
      AddOp(&g, NodeType::kConv, "conv", conv_in, ConvAttrs({1, 1}, {1, 1, 1, 1}), "c");
  const std::vector<TensorId> add_in =
      conv_first ? std::vector<TensorId>{Out(g, conv), x} : std::vector<TensorId>{x, Out(g, conv)};
  const NodeId add = AddOp(&g, NodeType::kElementwise, "add", add_in, AddAttrs(), "sum");
  const NodeId relu = AddOp(&g, NodeType::kActivation, "relu", {Out(g, add)},
                            ActivationAttrs(ActivationType::kRelu), "y");
  g.outputs = {Out(g, relu)};
  return g;
}

// Runs FuseResiduals then FuseActivations, as the builder does.
void RunBothPasses(Graph* g) {
  const Status r = FuseResiduals(g);
  ASSERT_TRUE(r.ok()) << r.ToString();
  const Status a = FuseActivations(g);
  ASSERT_TRUE(a.ok()) << a.ToString();
}

TEST(FuseResidualsTest, IdentityShortcutThenReluBecomesOneConv) {
  for (bool with_bias : {false, true}) {
    for (bool conv_first : {true, false}) {
      SCOPED_TRACE(testing::Message() << "bias " << with_bias << ", conv operand "
                                      << (conv_first ? 0 : 1));
      std::mt19937 rng(100 + (with_bias ? 1 : 0) + (conv_first ? 2 : 0));
      Graph g = IdentityBlock(with_bias, conv_first, &rng);
      Finish(&g);
      const Graph before = g;
      RunBothPasses(&g);
      ExpectValidAndInferred(g);
      EXPECT_EQ(CountNodes(g, NodeType::kElementwise), 0);
      EXPECT_EQ(CountNodes(g, NodeType::kActivation), 0);
      const NodeId conv = g.FindNode("conv");
      ASSERT_NE(conv, graph::kNoNode);
      const graph::Node& n = g.nodes[conv];
      EXPECT_EQ(n.attrs.GetInt(graph::attr::kFusedSum), 1);
      EXPECT_EQ(n.attrs.GetInt(graph::attr::kFusedActivation),
                static_cast<int64_t>(ActivationType::kRelu));
      ASSERT_EQ(n.inputs.size(), 4u);
      ASSERT_EQ(n.input_precisions.size(), 4u);
      EXPECT_EQ(n.inputs[3], g.FindTensor("x"));
      if (with_bias) {
        EXPECT_EQ(n.inputs[2], g.FindTensor("b"));
      } else {
        EXPECT_EQ(n.inputs[2], graph::kNoTensor);  // a bias slot was inserted
      }
      // The conv took over the names: "y" is its output and still the graph output.
      EXPECT_EQ(g.tensors[g.outputs[0]].name, "y");
      EXPECT_EQ(g.tensors[g.outputs[0]].producer, conv);
      EXPECT_EQ(g.FindTensor("c"), graph::kNoTensor);
      EXPECT_EQ(g.FindTensor("sum"), graph::kNoTensor);
      for (int64_t batch : {1, 3}) {
        ExpectSameResults(g, before, {{batch, 4, 5, 5}},
                          110 + static_cast<uint32_t>(batch), kExact, kExact);
      }
    }
  }
}

TEST(FuseResidualsTest, FusedSumWithoutActivationKeepsTheAddOutputName) {
  std::mt19937 rng(120);
  Graph g;
  const TensorId x = AddInput(&g, "x", {2, 3, 4, 4});
  const TensorId r = AddInput(&g, "r", {2, 5, 4, 4});
  const TensorId w = AddRandomConst(&g, "w", {5, 3, 1, 1}, &rng);
  const NodeId conv = AddOp(&g, NodeType::kConv, "conv", {x, w}, ConvAttrs());
  const NodeId add = AddOp(&g, NodeType::kElementwise, "add", {Out(g, conv), r}, AddAttrs(), "out");
  // A consumer of the add's output besides the graph output: it must read the conv now.
  const NodeId tail = AddOp(&g, NodeType::kActivation, "tail", {Out(g, add)},
                            ActivationAttrs(ActivationType::kTanh));
  g.outputs = {Out(g, add), Out(g, tail)};
  Finish(&g);
  const Graph before = g;
  ASSERT_TRUE(FuseResiduals(&g).ok());
  ExpectValidAndInferred(g);
  EXPECT_EQ(CountNodes(g, NodeType::kElementwise), 0);
  const NodeId fused = g.FindNode("conv");
  EXPECT_EQ(g.tensors[g.FindTensor("out")].producer, fused);
  EXPECT_EQ(g.nodes[g.FindNode("tail")].inputs[0], g.FindTensor("out"));
  EXPECT_EQ(g.nodes[fused].attrs.GetInt(graph::attr::kFusedActivation), 0);
  ExpectSameResults(g, before, {{2, 3, 4, 4}, {2, 5, 4, 4}}, 121, kExact, kExact);
}

TEST(FuseResidualsTest, ConstantResidualStaysAnAdd) {
  // conv(x) + c with a constant c: the sum post-op reads a run-time buffer, so the add
  // stays (the runtime rejects a constant residual).
  std::mt19937 rng(122);
  Graph g;
  const TensorId x = AddInput(&g, "x", {2, 3, 4, 4});
  const TensorId w = AddRandomConst(&g, "w", {5, 3, 1, 1}, &rng);
  const TensorId c = AddRandomConst(&g, "c", {2, 5, 4, 4}, &rng);
  const NodeId conv = AddOp(&g, NodeType::kConv, "conv", {x, w}, ConvAttrs());
  AddOp(&g, NodeType::kElementwise, "add", {Out(g, conv), c}, AddAttrs(), "out");
  g.outputs = {g.FindTensor("out")};
  Finish(&g);
  ASSERT_TRUE(FuseResiduals(&g).ok());
  EXPECT_EQ(CountNodes(g, NodeType::kElementwise), 1);
  EXPECT_EQ(g.nodes[g.FindNode("conv")].attrs.GetInt(graph::attr::kFusedSum, 0), 0);
}

TEST(FuseResidualsTest, ProjectionShortcutFusesIntoTheLaterConv) {
  // x -> conv_a -> a; x -> conv_b -> b (the 1x1 projection, added after conv_a);
  // add(a, b). Both qualify; conv_b comes later in topological order and takes the sum.
  std::mt19937 rng(130);
  Graph g;
  const TensorId x = AddInput(&g, "x", {-1, 3, 6, 6});
  const TensorId wa = AddRandomConst(&g, "wa", {8, 3, 3, 3}, &rng);
  const TensorId wb = AddRandomConst(&g, "wb", {8, 3, 1, 1}, &rng);
  const TensorId bb = AddRandomConst(&g, "bb", {8}, &rng);
  const NodeId conv_a =
      AddOp(&g, NodeType::kConv, "conv_a", {x, wa}, ConvAttrs({2, 2}, {1, 1, 1, 1}));
  const NodeId conv_b = AddOp(&g, NodeType::kConv, "conv_b", {x, wb, bb}, ConvAttrs({2, 2}));
  const NodeId add =
      AddOp(&g, NodeType::kElementwise, "add", {Out(g, conv_a), Out(g, conv_b)}, AddAttrs());
  const NodeId relu = AddOp(&g, NodeType::kActivation, "relu", {Out(g, add)},
                            ActivationAttrs(ActivationType::kRelu), "y");
  g.outputs = {Out(g, relu)};
  Finish(&g);
  const Graph before = g;
  RunBothPasses(&g);
  ExpectValidAndInferred(g);
  const graph::Node& b = g.nodes[g.FindNode("conv_b")];
  const graph::Node& a = g.nodes[g.FindNode("conv_a")];
  EXPECT_EQ(b.attrs.GetInt(graph::attr::kFusedSum), 1);
  EXPECT_EQ(a.attrs.GetInt(graph::attr::kFusedSum, 0), 0);
  ASSERT_EQ(b.inputs.size(), 4u);
  EXPECT_EQ(b.inputs[3], a.outputs[0]);
  EXPECT_EQ(b.attrs.GetInt(graph::attr::kFusedActivation),
            static_cast<int64_t>(ActivationType::kRelu));
  for (int64_t batch : {1, 2}) {
    ExpectSameResults(g, before, {{batch, 3, 6, 6}},
                      131 + static_cast<uint32_t>(batch), kExact, kExact);
  }
}

TEST(FuseResidualsTest, FullyConnectedWithResidual) {
  std::mt19937 rng(140);
  Graph g;
  const TensorId x = AddInput(&g, "x", {-1, 2, 3});  // flattened to K = 6
  const TensorId r = AddInput(&g, "r", {-1, 4});
  const TensorId w = AddRandomConst(&g, "w", {4, 6}, &rng);
  const TensorId b = AddRandomConst(&g, "b", {4}, &rng);
  const NodeId fc = AddOp(&g, NodeType::kFullyConnected, "fc", {x, w, b}, FcAttrs());
  const NodeId add = AddOp(&g, NodeType::kElementwise, "add", {r, Out(g, fc)}, AddAttrs());
  const NodeId act = AddOp(&g, NodeType::kActivation, "act", {Out(g, add)},
                           ActivationAttrs(ActivationType::kClip, -0.5, 0.5), "y");
  g.outputs = {Out(g, act)};
  Finish(&g);
  const Graph before = g;
  RunBothPasses(&g);
  ExpectValidAndInferred(g);
  EXPECT_EQ(g.nodes.size(), before.nodes.size() - 2);
  const graph::Node& n = g.nodes[g.FindNode("fc")];
  EXPECT_EQ(n.attrs.GetInt(graph::attr::kFusedSum), 1);
  EXPECT_EQ(n.inputs[3], g.FindTensor("r"));
  EXPECT_EQ(n.attrs.GetInt(graph::attr::kFusedActivation),
            static_cast<int64_t>(ActivationType::kClip));
  ExpectSameResults(g, before, {{3, 2, 3}, {3, 4}}, 141, kExact, kExact);
}

// A conv -> add graph in which a modification `edit` must prevent the fusion; checks that
// nothing changes and the results stay the same.
template <typename Edit>
void ExpectNotFused(const char* what, Edit edit) {
  SCOPED_TRACE(what);
  std::mt19937 rng(150);
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 2, 4, 4});
  const TensorId r = AddInput(&g, "r", {1, 2, 4, 4});
  const TensorId w = AddRandomConst(&g, "w", {2, 2, 1, 1}, &rng);
  const NodeId conv = AddOp(&g, NodeType::kConv, "conv", {x, w}, ConvAttrs(), "c");
  const NodeId add = AddOp(&g, NodeType::kElementwise, "add", {Out(g, conv), r}, AddAttrs(), "y");
  g.outputs = {Out(g, add)};
  edit(&g);
  Finish(&g);
  const Graph before = g;
  const Status s = FuseResiduals(&g);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(g.nodes.size(), before.nodes.size());
  EXPECT_EQ(CountNodes(g, NodeType::kElementwise), CountNodes(before, NodeType::kElementwise));
  for (const graph::Node& n : g.nodes) {
    EXPECT_EQ(n.attrs.GetInt(graph::attr::kFusedSum, 0), 0) << n.name;
  }
  std::vector<std::vector<int64_t>> shapes;
  for (TensorId in : g.inputs) shapes.push_back(g.tensors[in].shape);
  ExpectSameResults(g, before, shapes, 151, kExact, kExact);
}

TEST(FuseResidualsTest, NegativeCases) {
  ExpectNotFused("conv already has a fused activation", [](Graph* g) {
    g->nodes[g->FindNode("conv")].attrs.SetInt(graph::attr::kFusedActivation,
                                               static_cast<int64_t>(ActivationType::kRelu));
  });
  ExpectNotFused("conv output read by another node", [](Graph* g) {
    const NodeId other = AddOp(g, NodeType::kActivation, "other", {g->FindTensor("c")},
                               ActivationAttrs(ActivationType::kSigmoid));
    g->outputs.push_back(Out(*g, other));
  });
  ExpectNotFused("conv output is a graph output",
                 [](Graph* g) { g->outputs.push_back(g->FindTensor("c")); });
  ExpectNotFused("residual broadcasts", [](Graph* g) {
    graph::Tensor& r = g->tensors[g->FindTensor("r")];
    r.shape = {1, 2, 1, 1};
  });
  ExpectNotFused("subtraction, not an add", [](Graph* g) {
    g->nodes[g->FindNode("add")].attrs = ElementwiseAttrs(ElementwiseOp::kSub);
  });
  ExpectNotFused("add of the conv output with itself", [](Graph* g) {
    graph::Node& add = g->nodes[g->FindNode("add")];
    add.inputs[1] = g->FindTensor("c");
    g->inputs.pop_back();  // r is no longer read
  });
  ExpectNotFused("conflicting output precision request", [](Graph* g) {
    g->nodes[g->FindNode("conv")].output_types[0] = DataType::QINT8;
    g->nodes[g->FindNode("add")].output_types[0] = DataType::FLOAT32;
  });
  ExpectNotFused("request on the conv-side input differing from the conv's output", [](Graph* g) {
    g->nodes[g->FindNode("add")].input_precisions[0] = DataType::BFLOAT16;
  });
}

TEST(FuseResidualsTest, MatMulProducerIsNotFused) {
  std::mt19937 rng(160);
  Graph g;
  const TensorId x = AddInput(&g, "x", {3, 4});
  const TensorId r = AddInput(&g, "r", {3, 5});
  const TensorId m = AddRandomConst(&g, "m", {4, 5}, &rng);
  const NodeId mm = AddOp(&g, NodeType::kMatMul, "mm", {x, m}, MatMulAttrs());
  const NodeId add = AddOp(&g, NodeType::kElementwise, "add", {Out(g, mm), r}, AddAttrs());
  g.outputs = {Out(g, add)};
  Finish(&g);
  ASSERT_TRUE(FuseResiduals(&g).ok());
  EXPECT_EQ(CountNodes(g, NodeType::kElementwise), 1);
}

TEST(FuseResidualsTest, AtMostOneSumPerConvAndChainsFuseOncePerConv) {
  // conv1 -> add1(., x) -> add2(., z): add1 fuses into conv1; add2's operand is then a
  // conv with a fused sum, so it stays.
  std::mt19937 rng(170);
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 2, 3, 3});
  const TensorId z = AddInput(&g, "z", {1, 2, 3, 3});
  const TensorId w = AddRandomConst(&g, "w", {2, 2, 1, 1}, &rng);
  const NodeId conv = AddOp(&g, NodeType::kConv, "conv", {x, w}, ConvAttrs());
  const NodeId add1 = AddOp(&g, NodeType::kElementwise, "add1", {Out(g, conv), x}, AddAttrs());
  const NodeId add2 = AddOp(&g, NodeType::kElementwise, "add2", {Out(g, add1), z}, AddAttrs());
  g.outputs = {Out(g, add2)};
  Finish(&g);
  const Graph before = g;
  ASSERT_TRUE(FuseResiduals(&g).ok());
  ExpectValidAndInferred(g);
  EXPECT_EQ(g.FindNode("add1"), graph::kNoNode);
  EXPECT_NE(g.FindNode("add2"), graph::kNoNode);
  ExpectSameResults(g, before, {{1, 2, 3, 3}, {1, 2, 3, 3}}, 171, kExact, kExact);
  // A second run changes nothing.
  const size_t nodes = g.nodes.size();
  ASSERT_TRUE(FuseResiduals(&g).ok());
  EXPECT_EQ(g.nodes.size(), nodes);
}

TEST(FuseResidualsTest, PrecisionRequestsAreKeptOrBlockTheMerge) {
  std::mt19937 rng(180);
  Graph base = IdentityBlock(/*with_bias=*/true, /*conv_first=*/true, &rng);
  Finish(&base);

  // A request on the residual slot moves to the conv's input 3.
  Graph moved = base;
  moved.nodes[moved.FindNode("add")].input_precisions[1] = DataType::QUINT8;
  ASSERT_TRUE(FuseResiduals(&moved).ok());
  const graph::Node& conv = moved.nodes[moved.FindNode("conv")];
  ASSERT_EQ(conv.input_precisions.size(), 4u);
  EXPECT_EQ(conv.input_precisions[3], DataType::QUINT8);
  EXPECT_EQ(conv.input_precisions[2], DataType::INVALID);

  // An output request on the add that the conv does not carry blocks the merge (the
  // pre-add value would otherwise inherit a request made for the sum).
  Graph add_only = base;
  add_only.nodes[add_only.FindNode("add")].output_types[0] = DataType::QINT8;
  ASSERT_TRUE(FuseResiduals(&add_only).ok());
  EXPECT_EQ(CountNodes(add_only, NodeType::kElementwise), 1);

  // Identical output requests on both: fused, and the merged node carries the request.
  ASSERT_NO_FATAL_FAILURE(
      ExpectEqualRequestsMerge(base, FuseResiduals, "add", NodeType::kElementwise));
}

TEST(FuseResidualsTest, InvalidGraphIsReported) {
  Graph g;
  AddInput(&g, "x", {2});
  EXPECT_FALSE(FuseResiduals(&g).ok());  // no outputs
  EXPECT_FALSE(FuseResiduals(nullptr).ok());
}

// --- Shape inference of the fused residual slot. -----------------------------------------

// x [1,2,3,3] -> conv (1x1, 2 -> 2) with the given residual slot setup.
Graph ConvWithSlots(std::vector<TensorId>* slots_out, std::mt19937* rng) {
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 2, 3, 3});
  const TensorId r = AddInput(&g, "r", {1, 2, 3, 3});
  const TensorId w = AddRandomConst(&g, "w", {2, 2, 1, 1}, rng);
  *slots_out = {x, w, graph::kNoTensor, r};
  return g;
}

Status InferConv(Graph g, const std::vector<TensorId>& slots, const AttrMap& attrs) {
  const NodeId conv = AddOp(&g, NodeType::kConv, "conv", slots, attrs);
  g.outputs = {Out(g, conv)};
  return graph::InferShapes(&g);
}

TEST(FusedSumShapeRulesTest, SlotThreeIffFusedSum) {
  std::mt19937 rng(190);
  std::vector<TensorId> slots;
  const Graph g = ConvWithSlots(&slots, &rng);
  AttrMap fused = ConvAttrs();
  fused.SetInt(graph::attr::kFusedSum, 1);
  EXPECT_TRUE(InferConv(g, slots, fused).ok());
  // Residual without the attribute.
  Status s = InferConv(g, slots, ConvAttrs());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("takes 2 to 3"), std::string::npos) << s.message();
  // Attribute without the residual.
  s = InferConv(g, {slots[0], slots[1]}, fused);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("exactly 4"), std::string::npos) << s.message();
  // Attribute not 0 / 1.
  AttrMap bad = ConvAttrs();
  bad.SetInt(graph::attr::kFusedSum, 2);
  s = InferConv(g, {slots[0], slots[1]}, bad);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("fused_sum"), std::string::npos) << s.message();
}

TEST(FusedSumShapeRulesTest, ResidualShapeAndType) {
  std::mt19937 rng(191);
  std::vector<TensorId> slots;
  Graph g = ConvWithSlots(&slots, &rng);
  AttrMap fused = ConvAttrs();
  fused.SetInt(graph::attr::kFusedSum, 1);
  // A broadcastable but different shape is rejected.
  Graph broadcast = g;
  broadcast.tensors[slots[3]].shape = {1, 2, 1, 1};
  Status s = InferConv(broadcast, slots, fused);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("exactly the output shape"), std::string::npos) << s.message();
  // A dynamic batch matches.
  Graph dynamic = g;
  dynamic.tensors[slots[0]].shape = {-1, 2, 3, 3};
  dynamic.tensors[slots[3]].shape = {-1, 2, 3, 3};
  EXPECT_TRUE(InferConv(dynamic, slots, fused).ok());
  // A quantized residual is accepted per tensor, and INT32 is not.
  Graph quantized = g;
  quantized.tensors[slots[3]].dtype = DataType::UINT8;
  quantized.tensors[slots[3]].quant.scales = {0.5f};
  quantized.tensors[slots[3]].quant.zero_points = {3};
  EXPECT_TRUE(InferConv(quantized, slots, fused).ok());
  Graph int32 = quantized;
  int32.tensors[slots[3]].dtype = DataType::INT32;
  int32.tensors[slots[3]].quant.zero_points = {0};
  s = InferConv(int32, slots, fused);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("residual"), std::string::npos) << s.message();
  // FullyConnected follows the same rule.
  Graph fc;
  const TensorId x = AddInput(&fc, "x", {2, 3});
  const TensorId r = AddInput(&fc, "r", {2, 4});
  const TensorId w = AddRandomConst(&fc, "w", {4, 3}, &rng);
  AttrMap fc_attrs = FcAttrs();
  fc_attrs.SetInt(graph::attr::kFusedSum, 1);
  const NodeId n = AddOp(&fc, NodeType::kFullyConnected, "fc", {x, w, graph::kNoTensor, r},
                         fc_attrs);
  fc.outputs = {Out(fc, n)};
  EXPECT_TRUE(graph::InferShapes(&fc).ok());
  fc.tensors[r].shape = {2, 1};
  EXPECT_FALSE(graph::InferShapes(&fc).ok());
}

}  // namespace
}  // namespace qsdk::builder
