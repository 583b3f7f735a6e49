// INT8 Quantize / Dequantize / Pool / Elementwise / Concat / Reshape / Flatten kernels vs
// reference::EvalNode (docs/quantization.md). Fixed seeds.
//
// Exactness (int8_test_util.h, ExpectInt8Match):
//   bit-exact: Dequantize (one float multiply of an exact integer difference), Quantize of
//     values lying exactly on the grid (x = s * (k - z): x * (1/s) + z is within float
//     rounding of the integer k, far from any .5 tie), max pooling, Concat, Reshape,
//     Flatten (integers moved unchanged);
//   <= 1 LSB on at most 1% of the elements: Quantize / Requantize of arbitrary values, and
//     average pooling and quantized elementwise outputs (float results rounded half to even;
//     oneDNN may multiply by a reciprocal or contract into FMAs, moving values within float
//     rounding of a .5 tie to the other side);
//   FLOAT32 elementwise outputs: |diff| <= 1e-6 * max|reference| (oneDNN may compute
//     s_a * a + s_b * b with one FMA: a few float roundings apart).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "graph/shape_inference.h"
#include "int8_test_util.h"
#include "reference/quant_math.h"
#include "runtime/kernel.h"
#include "runtime_test_util.h"

namespace qsdk::runtime {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using testing::NodeRun;
using testing::PoolAttrs;

// Runs node "op" of `g` with the kernel and the reference on `inputs` and compares.
NodeRun Compare(const graph::Graph& g, const std::vector<Tensor>& inputs,
                const std::vector<tag>& layouts, bool exact, const std::string& label,
                double rel = 1e-6) {
  NodeRun run;
  const graph::NodeId id = g.FindNode("op");
  Tensor expected;
  if (!testing::RunNodeAndReference(g, id, inputs, layouts, label, &run, &expected)) return run;
  testing::ExpectInt8Match(run.output, expected, exact, label, rel);
  return run;
}

Tensor FloatTensor(const std::vector<int64_t>& shape, const std::vector<float>& values) {
  Tensor t = Tensor::Allocate(DataType::FLOAT32, Dims(shape));
  std::memcpy(t.GetData(), values.data(), values.size() * sizeof(float));
  return t;
}

// ---------------------------------------------------------------- Quantize / Dequantize

// x FLOAT32 -> Quantize -> y quantized as `out`.
graph::Graph QuantizeGraph(const std::vector<int64_t>& shape, DataType in_type,
                           const graph::QuantParams& in_quant, DataType out_type,
                           const graph::QuantParams& out_quant, NodeType type) {
  graph::Graph g;
  const graph::TensorId x = in_type == DataType::FLOAT32
                                ? testing::AddInput(&g, "x", shape)
                                : testing::AddQuantizedInput(&g, "x", shape, in_type, in_quant);
  const graph::TensorId y = testing::AddOp(&g, type, "op", {x}, {}, "y");
  if (out_type != DataType::FLOAT32) testing::SetQuantized(&g, y, out_type, out_quant);
  g.outputs = {y};
  const Status st = graph::InferShapes(&g);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return g;
}

graph::QuantParams PerAxis(int32_t axis, std::vector<float> scales, int32_t zero_point) {
  graph::QuantParams q;
  q.axis = axis;
  q.zero_points.assign(scales.size(), zero_point);
  q.scales = std::move(scales);
  return q;
}

// Per-channel scales for axis 1 of extent c.
std::vector<float> ChannelScales(int64_t c) {
  std::vector<float> s;
  for (int64_t k = 0; k < c; ++k) s.push_back(0.013f + 0.0071f * static_cast<float>(k % 5));
  return s;
}

TEST(Int8QuantizeTest, GridValuesAreExactInEveryLayout) {
  std::mt19937 rng(901);
  const std::vector<int64_t> shape = {2, 19, 5, 4};
  struct Case {
    DataType type;
    graph::QuantParams quant;
  };
  const Case cases[] = {
      {DataType::UINT8, testing::PerTensor(0.037f, 0)},
      {DataType::UINT8, testing::PerTensor(0.021f, 131)},
      {DataType::INT8, testing::PerTensor(0.05f, 0)},
      {DataType::INT8, testing::PerTensor(0.011f, -7)},
      {DataType::UINT8, PerAxis(1, ChannelScales(19), 9)},
  };
  for (const Case& c : cases) {
    const int32_t lo = c.type == DataType::INT8 ? -128 : 0;
    const int32_t hi = c.type == DataType::INT8 ? 127 : 255;
    // x = s * (k - z) for integers k, some beyond the type's range (saturation).
    std::uniform_int_distribution<int32_t> k_dist(lo - 20, hi + 20);
    std::vector<float> x(static_cast<size_t>(graph::ElementCount(shape)));
    for (size_t i = 0; i < x.size(); ++i) {
      const int64_t ch = (static_cast<int64_t>(i) / (5 * 4)) % 19;
      const float s = c.quant.scales[c.quant.per_tensor() ? 0 : ch];
      x[i] = s * (static_cast<float>(k_dist(rng)) - static_cast<float>(c.quant.zero_points[0]));
    }
    const graph::Graph g =
        QuantizeGraph(shape, DataType::FLOAT32, {}, c.type, c.quant, NodeType::kQuantize);
    for (tag layout : {tag::undef, tag::nhwc, tag::nChw16c}) {
      const std::string label = std::string("quantize to ") + DataTypeName(c.type) +
                                " z=" + std::to_string(c.quant.zero_points[0]) +
                                (c.quant.per_tensor() ? "" : " per axis") + " layout " +
                                std::to_string(static_cast<int>(layout));
      const NodeRun run = Compare(g, {FloatTensor(shape, x)}, {layout}, /*exact=*/true, label);
      EXPECT_EQ(run.kernel_name, "onednn_quantize") << label;
    }
  }
}

TEST(Int8QuantizeTest, ArbitraryValuesWithinOneLsb) {
  std::mt19937 rng(902);
  const std::vector<int64_t> shape = {3, 16, 9, 7};
  for (DataType type : {DataType::UINT8, DataType::INT8}) {
    for (int32_t z : {0, 17}) {
      const graph::QuantParams q = testing::PerTensor(0.0173f, z);
      const graph::Graph g = QuantizeGraph(shape, DataType::FLOAT32, {}, type, q,
                                           NodeType::kQuantize);
      const std::vector<float> x = testing::RandomValues(&rng, graph::ElementCount(shape),
                                                         -2.5f, 4.5f);
      Compare(g, {FloatTensor(shape, x)}, {tag::nhwc}, /*exact=*/false,
              std::string("quantize ") + DataTypeName(type) + " z=" + std::to_string(z));
    }
  }
}

TEST(Int8QuantizeTest, DequantizeIsExact) {
  std::mt19937 rng(903);
  const std::vector<int64_t> shape = {2, 19, 6, 5};
  struct Case {
    DataType type;
    graph::QuantParams quant;
  };
  const Case cases[] = {{DataType::UINT8, testing::PerTensor(0.0371f, 117)},
                        {DataType::INT8, testing::PerTensor(0.013f, 0)},
                        {DataType::INT8, PerAxis(1, ChannelScales(19), 3)}};
  for (const Case& c : cases) {
    const graph::Graph g =
        QuantizeGraph(shape, c.type, c.quant, DataType::FLOAT32, {}, NodeType::kDequantize);
    const int32_t lo = c.type == DataType::INT8 ? -128 : 0;
    const Tensor q = testing::RandomQuantized(&rng, shape, c.type, lo, lo + 255);
    for (tag layout : {tag::undef, tag::nhwc}) {
      const std::string label = std::string("dequantize ") + DataTypeName(c.type) + " layout " +
                                std::to_string(static_cast<int>(layout));
      const NodeRun run = Compare(g, {q}, {layout}, /*exact=*/true, label);
      EXPECT_EQ(run.kernel_name, "onednn_dequantize") << label;
    }
  }
}

TEST(Int8QuantizeTest, Requantize) {
  std::mt19937 rng(904);
  const std::vector<int64_t> shape = {2, 8, 7, 7};
  const Tensor q = testing::RandomQuantized(&rng, shape, DataType::UINT8, 0, 255);
  const graph::QuantParams in = testing::PerTensor(0.1f, 100);
  for (DataType out_type : {DataType::INT8, DataType::UINT8}) {
    const graph::QuantParams out = testing::PerTensor(0.07f, out_type == DataType::UINT8 ? 90 : 0);
    const graph::Graph g =
        QuantizeGraph(shape, DataType::UINT8, in, out_type, out, NodeType::kQuantize);
    const std::string label = std::string("requantize u8 -> ") + DataTypeName(out_type);
    const NodeRun run = Compare(g, {q}, {tag::nhwc}, /*exact=*/false, label);
    EXPECT_EQ(run.kernel_name, "onednn_requantize") << label;
  }
}

// ----------------------------------------------------------------------------- Pool

TEST(Int8PoolTest, ModesTypesAndZeroPoints) {
  std::mt19937 rng(905);
  struct Config {
    graph::AttrMap attrs;
    const char* name;
  };
  const Config configs[] = {
      {PoolAttrs(PoolMode::kMax, {3, 3}, {2, 2}, {1, 1, 1, 1}, false, false), "max 3x3/2 pad 1"},
      {PoolAttrs(PoolMode::kMax, {2, 2}, {2, 2}, {0, 0, 0, 0}, false, true), "max 2x2/2 ceil"},
      {PoolAttrs(PoolMode::kAverage, {2, 2}, {2, 2}, {0, 0, 0, 0}, false, false), "avg 2x2/2"},
      {PoolAttrs(PoolMode::kAverage, {3, 3}, {1, 1}, {1, 1, 1, 1}, false, false),
       "avg 3x3/1 pad 1 exclude"},
      {PoolAttrs(PoolMode::kAverage, {3, 3}, {1, 1}, {1, 1, 1, 1}, true, false),
       "avg 3x3/1 pad 1 include"},
      {PoolAttrs(PoolMode::kAverage, {3, 2}, {2, 2}, {1, 0, 0, 1}, true, true),
       "avg 3x2/2 asymmetric pad include ceil"},
      {PoolAttrs(PoolMode::kAverage, {3, 3}, {2, 2}, {0, 0, 0, 0}, false, true),
       "avg 3x3/2 exclude ceil"},
      {PoolAttrs(PoolMode::kGlobalAverage, {1, 1}, {1, 1}, {0, 0, 0, 0}, false, false),
       "global avg"},
      {PoolAttrs(PoolMode::kGlobalMax, {1, 1}, {1, 1}, {0, 0, 0, 0}, false, false), "global max"},
  };
  struct Type {
    DataType dtype;
    int32_t zero_point;
  };
  const Type types[] = {{DataType::UINT8, 0}, {DataType::UINT8, 100}, {DataType::INT8, 0},
                        {DataType::INT8, -20}};
  const std::vector<int64_t> shape = {2, 19, 10, 9};
  for (const Config& config : configs) {
    for (const Type& type : types) {
      graph::Graph g;
      const graph::QuantParams q = testing::PerTensor(0.02f, type.zero_point);
      const graph::TensorId x = testing::AddQuantizedInput(&g, "x", shape, type.dtype, q);
      const graph::TensorId y = testing::AddOp(&g, NodeType::kPool, "op", {x}, config.attrs, "y");
      testing::SetQuantized(&g, y, type.dtype, q);
      g.outputs = {y};
      ASSERT_TRUE(graph::InferShapes(&g).ok());
      const int32_t lo = type.dtype == DataType::INT8 ? -128 : 0;
      const Tensor input = testing::RandomQuantized(&rng, shape, type.dtype, lo, lo + 255);
      const PoolMode mode = static_cast<PoolMode>(config.attrs.GetInt(graph::attr::kPoolMode));
      const bool max = mode == PoolMode::kMax || mode == PoolMode::kGlobalMax;
      for (tag layout : {tag::undef, tag::nhwc}) {
        const std::string label = std::string(config.name) + " " + DataTypeName(type.dtype) +
                                  " z=" + std::to_string(type.zero_point) + " layout " +
                                  std::to_string(static_cast<int>(layout));
        const NodeRun run = Compare(g, {input}, {layout}, /*exact=*/max, label);
        EXPECT_EQ(run.kernel_name, "onednn_pooling_int8") << label;
      }
    }
  }
}

// -------------------------------------------------------------------------- Elementwise

struct Operand {
  std::vector<int64_t> shape;
  DataType dtype = DataType::FLOAT32;
  graph::QuantParams quant;
  bool constant = false;
};

std::string Describe(const Operand& o) {
  std::string s = graph::ShapeToString(o.shape) + " " + DataTypeName(o.dtype);
  if (!o.quant.empty()) s += " z=" + std::to_string(o.quant.zero_points[0]);
  return s + (o.constant ? " const" : "");
}

// Random data for `o`: integers over the type's range, or floats in [-2, 2).
Tensor OperandData(const Operand& o, std::mt19937* rng) {
  if (o.dtype == DataType::FLOAT32) {
    return FloatTensor(o.shape, testing::RandomValues(rng, graph::ElementCount(o.shape), -2, 2));
  }
  const int32_t lo = o.dtype == DataType::INT8 ? -128 : 0;
  return testing::RandomQuantized(rng, o.shape, o.dtype, lo, lo + 255);
}

void RunElementwise(ElementwiseOp op, const Operand& a, const Operand& b, DataType out_type,
                    std::mt19937* rng) {
  const Tensor data[2] = {OperandData(a, rng), OperandData(b, rng)};
  const Operand* operands[2] = {&a, &b};
  // Builds the graph with output type `type` / `quant`.
  const auto build = [&](DataType type, const graph::QuantParams& quant, graph::Graph* g) {
    *g = graph::Graph();
    std::vector<graph::TensorId> inputs;
    for (int i = 0; i < 2; ++i) {
      const Operand& o = *operands[i];
      const std::string name = i == 0 ? "a" : "b";
      if (o.constant) {
        inputs.push_back(testing::AddTypedConstant(g, name, o.dtype, o.shape,
                                                   data[i].GetData(), data[i].GetSizeInBytes(),
                                                   o.quant));
      } else if (o.dtype == DataType::FLOAT32) {
        inputs.push_back(testing::AddInput(g, name, o.shape));
      } else {
        inputs.push_back(testing::AddQuantizedInput(g, name, o.shape, o.dtype, o.quant));
      }
    }
    const graph::TensorId y =
        testing::AddOp(g, NodeType::kElementwise, "op", inputs, testing::ElementwiseAttrs(op), "y");
    if (type != DataType::FLOAT32) testing::SetQuantized(g, y, type, quant);
    g->outputs = {y};
    const Status st = graph::InferShapes(g);
    EXPECT_TRUE(st.ok()) << st.ToString();
  };
  std::vector<Tensor> runtime;
  for (int i = 0; i < 2; ++i) {
    if (!operands[i]->constant) runtime.push_back(data[i]);
  }
  graph::Graph g;
  graph::QuantParams out_quant;
  if (out_type != DataType::FLOAT32) {
    // Output parameters covering the real result.
    build(DataType::FLOAT32, {}, &g);
    Tensor real;
    ASSERT_TRUE(testing::RunReferenceNode(g, g.FindNode("op"), runtime, &real).ok());
    float lo = 0, hi = 0;
    testing::RangeOf(real, &lo, &hi);
    const testing::QuantType q = testing::ParamsForRange(out_type, lo, hi);
    out_type = q.dtype;
    out_quant = q.params;
  }
  build(out_type, out_quant, &g);
  const std::string label = std::string("op ") + std::to_string(static_cast<int>(op)) + " " +
                            Describe(a) + " , " + Describe(b) + " -> " + DataTypeName(out_type);
  const NodeRun run = Compare(g, runtime, {}, /*exact=*/false, label);
  EXPECT_EQ(run.kernel_name, "onednn_binary_int8") << label;
}

TEST(Int8ElementwiseTest, OperandsAndBroadcasts) {
  std::mt19937 rng(906);
  const graph::QuantParams u8z0 = testing::PerTensor(0.013f, 0);
  const graph::QuantParams u8z = testing::PerTensor(0.017f, 101);
  const graph::QuantParams s8 = testing::PerTensor(0.021f, 0);
  const std::vector<int64_t> full = {2, 5, 4, 3};
  const std::vector<std::pair<Operand, Operand>> pairs = {
      // Same shapes: scales as binary attributes (z = 0) ...
      {{full, DataType::UINT8, u8z0}, {full, DataType::INT8, s8}},
      // ... or dequantized first (z != 0).
      {{full, DataType::UINT8, u8z}, {full, DataType::INT8, s8}},
      {{full, DataType::UINT8, u8z}, {full, DataType::UINT8, u8z}},
      // b broadcast per channel; a broadcast against a full b (operands swapped: sub
      // negated); neither full (a expanded first).
      {{full, DataType::UINT8, u8z0}, {{1, 5, 1, 1}, DataType::INT8, s8}},
      {{{2, 1, 4, 3}, DataType::UINT8, u8z}, {full, DataType::INT8, s8}},
      {{{2, 1}, DataType::UINT8, u8z}, {{1, 7}, DataType::INT8, s8}},
      {{{2, 1}, DataType::INT8, s8}, {{1, 7}, DataType::UINT8, u8z0}},
      // Lower-rank b.
      {{full, DataType::INT8, s8}, {{3}, DataType::UINT8, u8z}},
      // Constant operands, quantized with and without a zero point, and f32.
      {{full, DataType::UINT8, u8z0}, {{1, 5, 1, 1}, DataType::UINT8, u8z, true}},
      {{full, DataType::UINT8, u8z}, {{5, 1, 1}, DataType::INT8, s8, true}},
      {{{1, 5, 1, 1}, DataType::FLOAT32, {}, true}, {full, DataType::UINT8, u8z}},
      // A FLOAT32 runtime operand with a quantized one.
      {{full, DataType::FLOAT32, {}}, {full, DataType::UINT8, u8z}},
  };
  for (ElementwiseOp op : {ElementwiseOp::kAdd, ElementwiseOp::kSub, ElementwiseOp::kMul}) {
    for (const auto& [a, b] : pairs) {
      for (DataType out : {DataType::UINT8, DataType::INT8, DataType::FLOAT32}) {
        RunElementwise(op, a, b, out, &rng);
      }
    }
  }
}

// ----------------------------------------------------------- Concat / Reshape / Flatten

TEST(Int8ConcatTest, CopiesTheIntegers) {
  std::mt19937 rng(907);
  const graph::QuantParams q = testing::PerTensor(0.04f, 77);
  for (int64_t axis : {1, 2}) {
    for (tag layout : {tag::undef, tag::nhwc}) {
      graph::Graph g;
      std::vector<int64_t> s0 = {2, 16, 5, 4}, s1 = {2, 16, 5, 4}, s2 = {2, 16, 5, 4};
      s1[static_cast<size_t>(axis)] = 8;
      s2[static_cast<size_t>(axis)] = 3;
      const Tensor t0 = testing::RandomQuantized(&rng, s0, DataType::UINT8, 0, 255);
      const Tensor t1 = testing::RandomQuantized(&rng, s1, DataType::UINT8, 0, 255);
      const Tensor t2 = testing::RandomQuantized(&rng, s2, DataType::UINT8, 0, 255);
      const graph::TensorId a = testing::AddQuantizedInput(&g, "a", s0, DataType::UINT8, q);
      const graph::TensorId b = testing::AddQuantizedInput(&g, "b", s1, DataType::UINT8, q);
      const graph::TensorId c = testing::AddTypedConstant(&g, "c", DataType::UINT8, s2,
                                                          t2.GetData(), t2.GetSizeInBytes(), q);
      const graph::TensorId y =
          testing::AddOp(&g, NodeType::kConcat, "op", {a, c, b}, testing::AxisAttrs(axis), "y");
      testing::SetQuantized(&g, y, DataType::UINT8, q);
      g.outputs = {y};
      ASSERT_TRUE(graph::InferShapes(&g).ok());
      const std::string label = "concat axis " + std::to_string(axis) + " layout " +
                                std::to_string(static_cast<int>(layout));
      const NodeRun run = Compare(g, {t0, t1}, {layout, layout}, /*exact=*/true, label);
      EXPECT_EQ(run.kernel_name, "onednn_concat_int8") << label;
    }
  }
}

TEST(Int8ConcatTest, RejectsInputsWithOtherParameters) {
  graph::Graph g;
  const graph::TensorId a = testing::AddQuantizedInput(&g, "a", {1, 4, 2, 2}, DataType::UINT8,
                                                       testing::PerTensor(0.1f, 0));
  const graph::TensorId b = testing::AddQuantizedInput(&g, "b", {1, 4, 2, 2}, DataType::UINT8,
                                                       testing::PerTensor(0.2f, 0));
  const graph::TensorId y =
      testing::AddOp(&g, NodeType::kConcat, "op", {a, b}, testing::AxisAttrs(1), "y");
  testing::SetQuantized(&g, y, DataType::UINT8, testing::PerTensor(0.1f, 0));
  g.outputs = {y};
  ASSERT_TRUE(graph::InferShapes(&g).ok());
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  std::unique_ptr<Kernel> kernel;
  const Status st = CreateKernel(g, g.FindNode("op"), engine, &kernel);
  EXPECT_EQ(st.code(), StatusCode::kUnimplemented) << st.ToString();
  EXPECT_NE(st.message().find("node 'op' (Concat): input 1"), std::string::npos) << st.message();
}

TEST(Int8ReshapeTest, ReshapeAndFlattenAliasTheIntegers) {
  std::mt19937 rng(908);
  const graph::QuantParams q = testing::PerTensor(0.3f, -5);
  const std::vector<int64_t> shape = {2, 6, 3, 4};
  const Tensor x = testing::RandomQuantized(&rng, shape, DataType::INT8, -128, 127);
  for (NodeType type : {NodeType::kReshape, NodeType::kFlatten}) {
    for (tag layout : {tag::undef, tag::nhwc}) {
      graph::Graph g;
      const graph::TensorId in = testing::AddQuantizedInput(&g, "x", shape, DataType::INT8, q);
      graph::AttrMap attrs;
      if (type == NodeType::kReshape) {
        attrs.SetInts(graph::attr::kShape, {0, -1, 4});
      } else {
        attrs.SetInt(graph::attr::kAxis, 1);
      }
      const graph::TensorId y = testing::AddOp(&g, type, "op", {in}, attrs, "y");
      testing::SetQuantized(&g, y, DataType::INT8, q);
      g.outputs = {y};
      ASSERT_TRUE(graph::InferShapes(&g).ok());
      const std::string label = std::string(NodeTypeName(type)) + " layout " +
                                std::to_string(static_cast<int>(layout));
      const NodeRun run = Compare(g, {x}, {layout}, /*exact=*/true, label);
      EXPECT_EQ(run.output_alias, OutputAlias::kView) << label;
      EXPECT_EQ(run.kernel_name, "zero_copy_reshape") << label;
    }
  }
}

}  // namespace
}  // namespace qsdk::runtime
