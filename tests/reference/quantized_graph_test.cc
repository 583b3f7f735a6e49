// EvalNode and RunGraph on quantized graphs: single quantized nodes checked against the
// hand-worked kernel cases, the type rules at the node boundary, the FP32 fused residual,
// and a fully lowered INT8 network (FLOAT32 -> Quantize -> quantized ops -> Dequantize /
// FLOAT32 classifier) compared with its FP32 original within an error bound derived
// layer by layer from the actual scales and weights.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/aligned_buffer.h"
#include "graph/graph.h"
#include "graph/graph_test_util.h"
#include "graph/shape_inference.h"
#include "reference/quant_math.h"
#include "reference/quantized_test_util.h"
#include "reference/reference.h"
#include "reference/reference_test_util.h"

namespace qsdk::reference {
namespace {

using graph::AttrMap;
using graph::Graph;
using graph::NodeId;
using graph::QuantParams;
using graph::TensorId;
using namespace ::qsdk::graph::testing;  // NOLINT(build/namespaces)
using namespace testing;                 // NOLINT(build/namespaces)
using graph::testing::Out;  // a node's output (testing::Out is a quantized output spec)

constexpr float kExact = 0.0f;  // power-of-two scales: every float step is exact

// Evaluates node `id` of `g` (shapes inferred) on `inputs`; fails the test on error.
Tensor Eval(const Graph& g, NodeId id, const std::vector<const Tensor*>& inputs) {
  std::vector<Tensor> out;
  const Status s = EvalNode(g, id, inputs, &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out.empty() ? Tensor() : out[0];
}

// The ConvCase of quantized_ops_test.cc as a graph node: x UINT8 (0.5, 10), w INT8 per
// channel {0.25, 0.5}, b INT32 {0.125, 0.25}; the output UINT8 (0.25, 4) gives
// {8, 9, 11, 12, 1, 3, 7, 9}.
TEST(QuantizedEvalNodeTest, ConvNodeTakesParametersFromTheGraph) {
  Graph g;
  const TensorId x = AddInput(&g, "x", {-1, 1, 3, 3});
  SetQuantized(&g, x, DataType::UINT8, PerTensor(0.5f, 10));
  const TensorId w = AddTypedConstant<int8_t>(&g, "w", DataType::INT8, {2, 1, 2, 2},
                                              {1, 0, 0, 1, -1, 2, 1, 0}, PerAxis({0.25f, 0.5f}, 0));
  const TensorId b = AddTypedConstant<int32_t>(&g, "b", DataType::INT32, {2}, {4, -8},
                                               PerAxis({0.125f, 0.25f}, 0));
  const NodeId conv = AddOp(&g, NodeType::kConv, "conv", {x, w, b}, ConvAttrs(), "y");
  SetQuantized(&g, Out(g, conv), DataType::UINT8, PerTensor(0.25f, 4));
  g.outputs = {Out(g, conv)};
  ASSERT_TRUE(graph::InferShapes(&g).ok());
  const Tensor xv = MakeInt(DataType::UINT8, {1, 1, 3, 3}, {10, 11, 12, 13, 14, 15, 16, 17, 18});
  const Tensor wv = MakeInt(DataType::INT8, {2, 1, 2, 2}, {1, 0, 0, 1, -1, 2, 1, 0});
  const Tensor bv = MakeInt(DataType::INT32, {2}, {4, -8});
  const Tensor y = Eval(g, conv, {&xv, &wv, &bv});
  ExpectInts(y, DataType::UINT8, {1, 2, 2, 2}, {8, 9, 11, 12, 1, 3, 7, 9});
  EXPECT_EQ(y.GetName(), "y");

  // The same graph through RunGraph (constants from the graph, quantized input given).
  std::vector<Tensor> outs;
  const Status s = RunGraph(g, {xv}, &outs);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectInts(outs[0], DataType::UINT8, {1, 2, 2, 2}, {8, 9, 11, 12, 1, 3, 7, 9});

  // A FLOAT32 tensor where the graph declares UINT8 is rejected, naming both.
  const Tensor xf = MakeTensor({1, 1, 3, 3}, std::vector<float>(9, 0.0f));
  std::vector<Tensor> unused;
  const Status bad = EvalNode(g, conv, {&xf, &wv, &bv}, &unused);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("UINT8"), std::string::npos) << bad.message();
  EXPECT_NE(bad.message().find("FLOAT32"), std::string::npos) << bad.message();
  EXPECT_FALSE(RunGraph(g, {xf}, &unused).ok());
}

TEST(QuantizedEvalNodeTest, QuantizeDequantizeNodes) {
  // x -> Quantize (UINT8 0.5, 2) -> q -> Dequantize -> y: {-1, 0.25, 0.75, 1} ->
  // {0, 2.5 -> 2, 3.5 -> 4, 4} -> {-1, 0, 1, 1}.
  Graph g;
  const TensorId x = AddInput(&g, "x", {-1, 4});
  const NodeId q = AddOp(&g, NodeType::kQuantize, "q", {x}, {}, "xq");
  SetQuantized(&g, Out(g, q), DataType::UINT8, PerTensor(0.5f, 2));
  const NodeId dq = AddOp(&g, NodeType::kDequantize, "dq", {Out(g, q)}, {}, "y");
  g.outputs = {Out(g, dq), Out(g, q)};
  ASSERT_TRUE(graph::InferShapes(&g).ok());
  EXPECT_EQ(g.tensors[Out(g, dq)].dtype, DataType::FLOAT32);
  std::vector<Tensor> outs;
  const Status s = RunGraph(g, {MakeTensor({1, 4}, {-1.0f, 0.25f, 0.75f, 1.0f})}, &outs);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectTensorNear(outs[0], {1, 4}, {-1.0f, 0.0f, 1.0f, 1.0f}, kExact);
  ExpectInts(outs[1], DataType::UINT8, {1, 4}, {0, 2, 4, 4});
  EXPECT_EQ(outs[1].GetName(), "xq");
}

TEST(QuantizedEvalNodeTest, CopyingOpsMustKeepTheInputParameters) {
  // A quantized Pool whose output has other parameters than its input is an error (the
  // quantized pool does not requantize); the same parameters run.
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 1, 2, 2});
  SetQuantized(&g, x, DataType::UINT8, PerTensor(0.5f, 3));
  const NodeId pool = AddOp(&g, NodeType::kPool, "pool", {x}, PoolAttrs(PoolMode::kGlobalMax));
  SetQuantized(&g, Out(g, pool), DataType::UINT8, PerTensor(0.25f, 3));
  g.outputs = {Out(g, pool)};
  ASSERT_TRUE(graph::InferShapes(&g).ok());
  const Tensor xv = MakeInt(DataType::UINT8, {1, 1, 2, 2}, {1, 9, 4, 3});
  std::vector<Tensor> out;
  const Status s = EvalNode(g, pool, {&xv}, &out);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("node 'pool' (Pool)"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("quantization parameters"), std::string::npos) << s.message();
  g.tensors[Out(g, pool)].quant = PerTensor(0.5f, 3);
  ExpectInts(Eval(g, pool, {&xv}), DataType::UINT8, {1, 1, 1, 1}, {9});
}

TEST(QuantizedEvalNodeTest, QuantizedElementwiseAndConcatNodes) {
  // a, b UINT8 (0.5, 1) -> concat (same parameters) and add -> FLOAT32.
  Graph g;
  const TensorId a = AddInput(&g, "a", {1, 2});
  const TensorId b = AddInput(&g, "b", {1, 2});
  SetQuantized(&g, a, DataType::UINT8, PerTensor(0.5f, 1));
  SetQuantized(&g, b, DataType::UINT8, PerTensor(0.5f, 1));
  const NodeId cat = AddOp(&g, NodeType::kConcat, "cat", {a, b}, AxisAttrs(1), "c");
  SetQuantized(&g, Out(g, cat), DataType::UINT8, PerTensor(0.5f, 1));
  const NodeId add =
      AddOp(&g, NodeType::kElementwise, "add", {a, b}, ElementwiseAttrs(ElementwiseOp::kAdd), "s");
  g.outputs = {Out(g, cat), Out(g, add)};
  ASSERT_TRUE(graph::InferShapes(&g).ok());
  std::vector<Tensor> outs;
  // a = {3, 5} = {1, 2}; b = {1, 7} = {0, 3}; a + b = {1, 5}.
  const Status s = RunGraph(g,
                            {MakeInt(DataType::UINT8, {1, 2}, {3, 5}),
                             MakeInt(DataType::UINT8, {1, 2}, {1, 7})},
                            &outs);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectInts(outs[0], DataType::UINT8, {1, 4}, {3, 5, 1, 7});
  ExpectTensorNear(outs[1], {1, 2}, {1.0f, 5.0f}, kExact);
}

TEST(FusedResidualEvalTest, Fp32ConvAndFullyConnected) {
  // Conv 1x1 with w = 2, no bias: x {1, -2} -> {2, -4}; + R {10, 1} -> {12, -3};
  // ReLU -> {12, 0}.
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 1, 1, 2});
  const TensorId r = AddInput(&g, "r", {1, 1, 1, 2});
  const TensorId w = AddConst(&g, "w", {1, 1, 1, 1}, {2.0f});
  AttrMap attrs = ConvAttrs();
  attrs.SetInt(graph::attr::kFusedSum, 1);
  attrs.SetInt(graph::attr::kFusedActivation, static_cast<int64_t>(ActivationType::kRelu));
  const NodeId conv = AddOp(&g, NodeType::kConv, "conv", {x, w, graph::kNoTensor, r}, attrs);
  // FC: flatten(conv out) = {12, 0}, w {1, 1}, b 0.5 -> 12.5; + R2 {-0.5} -> 12.
  const TensorId wf = AddConst(&g, "wf", {1, 2}, {1.0f, 1.0f});
  const TensorId bf = AddConst(&g, "bf", {1}, {0.5f});
  const TensorId r2 = AddInput(&g, "r2", {1, 1});
  AttrMap fc = FcAttrs();
  fc.SetInt(graph::attr::kFusedSum, 1);
  const NodeId fcn = AddOp(&g, NodeType::kFullyConnected, "fc", {Out(g, conv), wf, bf, r2}, fc);
  g.outputs = {Out(g, conv), Out(g, fcn)};
  ASSERT_TRUE(graph::InferShapes(&g).ok());
  std::vector<Tensor> outs;
  const Status s = RunGraph(
      g,
      {MakeTensor({1, 1, 1, 2}, {1, -2}), MakeTensor({1, 1, 1, 2}, {10, 1}),
       MakeTensor({1, 1}, {-0.5f})},
      &outs);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectTensorNear(outs[0], {1, 1, 1, 2}, {12.0f, 0.0f}, kExact);
  ExpectTensorNear(outs[1], {1, 1}, {12.0f}, kExact);
}

TEST(FusedResidualEvalTest, Fp32ConvReadsAQuantizedResidualByItsValue) {
  // As above, with R UINT8 (s 0.5, z 4): {24, 6} = {10, 1}: relu({2, -4} + R) = {12, 0}.
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 1, 1, 2});
  const TensorId r = AddInput(&g, "r", {1, 1, 1, 2});
  SetQuantized(&g, r, DataType::UINT8, PerTensor(0.5f, 4));
  const TensorId w = AddConst(&g, "w", {1, 1, 1, 1}, {2.0f});
  AttrMap attrs = ConvAttrs();
  attrs.SetInt(graph::attr::kFusedSum, 1);
  attrs.SetInt(graph::attr::kFusedActivation, static_cast<int64_t>(ActivationType::kRelu));
  const NodeId conv = AddOp(&g, NodeType::kConv, "conv", {x, w, graph::kNoTensor, r}, attrs);
  g.outputs = {Out(g, conv)};
  ASSERT_TRUE(graph::InferShapes(&g).ok());
  std::vector<Tensor> outs;
  const Status s = RunGraph(
      g, {MakeTensor({1, 1, 1, 2}, {1, -2}), MakeInt(DataType::UINT8, {1, 1, 1, 2}, {24, 6})},
      &outs);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectTensorNear(outs[0], {1, 1, 1, 2}, {12.0f, 0.0f}, kExact);
}

// --- A fully lowered INT8 network vs its FP32 original. -----------------------------------

float MaxAbs(const Tensor& t) {
  float m = 0.0f;
  const float* p = t.Data<float>();
  for (int64_t i = 0; i < t.GetElementCount(); ++i) m = std::max(m, std::fabs(p[i]));
  return m;
}

void MinMax(const Tensor& t, float* lo, float* hi) {
  const float* p = t.Data<float>();
  *lo = *std::min_element(p, p + t.GetElementCount());
  *hi = *std::max_element(p, p + t.GetElementCount());
}

// FP32 weights of one layer with their INT8 / INT32 quantization.
struct QuantLayer {
  std::vector<int64_t> w_shape;
  std::vector<float> w, b;
  int32_t w_axis = 0;  // the output-channel axis
  std::vector<int8_t> wq;
  QuantParams w_params;
  std::vector<int32_t> bq;
  QuantParams b_params;

  // Quantizes w per channel and b for an input of scale `s_in`.
  void Quantize(float s_in) {
    ASSERT_TRUE(QuantizeWeights(w.data(), w_shape, w_axis, &wq, &w_params).ok());
    ASSERT_TRUE(QuantizeBias(b.data(), {static_cast<int64_t>(b.size())}, s_in, w_params, &bq,
                             &b_params)
                    .ok());
  }

  // Worst-case error of the layer's output (before its own output rounding) when its input
  // is off by at most `e_in` from an FP32 input bounded by `max_in`:
  //   |sum x^ w^ - sum x w| <= e_in * sum|w^| + max_in * sum|w^ - w|, plus |b^ - b|,
  // maximized over output channels (a window with padding has fewer terms: still bounded).
  float Bound(float e_in, float max_in) const {
    const auto channels = static_cast<size_t>(w_shape[static_cast<size_t>(w_axis)]);
    std::vector<double> abs_sum(channels, 0.0), diff_sum(channels, 0.0);
    const int64_t inner = graph::ElementCount(std::vector<int64_t>(
        w_shape.begin() + w_axis + 1, w_shape.end()));
    for (size_t i = 0; i < w.size(); ++i) {
      const size_t c = (i / static_cast<size_t>(inner)) % channels;
      const double deq = static_cast<double>(wq[i]) * w_params.scales[c];
      abs_sum[c] += std::fabs(deq);
      diff_sum[c] += std::fabs(deq - w[i]);
    }
    double worst = 0.0;
    for (size_t c = 0; c < channels; ++c) {
      const double bias_err =
          std::fabs(static_cast<double>(bq[c]) * b_params.scales[b_params.axis < 0 ? 0 : c] - b[c]);
      worst = std::max(worst, e_in * abs_sum[c] + max_in * diff_sum[c] + bias_err);
    }
    return static_cast<float>(worst);
  }
};

QuantLayer RandomLayer(std::vector<int64_t> w_shape, int64_t fan_in, std::mt19937* rng,
                       int32_t w_axis = 0) {
  QuantLayer l;
  l.w_shape = std::move(w_shape);
  l.w_axis = w_axis;
  // Scaled like He initialization so that activations stay O(1) through the network.
  const float limit = std::sqrt(6.0f / static_cast<float>(fan_in));
  l.w = RandomValues(rng, graph::ElementCount(l.w_shape), -limit, limit);
  l.b = RandomValues(rng, l.w_shape[static_cast<size_t>(w_axis)], -0.1f, 0.1f);
  return l;
}

AttrMap Relu(AttrMap a) {
  a.SetInt(graph::attr::kFusedActivation, static_cast<int64_t>(ActivationType::kRelu));
  return a;
}

AttrMap WithSum(AttrMap a) {
  a.SetInt(graph::attr::kFusedSum, 1);
  return a;
}

// Tensor names shared by the two graphs.
const char* const kIntermediates[] = {"x", "a1", "a2", "a3", "c", "p", "v", "e", "gp", "f", "d"};

struct Network {
  QuantLayer conv1, conv2, conv3, dw, fc, mm;
};

// The FP32 network; `all_outputs` also makes every intermediate tensor an output
// (calibration). The INT8 network below has the same topology:
//   x [N,3,8,8] -> conv1 3x3 (ReLU) -> a1 [N,8,8,8]
//   a1 -> conv2 3x3 + a1 (fused sum, ReLU) -> a2;  a1 -> conv3 1x1 (ReLU) -> a3 [N,4,8,8]
//   concat(a2, a3) -> c [N,12,8,8] -> max 2x2/2 -> p [N,12,4,4] -> avg 3x3 pad 1 -> v
//   add(v, p) -> e -> global average -> gp -> flatten -> f [N,12]
//   out1 = FC(f) [N,5];  out2 = depthwise 3x3 conv(p) [N,12,4,4];  out3 = MatMul(f) [N,6]
Graph Fp32Network(const Network& n, bool all_outputs) {
  Graph g;
  const TensorId x = AddInput(&g, "x", {-1, 3, 8, 8});
  auto consts = [&](const QuantLayer& l, const std::string& name) {
    return std::vector<TensorId>{AddConst(&g, name + "_w", l.w_shape, l.w),
                                 AddConst(&g, name + "_b", {static_cast<int64_t>(l.b.size())},
                                          l.b)};
  };
  const auto c1 = consts(n.conv1, "conv1");
  const TensorId a1 = Out(g, AddOp(&g, NodeType::kConv, "conv1", {x, c1[0], c1[1]},
                                   Relu(ConvAttrs({1, 1}, {1, 1, 1, 1})), "a1"));
  const auto c2 = consts(n.conv2, "conv2");
  const TensorId a2 = Out(g, AddOp(&g, NodeType::kConv, "conv2", {a1, c2[0], c2[1], a1},
                                   Relu(WithSum(ConvAttrs({1, 1}, {1, 1, 1, 1}))), "a2"));
  const auto c3 = consts(n.conv3, "conv3");
  const TensorId a3 =
      Out(g, AddOp(&g, NodeType::kConv, "conv3", {a1, c3[0], c3[1]}, Relu(ConvAttrs()), "a3"));
  const TensorId c = Out(g, AddOp(&g, NodeType::kConcat, "cat", {a2, a3}, AxisAttrs(1), "c"));
  const TensorId p =
      Out(g, AddOp(&g, NodeType::kPool, "maxpool", {c}, PoolAttrs(PoolMode::kMax, {2, 2}, {2, 2}),
                   "p"));
  const TensorId v = Out(g, AddOp(&g, NodeType::kPool, "avgpool", {p},
                                  PoolAttrs(PoolMode::kAverage, {3, 3}, {1, 1}, {1, 1, 1, 1}),
                                  "v"));
  const TensorId e = Out(g, AddOp(&g, NodeType::kElementwise, "add", {v, p},
                                  ElementwiseAttrs(ElementwiseOp::kAdd), "e"));
  const TensorId gp =
      Out(g, AddOp(&g, NodeType::kPool, "gap", {e}, PoolAttrs(PoolMode::kGlobalAverage), "gp"));
  const TensorId f = Out(g, AddOp(&g, NodeType::kFlatten, "flatten", {gp}, AxisAttrs(1), "f"));
  const auto cf = consts(n.fc, "fc");
  const TensorId out1 =
      Out(g, AddOp(&g, NodeType::kFullyConnected, "fc", {f, cf[0], cf[1]}, FcAttrs(), "out1"));
  const auto cd = consts(n.dw, "dw");
  const TensorId d = Out(g, AddOp(&g, NodeType::kConv, "dw", {p, cd[0], cd[1]},
                                  ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 12), "d"));
  const auto cm = consts(n.mm, "mm");
  const TensorId out3 =
      Out(g, AddOp(&g, NodeType::kMatMul, "mm", {f, cm[0], cm[1]}, MatMulAttrs(), "out3"));
  g.outputs = {out1, d, out3};
  if (all_outputs) {
    for (const char* name : kIntermediates) g.outputs.push_back(g.FindTensor(name));
  }
  return g;
}

// Activation parameters per tensor, chosen from calibrated ranges.
struct ActParams {
  DataType dtype;
  QuantParams q;
};

// The lowered INT8 network with the given per-tensor activation parameters.
Graph Int8Network(const Network& n, const std::function<ActParams(const char*)>& act) {
  Graph g;
  const TensorId x = AddInput(&g, "x", {-1, 3, 8, 8});
  auto quantized = [&](NodeId node, const char* name) {
    const ActParams a = act(name);
    SetQuantized(&g, Out(g, node), a.dtype, a.q);
    return Out(g, node);
  };
  auto consts = [&](const QuantLayer& l, const std::string& name) {
    return std::vector<TensorId>{
        AddTypedConstant<int8_t>(&g, name + "_w", DataType::INT8, l.w_shape, l.wq, l.w_params),
        AddTypedConstant<int32_t>(&g, name + "_b", DataType::INT32,
                                  {static_cast<int64_t>(l.bq.size())}, l.bq, l.b_params)};
  };
  const TensorId xq = quantized(AddOp(&g, NodeType::kQuantize, "quantize", {x}, {}, "xq"), "x");
  const auto c1 = consts(n.conv1, "conv1");
  const TensorId a1 = quantized(AddOp(&g, NodeType::kConv, "conv1", {xq, c1[0], c1[1]},
                                      Relu(ConvAttrs({1, 1}, {1, 1, 1, 1})), "a1"),
                                "a1");
  const auto c2 = consts(n.conv2, "conv2");
  const TensorId a2 = quantized(AddOp(&g, NodeType::kConv, "conv2", {a1, c2[0], c2[1], a1},
                                      Relu(WithSum(ConvAttrs({1, 1}, {1, 1, 1, 1}))), "a2"),
                                "a2");
  const auto c3 = consts(n.conv3, "conv3");
  const TensorId a3 = quantized(
      AddOp(&g, NodeType::kConv, "conv3", {a1, c3[0], c3[1]}, Relu(ConvAttrs()), "a3"), "a3");
  const TensorId c =
      quantized(AddOp(&g, NodeType::kConcat, "cat", {a2, a3}, AxisAttrs(1), "c"), "c");
  const TensorId p = quantized(
      AddOp(&g, NodeType::kPool, "maxpool", {c}, PoolAttrs(PoolMode::kMax, {2, 2}, {2, 2}), "p"),
      "p");
  const TensorId v = quantized(AddOp(&g, NodeType::kPool, "avgpool", {p},
                                     PoolAttrs(PoolMode::kAverage, {3, 3}, {1, 1}, {1, 1, 1, 1}),
                                     "v"),
                               "v");
  const TensorId e = quantized(AddOp(&g, NodeType::kElementwise, "add", {v, p},
                                     ElementwiseAttrs(ElementwiseOp::kAdd), "e"),
                               "e");
  const TensorId gp = quantized(
      AddOp(&g, NodeType::kPool, "gap", {e}, PoolAttrs(PoolMode::kGlobalAverage), "gp"), "gp");
  const TensorId f =
      quantized(AddOp(&g, NodeType::kFlatten, "flatten", {gp}, AxisAttrs(1), "f"), "f");
  // The classifier output stays FLOAT32 (no output quantization).
  const auto cf = consts(n.fc, "fc");
  const TensorId out1 =
      Out(g, AddOp(&g, NodeType::kFullyConnected, "fc", {f, cf[0], cf[1]}, FcAttrs(), "out1"));
  const auto cd = consts(n.dw, "dw");
  const TensorId dq = quantized(AddOp(&g, NodeType::kConv, "dw", {p, cd[0], cd[1]},
                                      ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 12), "dq"),
                                "d");
  const TensorId d = Out(g, AddOp(&g, NodeType::kDequantize, "dequantize", {dq}, {}, "d"));
  const auto cm = consts(n.mm, "mm");
  const TensorId out3 =
      Out(g, AddOp(&g, NodeType::kMatMul, "mm", {f, cm[0], cm[1]}, MatMulAttrs(), "out3"));
  g.outputs = {out1, d, out3};
  return g;
}

// The real values of a quantized tensor (INT8 / UINT8 / INT32 with `q`), as FLOAT32:
// scale[c] * (q - z[c]) per element (DequantizeValue).
Tensor Dequantized(const Tensor& t, const QuantParams& q) {
  const std::vector<int32_t> v = IntValues(t);
  Tensor out = Tensor::Allocate(DataType::FLOAT32, t.GetDimension(), t.GetName());
  const std::vector<int64_t>& shape = t.GetDimension().GetDims();
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(q.axis) + 1; q.axis >= 0 && d < shape.size(); ++d) {
    inner *= shape[d];
  }
  const int64_t extent = q.axis < 0 ? 1 : shape[static_cast<size_t>(q.axis)];
  for (size_t i = 0; i < v.size(); ++i) {
    const auto c = static_cast<size_t>((static_cast<int64_t>(i) / inner) % extent);
    out.Data<float>()[i] = DequantizeValue(v[i], q.scales[c], q.zero_points[c]);
  }
  return out;
}

// `q` with every quantized tensor turned into the FLOAT32 tensor of its real values
// (constants dequantized): the FP32 graph the INT8 one approximates, operand for operand.
Graph DequantizedGraph(const Graph& q) {
  Graph g = q;
  for (graph::Tensor& t : g.tensors) {
    if (t.quant.empty()) continue;
    if (t.is_constant()) {
      const Tensor view = Tensor::Wrap(t.dtype, Dims(t.shape),
                                       const_cast<uint8_t*>(t.data->data()));
      const Tensor real = Dequantized(view, t.quant);
      t.data = std::make_shared<const AlignedBuffer>(real.GetData(), real.GetSizeInBytes());
    }
    t.dtype = DataType::FLOAT32;
    t.quant = QuantParams();
  }
  return g;
}

// For every quantized op of `q` (not Quantize / Dequantize), with the values `values` of
// all its tensors from an INT8 run: the FP32 op on the real values of its actual operands
// (weights and biases dequantized), quantized with the node's output parameters, equals
// the INT8 output within 1 LSB, on at most 1% of the elements (the contract: the INT8
// kernels compute exactly this, up to float rounding at a .5 tie, e.g. float(acc) * M vs
// the double sum of dequantized products; average pools see ties often, see below); a
// FLOAT32 output within relative 1e-5 (same
// float-rounding differences, no output rounding). Returns the number of nodes checked.
int CheckEachNodeAgainstDequantizedFp32(const Graph& q, const std::vector<Tensor>& values) {
  const Graph fp = DequantizedGraph(q);
  const auto find = [&](graph::TensorId t) -> const Tensor* {
    for (const Tensor& v : values) {
      if (v.GetName() == q.tensors[t].name) return &v;
    }
    return nullptr;
  };
  int checked = 0;
  for (NodeId id = 0; id < static_cast<NodeId>(q.nodes.size()); ++id) {
    const graph::Node& node = q.nodes[id];
    if (node.type == NodeType::kConst || node.type == NodeType::kQuantize ||
        node.type == NodeType::kDequantize) {
      continue;
    }
    SCOPED_TRACE(q.DescribeNode(id));
    std::vector<Tensor> real(node.inputs.size());
    std::vector<const Tensor*> args(node.inputs.size(), nullptr);
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const graph::TensorId t = node.inputs[i];
      if (t == graph::kNoTensor) continue;
      const graph::Tensor& decl = q.tensors[t];
      if (decl.is_constant()) {
        real[i] = Tensor::Wrap(DataType::FLOAT32, Dims(decl.shape),
                               const_cast<uint8_t*>(fp.tensors[t].data->data()));
      } else {
        const Tensor* v = find(t);
        if (v == nullptr) {
          ADD_FAILURE() << "no value for input " << decl.name;
          return checked;
        }
        real[i] = decl.quant.empty() ? *v : Dequantized(*v, decl.quant);
      }
      args[i] = &real[i];
    }
    std::vector<Tensor> fp_out;
    const Status s = EvalNode(fp, id, args, &fp_out);
    if (!s.ok()) {
      ADD_FAILURE() << s.ToString();
      return checked;
    }
    const graph::Tensor& out_decl = q.tensors[node.outputs[0]];
    const Tensor* got = find(node.outputs[0]);
    if (got == nullptr) {
      ADD_FAILURE() << "no value for output " << out_decl.name;
      return checked;
    }
    EXPECT_EQ(got->GetDimension(), fp_out[0].GetDimension());
    const float* r = fp_out[0].Data<float>();
    const int64_t count = got->GetElementCount();
    if (out_decl.quant.empty()) {
      for (int64_t i = 0; i < count; ++i) {
        EXPECT_NEAR(got->Data<float>()[i], r[i], 1e-5 * (1.0 + std::fabs(r[i]))) << i;
      }
    } else {
      const std::vector<int32_t> qv = IntValues(*got);
      const float inv = InverseScale(out_decl.quant.scales[0]);
      int64_t off_by_one = 0;
      for (int64_t i = 0; i < count; ++i) {
        const int32_t expected =
            QuantizeValue(r[i], inv, out_decl.quant.zero_points[0], out_decl.dtype);
        const int32_t diff = std::abs(qv[static_cast<size_t>(i)] - expected);
        EXPECT_LE(diff, 1) << "element " << i;
        if (diff == 1) ++off_by_one;
      }
      // An average pool's mean of integers is often exactly a tie (a sum of q divided by
      // 4, 6 or 9 lands on .5 for many windows): the INT8 kernel rounds it to even, the
      // FP32 path sees it a float rounding above or below. So 1 LSB may differ there on
      // any number of elements; elsewhere a tie needs a coincidence.
      const bool averages = node.type == NodeType::kPool &&
                            (node.attrs.GetInt(graph::attr::kPoolMode) ==
                                 static_cast<int64_t>(PoolMode::kAverage) ||
                             node.attrs.GetInt(graph::attr::kPoolMode) ==
                                 static_cast<int64_t>(PoolMode::kGlobalAverage));
      if (!averages) {
        EXPECT_LE(off_by_one, count / 100) << "elements 1 LSB off of " << count;
      }
    }
    ++checked;
  }
  return checked;
}

TEST(LoweredInt8GraphTest, MatchesFp32WithinTheDerivedBound) {
  std::mt19937 rng(2024);
  Network n;
  n.conv1 = RandomLayer({8, 3, 3, 3}, 27, &rng);
  n.conv2 = RandomLayer({8, 8, 3, 3}, 72, &rng);
  n.conv3 = RandomLayer({4, 8, 1, 1}, 8, &rng);
  n.dw = RandomLayer({12, 1, 3, 3}, 9, &rng);
  n.fc = RandomLayer({5, 12}, 12, &rng);
  n.mm = RandomLayer({12, 6}, 12, &rng, /*w_axis=*/1);  // MatMul b [K, N]: per column

  // Calibrate on the very inputs compared below, so every FP32 value lies in its range
  // (no clipping error beyond the half step the bound counts).
  std::vector<Tensor> inputs = {Tensor::Allocate(DataType::FLOAT32, Dims({2, 3, 8, 8}))};
  {
    const std::vector<float> xs = RandomValues(&rng, 2 * 3 * 8 * 8);
    std::memcpy(inputs[0].GetData(), xs.data(), xs.size() * sizeof(float));
  }
  std::vector<Tensor> calib;
  ASSERT_TRUE(RunGraph(Fp32Network(n, true), inputs, &calib).ok());
  const auto value = [&](const std::string& name) -> const Tensor& {
    for (const Tensor& t : calib) {
      if (t.GetName() == name) return t;
    }
    ADD_FAILURE() << "no calibrated tensor " << name;
    return calib[0];
  };
  auto choose = [&](float lo, float hi) {
    ActivationQuant a;
    EXPECT_TRUE(ChooseActivationParams(lo, hi, QuantScheme::kSymmetric, &a).ok());
    return ActParams{a.dtype, a.params};
  };
  auto from_range = [&](const char* name) {
    float lo = 0.0f, hi = 0.0f;
    MinMax(value(name), &lo, &hi);
    return choose(lo, hi);
  };
  // Concat scale unification: a2, a3, c (and the pools after it, which keep their input's
  // parameters) share one range, the union of a2's and a3's.
  float lo2, hi2, lo3, hi3;
  MinMax(value("a2"), &lo2, &hi2);
  MinMax(value("a3"), &lo3, &hi3);
  const ActParams unified = choose(std::min(lo2, lo3), std::max(hi2, hi3));
  const ActParams x_p = from_range("x"), a1_p = from_range("a1"), e_par = from_range("e"),
                  d_p = from_range("d");
  const auto act = [&](const char* name) -> ActParams {
    const std::string s = name;
    if (s == "x") return x_p;
    if (s == "a1") return a1_p;
    if (s == "e" || s == "gp" || s == "f") return e_par;
    if (s == "d") return d_p;
    return unified;  // a2, a3, c, p, v
  };
  EXPECT_EQ(x_p.dtype, DataType::INT8);    // x in [-1, 1): symmetric INT8
  EXPECT_EQ(a1_p.dtype, DataType::UINT8);  // after ReLU: UINT8
  EXPECT_EQ(d_p.dtype, DataType::INT8);

  const float s_x = x_p.q.scales[0], s_a1 = a1_p.q.scales[0], s_u = unified.q.scales[0];
  const float s_e = e_par.q.scales[0], s_d = d_p.q.scales[0];
  n.conv1.Quantize(s_x);
  n.conv2.Quantize(s_a1);
  n.conv3.Quantize(s_a1);
  n.dw.Quantize(s_u);
  n.fc.Quantize(s_e);
  n.mm.Quantize(s_e);
  // MatMul's bias [6] follows the per-column weights along its only axis.
  EXPECT_EQ(n.mm.b_params.axis, 0);

  Graph q = Int8Network(n, act);
  const Status inferred = graph::InferShapes(&q);
  ASSERT_TRUE(inferred.ok()) << inferred.ToString();
  std::vector<Tensor> got;
  const Status ran = RunGraph(q, inputs, &got);
  ASSERT_TRUE(ran.ok()) << ran.ToString();
  std::vector<Tensor> want;
  ASSERT_TRUE(RunGraph(Fp32Network(n, false), inputs, &want).ok());

  // Error bounds, layer by layer (e = max |quantized-path real value - FP32 value|).
  // Rounding to a grid of step s costs s/2; ReLU, max pooling, averaging and flattening
  // are 1-Lipschitz in the max norm; a layer costs Bound(e_in, max|FP32 input|); a sum
  // adds its operands' errors. Float rounding inside the kernels (relative ~1e-7 per
  // operation) is covered by a slack of 1e-5 * (1 + max|value|) per tensor.
  const auto slack = [&](const char* name) { return 1e-5f * (1.0f + MaxAbs(value(name))); };
  const float e_x = s_x / 2 + slack("x");
  const float e_a1 = n.conv1.Bound(e_x, MaxAbs(value("x"))) + s_a1 / 2 + slack("a1");
  const float e_a2 = n.conv2.Bound(e_a1, MaxAbs(value("a1"))) + e_a1 + s_u / 2 + slack("a2");
  const float e_a3 = n.conv3.Bound(e_a1, MaxAbs(value("a1"))) + s_u / 2 + slack("a3");
  const float e_p = std::max(e_a2, e_a3);           // concat and max pool: exact copies
  const float e_v = e_p + s_u / 2 + slack("v");     // average, rounded
  const float e_e = e_v + e_p + s_e / 2 + slack("e");
  const float e_f = e_e + s_e / 2 + slack("gp");    // global average, rounded; flatten
  const float bound[3] = {
      n.fc.Bound(e_f, MaxAbs(value("f"))) + 1e-5f * (1.0f + MaxAbs(want[0])),
      n.dw.Bound(e_p, MaxAbs(value("p"))) + s_d / 2 + slack("d"),
      n.mm.Bound(e_f, MaxAbs(value("f"))) + 1e-5f * (1.0f + MaxAbs(want[2])),
  };
  ASSERT_EQ(got.size(), 3u);
  for (size_t k = 0; k < 3; ++k) {
    SCOPED_TRACE(want[k].GetName());
    ASSERT_EQ(got[k].GetDataType(), DataType::FLOAT32);
    ASSERT_EQ(got[k].GetDimension(), want[k].GetDimension());
    EXPECT_EQ(got[k].GetName(), want[k].GetName());
    const float* a = got[k].Data<float>();
    const float* b = want[k].Data<float>();
    float worst = 0.0f;
    for (int64_t i = 0; i < got[k].GetElementCount(); ++i) {
      worst = std::max(worst, std::fabs(a[i] - b[i]));
    }
    // The rigorous bound. It assumes every rounding error adds up with the same sign, so
    // it is far above the typical error (each layer multiplies it by sum|w|, about
    // sqrt(K) times what independent errors give); the tight per-node check below is
    // what pins the kernels down.
    EXPECT_LE(worst, bound[k]);
    // The observed error of this (fixed-seed) network is 0.4% to 1.5% of each output's
    // largest magnitude (a few LSB of each tensor carried through 4-6 layers); 3% leaves a
    // 2x margin, while a wrong scale, zero point or rounding rule shows up as an error of
    // tens of percent.
    EXPECT_LE(worst, 0.03f * MaxAbs(want[k]));
    // The INT8 path really differs from FP32 (it is not running float kernels).
    EXPECT_GT(worst, 0.0f);
    std::printf("%s: max |INT8 - FP32| = %g, bound %g, max |FP32| = %g\n",
                want[k].GetName().c_str(), worst, bound[k], MaxAbs(want[k]));
  }

  // Node by node: every tensor of the INT8 run, then the tight check.
  Graph q_all = q;
  for (const char* name : {"xq", "a1", "a2", "a3", "c", "p", "v", "e", "gp", "f", "dq"}) {
    q_all.outputs.push_back(q_all.FindTensor(name));
  }
  std::vector<Tensor> all;
  const Status ran_all = RunGraph(q_all, inputs, &all);
  ASSERT_TRUE(ran_all.ok()) << ran_all.ToString();
  EXPECT_EQ(all[3].GetDataType(), DataType::INT8);   // xq
  EXPECT_EQ(all[4].GetDataType(), DataType::UINT8);  // a1
  // conv1, conv2, conv3, concat, max, avg, add, global avg, flatten, fc, dw, mm.
  EXPECT_EQ(CheckEachNodeAgainstDequantizedFp32(q_all, all), 12);
}

}  // namespace
}  // namespace qsdk::reference
