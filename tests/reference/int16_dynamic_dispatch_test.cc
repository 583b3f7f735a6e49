// EvalNode / RunGraph routing of the issue-5 quantized forms: a Conv / FullyConnected /
// MatMul reading INT16 runs the INT16 reference (int16_ops.h), one with attribute
// dynamic_quantization = 1 runs the dynamic reference (dynamic_quant.h), and Quantize /
// Dequantize pass INT16 through. The operators' numerics are tested with the operators
// (int16_ops_test.cc and the dynamic quantization tests); here each EvalNode result must
// equal, bit for bit (tolerance 0: same function, same inputs), a direct call of the
// operator the contract names, with the operands and parameters taken from the graph.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "graph/attributes.h"
#include "graph/graph.h"
#include "graph_builder_util.h"
#include "reference/dynamic_quant.h"
#include "reference/int16_ops.h"
#include "reference/ops.h"
#include "reference/quantized_ops.h"
#include "reference/reference.h"
#include "reference_test_util.h"

namespace qsdk::reference {
namespace {

using namespace testing;  // NOLINT(build/namespaces)

// A tensor of `type` (INT16 or INT8) holding random integers in [lo, hi] (fixed seed).
Tensor RandomInts(DataType type, const std::vector<int64_t>& shape, uint32_t seed, int lo,
                  int hi) {
  Tensor t = Tensor::Allocate(type, Dims(shape));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  for (int64_t i = 0; i < t.GetElementCount(); ++i) {
    if (type == DataType::INT16) {
      t.Data<int16_t>()[i] = static_cast<int16_t>(dist(rng));
    } else {
      t.Data<int8_t>()[i] = static_cast<int8_t>(dist(rng));
    }
  }
  return t;
}

Tensor RandomFloats(const std::vector<int64_t>& shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  std::vector<float> v(static_cast<size_t>(Dims(shape).GetElementCount()));
  for (float& x : v) x = dist(rng);
  return MakeTensor(shape, v);
}

// The output tensor of `out`'s node typed `spec`.
void SetOutputSpec(Graph* g, TensorId out, const QuantizedOutputSpec& spec) {
  g->tensors[out].dtype = spec.dtype;
  g->tensors[out].quant = spec.quant;
}

QuantizedOperand Operand(const Graph& g, TensorId t, const Tensor& value) {
  QuantizedOperand op;
  op.tensor = &value;
  op.quant = g.tensors[t].quant;
  return op;
}

void ExpectSameBits(const Tensor& actual, const Tensor& expected) {
  ASSERT_FALSE(expected.empty());
  ASSERT_EQ(actual.GetDataType(), expected.GetDataType())
      << DataTypeName(actual.GetDataType()) << " vs " << DataTypeName(expected.GetDataType());
  ASSERT_EQ(actual.GetDimension().GetDims(), expected.GetDimension().GetDims());
  ASSERT_EQ(actual.GetSizeInBytes(), expected.GetSizeInBytes());
  EXPECT_EQ(std::memcmp(actual.GetData(), expected.GetData(), actual.GetSizeInBytes()), 0);
}

Tensor Eval(const Graph& g, TensorId out, const std::vector<const Tensor*>& inputs) {
  std::vector<Tensor> results;
  const Status st = EvalNode(g, g.tensors[out].producer, inputs, &results);
  EXPECT_TRUE(st.ok()) << st.ToString();
  if (!st.ok() || results.size() != 1) return Tensor();
  return results[0];
}

// ----- INT16 ------------------------------------------------------------------------------

TEST(Int16DispatchTest, ConvRunsTheInt16Reference) {
  const Tensor x = RandomInts(DataType::INT16, {1, 2, 5, 5}, 1, -20000, 20000);
  const Tensor w = RandomInts(DataType::INT16, {3, 2, 3, 3}, 2, -32767, 32767);
  const Tensor b = RandomFloats({3}, 3);
  QuantizedOutputSpec int16_out;
  int16_out.dtype = DataType::INT16;
  int16_out.quant = PerTensor(0.5f, -7);
  for (const QuantizedOutputSpec& spec : {int16_out, QuantizedOutputSpec()}) {
    SCOPED_TRACE(DataTypeName(spec.dtype));
    Graph g;
    const TensorId xt =
        AddQuantizedInput(&g, "x", {1, 2, 5, 5}, DataType::INT16, PerTensor(1e-3f, 5));
    const TensorId wt = AddTypedConstant(&g, "w", w, PerAxis({2e-5f, 3e-5f, 1e-5f}, 0));
    const TensorId bt = AddTypedConstant(&g, "b", b);
    AttrMap a = ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1});
    a.SetInt(attr::kFusedActivation, static_cast<int64_t>(ActivationType::kRelu));
    const TensorId y = AddOp(&g, NodeType::kConv, "conv", {xt, wt, bt}, a, "y");
    SetOutputSpec(&g, y, spec);
    const Tensor got = Eval(g, y, {&x, &w, &b});

    ConvParams p;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.activation.type = ActivationType::kRelu;
    Tensor expected;
    const Status st =
        Int16Conv2D(Operand(g, xt, x), Operand(g, wt, w), &b, nullptr, p, spec, &expected);
    ASSERT_TRUE(st.ok()) << st.ToString();
    ExpectSameBits(got, expected);
  }
}

TEST(Int16DispatchTest, FullyConnectedWithResidualAndMatMul) {
  const Tensor x = RandomInts(DataType::INT16, {2, 6}, 4, -30000, 30000);
  const Tensor w = RandomInts(DataType::INT16, {4, 6}, 5, -32767, 32767);
  const Tensor r = RandomFloats({2, 4}, 6);
  {
    Graph g;
    const TensorId xt = AddQuantizedInput(&g, "x", {2, 6}, DataType::INT16, PerTensor(2e-4f, 0));
    const TensorId wt = AddTypedConstant(&g, "w", w, PerTensor(3e-5f, 0));
    const TensorId rt = AddInput(&g, "r", {2, 4});
    AttrMap a;
    a.SetInt(attr::kFusedSum, 1);
    const TensorId y =
        AddOp(&g, NodeType::kFullyConnected, "fc", {xt, wt, graph::kNoTensor, rt}, a, "y");
    const Tensor got = Eval(g, y, {&x, &w, nullptr, &r});
    Tensor expected;
    const Status st = Int16FullyConnected(Operand(g, xt, x), Operand(g, wt, w), nullptr, &r,
                                          FusedActivation(), QuantizedOutputSpec(), &expected);
    ASSERT_TRUE(st.ok()) << st.ToString();
    ExpectSameBits(got, expected);
  }
  {
    // MatMul a [2, 6] x b^T, b [4, 6] constant INT16 per output column (axis 0 with
    // transpose_b), INT16 output.
    Graph g;
    const TensorId at =
        AddQuantizedInput(&g, "a", {2, 6}, DataType::INT16, PerTensor(2e-4f, -100));
    const TensorId bt = AddTypedConstant(&g, "b", w, PerAxis({1e-5f, 2e-5f, 3e-5f, 4e-5f}, 0));
    AttrMap a;
    a.SetInt(attr::kTransposeA, 0);
    a.SetInt(attr::kTransposeB, 1);
    const TensorId y = AddOp(&g, NodeType::kMatMul, "mm", {at, bt}, a, "y");
    QuantizedOutputSpec spec;
    spec.dtype = DataType::INT16;
    spec.quant = PerTensor(1e-3f, 3);
    SetOutputSpec(&g, y, spec);
    const Tensor got = Eval(g, y, {&x, &w});
    MatMulParams p;
    p.transpose_b = true;
    Tensor expected;
    const Status st =
        Int16MatMul(Operand(g, at, x), Operand(g, bt, w), nullptr, p, spec, &expected);
    ASSERT_TRUE(st.ok()) << st.ToString();
    ExpectSameBits(got, expected);
  }
}

TEST(Int16DispatchTest, Int16WeightsWithInt8InputReportTheInt16Rule) {
  // A mix routes to the INT16 operator, whose message names what it requires.
  const Tensor x = RandomInts(DataType::INT8, {2, 6}, 7, -100, 100);
  const Tensor w = RandomInts(DataType::INT16, {4, 6}, 8, -1000, 1000);
  Graph g;
  const TensorId xt = AddQuantizedInput(&g, "x", {2, 6}, DataType::INT8, PerTensor(0.1f, 0));
  const TensorId wt = AddTypedConstant(&g, "w", w, PerTensor(1e-3f, 0));
  const TensorId y = AddOp(&g, NodeType::kFullyConnected, "fc", {xt, wt}, AttrMap(), "y");
  std::vector<Tensor> out;
  const Status st = EvalNode(g, g.tensors[y].producer, {&x, &w}, &out);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("node 'fc' (FullyConnected)"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("INT16"), std::string::npos) << st.message();
}

TEST(Int16DispatchTest, RunGraphQuantizeInt16ConvDequantize) {
  // x f32 -> Quantize INT16 -> Conv (INT16 w, f32 bias) writing INT16 -> Dequantize -> y f32.
  const Tensor w = RandomInts(DataType::INT16, {2, 3, 3, 3}, 9, -32767, 32767);
  const Tensor b = RandomFloats({2}, 10);
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 3, 4, 4});
  const TensorId xq = AddOp(&g, NodeType::kQuantize, "q", {x}, AttrMap(), "xq");
  QuantizedOutputSpec x_spec;
  x_spec.dtype = DataType::INT16;
  x_spec.quant = PerTensor(1e-4f, 12);
  SetOutputSpec(&g, xq, x_spec);
  const TensorId wt = AddTypedConstant(&g, "w", w, PerAxis({5e-5f, 7e-5f}, 0));
  const TensorId bt = AddTypedConstant(&g, "b", b);
  const TensorId c = AddOp(&g, NodeType::kConv, "conv", {xq, wt, bt},
                           ConvAttrs({1, 1}, {0, 0, 0, 0}, {1, 1}), "c");
  QuantizedOutputSpec c_spec;
  c_spec.dtype = DataType::INT16;
  c_spec.quant = PerTensor(2e-4f, -1);
  SetOutputSpec(&g, c, c_spec);
  const TensorId y = AddOp(&g, NodeType::kDequantize, "dq", {c}, AttrMap(), "y");
  g.outputs = {y};

  const Tensor xv = RandomFloats({1, 3, 4, 4}, 11);
  std::vector<Tensor> outputs;
  const Status st = RunGraph(g, {xv}, &outputs);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(outputs.size(), 1u);

  QuantizedOperand xop;
  xop.tensor = &xv;
  Tensor xq_v, c_v, y_v;
  ASSERT_TRUE(Quantize(xop, x_spec, &xq_v).ok());
  ASSERT_EQ(xq_v.GetDataType(), DataType::INT16);
  ASSERT_TRUE(Int16Conv2D(Operand(g, xq, xq_v), Operand(g, wt, w), &b, nullptr, ConvParams(),
                          c_spec, &c_v)
                  .ok());
  ASSERT_TRUE(Dequantize(Operand(g, c, c_v), &y_v).ok());
  ExpectSameBits(outputs[0], y_v);
}

// ----- Dynamic quantization ---------------------------------------------------------------

TEST(DynamicDispatchTest, FullyConnectedRunsTheDynamicReference) {
  const Tensor x = RandomFloats({3, 6}, 20);
  const Tensor w = RandomInts(DataType::INT8, {4, 6}, 21, -127, 127);
  const Tensor b = RandomFloats({4}, 22);
  Graph g;
  const TensorId xt = AddInput(&g, "x", {3, 6});
  const TensorId wt = AddTypedConstant(&g, "w", w, PerAxis({0.01f, 0.02f, 0.03f, 0.04f}, 0));
  const TensorId bt = AddTypedConstant(&g, "b", b);
  AttrMap a;
  a.SetInt(attr::kDynamicQuantization, 1);
  a.SetInt(attr::kFusedActivation, static_cast<int64_t>(ActivationType::kRelu));
  const TensorId y = AddOp(&g, NodeType::kFullyConnected, "fc", {xt, wt, bt}, a, "y");
  g.outputs = {y};
  const Tensor got = Eval(g, y, {&x, &w, &b});
  FusedActivation act;
  act.type = ActivationType::kRelu;
  Tensor expected;
  const Status st = DynamicQuantizedFullyConnected(x, Operand(g, wt, w), &b, act, &expected);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ExpectSameBits(got, expected);

  std::vector<Tensor> outputs;
  const Status run = RunGraph(g, {x}, &outputs);
  ASSERT_TRUE(run.ok()) << run.ToString();
  ExpectSameBits(outputs[0], expected);
}

TEST(DynamicDispatchTest, MatMulRunsTheDynamicReference) {
  const Tensor a = RandomFloats({2, 3, 5}, 23);
  const Tensor b = RandomInts(DataType::INT8, {5, 4}, 24, -127, 127);
  const Tensor bias = RandomFloats({4}, 25);
  Graph g;
  const TensorId at = AddInput(&g, "a", {2, 3, 5});
  const TensorId bt = AddTypedConstant(&g, "b", b, PerAxis({0.01f, 0.02f, 0.03f, 0.04f}, 1));
  AttrMap attrs;
  attrs.SetInt(attr::kTransposeA, 0);
  attrs.SetInt(attr::kTransposeB, 0);
  attrs.SetInt(attr::kDynamicQuantization, 1);
  const TensorId y =
      AddOp(&g, NodeType::kMatMul, "mm", {at, bt, AddTypedConstant(&g, "bias", bias)}, attrs, "y");
  const Tensor got = Eval(g, y, {&a, &b, &bias});
  Tensor expected;
  const Status st = DynamicQuantizedMatMul(a, Operand(g, bt, b), &bias, MatMulParams(), &expected);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ExpectSameBits(got, expected);
}

TEST(DynamicDispatchTest, FusedResidualIsRejected) {
  const Tensor x = RandomFloats({2, 6}, 26);
  const Tensor w = RandomInts(DataType::INT8, {4, 6}, 27, -127, 127);
  const Tensor r = RandomFloats({2, 4}, 28);
  Graph g;
  const TensorId xt = AddInput(&g, "x", {2, 6});
  const TensorId wt = AddTypedConstant(&g, "w", w, PerTensor(0.01f, 0));
  const TensorId rt = AddInput(&g, "r", {2, 4});
  AttrMap a;
  a.SetInt(attr::kDynamicQuantization, 1);
  a.SetInt(attr::kFusedSum, 1);
  const TensorId y =
      AddOp(&g, NodeType::kFullyConnected, "fc", {xt, wt, graph::kNoTensor, rt}, a, "y");
  std::vector<Tensor> out;
  const Status st = EvalNode(g, g.tensors[y].producer, {&x, &w, nullptr, &r}, &out);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("node 'fc' (FullyConnected)"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("dynamic_quantization"), std::string::npos) << st.message();
}

// ----- Quantize / Dequantize with INT16 ---------------------------------------------------

TEST(Int16DispatchTest, QuantizeAndDequantizeNodesKeepInt16) {
  const Tensor x = RandomFloats({2, 3, 2}, 30);
  Graph g;
  const TensorId xt = AddInput(&g, "x", {2, 3, 2});
  const TensorId q = AddOp(&g, NodeType::kQuantize, "q", {xt}, AttrMap(), "q");
  QuantizedOutputSpec spec;
  spec.dtype = DataType::INT16;
  spec.quant = PerAxis({1e-4f, 2e-4f, 3e-4f}, 1);  // explicit Q/DQ may be per axis
  spec.quant.zero_points = {0, 10, -10};
  SetOutputSpec(&g, q, spec);
  const TensorId d = AddOp(&g, NodeType::kDequantize, "d", {q}, AttrMap(), "d");
  g.outputs = {d};

  const Tensor qv = Eval(g, q, {&x});
  QuantizedOperand xop;
  xop.tensor = &x;
  Tensor q_expected;
  ASSERT_TRUE(Quantize(xop, spec, &q_expected).ok());
  ExpectSameBits(qv, q_expected);
  ASSERT_EQ(qv.GetDataType(), DataType::INT16);

  const Tensor dv = Eval(g, d, {&qv});
  Tensor d_expected;
  ASSERT_TRUE(Dequantize(Operand(g, q, qv), &d_expected).ok());
  ExpectSameBits(dv, d_expected);
}

}  // namespace
}  // namespace qsdk::reference
