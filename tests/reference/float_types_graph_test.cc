// EvalNode and RunGraph on FLOAT16 / BFLOAT16 tensors: a BF16 compute node equals the
// FP32 reference operator on the widened inputs with its result rounded to the output
// type; FLOAT16 constants of an FP32 node are widened exactly; Cast nodes; dequantized
// constant weights (explicit Q/DQ before folding); whole graphs with bf16 intermediates.
//
// Every comparison below is bit for bit (tolerance 0): the reference semantics *define*
// the reduced-precision result as "widen exactly, compute with the FP32 operator, round
// once to nearest even", so any other rounding (truncation, double rounding, forgetting
// to widen a FLOAT16 constant, a wrong output type) changes some bits on random data.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "graph/attributes.h"
#include "graph/graph.h"
#include "graph_builder_util.h"
#include "reference/float_types.h"
#include "reference/ops.h"
#include "reference/quantized_ops.h"
#include "reference/reference.h"
#include "reference_test_util.h"

namespace qsdk::reference {
namespace {

using namespace testing;  // NOLINT(build/namespaces)

// Random FLOAT32 values in [lo, hi) with full 24-bit mantissas (fixed seed per call site).
Tensor Random(const std::vector<int64_t>& shape, uint32_t seed, float lo = -2.0f,
              float hi = 2.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(Dims(shape).GetElementCount()));
  for (float& x : v) x = dist(rng);
  return MakeTensor(shape, v);
}

// `t` converted to `type` (Cast; its own tests cover the conversion).
Tensor As(const Tensor& t, DataType type) {
  Tensor out;
  const Status st = Cast(t, type, &out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

// Same type, shape and bytes.
void ExpectSameBits(const Tensor& actual, const Tensor& expected) {
  ASSERT_EQ(actual.GetDataType(), expected.GetDataType())
      << DataTypeName(actual.GetDataType()) << " vs " << DataTypeName(expected.GetDataType());
  ASSERT_EQ(actual.GetDimension().GetDims(), expected.GetDimension().GetDims());
  ASSERT_EQ(actual.GetSizeInBytes(), expected.GetSizeInBytes());
  const auto* a = static_cast<const uint8_t*>(actual.GetData());
  const auto* e = static_cast<const uint8_t*>(expected.GetData());
  const size_t element = DataTypeSize(actual.GetDataType());
  size_t mismatches = 0;
  for (size_t i = 0; i < actual.GetSizeInBytes(); i += element) {
    if (std::memcmp(a + i, e + i, element) != 0 && ++mismatches <= 5) {
      ADD_FAILURE() << "element " << i / element << " differs";
    }
  }
  EXPECT_EQ(mismatches, 0u);
}

// Graph input of `type`.
TensorId AddTypedInput(Graph* g, const std::string& name, std::vector<int64_t> shape,
                       DataType type) {
  const TensorId t = AddInput(g, name, std::move(shape));
  g->tensors[t].dtype = type;
  return t;
}

// A constant holding `value`'s bytes in its type.
TensorId AddTensorConstant(Graph* g, const std::string& name, const Tensor& value) {
  return g->AddConstant(name, value.GetDataType(), value.GetDimension().GetDims(),
                        value.GetData(), value.GetSizeInBytes());
}

// AddOp with the output tensor typed `type`.
TensorId AddTypedOp(Graph* g, NodeType type, const std::string& name,
                    std::vector<TensorId> inputs, AttrMap attrs, const std::string& output,
                    DataType out_type) {
  const TensorId out = AddOp(g, type, name, std::move(inputs), std::move(attrs), output);
  g->tensors[out].dtype = out_type;
  return out;
}

// EvalNode of the node producing `out`, expecting success and one output.
Tensor Eval(const Graph& g, TensorId out, const std::vector<const Tensor*>& inputs) {
  std::vector<Tensor> results;
  const Status st = EvalNode(g, g.tensors[out].producer, inputs, &results);
  EXPECT_TRUE(st.ok()) << st.ToString();
  if (!st.ok() || results.size() != 1) return Tensor();
  EXPECT_EQ(results[0].GetName(), g.tensors[out].name);
  return results[0];
}

ConvParams PaddedConv() {
  ConvParams p;
  p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
  return p;
}

AttrMap PaddedConvAttrs() { return ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}); }

// ----- BF16 compute nodes ----------------------------------------------------------------

TEST(Bf16EvalNodeTest, ConvEqualsWidenedFp32ConvRounded) {
  const Tensor x = As(Random({1, 3, 6, 6}, 1), DataType::BFLOAT16);
  const Tensor w = As(Random({4, 3, 3, 3}, 2), DataType::BFLOAT16);
  const Tensor b = Random({4}, 3);  // FLOAT32 bias
  for (const DataType out_type : {DataType::BFLOAT16, DataType::FLOAT32}) {
    SCOPED_TRACE(DataTypeName(out_type));
    Graph g;
    const TensorId xt = AddTypedInput(&g, "x", {1, 3, 6, 6}, DataType::BFLOAT16);
    const TensorId wt = AddTensorConstant(&g, "w", w);
    const TensorId bt = AddTensorConstant(&g, "b", b);
    AttrMap a = PaddedConvAttrs();
    a.SetInt(attr::kFusedActivation, static_cast<int64_t>(ActivationType::kRelu));
    const TensorId y = AddTypedOp(&g, NodeType::kConv, "conv", {xt, wt, bt}, a, "y", out_type);
    g.outputs = {y};
    const Tensor got = Eval(g, y, {&x, &w, &b});

    ConvParams p = PaddedConv();
    p.activation.type = ActivationType::kRelu;
    Tensor expected;
    ASSERT_TRUE(Conv2D(As(x, DataType::FLOAT32), As(w, DataType::FLOAT32), &b, p, &expected).ok());
    // FLOAT32 output ("conversion fused"): the FP32 result itself, not rounded.
    ExpectSameBits(got, As(expected, out_type));
  }
}

TEST(Bf16EvalNodeTest, ConvWithBf16ResidualAddsTheWidenedResidual) {
  const Tensor x = As(Random({1, 2, 4, 4}, 4), DataType::BFLOAT16);
  const Tensor w = As(Random({3, 2, 3, 3}, 5), DataType::BFLOAT16);
  const Tensor r = As(Random({1, 3, 4, 4}, 6), DataType::BFLOAT16);
  Graph g;
  const TensorId xt = AddTypedInput(&g, "x", {1, 2, 4, 4}, DataType::BFLOAT16);
  const TensorId rt = AddTypedInput(&g, "r", {1, 3, 4, 4}, DataType::BFLOAT16);
  const TensorId wt = AddTensorConstant(&g, "w", w);
  AttrMap a = PaddedConvAttrs();
  a.SetInt(attr::kFusedSum, 1);
  a.SetInt(attr::kFusedActivation, static_cast<int64_t>(ActivationType::kTanh));
  const TensorId y = AddTypedOp(&g, NodeType::kConv, "conv", {xt, wt, graph::kNoTensor, rt}, a,
                                "y", DataType::BFLOAT16);
  g.outputs = {y};
  const Tensor got = Eval(g, y, {&x, &w, nullptr, &r});

  ConvParams p = PaddedConv();
  p.activation.type = ActivationType::kTanh;
  const Tensor rf = As(r, DataType::FLOAT32);
  Tensor expected;
  ASSERT_TRUE(Conv2D(As(x, DataType::FLOAT32), As(w, DataType::FLOAT32), nullptr, &rf, p,
                     &expected)
                  .ok());
  ExpectSameBits(got, As(expected, DataType::BFLOAT16));
}

TEST(Bf16EvalNodeTest, FullyConnectedAndMatMul) {
  const Tensor x = As(Random({3, 8}, 7), DataType::BFLOAT16);
  const Tensor w = As(Random({5, 8}, 8), DataType::BFLOAT16);
  const Tensor b = Random({5}, 9);
  {
    Graph g;
    const TensorId xt = AddTypedInput(&g, "x", {3, 8}, DataType::BFLOAT16);
    const TensorId y =
        AddTypedOp(&g, NodeType::kFullyConnected, "fc",
                   {xt, AddTensorConstant(&g, "w", w), AddTensorConstant(&g, "b", b)}, AttrMap(),
                   "y", DataType::BFLOAT16);
    Tensor expected;
    ASSERT_TRUE(FullyConnected(As(x, DataType::FLOAT32), As(w, DataType::FLOAT32), &b,
                               FusedActivation(), &expected)
                    .ok());
    ExpectSameBits(Eval(g, y, {&x, &w, &b}), As(expected, DataType::BFLOAT16));
  }
  {
    // MatMul of two bf16 activations, b transposed.
    Graph g;
    const TensorId at = AddTypedInput(&g, "a", {3, 8}, DataType::BFLOAT16);
    const TensorId bt = AddTypedInput(&g, "b", {5, 8}, DataType::BFLOAT16);
    AttrMap a;
    a.SetInt(attr::kTransposeA, 0);
    a.SetInt(attr::kTransposeB, 1);
    const TensorId y = AddTypedOp(&g, NodeType::kMatMul, "mm", {at, bt}, a, "y",
                                  DataType::BFLOAT16);
    MatMulParams p;
    p.transpose_b = true;
    Tensor expected;
    ASSERT_TRUE(
        MatMul(As(x, DataType::FLOAT32), As(w, DataType::FLOAT32), nullptr, p, &expected).ok());
    ExpectSameBits(Eval(g, y, {&x, &w}), As(expected, DataType::BFLOAT16));
  }
}

TEST(Bf16EvalNodeTest, AveragePoolEqualsWidenedFp32PoolRounded) {
  const Tensor x = As(Random({2, 3, 5, 5}, 10), DataType::BFLOAT16);
  Graph g;
  const TensorId xt = AddTypedInput(&g, "x", {2, 3, 5, 5}, DataType::BFLOAT16);
  AttrMap a;
  a.SetInt(attr::kPoolMode, static_cast<int64_t>(PoolMode::kAverage));
  a.SetInts(attr::kKernel, {3, 3});
  a.SetInts(attr::kStrides, {2, 2});
  a.SetInts(attr::kPads, {1, 1, 1, 1});
  a.SetInt(attr::kCountIncludePad, 0);
  a.SetInt(attr::kCeilMode, 0);
  const TensorId y = AddTypedOp(&g, NodeType::kPool, "pool", {xt}, a, "y", DataType::BFLOAT16);
  PoolParams p;
  p.mode = PoolMode::kAverage;
  p.kernel_h = p.kernel_w = 3;
  p.stride_h = p.stride_w = 2;
  p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
  Tensor expected;
  ASSERT_TRUE(Pool(As(x, DataType::FLOAT32), p, &expected).ok());
  ExpectSameBits(Eval(g, y, {&x}), As(expected, DataType::BFLOAT16));
}

TEST(Bf16EvalNodeTest, SoftmaxEqualsWidenedFp32SoftmaxRounded) {
  const Tensor x = As(Random({2, 7, 3}, 11, -6.0f, 6.0f), DataType::BFLOAT16);
  Graph g;
  const TensorId xt = AddTypedInput(&g, "x", {2, 7, 3}, DataType::BFLOAT16);
  AttrMap a;
  a.SetInt(attr::kAxis, 1);
  const TensorId y =
      AddTypedOp(&g, NodeType::kSoftmax, "softmax", {xt}, a, "y", DataType::BFLOAT16);
  Tensor expected;
  ASSERT_TRUE(Softmax(As(x, DataType::FLOAT32), 1, &expected).ok());
  ExpectSameBits(Eval(g, y, {&x}), As(expected, DataType::BFLOAT16));
}

TEST(Bf16EvalNodeTest, ActivationElementwiseBatchNormAndConcat) {
  const Tensor x = As(Random({2, 3, 2, 2}, 12, -4.0f, 4.0f), DataType::BFLOAT16);
  const Tensor z = As(Random({2, 3, 2, 2}, 13), DataType::BFLOAT16);
  const Tensor xf = As(x, DataType::FLOAT32);
  const Tensor zf = As(z, DataType::FLOAT32);
  {
    Graph g;
    AttrMap a;
    a.SetInt(attr::kActivation, static_cast<int64_t>(ActivationType::kGelu));
    const TensorId y = AddTypedOp(&g, NodeType::kActivation, "gelu",
                                  {AddTypedInput(&g, "x", {2, 3, 2, 2}, DataType::BFLOAT16)}, a,
                                  "y", DataType::BFLOAT16);
    Tensor expected;
    ASSERT_TRUE(Activation(xf, ActivationType::kGelu, 0.0f, 0.0f, &expected).ok());
    ExpectSameBits(Eval(g, y, {&x}), As(expected, DataType::BFLOAT16));
  }
  {
    Graph g;
    AttrMap a;
    a.SetInt(attr::kElementwiseOp, static_cast<int64_t>(ElementwiseOp::kMul));
    const TensorId y = AddTypedOp(
        &g, NodeType::kElementwise, "mul",
        {AddTypedInput(&g, "x", {2, 3, 2, 2}, DataType::BFLOAT16),
         AddTypedInput(&g, "z", {2, 3, 2, 2}, DataType::BFLOAT16)},
        a, "y", DataType::BFLOAT16);
    Tensor expected;
    ASSERT_TRUE(Elementwise(xf, zf, ElementwiseOp::kMul, &expected).ok());
    ExpectSameBits(Eval(g, y, {&x, &z}), As(expected, DataType::BFLOAT16));
  }
  {
    // BatchNorm of a bf16 x with FLOAT32 parameter constants.
    const Tensor mean = Random({3}, 14);
    const Tensor var = Random({3}, 15, 0.5f, 2.0f);
    const Tensor scale = Random({3}, 16);
    const Tensor bias = Random({3}, 17);
    Graph g;
    AttrMap a;
    a.SetFloat(attr::kEpsilon, 1e-5);
    const TensorId y = AddTypedOp(
        &g, NodeType::kBatchNorm, "bn",
        {AddTypedInput(&g, "x", {2, 3, 2, 2}, DataType::BFLOAT16),
         AddTensorConstant(&g, "mean", mean), AddTensorConstant(&g, "var", var),
         AddTensorConstant(&g, "scale", scale), AddTensorConstant(&g, "bias", bias)},
        a, "y", DataType::BFLOAT16);
    Tensor expected;
    ASSERT_TRUE(BatchNorm(xf, mean, var, scale, bias, 1e-5, &expected).ok());
    ExpectSameBits(Eval(g, y, {&x, &mean, &var, &scale, &bias}),
                   As(expected, DataType::BFLOAT16));
  }
  {
    // Concat moves values: the bf16 bits of the inputs come out unchanged.
    Graph g;
    AttrMap a;
    a.SetInt(attr::kAxis, 1);
    const TensorId y = AddTypedOp(
        &g, NodeType::kConcat, "concat",
        {AddTypedInput(&g, "x", {2, 3, 2, 2}, DataType::BFLOAT16),
         AddTypedInput(&g, "z", {2, 3, 2, 2}, DataType::BFLOAT16)},
        a, "y", DataType::BFLOAT16);
    Tensor expected;
    ASSERT_TRUE(Concat({&xf, &zf}, 1, &expected).ok());
    ExpectSameBits(Eval(g, y, {&x, &z}), As(expected, DataType::BFLOAT16));
  }
}

TEST(Bf16EvalNodeTest, InputOfTheWrongFloatTypeIsRejected) {
  Graph g;
  AttrMap a;
  a.SetInt(attr::kAxis, 1);
  const TensorId y = AddTypedOp(&g, NodeType::kSoftmax, "softmax",
                                {AddTypedInput(&g, "x", {2, 3}, DataType::BFLOAT16)}, a, "y",
                                DataType::BFLOAT16);
  const Tensor x = Random({2, 3}, 18);  // FLOAT32, but the graph says BFLOAT16
  std::vector<Tensor> out;
  const Status st = EvalNode(g, g.tensors[y].producer, {&x}, &out);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("node 'softmax' (Softmax)"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("BFLOAT16"), std::string::npos) << st.message();
}

// ----- FLOAT16 constants in FP32 nodes ---------------------------------------------------

TEST(Fp16ConstantTest, ConvWithFloat16WeightsEqualsFp32ConvWithWidenedWeights) {
  const Tensor x = Random({1, 3, 6, 6}, 20);
  const Tensor w16 = As(Random({4, 3, 3, 3}, 21), DataType::FLOAT16);
  const Tensor b16 = As(Random({4}, 22), DataType::FLOAT16);
  Graph g;
  const TensorId xt = AddInput(&g, "x", {1, 3, 6, 6});
  const TensorId y = AddOp(&g, NodeType::kConv, "conv",
                           {xt, AddTensorConstant(&g, "w", w16), AddTensorConstant(&g, "b", b16)},
                           PaddedConvAttrs(), "y");
  g.outputs = {y};
  const Tensor got = Eval(g, y, {&x, &w16, &b16});
  const Tensor bf = As(b16, DataType::FLOAT32);
  Tensor expected;
  ASSERT_TRUE(Conv2D(x, As(w16, DataType::FLOAT32), &bf, PaddedConv(), &expected).ok());
  ExpectSameBits(got, expected);
  // The widening is needed: the FLOAT16 weights differ from the FLOAT32 ones they were
  // rounded from, and so does the result (guards against a test that cannot fail).
  Tensor from_unrounded;
  ASSERT_TRUE(Conv2D(x, Random({4, 3, 3, 3}, 21), &bf, PaddedConv(), &from_unrounded).ok());
  EXPECT_NE(std::memcmp(got.GetData(), from_unrounded.GetData(), got.GetSizeInBytes()), 0);
}

TEST(Fp16ConstantTest, ElementwiseAndBatchNormWithFloat16Constants) {
  const Tensor x = Random({2, 3, 2, 2}, 23);
  const Tensor c16 = As(Random({3, 1, 1}, 24), DataType::FLOAT16);
  {
    Graph g;
    AttrMap a;
    a.SetInt(attr::kElementwiseOp, static_cast<int64_t>(ElementwiseOp::kAdd));
    const TensorId y = AddOp(&g, NodeType::kElementwise, "add",
                             {AddInput(&g, "x", {2, 3, 2, 2}), AddTensorConstant(&g, "c", c16)},
                             a, "y");
    Tensor expected;
    ASSERT_TRUE(Elementwise(x, As(c16, DataType::FLOAT32), ElementwiseOp::kAdd, &expected).ok());
    ExpectSameBits(Eval(g, y, {&x, &c16}), expected);
  }
  {
    const Tensor mean = As(Random({3}, 25), DataType::FLOAT16);
    const Tensor var = As(Random({3}, 26, 0.5f, 2.0f), DataType::FLOAT16);
    const Tensor scale = As(Random({3}, 27), DataType::FLOAT16);
    const Tensor bias = As(Random({3}, 28), DataType::FLOAT16);
    Graph g;
    AttrMap a;
    a.SetFloat(attr::kEpsilon, 1e-3);
    const TensorId y = AddOp(
        &g, NodeType::kBatchNorm, "bn",
        {AddInput(&g, "x", {2, 3, 2, 2}), AddTensorConstant(&g, "mean", mean),
         AddTensorConstant(&g, "var", var), AddTensorConstant(&g, "scale", scale),
         AddTensorConstant(&g, "bias", bias)},
        a, "y");
    Tensor expected;
    ASSERT_TRUE(BatchNorm(x, As(mean, DataType::FLOAT32), As(var, DataType::FLOAT32),
                          As(scale, DataType::FLOAT32), As(bias, DataType::FLOAT32), 1e-3,
                          &expected)
                    .ok());
    ExpectSameBits(Eval(g, y, {&x, &mean, &var, &scale, &bias}), expected);
  }
}

TEST(Fp16ConstantTest, ConstNodeKeepsItsFloat16Bits) {
  const Tensor c16 = As(Random({5}, 29), DataType::FLOAT16);
  Graph g;
  const TensorId c = AddTensorConstant(&g, "c", c16);
  ExpectSameBits(Eval(g, c, {}), c16);
}

// ----- Cast nodes ------------------------------------------------------------------------

TEST(CastNodeTest, EvalNodeRoundsToTheOutputType) {
  const Tensor x = Random({2, 9}, 30, -70000.0f, 70000.0f);  // some beyond f16's range
  for (const DataType to : {DataType::FLOAT16, DataType::BFLOAT16, DataType::FLOAT32}) {
    SCOPED_TRACE(DataTypeName(to));
    Graph g;
    const TensorId y =
        AddTypedOp(&g, NodeType::kCast, "cast", {AddInput(&g, "x", {2, 9})}, AttrMap(), "y", to);
    ExpectSameBits(Eval(g, y, {&x}), As(x, to));
  }
  // bf16 -> f16 goes through f32.
  const Tensor xb = As(x, DataType::BFLOAT16);
  Graph g;
  const TensorId y =
      AddTypedOp(&g, NodeType::kCast, "cast",
                 {AddTypedInput(&g, "x", {2, 9}, DataType::BFLOAT16)}, AttrMap(), "y",
                 DataType::FLOAT16);
  ExpectSameBits(Eval(g, y, {&xb}), As(As(xb, DataType::FLOAT32), DataType::FLOAT16));
}

TEST(CastNodeTest, IntegerOutputTypeIsRejectedByInference) {
  Graph g;
  const TensorId y = AddTypedOp(&g, NodeType::kCast, "cast", {AddInput(&g, "x", {2})}, AttrMap(),
                                "y", DataType::INT8);
  const Tensor x = MakeTensor({2}, {1, 2});
  std::vector<Tensor> out;
  const Status st = EvalNode(g, g.tensors[y].producer, {&x}, &out);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("Cast"), std::string::npos) << st.message();
}

// ----- Dequantized constant weights (explicit quantization, before folding) ---------------

// x [1,2,3,3] -> Conv(w = Dequantize(INT8 constant, scale 0.25), b FLOAT32) -> y.
struct DqConvGraph {
  Graph g;
  TensorId x, wq, w, b, y;
};

DqConvGraph MakeDqConvGraph() {
  DqConvGraph d;
  d.x = AddInput(&d.g, "x", {1, 2, 3, 3});
  std::vector<int8_t> q(2 * 2 * 3 * 3);
  for (size_t i = 0; i < q.size(); ++i) {
    q[i] = static_cast<int8_t>(static_cast<int>(i * 7 % 31) - 15);
  }
  d.wq = d.g.AddConstant("wq", DataType::INT8, {2, 2, 3, 3}, q.data(), q.size());
  d.g.tensors[d.wq].quant.scales = {0.25f};
  d.g.tensors[d.wq].quant.zero_points = {0};
  d.w = AddOp(&d.g, NodeType::kDequantize, "dq", {d.wq}, AttrMap(), "w");
  d.b = AddConst(&d.g, "b", {2}, {0.5f, -1.0f});
  d.y = AddOp(&d.g, NodeType::kConv, "conv", {d.x, d.w, d.b}, PaddedConvAttrs(), "y");
  d.g.outputs = {d.y};
  return d;
}

TEST(DequantizedWeightsTest, EvalNodeAndRunGraphAcceptDequantizedConstantWeights) {
  DqConvGraph d = MakeDqConvGraph();
  const Tensor x = Random({1, 2, 3, 3}, 31);
  // The Dequantize node, then the Conv reading its output as weights.
  const Tensor wq = Tensor::Wrap(DataType::INT8, Dims({2, 2, 3, 3}),
                                 const_cast<uint8_t*>(d.g.tensors[d.wq].data->data()));
  const Tensor w = Eval(d.g, d.w, {&wq});
  ASSERT_EQ(w.GetDataType(), DataType::FLOAT32);
  const Tensor b = MakeTensor({2}, {0.5f, -1.0f});
  const Tensor got = Eval(d.g, d.y, {&x, &w, &b});
  Tensor w_real;
  QuantizedOperand wop;
  wop.tensor = &wq;
  wop.quant = d.g.tensors[d.wq].quant;
  ASSERT_TRUE(Dequantize(wop, &w_real).ok());
  Tensor expected;
  ASSERT_TRUE(Conv2D(x, w_real, &b, PaddedConv(), &expected).ok());
  ExpectSameBits(got, expected);

  std::vector<Tensor> outputs;
  const Status st = RunGraph(d.g, {x}, &outputs);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(outputs.size(), 1u);
  ExpectSameBits(outputs[0], expected);
}

// ----- RunGraph with reduced-precision intermediates --------------------------------------

TEST(FloatTypesRunGraphTest, Bf16ChainWithCastsAndFp16Constant) {
  // x f32 [1,2,5,5] -> Cast bf16 -> Conv (bf16 w, f32 b, relu) bf16 -> avg Pool bf16
  //   -> Flatten bf16 -> FullyConnected (bf16 w) writing FLOAT32 directly -> out1
  //   pool -> Cast f32 -> Elementwise add FLOAT16 constant (FP32 node) -> out2
  const Tensor conv_w = As(Random({3, 2, 3, 3}, 40), DataType::BFLOAT16);
  const Tensor conv_b = Random({3}, 41);
  const Tensor fc_w = As(Random({4, 12}, 42), DataType::BFLOAT16);
  const Tensor c16 = As(Random({1, 3, 2, 2}, 43), DataType::FLOAT16);
  Graph g;
  const TensorId x = AddInput(&g, "x", {1, 2, 5, 5});
  const TensorId xb =
      AddTypedOp(&g, NodeType::kCast, "to_bf16", {x}, AttrMap(), "xb", DataType::BFLOAT16);
  AttrMap ca = PaddedConvAttrs();
  ca.SetInt(attr::kFusedActivation, static_cast<int64_t>(ActivationType::kRelu));
  const TensorId c = AddTypedOp(
      &g, NodeType::kConv, "conv",
      {xb, AddTensorConstant(&g, "conv_w", conv_w), AddTensorConstant(&g, "conv_b", conv_b)},
      ca, "c", DataType::BFLOAT16);
  AttrMap pa;
  pa.SetInt(attr::kPoolMode, static_cast<int64_t>(PoolMode::kAverage));
  pa.SetInts(attr::kKernel, {2, 2});
  pa.SetInts(attr::kStrides, {2, 2});
  pa.SetInts(attr::kPads, {0, 0, 0, 0});
  pa.SetInt(attr::kCountIncludePad, 0);
  pa.SetInt(attr::kCeilMode, 0);
  const TensorId p = AddTypedOp(&g, NodeType::kPool, "pool", {c}, pa, "p", DataType::BFLOAT16);
  AttrMap fa;
  fa.SetInt(attr::kAxis, 1);
  const TensorId f = AddTypedOp(&g, NodeType::kFlatten, "flat", {p}, fa, "f", DataType::BFLOAT16);
  const TensorId out1 = AddOp(&g, NodeType::kFullyConnected, "fc",
                              {f, AddTensorConstant(&g, "fc_w", fc_w)}, AttrMap(), "out1");
  const TensorId pf = AddOp(&g, NodeType::kCast, "to_f32", {p}, AttrMap(), "pf");
  AttrMap ea;
  ea.SetInt(attr::kElementwiseOp, static_cast<int64_t>(ElementwiseOp::kAdd));
  const TensorId out2 =
      AddOp(&g, NodeType::kElementwise, "add", {pf, AddTensorConstant(&g, "c16", c16)}, ea, "out2");
  g.outputs = {out1, out2};

  const Tensor xv = Random({1, 2, 5, 5}, 44);
  std::vector<Tensor> outputs;
  const Status st = RunGraph(g, {xv}, &outputs);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(outputs.size(), 2u);
  EXPECT_EQ(outputs[0].GetName(), "out1");
  EXPECT_EQ(outputs[1].GetName(), "out2");

  // The same computation step by step: FP32 operators on widened values, each bf16
  // tensor rounded once.
  const auto f32 = [](const Tensor& t) { return As(t, DataType::FLOAT32); };
  const auto bf16 = [](const Tensor& t) { return As(t, DataType::BFLOAT16); };
  ConvParams cp = PaddedConv();
  cp.activation.type = ActivationType::kRelu;
  Tensor conv_out;
  ASSERT_TRUE(Conv2D(f32(bf16(xv)), f32(conv_w), &conv_b, cp, &conv_out).ok());
  PoolParams pp;
  pp.mode = PoolMode::kAverage;
  pp.kernel_h = pp.kernel_w = 2;
  pp.stride_h = pp.stride_w = 2;
  Tensor pool_out;
  ASSERT_TRUE(Pool(f32(bf16(conv_out)), pp, &pool_out).ok());
  const Tensor pool_b = bf16(pool_out);
  Tensor flat;
  ASSERT_TRUE(Flatten(f32(pool_b), 1, &flat).ok());
  Tensor fc_out;
  ASSERT_TRUE(FullyConnected(flat, f32(fc_w), nullptr, FusedActivation(), &fc_out).ok());
  Tensor add_out;
  ASSERT_TRUE(Elementwise(f32(pool_b), f32(c16), ElementwiseOp::kAdd, &add_out).ok());
  ExpectSameBits(outputs[0], fc_out);
  ExpectSameBits(outputs[1], add_out);
}

TEST(FloatTypesRunGraphTest, Float16RoundTripThroughCasts) {
  // x f32 -> Cast f16 -> Cast bf16 -> Cast f32: each narrowing rounds once from the
  // (exactly widened) previous value; values beyond f16's range become inf.
  Graph g;
  const TensorId x = AddInput(&g, "x", {6});
  const TensorId h = AddTypedOp(&g, NodeType::kCast, "h", {x}, AttrMap(), "h", DataType::FLOAT16);
  const TensorId b = AddTypedOp(&g, NodeType::kCast, "b", {h}, AttrMap(), "b", DataType::BFLOAT16);
  const TensorId y = AddOp(&g, NodeType::kCast, "y", {b}, AttrMap(), "y");
  g.outputs = {y};
  const Tensor xv = MakeTensor({6}, {1.0f + 0x1p-11f, 1.0f + 0x1p-9f + 0x1p-10f, 70000.0f,
                                     -0x1p-24f, 3.14159f, 0x1p-26f});
  std::vector<Tensor> outputs;
  const Status st = RunGraph(g, {xv}, &outputs);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(outputs.size(), 1u);
  // 1 + 2^-11: f16 tie -> 1. 1 + 2^-9 + 2^-10 is exact in f16, then bf16 (step 2^-7)
  // rounds it to 1. 70000 -> f16 inf -> inf. -2^-24 is the smallest f16 subnormal, a normal
  // bf16. pi -> f16 3.140625 -> bf16 3.140625 (exact: 1.1001001b * 2). 2^-26 -> f16 +0.
  ASSERT_EQ(outputs[0].GetDataType(), DataType::FLOAT32);
  const std::vector<float> got = Values(outputs[0]);
  const std::vector<float> expected = {1.0f, 1.0f, std::numeric_limits<float>::infinity(),
                                       -0x1p-24f, 3.140625f, 0.0f};
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], expected[i]) << "element " << i;
}

}  // namespace
}  // namespace qsdk::reference
