// FoldQdq (src/builder/passes/qdq_folding.cc): explicit Quantize / Dequantize nodes become
// quantized kernels with exactly the graph's parameters, or stay; Dequantize of constants
// that do not fold become FLOAT32 constants. Each test checks the rewritten structure and,
// with the reference interpreter, that the folded graph computes what the explicit Q/DQ
// graph computes (the reference runs both: Quantize / Dequantize nodes and FP32 ops on
// dequantized weights before, quantized kernels after).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "builder/passes/pass.h"
#include "passes/pass_test_util.h"

namespace qsdk::builder {
namespace {

using namespace ::qsdk::passes_test;  // NOLINT(build/namespaces)
using graph::QuantParams;

// Adds node `name`: a Quantize of `in` to `dtype` with `params`; returns its output.
TensorId AddQuantize(Graph* g, const std::string& name, TensorId in, DataType dtype,
                     const QuantParams& params) {
  const NodeId n = AddOp(g, NodeType::kQuantize, name, {in});
  graph::Tensor& out = g->tensors[Out(*g, n)];
  out.dtype = dtype;
  out.quant = params;
  return Out(*g, n);
}

TensorId AddDequantize(Graph* g, const std::string& name, TensorId in) {
  return Out(*g, AddOp(g, NodeType::kDequantize, name, {in}));
}

// x -> Quantize -> Dequantize: the fake quantization of an activation.
TensorId FakeQuant(Graph* g, const std::string& name, TensorId x, DataType dtype,
                   const QuantParams& params) {
  return AddDequantize(g, name + "_dq", AddQuantize(g, name + "_q", x, dtype, params));
}

// An integer constant `name` of `shape` holding random values in [lo, hi], with `params`.
template <typename T>
TensorId AddIntConst(Graph* g, const std::string& name, DataType dtype,
                     const std::vector<int64_t>& shape, const QuantParams& params, int lo, int hi,
                     std::mt19937* rng) {
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<T> v(static_cast<size_t>(graph::ElementCount(shape)));
  for (T& x : v) x = static_cast<T>(dist(*rng));
  const TensorId t = g->AddConstant(name, dtype, shape, v.data(), v.size() * sizeof(T));
  g->tensors[t].quant = params;
  return t;
}

// Dequantize(INT8 weights in [-127, 127]) named `name`.
TensorId DequantizedWeights(Graph* g, const std::string& name, const std::vector<int64_t>& shape,
                            const QuantParams& params, std::mt19937* rng) {
  return AddDequantize(
      g, name + "_dq", AddIntConst<int8_t>(g, name, DataType::INT8, shape, params, -127, 127, rng));
}

std::vector<float> ChannelScales(size_t n, float base) {
  std::vector<float> s(n);
  for (size_t i = 0; i < n; ++i) s[i] = base * static_cast<float>(i + 1);
  return s;
}

// Runs FoldQdq on `g`; fails the test on error.
QdqFoldingNotes Fold(Graph* g) {
  QdqFoldingNotes notes;
  const Status s = FoldQdq(g, &notes);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return notes;
}

const graph::Node& NodeNamed(const Graph& g, const std::string& name) {
  const NodeId n = g.FindNode(name);
  EXPECT_NE(n, graph::kNoNode) << name;
  return g.nodes[n == graph::kNoNode ? 0 : n];
}

bool HasNote(const std::vector<std::string>& notes, const std::string& part) {
  for (const std::string& n : notes) {
    if (n.find(part) != std::string::npos) return true;
  }
  return false;
}

std::string Joined(const QdqFoldingNotes& notes) {
  std::string s;
  for (const auto* list : {&notes.folded, &notes.kept, &notes.materialized}) {
    for (const std::string& n : *list) s += n + "\n";
  }
  return s;
}

// Output codes of a dequantized graph output: |a - b| / step, the largest over all
// elements (for outputs that are Dequantize(q) with scale `step`).
double MaxSteps(const Tensor& a, const Tensor& b, float step) {
  double worst = 0;
  for (int64_t i = 0; i < a.GetElementCount(); ++i) {
    const double diff = std::fabs(static_cast<double>(a.Data<float>()[i]) - b.Data<float>()[i]);
    worst = std::max(worst, diff / step);
  }
  return worst;
}

// x [2, 4, 6, 6] -> Q (UINT8, z 128) -> DQ -> conv 3x3 pad 1 (DQ(INT8 w per channel),
// FLOAT32 bias, fused Relu) -> Q (UINT8, z 0) -> DQ -> y: a quantized conv as PyTorch and
// ONNX Runtime export it (after activation fusion).
constexpr float kConvOutScale = 0.02f;

Graph ConvBlock(std::mt19937* rng) {
  Graph g;
  const TensorId x = AddInput(&g, "x", {2, 4, 6, 6});
  const TensorId xd = FakeQuant(&g, "x", x, DataType::UINT8, PerTensor(2.0f / 255, 128));
  const TensorId w = DequantizedWeights(&g, "w", {8, 4, 3, 3}, PerAxis(ChannelScales(8, 0.002f), 0),
                                        rng);
  const TensorId b = AddRandomConst(&g, "b", {8}, rng, -0.2f, 0.2f);
  AttrMap attrs = ConvAttrs({1, 1}, {1, 1, 1, 1});
  attrs.SetInt(graph::attr::kFusedActivation, static_cast<int64_t>(ActivationType::kRelu));
  const NodeId conv = AddOp(&g, NodeType::kConv, "conv", {xd, w, b}, attrs, "c");
  g.outputs = {FakeQuant(&g, "c", Out(g, conv), DataType::UINT8, PerTensor(kConvOutScale, 0))};
  return g;
}

TEST(FoldQdqTest, ConvWithQuantizedInputWeightsAndOutputBecomesAnInt8Conv) {
  std::mt19937 rng(1);
  Graph g = ConvBlock(&rng);
  Finish(&g);
  const Graph before = g;
  const QdqFoldingNotes notes = Fold(&g);
  ExpectValidAndInferred(g);
  // Left: the input's Quantize and the output's Dequantize (the network's FLOAT32
  // boundary); the conv reads and writes the quantized tensors.
  EXPECT_EQ(CountNodes(g, NodeType::kQuantize), 1) << Joined(notes);
  EXPECT_EQ(CountNodes(g, NodeType::kDequantize), 1) << Joined(notes);
  const graph::Node& conv = NodeNamed(g, "conv");
  EXPECT_EQ(conv.attrs.GetInt(kExplicitQuantizationAttr), 1);
  const graph::Tensor& x = g.tensors[conv.inputs[0]];
  EXPECT_EQ(x.name, "x_q:0");
  EXPECT_EQ(x.dtype, DataType::UINT8);
  const graph::Tensor& w = g.tensors[conv.inputs[1]];
  EXPECT_EQ(w.name, "w");
  EXPECT_EQ(w.dtype, DataType::INT8);
  EXPECT_EQ(w.quant.axis, 0);
  // The bias in the accumulator's scale s_x * s_w[oc], computed in float.
  const graph::Tensor& b = g.tensors[conv.inputs[2]];
  EXPECT_EQ(b.dtype, DataType::INT32);
  ASSERT_EQ(b.quant.scales.size(), 8u);
  for (size_t k = 0; k < 8; ++k) {
    EXPECT_EQ(b.quant.scales[k], x.quant.scales[0] * w.quant.scales[k]) << k;
  }
  const graph::Tensor& y = g.tensors[conv.outputs[0]];
  EXPECT_EQ(y.name, "c_q:0");
  EXPECT_EQ(y.dtype, DataType::UINT8);
  EXPECT_EQ(y.quant, PerTensor(kConvOutScale, 0));
  EXPECT_EQ(g.tensors[g.outputs[0]].name, "c_dq:0");
  EXPECT_TRUE(HasNote(notes.folded, "node 'conv' (Conv): INT8 kernel")) << Joined(notes);
  EXPECT_TRUE(HasNote(notes.kept, "node 'x_q' (Quantize): kept as a kernel: it quantizes the "
                                  "network input 'x'"))
      << Joined(notes);
  EXPECT_TRUE(HasNote(notes.kept, "node 'c_dq' (Dequantize): kept as a kernel: its output "
                                  "'c_dq:0' is a network output"))
      << Joined(notes);

  // Integer accumulation instead of the float sum of dequantized products, and the bias
  // rounded to the accumulator's step: the pre-quantization value differs by a tiny
  // fraction of an output step, so an output code can only move where the value lies
  // within that fraction of a rounding tie: at most 1 step, on a few elements.
  const std::vector<Tensor> inputs = RandomInputs({{2, 4, 6, 6}}, 11);
  const std::vector<Tensor> a = RunReference(g, inputs), e = RunReference(before, inputs);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_LE(MaxSteps(a[0], e[0], kConvOutScale), 1.0 + 1e-6);
  int64_t differing = 0;
  for (int64_t i = 0; i < a[0].GetElementCount(); ++i) {
    differing += a[0].Data<float>()[i] != e[0].Data<float>()[i];
  }
  EXPECT_LE(differing, a[0].GetElementCount() / 50) << "more than 2% of codes moved";
}

TEST(FoldQdqTest, Int32BiasInTheAccumulatorScaleKeepsItsIntegers) {
  std::mt19937 rng(2);
  Graph g;
  const TensorId x = AddInput(&g, "x", {3, 16});
  const float s_x = 0.01f;
  const TensorId xd = FakeQuant(&g, "x", x, DataType::INT8, PerTensor(s_x, 0));
  const std::vector<float> s_w = ChannelScales(5, 0.003f);
  const TensorId w = DequantizedWeights(&g, "w", {5, 16}, PerAxis(s_w, 0), &rng);
  // The exporter's bias scale: s_x * s_w computed in double, rounded to float (equal to the
  // float product to rounding).
  std::vector<float> s_b(5);
  for (size_t k = 0; k < 5; ++k) {
    s_b[k] = static_cast<float>(static_cast<double>(s_x) * static_cast<double>(s_w[k]));
  }
  const std::vector<int32_t> b_q = {123456789, -5, 0, 77, -123456};
  const TensorId bq = g.AddConstant("b", DataType::INT32, {5}, b_q.data(), b_q.size() * 4);
  g.tensors[bq].quant = PerAxis(s_b, 0);
  const TensorId bd = AddDequantize(&g, "b_dq", bq);
  const NodeId fc = AddOp(&g, NodeType::kFullyConnected, "fc", {xd, w, bd}, FcAttrs(), "y");
  g.outputs = {Out(g, fc)};
  Finish(&g);
  const Graph before = g;
  Fold(&g);
  ExpectValidAndInferred(g);
  const graph::Node& n = NodeNamed(g, "fc");
  const graph::Tensor& b = g.tensors[n.inputs[2]];
  ASSERT_EQ(b.dtype, DataType::INT32);
  for (size_t k = 0; k < 5; ++k) {
    EXPECT_EQ(b.data->As<int32_t>()[k], b_q[k]) << k;  // kept exactly (123456789 > 2^24)
    EXPECT_EQ(b.quant.scales[k], s_x * s_w[k]) << k;
  }
  // No Quantize after it: integer compute, FLOAT32 output r = float(acc + b_q) * M. The
  // float reference sums the dequantized products and bias in float: relative 1e-5 of the
  // result covers the 16 products' roundings, the rounding of float(acc + b_q) (2^-24)
  // and the bias scale's rescaling (relative 1e-6; the first bias is about 3700).
  EXPECT_EQ(g.tensors[n.outputs[0]].dtype, DataType::FLOAT32);
  EXPECT_EQ(CountNodes(g, NodeType::kDequantize), 0);
  ExpectSameResults(g, before, {{3, 16}}, 21, 1e-5, 1e-4);
}

TEST(FoldQdqTest, BiasInAnotherScaleIsRequantized) {
  std::mt19937 rng(3);
  Graph g;
  const TensorId x = AddInput(&g, "x", {2, 8});
  const TensorId xd = FakeQuant(&g, "x", x, DataType::UINT8, PerTensor(0.01f, 100));
  const TensorId w = DequantizedWeights(&g, "w", {3, 8}, PerTensor(0.02f, 0), &rng);
  const std::vector<int32_t> b_q = {10, -20, 30};
  const TensorId bq = g.AddConstant("b", DataType::INT32, {3}, b_q.data(), b_q.size() * 4);
  g.tensors[bq].quant = PerTensor(0.001f, 0);  // not s_x * s_w = 0.0002
  const NodeId fc =
      AddOp(&g, NodeType::kFullyConnected, "fc", {xd, w, AddDequantize(&g, "b_dq", bq)},
            FcAttrs(), "y");
  g.outputs = {Out(g, fc)};
  Finish(&g);
  Fold(&g);
  ExpectValidAndInferred(g);
  const graph::Tensor& b = g.tensors[NodeNamed(g, "fc").inputs[2]];
  ASSERT_EQ(b.dtype, DataType::INT32);
  EXPECT_EQ(b.quant, PerTensor(0.01f * 0.02f, 0));
  // 10 * 0.001 / 0.0002 = 50 (and -100, 150), to float rounding of the quotient.
  EXPECT_EQ(b.data->As<int32_t>()[0], 50);
  EXPECT_EQ(b.data->As<int32_t>()[1], -100);
  EXPECT_EQ(b.data->As<int32_t>()[2], 150);
}

// a, b [2, 3, 4, 4] each fake-quantized (UINT8 / INT8) -> add -> relu -> Q (UINT8, z 0)
// -> DQ -> y.
TEST(FoldQdqTest, AddThenReluThenQuantizeBecomesOneQuantizedAdd) {
  Graph g;
  const TensorId a = AddInput(&g, "a", {2, 3, 4, 4});
  const TensorId b = AddInput(&g, "b", {2, 3, 4, 4});
  const TensorId ad = FakeQuant(&g, "a", a, DataType::UINT8, PerTensor(0.008f, 120));
  const TensorId bd = FakeQuant(&g, "b", b, DataType::INT8, PerTensor(0.009f, 0));
  const NodeId add = AddOp(&g, NodeType::kElementwise, "add", {ad, bd},
                           ElementwiseAttrs(ElementwiseOp::kAdd), "sum");
  const NodeId relu = AddOp(&g, NodeType::kActivation, "relu", {Out(g, add)},
                            ActivationAttrs(ActivationType::kRelu), "r");
  g.outputs = {FakeQuant(&g, "r", Out(g, relu), DataType::UINT8, PerTensor(0.01f, 0))};
  Finish(&g);
  const Graph before = g;
  const QdqFoldingNotes notes = Fold(&g);
  ExpectValidAndInferred(g);
  EXPECT_EQ(CountNodes(g, NodeType::kActivation), 0) << Joined(notes);
  EXPECT_EQ(CountNodes(g, NodeType::kQuantize), 2) << Joined(notes);    // of a and b
  EXPECT_EQ(CountNodes(g, NodeType::kDequantize), 1) << Joined(notes);  // of the output
  const graph::Node& n = NodeNamed(g, "add");
  EXPECT_EQ(n.attrs.GetInt(kExplicitQuantizationAttr), 1);
  EXPECT_EQ(g.tensors[n.inputs[0]].dtype, DataType::UINT8);
  EXPECT_EQ(g.tensors[n.inputs[1]].dtype, DataType::INT8);
  EXPECT_EQ(g.tensors[n.outputs[0]].name, "r_q:0");
  EXPECT_TRUE(HasNote(notes.folded, "node 'relu' (Activation): removed")) << Joined(notes);
  // The same float operations in the same order (dequantize each operand, add, quantize
  // with 1 / s; the saturation at code 0 replaces the Relu exactly): bit-identical.
  ExpectSameResults(g, before, {{2, 3, 4, 4}, {2, 3, 4, 4}}, 31, 0.0, 0.0);
}

TEST(FoldQdqTest, ReluIsKeptBeforeAQuantizeWithAnInteriorZeroPoint) {
  Graph g;
  const TensorId x = AddInput(&g, "x", {2, 5});
  const NodeId relu =
      AddOp(&g, NodeType::kActivation, "relu", {x}, ActivationAttrs(ActivationType::kRelu), "r");
  // Zero point 10 > 0: Q(x) keeps codes 0..9 for negative x, Q(relu(x)) does not.
  g.outputs = {FakeQuant(&g, "r", Out(g, relu), DataType::UINT8, PerTensor(0.01f, 10))};
  Finish(&g);
  const Graph before = g;
  Fold(&g);
  EXPECT_EQ(CountNodes(g, NodeType::kActivation), 1);
  ExpectSameResults(g, before, {{2, 5}}, 32, 0.0, 0.0);
}

// x -> Q -> DQ -> MaxPool -> Q (same params) -> DQ -> Flatten -> Q (same) -> DQ -> FC
// (DQ weights, per tensor) -> y (FLOAT32): PyTorch's export of pool / flatten / linear.
TEST(FoldQdqTest, PoolFlattenAndFcChainFoldsWithAFloatOutput) {
  std::mt19937 rng(4);
  Graph g;
  const QuantParams p = PerTensor(0.0125f, 3);
  const TensorId x = AddInput(&g, "x", {2, 2, 4, 4});
  const TensorId xd = FakeQuant(&g, "x", x, DataType::UINT8, p);
  const NodeId pool = AddOp(&g, NodeType::kPool, "pool", {xd},
                            PoolAttrs(PoolMode::kMax, {2, 2}, {2, 2}), "p");
  const TensorId pd = FakeQuant(&g, "p", Out(g, pool), DataType::UINT8, p);
  const NodeId flat = AddOp(&g, NodeType::kFlatten, "flatten", {pd}, AxisAttrs(1), "f");
  const TensorId fd = FakeQuant(&g, "f", Out(g, flat), DataType::UINT8, p);
  const TensorId w = DequantizedWeights(&g, "w", {3, 8}, PerTensor(0.004f, 0), &rng);
  const NodeId fc = AddOp(&g, NodeType::kFullyConnected, "fc", {fd, w}, FcAttrs(), "y");
  g.outputs = {Out(g, fc)};
  Finish(&g);
  const Graph before = g;
  const QdqFoldingNotes notes = Fold(&g);
  ExpectValidAndInferred(g);
  EXPECT_EQ(CountNodes(g, NodeType::kQuantize), 1) << Joined(notes);
  EXPECT_EQ(CountNodes(g, NodeType::kDequantize), 0) << Joined(notes);
  for (const char* name : {"pool", "flatten", "fc"}) {
    EXPECT_EQ(NodeNamed(g, name).attrs.GetInt(kExplicitQuantizationAttr), 1) << name;
  }
  EXPECT_EQ(g.tensors[NodeNamed(g, "pool").inputs[0]].name, "x_q:0");
  EXPECT_EQ(g.tensors[NodeNamed(g, "fc").inputs[0]].name, "f_q:0");
  EXPECT_EQ(g.tensors[NodeNamed(g, "fc").outputs[0]].dtype, DataType::FLOAT32);
  // Max pool and flatten copy codes (exact); the FC sums integers exactly where the float
  // reference sums 8 dequantized products in float: relative 1e-5, absolute 1e-5.
  ExpectSameResults(g, before, {{2, 2, 4, 4}}, 41, 1e-5, 1e-5);
}

TEST(FoldQdqTest, FlattenWithoutAQuantizeMovesTheDequantizeAfterIt) {
  // x -> Q -> DQ -> Flatten -> FC (DQ weights): the flatten copies codes and the FC folds.
  std::mt19937 rng(13);
  Graph g;
  const TensorId x = AddInput(&g, "x", {2, 2, 2, 2});
  const TensorId xd = FakeQuant(&g, "x", x, DataType::UINT8, PerTensor(0.01f, 128));
  const NodeId flat = AddOp(&g, NodeType::kFlatten, "flatten", {xd}, AxisAttrs(1), "f");
  const TensorId w = DequantizedWeights(&g, "w", {3, 8}, PerTensor(0.004f, 0), &rng);
  const NodeId fc = AddOp(&g, NodeType::kFullyConnected, "fc", {Out(g, flat), w}, FcAttrs(), "y");
  g.outputs = {Out(g, fc)};
  Finish(&g);
  const Graph before = g;
  const QdqFoldingNotes notes = Fold(&g);
  ExpectValidAndInferred(g);
  EXPECT_EQ(CountNodes(g, NodeType::kDequantize), 0) << Joined(notes);
  const graph::Node& f = NodeNamed(g, "flatten");
  EXPECT_EQ(f.attrs.GetInt(kExplicitQuantizationAttr), 1);
  EXPECT_EQ(g.tensors[f.inputs[0]].name, "x_q:0");
  EXPECT_EQ(NodeNamed(g, "fc").inputs[0], f.outputs[0]);
  EXPECT_EQ(g.tensors[f.outputs[0]].dtype, DataType::UINT8);
  EXPECT_EQ(g.tensors[f.outputs[0]].quant, PerTensor(0.01f, 128));
  // Codes copied, then the FC's integer sum of 8 products vs the float one: relative 1e-5,
  // absolute 1e-5.
  ExpectSameResults(g, before, {{2, 2, 2, 2}}, 42, 1e-5, 1e-5);
}

TEST(FoldQdqTest, AveragePoolFoldsOnlyWithEqualParameters) {
  for (bool equal : {true, false}) {
    SCOPED_TRACE(equal ? "equal parameters" : "different parameters");
    Graph g;
    const TensorId x = AddInput(&g, "x", {1, 2, 4, 4});
    const TensorId xd = FakeQuant(&g, "x", x, DataType::UINT8, PerTensor(0.01f, 128));
    const NodeId pool = AddOp(&g, NodeType::kPool, "pool", {xd},
                              PoolAttrs(PoolMode::kAverage, {2, 2}, {2, 2}), "p");
    g.outputs = {FakeQuant(&g, "p", Out(g, pool), DataType::UINT8,
                           equal ? PerTensor(0.01f, 128) : PerTensor(0.005f, 128))};
    Finish(&g);
    const Graph before = g;
    const QdqFoldingNotes notes = Fold(&g);
    ExpectValidAndInferred(g);
    EXPECT_EQ(NodeNamed(g, "pool").attrs.GetInt(kExplicitQuantizationAttr), equal ? 1 : 0);
    EXPECT_EQ(CountNodes(g, NodeType::kQuantize), equal ? 1 : 2) << Joined(notes);
    if (!equal) {
      EXPECT_TRUE(HasNote(notes.kept, "keeps its input's parameters")) << Joined(notes);
      ExpectSameResults(g, before, {{1, 2, 4, 4}}, 51, 0.0, 0.0);  // nothing changed
    } else {
      // The quantized mean of codes vs the requantized float mean: both round the same
      // value (mean of codes; s * (q - z) / s adds float rounding), so at most 1 step
      // where the float mean lies within rounding of a tie.
      const std::vector<Tensor> inputs = RandomInputs({{1, 2, 4, 4}}, 52);
      EXPECT_LE(MaxSteps(RunReference(g, inputs)[0], RunReference(before, inputs)[0], 0.01f),
                1.0 + 1e-6);
    }
  }
}

TEST(FoldQdqTest, MaxPoolWithOtherOutputParametersIsFollowedByARequantize) {
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 2, 4, 4});
  const TensorId xd = FakeQuant(&g, "x", x, DataType::UINT8, PerTensor(0.01f, 128));
  const NodeId pool = AddOp(&g, NodeType::kPool, "pool", {xd},
                            PoolAttrs(PoolMode::kMax, {2, 2}, {2, 2}), "p");
  g.outputs = {FakeQuant(&g, "p", Out(g, pool), DataType::INT8, PerTensor(0.007f, 0))};
  Finish(&g);
  const Graph before = g;
  const QdqFoldingNotes notes = Fold(&g);
  ExpectValidAndInferred(g);
  const graph::Node& p = NodeNamed(g, "pool");
  EXPECT_EQ(p.attrs.GetInt(kExplicitQuantizationAttr), 1);
  EXPECT_EQ(g.tensors[p.outputs[0]].dtype, DataType::UINT8);
  // The output's Quantize reads the pooled codes: a requantization.
  const graph::Node& q = NodeNamed(g, "p_q");
  EXPECT_EQ(q.inputs[0], p.outputs[0]);
  EXPECT_EQ(CountNodes(g, NodeType::kDequantize), 1) << Joined(notes);  // the output's
  // max(DQ(q)) = DQ(max(q)), and requantizing is defined as dequantize then quantize:
  // bit-identical.
  ExpectSameResults(g, before, {{1, 2, 4, 4}}, 53, 0.0, 0.0);
}

TEST(FoldQdqTest, ConcatFoldsWhenEveryInputHasTheOutputParameters) {
  for (bool equal : {true, false}) {
    SCOPED_TRACE(equal ? "equal parameters" : "different parameters");
    Graph g;
    const QuantParams p = PerTensor(0.02f, 0);
    const TensorId a = AddInput(&g, "a", {1, 2, 3});
    const TensorId b = AddInput(&g, "b", {1, 4, 3});
    const TensorId ad = FakeQuant(&g, "a", a, DataType::INT8, p);
    const TensorId bd =
        FakeQuant(&g, "b", b, DataType::INT8, equal ? p : PerTensor(0.03f, 0));
    const NodeId cat = AddOp(&g, NodeType::kConcat, "cat", {ad, bd}, AxisAttrs(1), "c");
    g.outputs = {FakeQuant(&g, "c", Out(g, cat), DataType::INT8, p)};
    Finish(&g);
    const Graph before = g;
    const QdqFoldingNotes notes = Fold(&g);
    ExpectValidAndInferred(g);
    EXPECT_EQ(NodeNamed(g, "cat").attrs.GetInt(kExplicitQuantizationAttr), equal ? 1 : 0);
    if (!equal) {
      EXPECT_TRUE(HasNote(notes.kept, "a quantized concat copies codes")) << Joined(notes);
    }
    // Copying codes is exact; so is leaving the graph alone.
    ExpectSameResults(g, before, {{1, 2, 3}, {1, 4, 3}}, 61, 0.0, 0.0);
  }
}

TEST(FoldQdqTest, PerAxisActivationsAreKeptAndTheirWeightsMaterialized) {
  std::mt19937 rng(5);
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 3, 4, 4});
  QuantParams px = PerAxis({0.01f, 0.02f, 0.03f}, 1);
  px.zero_points = {0, 5, 250};
  const TensorId xd = FakeQuant(&g, "x", x, DataType::UINT8, px);
  const TensorId w = DequantizedWeights(&g, "w", {2, 3, 1, 1}, PerAxis({0.01f, 0.05f}, 0), &rng);
  const NodeId conv = AddOp(&g, NodeType::kConv, "conv", {xd, w}, ConvAttrs(), "y");
  g.outputs = {Out(g, conv)};
  Finish(&g);
  const Graph before = g;
  const QdqFoldingNotes notes = Fold(&g);
  ExpectValidAndInferred(g);
  EXPECT_EQ(NodeNamed(g, "conv").attrs.GetInt(kExplicitQuantizationAttr), 0);
  EXPECT_EQ(CountNodes(g, NodeType::kQuantize), 1);
  EXPECT_EQ(CountNodes(g, NodeType::kDequantize), 1);  // x's; the weights' is now a constant
  const graph::Tensor& wt = g.tensors[NodeNamed(g, "conv").inputs[1]];
  EXPECT_TRUE(wt.is_constant());
  EXPECT_EQ(wt.dtype, DataType::FLOAT32);
  EXPECT_EQ(wt.name, "w_dq:0");
  EXPECT_TRUE(HasNote(notes.kept, "quantized per axis")) << Joined(notes);
  EXPECT_TRUE(HasNote(notes.materialized, "node 'w_dq' (Dequantize)")) << Joined(notes);
  // The dequantized weights are the values the Dequantize computed: bit-identical.
  ExpectSameResults(g, before, {{1, 3, 4, 4}}, 71, 0.0, 0.0);
}

TEST(FoldQdqTest, AsymmetricWeightsAreNotFolded) {
  std::mt19937 rng(6);
  Graph g;
  const TensorId x = AddInput(&g, "x", {2, 4});
  const TensorId xd = FakeQuant(&g, "x", x, DataType::UINT8, PerTensor(0.01f, 128));
  const TensorId wq = AddIntConst<uint8_t>(&g, "w", DataType::UINT8, {3, 4}, PerTensor(0.01f, 7),
                                           0, 255, &rng);
  const NodeId fc =
      AddOp(&g, NodeType::kFullyConnected, "fc", {xd, AddDequantize(&g, "w_dq", wq)}, FcAttrs(),
            "y");
  g.outputs = {Out(g, fc)};
  Finish(&g);
  const Graph before = g;
  const QdqFoldingNotes notes = Fold(&g);
  EXPECT_EQ(NodeNamed(g, "fc").attrs.GetInt(kExplicitQuantizationAttr), 0);
  EXPECT_TRUE(HasNote(notes.kept, "weights dequantize UINT8")) << Joined(notes);
  ExpectSameResults(g, before, {{2, 4}}, 81, 0.0, 0.0);
}

TEST(FoldQdqTest, PrecisionRequestBlocksFolding) {
  std::mt19937 rng(7);
  Graph g = ConvBlock(&rng);
  Finish(&g);
  g.nodes[g.FindNode("conv")].output_types[0] = DataType::FLOAT32;
  const QdqFoldingNotes notes = Fold(&g);
  EXPECT_EQ(NodeNamed(g, "conv").attrs.GetInt(kExplicitQuantizationAttr), 0);
  EXPECT_TRUE(HasNote(notes.kept, "it has a precision request")) << Joined(notes);
}

TEST(FoldQdqTest, QuantizeOfADequantizeRequantizesOrDisappears) {
  for (bool same : {true, false}) {
    SCOPED_TRACE(same ? "same parameters" : "requantization");
    Graph g;
    const TensorId x = AddInput(&g, "x", {2, 6});
    const TensorId xd = FakeQuant(&g, "x", x, DataType::UINT8, PerTensor(0.01f, 128));
    const TensorId qd = FakeQuant(&g, "again", xd, same ? DataType::UINT8 : DataType::INT8,
                                  same ? PerTensor(0.01f, 128) : PerTensor(0.02f, 0));
    const NodeId relu =
        AddOp(&g, NodeType::kActivation, "sig", {qd}, ActivationAttrs(ActivationType::kSigmoid));
    g.outputs = {Out(g, relu)};
    Finish(&g);
    const Graph before = g;
    const QdqFoldingNotes notes = Fold(&g);
    ExpectValidAndInferred(g);
    EXPECT_EQ(CountNodes(g, NodeType::kQuantize), same ? 1 : 2) << Joined(notes);
    EXPECT_EQ(CountNodes(g, NodeType::kDequantize), 1) << Joined(notes);
    if (!same) {
      // The requantize reads x's codes: "again_q" now reads "x_q:0".
      EXPECT_EQ(g.tensors[NodeNamed(g, "again_q").inputs[0]].name, "x_q:0");
    }
    // Requantization is defined as dequantize then quantize, in float: bit-identical.
    ExpectSameResults(g, before, {{2, 6}}, 91, 0.0, 0.0);
  }
}

TEST(FoldQdqTest, QuantizedResidualIsReadQuantized) {
  std::mt19937 rng(8);
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 4, 3, 3});
  const TensorId r = AddInput(&g, "r", {1, 4, 3, 3});
  const TensorId xd = FakeQuant(&g, "x", x, DataType::UINT8, PerTensor(0.01f, 128));
  const TensorId rd = FakeQuant(&g, "r", r, DataType::INT8, PerTensor(0.01f, 0));
  const TensorId w = DequantizedWeights(&g, "w", {4, 4, 1, 1}, PerTensor(0.01f, 0), &rng);
  AttrMap attrs = ConvAttrs();
  attrs.SetInt(graph::attr::kFusedSum, 1);
  const NodeId conv =
      AddOp(&g, NodeType::kConv, "conv", {xd, w, graph::kNoTensor, rd}, attrs, "y");
  g.outputs = {Out(g, conv)};
  Finish(&g);
  const Graph before = g;
  Fold(&g);
  ExpectValidAndInferred(g);
  const graph::Node& n = NodeNamed(g, "conv");
  EXPECT_EQ(g.tensors[n.inputs[3]].name, "r_q:0");
  EXPECT_EQ(g.tensors[n.inputs[3]].dtype, DataType::INT8);
  // Integer sum of 4 products vs float: relative 1e-5, absolute 1e-5.
  ExpectSameResults(g, before, {{1, 4, 3, 3}, {1, 4, 3, 3}}, 101, 1e-5, 1e-5);
}

TEST(FoldQdqTest, MatMulWithPerColumnWeightsFolds) {
  std::mt19937 rng(9);
  Graph g;
  const TensorId a = AddInput(&g, "a", {2, 3, 8});
  const TensorId ad = FakeQuant(&g, "a", a, DataType::INT8, PerTensor(0.01f, 0));
  // b [8, 5] quantized along its last axis (the output columns).
  const TensorId b = DequantizedWeights(&g, "b", {8, 5}, PerAxis(ChannelScales(5, 0.002f), 1),
                                        &rng);
  const NodeId mm = AddOp(&g, NodeType::kMatMul, "mm", {ad, b}, MatMulAttrs(), "m");
  g.outputs = {FakeQuant(&g, "m", Out(g, mm), DataType::INT8, PerTensor(0.005f, 0))};
  Finish(&g);
  const Graph before = g;
  Fold(&g);
  ExpectValidAndInferred(g);
  const graph::Node& n = NodeNamed(g, "mm");
  EXPECT_EQ(n.attrs.GetInt(kExplicitQuantizationAttr), 1);
  EXPECT_EQ(g.tensors[n.inputs[1]].quant.axis, 1);
  EXPECT_EQ(g.tensors[n.outputs[0]].dtype, DataType::INT8);
  // As for the conv: at most one output step.
  const std::vector<Tensor> inputs = RandomInputs({{2, 3, 8}}, 111);
  EXPECT_LE(MaxSteps(RunReference(g, inputs)[0], RunReference(before, inputs)[0], 0.005f),
            1.0 + 1e-6);
}

TEST(FoldQdqTest, Int16ConvFoldsWithAFloatBias) {
  std::mt19937 rng(10);
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 2, 4, 4});
  const TensorId xd = FakeQuant(&g, "x", x, DataType::INT16, PerTensor(1.0f / 32767, 0));
  const TensorId wq = AddIntConst<int16_t>(&g, "w", DataType::INT16, {3, 2, 3, 3},
                                           PerAxis({1e-4f, 2e-4f, 3e-4f}, 0), -32767, 32767, &rng);
  const TensorId b = AddRandomConst(&g, "b", {3}, &rng);
  const NodeId conv = AddOp(&g, NodeType::kConv, "conv", {xd, AddDequantize(&g, "w_dq", wq), b},
                            ConvAttrs(), "c");
  g.outputs = {FakeQuant(&g, "c", Out(g, conv), DataType::INT16, PerTensor(1e-4f, 0))};
  Finish(&g);
  const Graph before = g;
  const QdqFoldingNotes notes = Fold(&g);
  ExpectValidAndInferred(g);
  const graph::Node& n = NodeNamed(g, "conv");
  EXPECT_EQ(n.attrs.GetInt(kExplicitQuantizationAttr), 1) << Joined(notes);
  EXPECT_EQ(g.tensors[n.inputs[0]].dtype, DataType::INT16);
  EXPECT_EQ(g.tensors[n.inputs[1]].dtype, DataType::INT16);
  EXPECT_EQ(g.tensors[n.inputs[2]].dtype, DataType::FLOAT32);  // the INT16 form's bias
  EXPECT_EQ(g.tensors[n.outputs[0]].dtype, DataType::INT16);
  EXPECT_TRUE(HasNote(notes.folded, "INT16 kernel")) << Joined(notes);
  // Exact int64 accumulation vs the float sum of 18 products: the value differs by far
  // less than an output step (1e-4), so codes move by at most 1.
  const std::vector<Tensor> inputs = RandomInputs({{1, 2, 4, 4}}, 121);
  EXPECT_LE(MaxSteps(RunReference(g, inputs)[0], RunReference(before, inputs)[0], 1e-4f),
            1.0 + 1e-6);
}

TEST(FoldQdqTest, Int16WeightsHoldingMinus32768AreNotFolded) {
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 2});
  const TensorId xd = FakeQuant(&g, "x", x, DataType::INT16, PerTensor(1e-4f, 0));
  const std::vector<int16_t> w = {-32768, 5, 7, 9};
  const TensorId wq = g.AddConstant("w", DataType::INT16, {2, 2}, w.data(), w.size() * 2);
  g.tensors[wq].quant = PerTensor(1e-3f, 0);
  const NodeId fc = AddOp(&g, NodeType::kFullyConnected, "fc",
                          {xd, AddDequantize(&g, "w_dq", wq)}, FcAttrs(), "y");
  g.outputs = {Out(g, fc)};
  Finish(&g);
  const QdqFoldingNotes notes = Fold(&g);
  EXPECT_EQ(NodeNamed(g, "fc").attrs.GetInt(kExplicitQuantizationAttr), 0);
  EXPECT_TRUE(HasNote(notes.kept, "hold -32768")) << Joined(notes);
}

TEST(FoldQdqTest, SeveralEqualQuantizeNodesBecomeOneOutput) {
  std::mt19937 rng(11);
  Graph g;
  const TensorId x = AddInput(&g, "x", {2, 4});
  const TensorId xd = FakeQuant(&g, "x", x, DataType::UINT8, PerTensor(0.01f, 128));
  const TensorId w = DequantizedWeights(&g, "w", {3, 4}, PerTensor(0.01f, 0), &rng);
  const NodeId fc = AddOp(&g, NodeType::kFullyConnected, "fc", {xd, w}, FcAttrs(), "y");
  // Two readers, each with its own (equal) Quantize / Dequantize.
  const TensorId y1 = FakeQuant(&g, "y1", Out(g, fc), DataType::INT8, PerTensor(0.002f, 0));
  const TensorId y2 = FakeQuant(&g, "y2", Out(g, fc), DataType::INT8, PerTensor(0.002f, 0));
  g.outputs = {y1, y2};
  Finish(&g);
  Fold(&g);
  ExpectValidAndInferred(g);
  const graph::Node& n = NodeNamed(g, "fc");
  EXPECT_EQ(g.tensors[n.outputs[0]].name, "y1_q:0");
  EXPECT_EQ(CountNodes(g, NodeType::kQuantize), 1);  // x's
  // Both Dequantize nodes now read the FC's quantized output.
  EXPECT_EQ(NodeNamed(g, "y1_dq").inputs[0], n.outputs[0]);
  EXPECT_EQ(NodeNamed(g, "y2_dq").inputs[0], n.outputs[0]);
}

TEST(FoldQdqTest, ConstantFoldingQuantizesConstantsButKeepsDequantize) {
  // x + DQ(Q(FLOAT32 constant)): FoldConstants makes the INT8 constant (with the Quantize's
  // parameters) and leaves the Dequantize for FoldQdq, which (the add does not fold: x is
  // FLOAT32) makes it the FLOAT32 constant of the dequantized values.
  std::mt19937 rng(12);
  Graph g;
  const TensorId x = AddInput(&g, "x", {2, 3});
  const TensorId kf = AddRandomConst(&g, "kf", {2, 3}, &rng);
  QuantParams pk = PerAxis({0.01f, 0.008f}, 0);
  pk.zero_points = {3, -4};
  const TensorId kd = FakeQuant(&g, "k", kf, DataType::INT8, pk);
  const NodeId add =
      AddOp(&g, NodeType::kElementwise, "add", {x, kd}, ElementwiseAttrs(ElementwiseOp::kAdd));
  g.outputs = {Out(g, add)};
  Finish(&g);
  const Graph before = g;
  ASSERT_TRUE(FoldConstants(&g).ok());
  EXPECT_EQ(CountNodes(g, NodeType::kQuantize), 0);
  EXPECT_EQ(CountNodes(g, NodeType::kDequantize), 1);
  const graph::Tensor& kq = g.tensors[g.FindTensor("k_q:0")];
  EXPECT_TRUE(kq.is_constant());
  EXPECT_EQ(kq.dtype, DataType::INT8);
  EXPECT_EQ(kq.quant, pk);
  const QdqFoldingNotes notes = Fold(&g);
  ExpectValidAndInferred(g);
  EXPECT_EQ(CountNodes(g, NodeType::kDequantize), 0);
  const graph::Tensor& k = g.tensors[NodeNamed(g, "add").inputs[1]];
  EXPECT_TRUE(k.is_constant());
  EXPECT_EQ(k.dtype, DataType::FLOAT32);
  EXPECT_TRUE(HasNote(notes.materialized, "node 'k_dq' (Dequantize)")) << Joined(notes);
  // Quantize and Dequantize of the constant, evaluated once at build time by the same
  // reference arithmetic as at run time: bit-identical.
  ExpectSameResults(g, before, {{2, 3}}, 131, 0.0, 0.0);
}

TEST(FoldQdqTest, NullGraphIsRejected) {
  EXPECT_EQ(FoldQdq(nullptr, nullptr).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace qsdk::builder
