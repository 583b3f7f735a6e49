// INT8 Conv / FullyConnected / MatMul kernels vs reference::EvalNode (the contract of
// docs/quantization.md), over per-tensor / per-channel weights x symmetric (s8, z = 0) /
// asymmetric (u8, z != 0) / u8 z = 0 sources x s8 / u8 / f32 outputs, with and without a
// fused relu and a fused residual (quantized or f32). Fixed seeds.
//
// Tolerances (int8_test_util.h, ExpectInt8Match): a quantized output may differ by 1 LSB
// on at most 1% of its elements (the final r * (1/s_y) + z_y and the residual's
// r + s_R * (R - z_R) may be contracted into FMAs by oneDNN, so a value within float
// rounding of a .5 tie can round either way); an FP32 output is bit-identical when no
// transcendental activation is involved: the integer sum is exact, the scaling is the same
// single float multiply, and the residual is added by one float addition in both. The
// test data keep |acc| < 2^24, so oneDNN's float(acc) + float(bias) equals the
// reference's float(acc + bias).
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
#include "runtime/kernels/heavy_kernel_util.h"
#include "runtime_test_util.h"

namespace qsdk::runtime {
namespace {

using dnnl::memory;
using testing::NodeRun;

struct Source {
  DataType dtype;
  int32_t zero_point;
  const char* name;
};
const Source kSources[] = {{DataType::INT8, 0, "s8"},
                           {DataType::UINT8, 37, "u8(z=37)"},
                           {DataType::UINT8, 0, "u8"}};

enum class Out { kS8, kU8, kF32 };
enum class Res { kNone, kQuantized, kFloat };

const char* Name(Out o) { return o == Out::kS8 ? "s8" : o == Out::kU8 ? "u8" : "f32"; }
const char* Name(Res r) {
  return r == Res::kNone ? "no residual" : r == Res::kQuantized ? "quantized residual"
                                                                : "f32 residual";
}

struct CaseSpec {
  NodeType type = NodeType::kConv;
  std::vector<int64_t> x_shape;  // conv [N,C,H,W]; fully connected [N, ...]; matmul a
  std::vector<int64_t> w_shape;  // conv [OC,C/g,KH,KW]; fully connected [OC,K]; matmul b
  graph::AttrMap attrs;          // geometry / transposes (the fused activation is added)
  int32_t weights_axis = -1;     // -1 per tensor, else w's output-channel axis
  std::vector<int64_t> bias_shape;  // empty: no bias
  Source src = kSources[0];
  Out out = Out::kF32;
  Res res = Res::kNone;
  ActivationType act = ActivationType::kNone;
  float act_alpha = 0.0f, act_beta = 0.0f;
  bool dynamic_batch = false;  // the graph declares x's batch as -1
  memory::format_tag x_layout = memory::format_tag::undef;
  std::string expected_kernel;
};

std::string Label(const CaseSpec& c) {
  return std::string(NodeTypeName(c.type)) + " x" + graph::ShapeToString(c.x_shape) + " w" +
         graph::ShapeToString(c.w_shape) + " src " + c.src.name + " weights " +
         (c.weights_axis < 0 ? "per tensor" : "per channel") + " out " + Name(c.out) + ", " +
         Name(c.res) + ", act " + ActivationTypeName(c.act) +
         (c.bias_shape.empty() ? ", no bias" : "");
}

// The data of one case, generated once and reused for every graph built for it.
struct CaseData {
  Tensor x;
  graph::QuantParams x_quant;
  std::vector<int8_t> w;
  graph::QuantParams w_quant;
  std::vector<int32_t> b;
  graph::QuantParams b_quant;
  Tensor residual;  // empty: none
  DataType residual_dtype = DataType::FLOAT32;
  graph::QuantParams residual_quant;
};

// Builds the one-node graph of `c` with output type `out_dtype` / `out_quant`, with the
// residual when `data.residual` is set. Returns the node id.
graph::NodeId BuildGraph(const CaseSpec& c, const CaseData& data, DataType out_dtype,
                         const graph::QuantParams& out_quant, graph::Graph* g) {
  *g = graph::Graph();
  std::vector<int64_t> x_decl = c.x_shape;
  if (c.dynamic_batch) x_decl[0] = -1;
  const graph::TensorId x =
      testing::AddQuantizedInput(g, "x", x_decl, c.src.dtype, data.x_quant);
  const graph::TensorId w = testing::AddTypedConstant(
      g, "w", DataType::INT8, c.w_shape, data.w.data(), data.w.size(), data.w_quant);
  std::vector<graph::TensorId> inputs = {x, w};
  if (!c.bias_shape.empty()) {
    inputs.push_back(testing::AddTypedConstant(g, "b", DataType::INT32, c.bias_shape,
                                               data.b.data(), data.b.size() * sizeof(int32_t),
                                               data.b_quant));
  }
  graph::AttrMap attrs = c.attrs;
  testing::SetFused(&attrs, c.act, c.act_alpha, c.act_beta);
  if (!data.residual.empty()) {
    if (inputs.size() == 2) inputs.push_back(graph::kNoTensor);
    graph::TensorId r = graph::kNoTensor;
    if (data.residual_dtype == DataType::FLOAT32) {
      r = testing::AddInput(g, "r", data.residual.GetDimension().GetDims());
    } else {
      r = testing::AddQuantizedInput(g, "r", data.residual.GetDimension().GetDims(),
                                     data.residual_dtype, data.residual_quant);
    }
    inputs.push_back(r);
    attrs.SetInt(graph::attr::kFusedSum, 1);
  }
  const graph::TensorId y = testing::AddOp(g, c.type, "op", inputs, attrs, "y");
  if (out_dtype != DataType::FLOAT32) testing::SetQuantized(g, y, out_dtype, out_quant);
  g->outputs = {y};
  const Status st = graph::InferShapes(g);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return g->FindNode("op");
}

std::vector<Tensor> RuntimeInputs(const CaseData& data) {
  std::vector<Tensor> inputs = {data.x};
  if (!data.residual.empty()) inputs.push_back(data.residual);
  return inputs;
}

Tensor ReferenceOf(const CaseSpec& c, const CaseData& data, DataType out_dtype,
                   const graph::QuantParams& out_quant) {
  graph::Graph g;
  const graph::NodeId id = BuildGraph(c, data, out_dtype, out_quant, &g);
  Tensor out;
  const Status st = testing::RunReferenceNode(g, id, RuntimeInputs(data), &out);
  EXPECT_TRUE(st.ok()) << Label(c) << ": " << st.ToString();
  return out;
}

// Generates the data of `c`, runs kernel and reference, compares.
void RunCase(const CaseSpec& c, std::mt19937* rng) {
  const std::string label = Label(c);
  CaseData data;
  const int32_t lo = c.src.dtype == DataType::INT8 ? -128 : 0;
  const int32_t hi = c.src.dtype == DataType::INT8 ? 127 : 255;
  data.x = testing::RandomQuantized(rng, c.x_shape, c.src.dtype, lo, hi);
  data.x_quant = testing::PerTensor(0.05f, c.src.zero_point);

  // Weights in [-1, 1), each output channel scaled differently so that per-channel scales
  // differ; quantized as the builder does.
  const int64_t w_count = graph::ElementCount(c.w_shape);
  std::vector<float> w = testing::RandomValues(rng, w_count);
  const int32_t oc_axis = c.weights_axis < 0 ? 0 : c.weights_axis;
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(oc_axis) + 1; d < c.w_shape.size(); ++d) {
    inner *= c.w_shape[d];
  }
  const int64_t oc_extent = c.w_shape[static_cast<size_t>(oc_axis)];
  for (int64_t i = 0; i < w_count; ++i) {
    const int64_t oc = (i / inner) % oc_extent;
    w[static_cast<size_t>(i)] *= 0.25f + 0.075f * static_cast<float>((oc * 7) % 11);
  }
  ASSERT_TRUE(
      reference::QuantizeWeights(w.data(), c.w_shape, c.weights_axis, &data.w, &data.w_quant)
          .ok());
  if (!c.bias_shape.empty()) {
    const std::vector<float> b =
        testing::RandomValues(rng, graph::ElementCount(c.bias_shape), -3.0f, 3.0f);
    ASSERT_TRUE(reference::QuantizeBias(b.data(), c.bias_shape, data.x_quant.scales[0],
                                        data.w_quant, &data.b, &data.b_quant)
                    .ok());
  }

  // Magnitude of the result without residual, to size the residual and output ranges.
  const Tensor plain = ReferenceOf(c, data, DataType::FLOAT32, {});
  ASSERT_FALSE(plain.empty()) << label;
  const float a = static_cast<float>(std::max(testing::MaxAbs(plain), 1e-3));
  const std::vector<int64_t> out_shape = plain.GetDimension().GetDims();
  if (c.res == Res::kQuantized) {
    // Signedness opposite to a quantized output's (the sum post-op reads R as its own
    // type); zero point != 0 for u8.
    data.residual_dtype = c.out == Out::kS8 ? DataType::UINT8 : DataType::INT8;
    const bool u8 = data.residual_dtype == DataType::UINT8;
    data.residual_quant = testing::PerTensor(u8 ? 2.0f * a / 255.0f : a / 127.0f, u8 ? 120 : 0);
    data.residual = testing::RandomQuantized(rng, out_shape, data.residual_dtype, u8 ? 0 : -128,
                                             u8 ? 255 : 127);
  } else if (c.res == Res::kFloat) {
    data.residual_dtype = DataType::FLOAT32;
    data.residual = Tensor::Allocate(DataType::FLOAT32, Dims(out_shape));
    const std::vector<float> r = testing::RandomValues(rng, data.residual.GetElementCount(), -a, a);
    std::memcpy(data.residual.GetData(), r.data(), r.size() * sizeof(float));
  }

  DataType out_dtype = DataType::FLOAT32;
  graph::QuantParams out_quant;
  if (c.out != Out::kF32) {
    const Tensor real = ReferenceOf(c, data, DataType::FLOAT32, {});
    float lo_r = 0.0f, hi_r = 0.0f;
    testing::RangeOf(real, &lo_r, &hi_r);
    const testing::QuantType q =
        testing::ParamsForRange(c.out == Out::kS8 ? DataType::INT8 : DataType::UINT8, lo_r, hi_r);
    out_dtype = q.dtype;
    out_quant = q.params;
  }

  graph::Graph g;
  const graph::NodeId id = BuildGraph(c, data, out_dtype, out_quant, &g);
  const std::vector<Tensor> inputs = RuntimeInputs(data);
  std::vector<memory::format_tag> layouts;
  if (c.x_layout != memory::format_tag::undef) layouts = {c.x_layout};
  NodeRun run;
  Tensor expected;
  ASSERT_TRUE(testing::RunNodeAndReference(g, id, inputs, layouts, label, &run, &expected));
  if (!c.expected_kernel.empty()) {
    EXPECT_EQ(run.kernel_name, c.expected_kernel) << label;
  }
  // Activations computed with the same float operations in both: exact for an f32 output.
  const bool piecewise_linear = c.act == ActivationType::kNone ||
                                c.act == ActivationType::kRelu ||
                                c.act == ActivationType::kRelu6 ||
                                c.act == ActivationType::kClip ||
                                c.act == ActivationType::kLeakyRelu;
  // oneDNN's transcendental eltwise kernels are polynomial approximations within a few
  // ulp of the reference's libm values: 1e-5 of the output's range.
  testing::ExpectInt8Match(run.output, expected, c.out == Out::kF32 && piecewise_linear, label,
                           1e-5);
  // A residual of the output's size is summed in place into the output.
  if (c.res != Res::kNone) {
    const bool in_place = (c.res == Res::kQuantized) == (c.out != Out::kF32);
    EXPECT_EQ(run.output_alias == OutputAlias::kInPlace, in_place) << label;
  }
}

graph::AttrMap ConvGeometry(std::vector<int64_t> strides, std::vector<int64_t> pads,
                            std::vector<int64_t> dilations, int64_t group) {
  return testing::ConvAttrs(std::move(strides), std::move(pads), std::move(dilations), group);
}

TEST(Int8ConvTest, TypeMatrix) {
  QSDK_REQUIRE_VNNI();
  std::mt19937 rng(801);
  int count = 0;
  for (int32_t axis : {-1, 0}) {
    for (const Source& src : kSources) {
      for (Out out : {Out::kS8, Out::kU8, Out::kF32}) {
        for (Res res : {Res::kNone, Res::kQuantized, Res::kFloat}) {
          for (ActivationType act : {ActivationType::kNone, ActivationType::kRelu}) {
            CaseSpec c;
            c.type = NodeType::kConv;
            c.x_shape = {2, 16, 7, 7};
            c.w_shape = {24, 16, 3, 3};
            c.attrs = ConvGeometry({1, 1}, {1, 1, 1, 1}, {1, 1}, 1);
            c.weights_axis = axis;
            c.bias_shape = {24};
            c.src = src;
            c.out = out;
            c.res = res;
            c.act = act;
            // Alternate the layout the source arrives in: plain or channels-last.
            c.x_layout = (count++ % 2) ? memory::format_tag::nhwc : memory::format_tag::undef;
            c.expected_kernel = "onednn_conv_int8";
            RunCase(c, &rng);
          }
        }
      }
    }
  }
}

TEST(Int8ConvTest, Geometries) {
  QSDK_REQUIRE_VNNI();
  std::mt19937 rng(802);
  struct Geometry {
    std::vector<int64_t> x, w;
    std::vector<int64_t> strides, pads, dilations;
    int64_t group;
    bool bias;
    bool dynamic_batch;
  };
  const std::vector<Geometry> geometries = {
      // Depthwise 3x3.
      {{2, 16, 9, 9}, {16, 1, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 16, true, false},
      // Depthwise with channel multiplier 2, stride 2.
      {{1, 8, 11, 9}, {16, 1, 3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 8, true, false},
      // Grouped (4 groups), dilation 2.
      {{2, 16, 12, 12}, {24, 4, 3, 3}, {1, 1}, {2, 2, 2, 2}, {2, 2}, 4, true, false},
      // First-layer style: 3 channels, stride 2, asymmetric pads.
      {{1, 3, 15, 13}, {16, 3, 3, 3}, {2, 2}, {0, 1, 1, 0}, {1, 1}, 1, true, false},
      // 1x1 with channel counts that are not multiples of a block; no bias.
      {{3, 10, 7, 5}, {20, 10, 1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1, false, false},
      // Rectangular filter, stride (1,2), dilation (3,1).
      {{1, 6, 14, 16}, {7, 6, 2, 5}, {1, 2}, {3, 0, 2, 1}, {3, 1}, 1, true, false},
      // Dynamic batch in the graph: packed for batch 1, run at 5.
      {{5, 16, 8, 8}, {16, 16, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1, true, true},
  };
  for (const Geometry& geo : geometries) {
    for (Res res : {Res::kNone, Res::kQuantized}) {
      CaseSpec c;
      c.type = NodeType::kConv;
      c.x_shape = geo.x;
      c.w_shape = geo.w;
      c.attrs = ConvGeometry(geo.strides, geo.pads, geo.dilations, geo.group);
      c.weights_axis = 0;
      if (geo.bias) c.bias_shape = {geo.w[0]};
      c.src = kSources[1];
      c.out = Out::kU8;
      c.res = res;
      c.act = ActivationType::kRelu;
      c.dynamic_batch = geo.dynamic_batch;
      c.x_layout = memory::format_tag::nhwc;
      c.expected_kernel = "onednn_conv_int8";
      RunCase(c, &rng);
    }
  }
}

TEST(Int8ConvTest, FusedActivations) {
  QSDK_REQUIRE_VNNI();
  std::mt19937 rng(803);
  struct Act {
    ActivationType type;
    float alpha, beta;
  };
  const Act acts[] = {{ActivationType::kRelu6, 0, 0},     {ActivationType::kClip, -0.5f, 1.5f},
                      {ActivationType::kLeakyRelu, 0.1f, 0}, {ActivationType::kSigmoid, 0, 0},
                      {ActivationType::kTanh, 0, 0},      {ActivationType::kHardSwish, 0, 0},
                      {ActivationType::kGelu, 0, 0}};
  for (const Act& act : acts) {
    for (Out out : {Out::kU8, Out::kS8, Out::kF32}) {
      CaseSpec c;
      c.type = NodeType::kConv;
      c.x_shape = {1, 8, 6, 6};
      c.w_shape = {16, 8, 3, 3};
      c.attrs = ConvGeometry({1, 1}, {1, 1, 1, 1}, {1, 1}, 1);
      c.weights_axis = 0;
      c.bias_shape = {16};
      c.src = kSources[1];
      c.out = out;
      c.res = Res::kQuantized;
      c.act = act.type;
      c.act_alpha = act.alpha;
      c.act_beta = act.beta;
      RunCase(c, &rng);
    }
  }
}

TEST(Int8FullyConnectedTest, TypeMatrix) {
  QSDK_REQUIRE_VNNI();
  std::mt19937 rng(804);
  int count = 0;
  for (int32_t axis : {-1, 0}) {
    for (const Source& src : kSources) {
      for (Out out : {Out::kS8, Out::kU8, Out::kF32}) {
        for (Res res : {Res::kNone, Res::kQuantized, Res::kFloat}) {
          CaseSpec c;
          c.type = NodeType::kFullyConnected;
          // Alternate a 2-D input and a 4-D one flattened by the kernel.
          const bool spatial = count++ % 2;
          c.x_shape = spatial ? std::vector<int64_t>{3, 8, 3, 3} : std::vector<int64_t>{4, 72};
          c.w_shape = {20, 72};
          c.weights_axis = axis;
          c.bias_shape = {20};
          c.src = src;
          c.out = out;
          c.res = res;
          c.act = count % 3 ? ActivationType::kRelu : ActivationType::kNone;
          c.expected_kernel = "onednn_matmul_int8";
          RunCase(c, &rng);
        }
      }
    }
  }
}

TEST(Int8MatMulTest, ShapesAndTypes) {
  QSDK_REQUIRE_VNNI();
  std::mt19937 rng(805);
  struct Shapes {
    std::vector<int64_t> a, b;
    bool transpose_a, transpose_b;
    std::vector<int64_t> bias;
  };
  const std::vector<Shapes> shapes = {
      {{5, 24}, {24, 12}, false, false, {12}},
      {{2, 3, 5, 24}, {24, 12}, false, false, {12}},   // batch dims broadcast over b
      {{5, 24}, {12, 24}, false, true, {12}},          // b stored transposed
      {{3, 24, 5}, {24, 12}, true, false, {}},         // a transposed, no bias
      {{2, 4, 16}, {2, 16, 8}, false, false, {1, 8}},  // batched b
  };
  for (const Shapes& s : shapes) {
    const int32_t rank_b = static_cast<int32_t>(s.b.size());
    for (int32_t axis : {-1, s.transpose_b ? rank_b - 2 : rank_b - 1}) {
      for (const Source& src : kSources) {
        for (Out out : {Out::kS8, Out::kU8, Out::kF32}) {
          CaseSpec c;
          c.type = NodeType::kMatMul;
          c.x_shape = s.a;
          c.w_shape = s.b;
          c.attrs.SetInt(graph::attr::kTransposeA, s.transpose_a ? 1 : 0);
          c.attrs.SetInt(graph::attr::kTransposeB, s.transpose_b ? 1 : 0);
          c.weights_axis = axis;
          c.bias_shape = s.bias;
          c.src = src;
          c.out = out;
          c.act = ActivationType::kRelu;
          c.expected_kernel = "onednn_matmul_int8";
          RunCase(c, &rng);
        }
      }
    }
  }
}

TEST(Int8ChooseWeightsTest, RepacksFromPlainWeightsWhenThePackedLayoutIsNotTaken) {
  // Packed int8 weights carry oneDNN's compensation data, which a reorder cannot read
  // back, so when a shape needs another layout ChooseWeights re-packs from the plain
  // weights. Forced here: "packed" is plain s8 oihw, which no optimized s8-source
  // convolution takes (they need compensated, blocked weights).
  QSDK_REQUIRE_VNNI();
  std::mt19937 rng(807);
  const int64_t c = 16, oc = 16, hw = 6;
  const float scale = 0.01f;
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const Tensor x = testing::RandomQuantized(&rng, {1, c, hw, hw}, DataType::INT8, -128, 127);
  const Tensor w = testing::RandomQuantized(&rng, {oc, c, 3, 3}, DataType::INT8, -127, 127);
  const memory::desc plain_md({oc, c, 3, 3}, memory::data_type::s8, memory::format_tag::oihw);
  memory plain(plain_md, engine), packed(plain_md, engine);
  std::memcpy(plain.get_data_handle(), w.GetData(), w.GetSizeInBytes());
  std::memcpy(packed.get_data_handle(), w.GetData(), w.GetSizeInBytes());
  using ConvPd = dnnl::convolution_forward::primitive_desc;
  const auto make = [&](const memory::desc& weights_md) {
    dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
        memory::desc({1, c, hw, hw}, memory::data_type::s8, memory::format_tag::any), weights_md,
        memory::desc(),
        memory::desc({1, oc, hw, hw}, memory::data_type::f32, memory::format_tag::any), {1, 1},
        {1, 1}, {1, 1});
    dnnl::primitive_attr attr;
    attr.set_output_scales(0, {scale});
    return ConvPd(desc, attr, engine);
  };
  WeightsChoice choice;
  const ConvPd pd = ChooseWeights<ConvPd>(make, packed, engine, &choice, plain);
  EXPECT_FALSE(choice.shared);
  EXPECT_FALSE(IsReferenceImpl(pd)) << pd.impl_info_str();
  EXPECT_EQ(choice.weights.get_desc(), pd.weights_desc());

  memory x_plain({{1, c, hw, hw}, memory::data_type::s8, memory::format_tag::nchw}, engine,
                 const_cast<void*>(x.GetData()));
  memory src(pd.src_desc(), engine), dst(pd.dst_desc(), engine);
  dnnl::reorder(x_plain, src).execute(stream, x_plain, src);
  dnnl::convolution_forward(pd).execute(
      stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, choice.weights}, {DNNL_ARG_DST, dst}});
  std::vector<float> out(static_cast<size_t>(oc * hw * hw));
  memory out_plain({{1, oc, hw, hw}, memory::data_type::f32, memory::format_tag::nchw}, engine,
                   out.data());
  dnnl::reorder(dst, out_plain).execute(stream, dst, out_plain);
  stream.wait();
  // Exact: the integer sum, then one float multiply, in both.
  int64_t mismatches = 0;
  for (int64_t o = 0; o < oc; ++o) {
    for (int64_t y = 0; y < hw; ++y) {
      for (int64_t xx = 0; xx < hw; ++xx) {
        int32_t acc = 0;
        for (int64_t i = 0; i < c; ++i) {
          for (int64_t ky = 0; ky < 3; ++ky) {
            for (int64_t kx = 0; kx < 3; ++kx) {
              const int64_t iy = y + ky - 1, ix = xx + kx - 1;
              if (iy < 0 || iy >= hw || ix < 0 || ix >= hw) continue;
              acc += testing::QuantizedAt(x, (i * hw + iy) * hw + ix) *
                     testing::QuantizedAt(w, ((o * c + i) * 3 + ky) * 3 + kx);
            }
          }
        }
        mismatches += out[static_cast<size_t>((o * hw + y) * hw + xx)] !=
                      static_cast<float>(acc) * scale;
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

// A Conv whose kernel factory must refuse the node, with the status code and a message
// naming the node.
void ExpectRejected(const graph::Graph& g, StatusCode code, const std::string& fragment) {
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  std::unique_ptr<Kernel> kernel;
  const Status st = CreateKernel(g, g.FindNode("op"), engine, &kernel);
  EXPECT_EQ(st.code(), code) << st.ToString();
  EXPECT_NE(st.message().find("node 'op'"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(fragment), std::string::npos) << st.message();
}

TEST(Int8HeavyTest, RejectsWhatTheKernelsCannotCompute) {
  std::mt19937 rng(806);
  const std::vector<int8_t> w(8 * 4 * 9, 1);
  const graph::QuantParams x_quant = testing::PerTensor(0.1f, 3);
  const auto build = [&](const graph::QuantParams& w_quant, DataType w_type,
                         const std::vector<int32_t>* bias, const graph::QuantParams& b_quant,
                         const graph::QuantParams* out_quant, graph::Graph* g) {
    *g = graph::Graph();
    const graph::TensorId x =
        testing::AddQuantizedInput(g, "x", {1, 4, 5, 5}, DataType::UINT8, x_quant);
    graph::TensorId wt = graph::kNoTensor;
    if (w_type == DataType::INT8) {
      wt = testing::AddTypedConstant(g, "w", DataType::INT8, {8, 4, 3, 3}, w.data(), w.size(),
                                     w_quant);
    } else {
      wt = testing::AddConst(g, "w", {8, 4, 3, 3}, testing::RandomValues(&rng, 8 * 4 * 9));
    }
    std::vector<graph::TensorId> inputs = {x, wt};
    if (bias != nullptr) {
      inputs.push_back(testing::AddTypedConstant(g, "b", DataType::INT32, {8}, bias->data(),
                                                 bias->size() * sizeof(int32_t), b_quant));
    }
    const graph::TensorId y = testing::AddOp(g, NodeType::kConv, "op", inputs,
                                             ConvGeometry({1, 1}, {1, 1, 1, 1}, {1, 1}, 1), "y");
    if (out_quant != nullptr) testing::SetQuantized(g, y, DataType::UINT8, *out_quant);
    g->outputs = {y};
    ASSERT_TRUE(graph::InferShapes(g).ok());
  };
  graph::Graph g;
  // Weights with a zero point.
  build(testing::PerTensor(0.01f, 2), DataType::INT8, nullptr, {}, nullptr, &g);
  ExpectRejected(g, StatusCode::kUnimplemented, "zero point 0");
  // A bias whose scale is not s_x * s_w.
  const std::vector<int32_t> bias(8, 5);
  build(testing::PerTensor(0.01f, 0), DataType::INT8, &bias, testing::PerTensor(0.5f, 0), nullptr,
        &g);
  ExpectRejected(g, StatusCode::kInvalidArgument, "s_x * s_w");
  // Quantized x with FLOAT32 weights.
  build({}, DataType::FLOAT32, nullptr, {}, nullptr, &g);
  ExpectRejected(g, StatusCode::kUnimplemented, "FLOAT32 x FLOAT32 or quantized");
  // An output quantized per axis with differing scales.
  graph::QuantParams per_axis;
  per_axis.axis = 1;
  for (int k = 0; k < 8; ++k) {
    per_axis.scales.push_back(0.1f + 0.01f * k);
    per_axis.zero_points.push_back(0);
  }
  build(testing::PerTensor(0.01f, 0), DataType::INT8, nullptr, {}, &per_axis, &g);
  ExpectRejected(g, StatusCode::kUnimplemented, "per tensor");
}

}  // namespace
}  // namespace qsdk::runtime
