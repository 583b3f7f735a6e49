// The runtime's BF16 kernels (docs/ops.md, "BF16 compute") against the contract's reference
// semantics: every BFLOAT16 value widened exactly to float, the FP32 reference operator,
// the result rounded once to the output type (float_types_util.h).
//
// Tolerances (each comparison names the one it uses):
// - kHeavyRel, Conv / FullyConnected / MatMul: the products of two bfloat16 values are exact
//   in float (8 x 8 significant bits), so the kernel differs from the reference only by
//   oneDNN's f32 accumulation order (about sqrt(K) * 2^-24 of the partial sums' magnitude;
//   K <= 600 here, ~1e-6 of the output scale) -- 1e-4 * max|reference| leaves two orders
//   of magnitude -- and, for a BFLOAT16 output, the kernel's own rounding of its f32
//   result: half a bfloat16 ulp. An indexing, layout or type mistake gives O(1) errors,
//   and a second rounding (e.g. rounding before the bias or residual) a full ulp or more.
// - Exact ops (max pooling, concat, reshape, transpose, ReLU, elementwise add / sub / mul
//   of bfloat16 operands): the kernel must equal the reference rounded to bfloat16, bit
//   for bit (both compute the same f32 value from exact inputs and round it once).
// - Averages, normalizations and transcendental activations: the f32 evaluation differs
//   from the reference by a few float ulps of the magnitudes involved (stated per test),
//   plus half a bfloat16 ulp of the kernel's rounding.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/status_macros.h"
#include "graph/shape_inference.h"
#include "runtime_ops/float_types_util.h"

namespace qsdk::runtime::float_testing {
namespace {

constexpr double kHeavyRel = 1e-4;

const char* TypeName(DataType t) { return DataTypeName(t); }

// Infers the shapes of `g`, runs node `name` on `inputs` (arriving in `layouts`) and
// computes its reference value before rounding (ReferenceBeforeRounding); fails (fatally)
// on an error or an output of another type than the node's.
void RunWithReference(graph::Graph* g, const std::string& name, const std::vector<Tensor>& inputs,
                      const std::vector<tag>& layouts, const std::string& label, graph::NodeId* id,
                      NodeRun* run, std::vector<float>* expected) {
  const Status inferred = graph::InferShapes(g);
  ASSERT_TRUE(inferred.ok()) << label << ": " << inferred.ToString();
  *id = g->FindNode(name);
  const Status st = RunNode(*g, *id, inputs, layouts, run);
  ASSERT_TRUE(st.ok()) << label << ": " << st.ToString();
  const Status ref = ReferenceBeforeRounding(*g, *id, inputs, expected);
  ASSERT_TRUE(ref.ok()) << label << ": " << ref.ToString();
  ASSERT_EQ(run->output.GetDataType(), g->tensors[g->nodes[*id].outputs[0]].dtype) << label;
}

// Runs node `name` of `g` (shape-inferred here) on `inputs` and compares it with the
// reference: within half a bf16 ulp (BFLOAT16 output) plus `atol`.
void ExpectNear(graph::Graph* g, const std::string& name, const std::vector<Tensor>& inputs,
                const std::vector<tag>& layouts, double atol_rel, double atol_abs,
                const std::string& label, NodeRun* run_out = nullptr) {
  graph::NodeId id = graph::kNoNode;
  NodeRun run;
  std::vector<float> expected;
  ASSERT_NO_FATAL_FAILURE(RunWithReference(g, name, inputs, layouts, label, &id, &run, &expected));
  const DataType out_type = g->tensors[g->nodes[id].outputs[0]].dtype;
  ASSERT_EQ(run.output.GetDimension().GetDims(), g->tensors[g->nodes[id].outputs[0]].shape)
      << label;
  const double atol = atol_rel * MaxAbs(expected) + atol_abs;
  EXPECT_EQ(CompareRounded(ToFloats(run.output), expected, out_type, atol), "") << label;
  if (run_out != nullptr) *run_out = run;
}

// Same, but the kernel must equal the reference rounded to the output type exactly.
void ExpectExact(graph::Graph* g, const std::string& name, const std::vector<Tensor>& inputs,
                 const std::vector<tag>& layouts, const std::string& label,
                 NodeRun* run_out = nullptr) {
  graph::NodeId id = graph::kNoNode;
  NodeRun run;
  std::vector<float> expected;
  ASSERT_NO_FATAL_FAILURE(RunWithReference(g, name, inputs, layouts, label, &id, &run, &expected));
  const DataType out_type = g->tensors[g->nodes[id].outputs[0]].dtype;
  const std::vector<float> got = ToFloats(run.output);
  ASSERT_EQ(got.size(), expected.size()) << label;
  size_t differing = 0, first = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != RoundTo(out_type, expected[i])) {
      if (differing++ == 0) first = i;
    }
  }
  EXPECT_EQ(differing, 0u) << label << ": first at " << first << ": got " << got[first]
                           << ", expected " << RoundTo(out_type, expected[first]);
  // The same bits as the project's reference evaluating the typed node itself.
  Tensor reference;
  const Status typed = EvalReferenceNode(*g, id, inputs, &reference);
  ASSERT_TRUE(typed.ok()) << label << ": " << typed.ToString();
  ASSERT_EQ(reference.GetDataType(), out_type) << label;
  ASSERT_EQ(reference.GetSizeInBytes(), run.output.GetSizeInBytes()) << label;
  EXPECT_EQ(std::memcmp(reference.GetData(), run.output.GetData(), reference.GetSizeInBytes()), 0)
      << label << ": differs from reference::EvalNode";
  if (run_out != nullptr) *run_out = run;
}

// --- Conv. -----------------------------------------------------------------------------------

struct ConvCase {
  int64_t n, c, h, w, oc, kh, kw, group;
  std::vector<int64_t> strides, pads;
  ActivationType act;
  bool bias;
  DataType out;
  bool residual;
  tag x_layout;
};

std::string Describe(const ConvCase& k) {
  return StrCat("conv N", k.n, " C", k.c, " ", k.h, "x", k.w, " OC", k.oc, " K", k.kh, "x", k.kw,
                " g", k.group, " s", k.strides[0], " act", static_cast<int>(k.act),
                k.bias ? " bias" : "", " out ", TypeName(k.out), k.residual ? " residual" : "",
                k.x_layout == tag::undef ? "" : " blocked x");
}

void RunConvCase(const ConvCase& k, std::mt19937* rng) {
  graph::Graph g;
  const graph::TensorId x = AddInput(&g, "x", {k.n, k.c, k.h, k.w}, kBF16);
  std::vector<graph::TensorId> inputs = {
      x, AddConst(&g, "w", kBF16, {k.oc, k.c / k.group, k.kh, k.kw},
                  RandomValuesOf(kBF16, rng, k.oc * (k.c / k.group) * k.kh * k.kw, -0.5f, 0.5f))};
  inputs.push_back(k.bias ? AddConst(&g, "b", kF32, {k.oc}, RandomValuesOf(kF32, rng, k.oc))
                          : graph::kNoTensor);
  const int64_t oh = (k.h + k.pads[0] + k.pads[1] - k.kh) / k.strides[0] + 1;
  const int64_t ow = (k.w + k.pads[2] + k.pads[3] - k.kw) / k.strides[1] + 1;
  graph::AttrMap attrs = ConvAttrs(k.strides, k.pads, {1, 1}, k.group, k.act);
  std::vector<Tensor> runtime = {
      MakeTensor(kBF16, {k.n, k.c, k.h, k.w}, RandomValuesOf(kBF16, rng, k.n * k.c * k.h * k.w))};
  if (k.residual) {
    inputs.push_back(AddInput(&g, "r", {k.n, k.oc, oh, ow}, k.out));
    attrs.SetInt(graph::attr::kFusedSum, 1);
    runtime.push_back(
        MakeTensor(k.out, {k.n, k.oc, oh, ow}, RandomValuesOf(k.out, rng, k.n * k.oc * oh * ow)));
  } else if (!k.bias) {
    inputs.pop_back();
  }
  AddOp(&g, NodeType::kConv, "conv", inputs, attrs, "y", k.out);
  g.outputs = {g.FindTensor("y")};
  NodeRun run;
  ExpectNear(&g, "conv", runtime, {k.x_layout}, kHeavyRel, 1e-6, Describe(k), &run);
  EXPECT_EQ(run.kernel_name, "onednn_conv_bf16") << Describe(k);
  if (k.residual) {
    EXPECT_EQ(run.output_alias, OutputAlias::kInPlace) << Describe(k);
  }
}

TEST(Bf16Conv, MatchesReferenceOverThePrecisionMatrix) {
  if (!Bf16ComputeAvailable()) GTEST_SKIP() << "oneDNN has no bf16 kernels on this CPU";
  std::mt19937 rng(1601);
  const tag none = tag::undef;
  using A = ActivationType;
  // clang-format off
  const std::vector<ConvCase> cases = {
      // bf16 in / bf16 out and bf16 in / f32 out, 3x3 same padding with bias.
      {2, 16, 9, 9, 32, 3, 3, 1, {1, 1}, {1, 1, 1, 1}, A::kNone, true, kBF16, false, none},
      {2, 16, 9, 9, 32, 3, 3, 1, {1, 1}, {1, 1, 1, 1}, A::kNone, true, kF32, false, none},
      // Fused activations.
      {1, 3, 15, 13, 16, 3, 3, 1, {2, 2}, {0, 1, 1, 0}, A::kRelu, true, kBF16, false, none},
      {1, 8, 8, 8, 16, 3, 3, 1, {1, 1}, {1, 1, 1, 1}, A::kGelu, true, kF32, false, none},
      // Fused residual of the output's type (bf16 and f32), with and without activation.
      {2, 16, 7, 7, 16, 3, 3, 1, {1, 1}, {1, 1, 1, 1}, A::kNone, true, kBF16, true, none},
      {2, 16, 7, 7, 16, 3, 3, 1, {1, 1}, {1, 1, 1, 1}, A::kRelu, true, kBF16, true, none},
      {1, 16, 7, 7, 32, 1, 1, 1, {1, 1}, {0, 0, 0, 0}, A::kRelu, false, kF32, true, none},
      // Depthwise and grouped, no bias / bias.
      {2, 32, 10, 10, 32, 3, 3, 32, {1, 1}, {1, 1, 1, 1}, A::kRelu6, false, kBF16, false, none},
      {1, 16, 9, 9, 24, 3, 3, 4, {2, 2}, {1, 1, 1, 1}, A::kNone, true, kF32, false, none},
      // The input arrives blocked (as a previous bf16 convolution may produce it).
      {1, 32, 6, 6, 16, 3, 3, 1, {1, 1}, {1, 1, 1, 1}, A::kNone, true, kBF16, false, tag::nChw16c},
      {1, 32, 6, 6, 16, 3, 3, 1, {1, 1}, {1, 1, 1, 1}, A::kNone, true, kBF16, false, tag::acdb},
  };
  // clang-format on
  for (const ConvCase& k : cases) RunConvCase(k, &rng);
}

// --- FullyConnected. -------------------------------------------------------------------------

struct FcCase {
  std::vector<int64_t> x_shape;
  int64_t oc;
  ActivationType act;
  DataType out;
  bool residual;
  tag x_layout;
};

void RunFcCase(const FcCase& k, std::mt19937* rng) {
  graph::Graph g;
  int64_t kdim = 1;
  for (size_t i = 1; i < k.x_shape.size(); ++i) kdim *= k.x_shape[i];
  const int64_t n = k.x_shape[0];
  std::vector<graph::TensorId> inputs = {
      AddInput(&g, "x", k.x_shape, kBF16),
      AddConst(&g, "w", kBF16, {k.oc, kdim}, RandomValuesOf(kBF16, rng, k.oc * kdim, -0.3f, 0.3f)),
      AddConst(&g, "b", kF32, {k.oc}, RandomValuesOf(kF32, rng, k.oc))};
  graph::AttrMap attrs;
  attrs.SetInt(graph::attr::kFusedActivation, static_cast<int64_t>(k.act));
  std::vector<Tensor> runtime = {
      MakeTensor(kBF16, k.x_shape, RandomValuesOf(kBF16, rng, graph::ElementCount(k.x_shape)))};
  if (k.residual) {
    inputs.push_back(AddInput(&g, "r", {n, k.oc}, k.out));
    attrs.SetInt(graph::attr::kFusedSum, 1);
    runtime.push_back(MakeTensor(k.out, {n, k.oc}, RandomValuesOf(k.out, rng, n * k.oc)));
  }
  AddOp(&g, NodeType::kFullyConnected, "fc", inputs, attrs, "y", k.out);
  g.outputs = {g.FindTensor("y")};
  const std::string label = StrCat("fc x ", graph::ShapeToString(k.x_shape), " oc ", k.oc, " out ",
                                   TypeName(k.out), k.residual ? " residual" : "");
  NodeRun run;
  ExpectNear(&g, "fc", runtime, {k.x_layout}, kHeavyRel, 1e-6, label, &run);
  EXPECT_EQ(run.kernel_name, "onednn_inner_product_bf16") << label;
}

TEST(Bf16FullyConnected, MatchesReferenceOverThePrecisionMatrix) {
  if (!Bf16ComputeAvailable()) GTEST_SKIP() << "oneDNN has no bf16 kernels on this CPU";
  std::mt19937 rng(1602);
  const std::vector<FcCase> cases = {
      {{4, 64}, 10, ActivationType::kNone, kBF16, false, tag::undef},
      {{4, 64}, 10, ActivationType::kNone, kF32, false, tag::undef},
      {{3, 100}, 17, ActivationType::kRelu, kBF16, false, tag::undef},
      {{2, 32}, 16, ActivationType::kTanh, kF32, false, tag::undef},
      // Spatial input taken in the layout it arrives in.
      {{2, 16, 4, 4}, 12, ActivationType::kNone, kBF16, false, tag::nChw16c},
      {{2, 16, 4, 4}, 12, ActivationType::kRelu, kF32, false, tag::undef},
      // Fused residual of the output's type.
      {{4, 48}, 24, ActivationType::kNone, kBF16, true, tag::undef},
      {{4, 48}, 24, ActivationType::kRelu, kF32, true, tag::undef},
  };
  for (const FcCase& k : cases) RunFcCase(k, &rng);
}

// --- MatMul. ---------------------------------------------------------------------------------

TEST(Bf16MatMul, ConstantWeightsMatchReference) {
  if (!Bf16ComputeAvailable()) GTEST_SKIP() << "oneDNN has no bf16 kernels on this CPU";
  std::mt19937 rng(1603);
  struct Case {
    std::vector<int64_t> a, b;
    bool transpose_b;
    std::vector<int64_t> bias;  // empty: none
    ActivationType act;
    DataType out;
  };
  const std::vector<Case> cases = {
      {{2, 3, 5, 8}, {8, 6}, false, {6}, ActivationType::kNone, kBF16},
      {{2, 3, 5, 8}, {8, 6}, false, {6}, ActivationType::kNone, kF32},
      {{7, 32}, {20, 32}, true, {1, 20}, ActivationType::kRelu, kBF16},
      {{4, 9, 16}, {4, 16, 5}, false, {}, ActivationType::kGelu, kF32},
  };
  for (const Case& k : cases) {
    graph::Graph g;
    std::vector<graph::TensorId> inputs = {
        AddInput(&g, "a", k.a, kBF16),
        AddConst(&g, "b", kBF16, k.b,
                 RandomValuesOf(kBF16, &rng, graph::ElementCount(k.b), -0.5f, 0.5f))};
    if (!k.bias.empty()) {
      inputs.push_back(AddConst(&g, "bias", kF32, k.bias,
                                RandomValuesOf(kF32, &rng, graph::ElementCount(k.bias))));
    }
    graph::AttrMap attrs;
    attrs.SetInt(graph::attr::kTransposeA, 0);
    attrs.SetInt(graph::attr::kTransposeB, k.transpose_b ? 1 : 0);
    attrs.SetInt(graph::attr::kFusedActivation, static_cast<int64_t>(k.act));
    AddOp(&g, NodeType::kMatMul, "mm", inputs, attrs, "y", k.out);
    g.outputs = {g.FindTensor("y")};
    const std::string label = StrCat("matmul a ", graph::ShapeToString(k.a), " b ",
                                     graph::ShapeToString(k.b), " out ", TypeName(k.out));
    NodeRun run;
    ExpectNear(&g, "mm",
               {MakeTensor(kBF16, k.a, RandomValuesOf(kBF16, &rng, graph::ElementCount(k.a)))}, {},
               kHeavyRel, 1e-6, label, &run);
    EXPECT_EQ(run.kernel_name, "onednn_matmul_bf16") << label;
  }
}

TEST(Bf16MatMul, RuntimeOperandsMatchReference) {
  if (!Bf16ComputeAvailable()) GTEST_SKIP() << "oneDNN has no bf16 kernels on this CPU";
  std::mt19937 rng(1604);
  for (DataType out : {kBF16, kF32}) {
    graph::Graph g;
    graph::AttrMap attrs;
    attrs.SetInt(graph::attr::kTransposeA, 1);
    attrs.SetInt(graph::attr::kTransposeB, 0);
    attrs.SetInt(graph::attr::kFusedActivation, static_cast<int64_t>(ActivationType::kNone));
    AddOp(&g, NodeType::kMatMul, "mm",
          {AddInput(&g, "a", {2, 12, 6}, kBF16), AddInput(&g, "b", {1, 12, 9}, kBF16)}, attrs, "y",
          out);
    g.outputs = {g.FindTensor("y")};
    ExpectNear(&g, "mm",
               {MakeTensor(kBF16, {2, 12, 6}, RandomValuesOf(kBF16, &rng, 144)),
                MakeTensor(kBF16, {1, 12, 9}, RandomValuesOf(kBF16, &rng, 108))},
               {}, kHeavyRel, 1e-6, StrCat("runtime a, b; out ", TypeName(out)));
  }
}

// --- Pool. -----------------------------------------------------------------------------------

graph::AttrMap PoolAttrs(PoolMode mode, int64_t k, int64_t s, std::vector<int64_t> pads,
                         bool include_pad, bool ceil_mode) {
  graph::AttrMap a;
  a.SetInt(graph::attr::kPoolMode, static_cast<int64_t>(mode));
  a.SetInts(graph::attr::kKernel, {k, k});
  a.SetInts(graph::attr::kStrides, {s, s});
  a.SetInts(graph::attr::kPads, std::move(pads));
  a.SetInt(graph::attr::kCountIncludePad, include_pad ? 1 : 0);
  a.SetInt(graph::attr::kCeilMode, ceil_mode ? 1 : 0);
  return a;
}

TEST(Bf16Pool, MatchesReferenceAndKeepsTheGivenLayout) {
  if (!Bf16ComputeAvailable()) GTEST_SKIP() << "oneDNN has no bf16 kernels on this CPU";
  std::mt19937 rng(1605);
  struct Case {
    graph::AttrMap attrs;
    bool exact;
    std::string label;
  };
  const std::vector<Case> cases = {
      {PoolAttrs(PoolMode::kMax, 3, 2, {1, 1, 1, 1}, false, false), true, "max 3x3/2"},
      {PoolAttrs(PoolMode::kAverage, 3, 2, {1, 1, 1, 1}, false, false), false, "avg exclude pad"},
      {PoolAttrs(PoolMode::kAverage, 3, 2, {1, 1, 1, 1}, true, false), false, "avg include pad"},
      // ceil_mode adds padding that must not count: the divisor correction, run in f32.
      {PoolAttrs(PoolMode::kAverage, 3, 2, {1, 0, 1, 0}, true, true), false,
       "avg include pad ceil"},
      {PoolAttrs(PoolMode::kGlobalAverage, 1, 1, {0, 0, 0, 0}, false, false), false, "global avg"},
      {PoolAttrs(PoolMode::kGlobalMax, 1, 1, {0, 0, 0, 0}, false, false), true, "global max"},
  };
  for (const Case& c : cases) {
    for (tag layout : {tag::undef, tag::nChw16c, tag::acdb}) {
      graph::Graph g;
      AddOp(&g, NodeType::kPool, "pool", {AddInput(&g, "x", {2, 16, 10, 9}, kBF16)}, c.attrs, "y",
            kBF16);
      g.outputs = {g.FindTensor("y")};
      const std::vector<Tensor> inputs = {
          MakeTensor(kBF16, {2, 16, 10, 9}, RandomValuesOf(kBF16, &rng, 2 * 16 * 90))};
      const std::string label = StrCat(c.label, " layout ", static_cast<int>(layout));
      NodeRun run;
      if (c.exact) {
        // The maximum is one of the inputs: exact.
        ExpectExact(&g, "pool", inputs, {layout}, label, &run);
      } else {
        // A mean of at most 90 values in [-1, 1) summed in f32: the sum's rounding error is
        // below 89 * 2^-24 * 90, i.e. ~5e-6 after the division; 1e-5 absolute, plus half a
        // bf16 ulp of the kernel's rounding.
        ExpectNear(&g, "pool", inputs, {layout}, 0.0, 1e-5, label, &run);
      }
      EXPECT_EQ(run.kernel_name, "onednn_pooling_bf16") << label;
      EXPECT_EQ(run.required_inputs[0], run.given_inputs[0]) << label;
    }
  }
}

// --- Activation, Softmax, BatchNorm. ---------------------------------------------------------

TEST(Bf16Activation, EveryTypeMatchesReference) {
  if (!Bf16ComputeAvailable()) GTEST_SKIP() << "oneDNN has no bf16 kernels on this CPU";
  std::mt19937 rng(1606);
  struct Case {
    ActivationType type;
    double alpha, beta;
  };
  const std::vector<Case> cases = {
      {ActivationType::kRelu, 0, 0},      {ActivationType::kLeakyRelu, 0.1, 0},
      {ActivationType::kRelu6, 0, 0},     {ActivationType::kClip, -0.5, 2.0},
      {ActivationType::kSigmoid, 0, 0},   {ActivationType::kTanh, 0, 0},
      {ActivationType::kHardSwish, 0, 0}, {ActivationType::kGelu, 0, 0},
  };
  for (const Case& c : cases) {
    for (tag layout : {tag::undef, tag::nChw16c}) {
      graph::Graph g;
      graph::AttrMap attrs;
      attrs.SetInt(graph::attr::kActivation, static_cast<int64_t>(c.type));
      attrs.SetFloat(graph::attr::kAlpha, c.alpha);
      attrs.SetFloat(graph::attr::kBeta, c.beta);
      AddOp(&g, NodeType::kActivation, "act", {AddInput(&g, "x", {2, 16, 5, 5}, kBF16)}, attrs, "y",
            kBF16);
      g.outputs = {g.FindTensor("y")};
      const std::vector<Tensor> inputs = {
          MakeTensor(kBF16, {2, 16, 5, 5}, RandomValuesOf(kBF16, &rng, 800, -7.0f, 7.0f))};
      const std::string label =
          StrCat("activation ", static_cast<int>(c.type), " layout ", static_cast<int>(layout));
      NodeRun run;
      if (c.type == ActivationType::kRelu || c.type == ActivationType::kRelu6 ||
          c.type == ActivationType::kClip) {
        // Selects an input or a bound: exact.
        ExpectExact(&g, "act", inputs, {layout}, label, &run);
      } else {
        // oneDNN's f32 evaluations (exp, tanh, erf approximations, alpha * x) are within a
        // few float ulps of the exact value: 4e-7 * max|y| (max|y| <= 7), plus half a bf16
        // ulp.
        ExpectNear(&g, "act", inputs, {layout}, 4e-7, 1e-7, label, &run);
      }
      EXPECT_EQ(run.kernel_name, "onednn_eltwise_bf16") << label;
      EXPECT_EQ(run.required_inputs[0], run.given_inputs[0]) << label;
    }
  }
}

TEST(Bf16Softmax, MatchesReference) {
  if (!Bf16ComputeAvailable()) GTEST_SKIP() << "oneDNN has no bf16 kernels on this CPU";
  std::mt19937 rng(1607);
  for (int64_t axis : {1, 2}) {
    graph::Graph g;
    graph::AttrMap attrs;
    attrs.SetInt(graph::attr::kAxis, axis);
    AddOp(&g, NodeType::kSoftmax, "sm", {AddInput(&g, "x", {3, 10, 7}, kBF16)}, attrs, "y", kBF16);
    g.outputs = {g.FindTensor("y")};
    NodeRun run;
    // Outputs in [0, 1]: exp in f32 and a sum of <= 10 terms, a few float ulps: 1e-6
    // absolute, plus half a bf16 ulp.
    ExpectNear(&g, "sm", {MakeTensor(kBF16, {3, 10, 7}, RandomValuesOf(kBF16, &rng, 210, -4, 4))},
               {}, 0.0, 1e-6, StrCat("softmax axis ", axis), &run);
    EXPECT_EQ(run.kernel_name, "onednn_softmax_bf16");
  }
}

TEST(Bf16BatchNorm, MatchesReferenceAtRanks4And2) {
  if (!Bf16ComputeAvailable()) GTEST_SKIP() << "oneDNN has no bf16 kernels on this CPU";
  std::mt19937 rng(1608);
  for (const std::vector<int64_t>& shape :
       std::vector<std::vector<int64_t>>{{2, 16, 5, 5}, {4, 16}, {2, 16, 3, 2, 2}}) {
    for (tag layout : {tag::undef, tag::nChw16c}) {
      if (layout != tag::undef && shape.size() != 4) continue;
      graph::Graph g;
      std::vector<float> var = RandomValuesOf(kF32, &rng, 16, 0.2f, 2.0f);
      AddOp(
          &g, NodeType::kBatchNorm, "bn",
          {AddInput(&g, "x", shape, kBF16),
           AddConst(&g, "mean", kF32, {16}, RandomValuesOf(kF32, &rng, 16)),
           AddConst(&g, "var", kF32, {16}, var),
           AddConst(&g, "scale", kF32, {16}, RandomValuesOf(kF32, &rng, 16)),
           AddConst(&g, "bias", kF32, {16}, RandomValuesOf(kF32, &rng, 16))},
          [] {
            graph::AttrMap a;
            a.SetFloat(graph::attr::kEpsilon, 1e-5);
            return a;
          }(),
          "y", kBF16);
      g.outputs = {g.FindTensor("y")};
      NodeRun run;
      const std::string label =
          StrCat("batchnorm ", graph::ShapeToString(shape), " layout ", static_cast<int>(layout));
      // (x - mean) * scale / sqrt(var + eps) + bias in f32 in oneDNN's order vs the
      // reference's: a few float ulps of terms of magnitude <= ~5: 1e-6 * max|y| + 1e-6,
      // plus half a bf16 ulp.
      ExpectNear(
          &g, "bn",
          {MakeTensor(kBF16, shape, RandomValuesOf(kBF16, &rng, graph::ElementCount(shape)))},
          {layout}, 1e-6, 1e-6, label, &run);
      EXPECT_EQ(run.kernel_name, "onednn_batch_norm_bf16") << label;
    }
  }
}

// --- Elementwise, Concat, Reshape / Flatten, Transpose: exact. -------------------------------

TEST(Bf16Elementwise, BroadcastAndConstantOperandsAreExact) {
  if (!Bf16ComputeAvailable()) GTEST_SKIP() << "oneDNN has no bf16 kernels on this CPU";
  std::mt19937 rng(1609);
  struct Case {
    std::vector<int64_t> a, b;
    bool b_constant;
    DataType b_type;
    tag a_layout;
  };
  const std::vector<Case> cases = {
      {{2, 16, 4, 4}, {2, 16, 4, 4}, false, kBF16, tag::undef},
      {{2, 16, 4, 4}, {2, 16, 4, 4}, false, kBF16, tag::nChw16c},
      {{2, 16, 4, 4}, {16, 1, 1}, false, kBF16, tag::nChw16c},
      {{2, 16, 4, 4}, {1, 16, 1, 1}, true, kBF16, tag::nChw16c},
      // A FLOAT32 constant next to bf16 data: computed in f32, rounded once.
      {{2, 16, 4, 4}, {1, 16, 1, 1}, true, kF32, tag::undef},
      // Only b has the output's dims (sub is computed as -(b - a)).
      {{4, 1}, {3, 4, 5}, false, kBF16, tag::undef},
      // Neither has them: a is expanded first.
      {{3, 1}, {1, 5}, false, kBF16, tag::undef},
  };
  for (const Case& c : cases) {
    for (ElementwiseOp op : {ElementwiseOp::kAdd, ElementwiseOp::kSub, ElementwiseOp::kMul}) {
      graph::Graph g;
      const graph::TensorId a = AddInput(&g, "a", c.a, kBF16);
      const std::vector<float> b_values = RandomValuesOf(c.b_type, &rng, graph::ElementCount(c.b));
      const graph::TensorId b =
          c.b_constant ? AddConst(&g, "b", c.b_type, c.b, b_values) : AddInput(&g, "b", c.b, kBF16);
      graph::AttrMap attrs;
      attrs.SetInt(graph::attr::kElementwiseOp, static_cast<int64_t>(op));
      AddOp(&g, NodeType::kElementwise, "ew", {a, b}, attrs, "y", kBF16);
      g.outputs = {g.FindTensor("y")};
      std::vector<Tensor> inputs = {
          MakeTensor(kBF16, c.a, RandomValuesOf(kBF16, &rng, graph::ElementCount(c.a)))};
      std::vector<tag> layouts = {c.a_layout};
      if (!c.b_constant) {
        inputs.push_back(MakeTensor(kBF16, c.b, b_values));
        layouts.push_back(c.b == c.a ? c.a_layout : tag::undef);
      }
      const std::string label =
          StrCat("elementwise ", static_cast<int>(op), " a ", graph::ShapeToString(c.a), " b ",
                 graph::ShapeToString(c.b), c.b_constant ? " constant " : " ", TypeName(c.b_type));
      NodeRun run;
      // f32 add / sub / mul of exact operands, rounded once: bit-exact.
      ExpectExact(&g, "ew", inputs, layouts, label, &run);
      EXPECT_EQ(run.kernel_name, "onednn_binary_bf16") << label;
    }
  }
}

TEST(Bf16Concat, RuntimeAndConstantInputsAreExact) {
  if (!Bf16ComputeAvailable()) GTEST_SKIP() << "oneDNN has no bf16 kernels on this CPU";
  std::mt19937 rng(1610);
  for (tag layout : {tag::undef, tag::nChw16c}) {
    graph::Graph g;
    graph::AttrMap attrs;
    attrs.SetInt(graph::attr::kAxis, 1);
    AddOp(&g, NodeType::kConcat, "cat",
          {AddInput(&g, "a", {2, 16, 3, 3}, kBF16),
           AddConst(&g, "c", kBF16, {2, 32, 3, 3}, RandomValuesOf(kBF16, &rng, 576)),
           AddInput(&g, "b", {2, 16, 3, 3}, kBF16)},
          attrs, "y", kBF16);
    g.outputs = {g.FindTensor("y")};
    NodeRun run;
    ExpectExact(&g, "cat",
                {MakeTensor(kBF16, {2, 16, 3, 3}, RandomValuesOf(kBF16, &rng, 288)),
                 MakeTensor(kBF16, {2, 16, 3, 3}, RandomValuesOf(kBF16, &rng, 288))},
                {layout, layout}, StrCat("concat layout ", static_cast<int>(layout)), &run);
    EXPECT_EQ(run.kernel_name, "onednn_concat_bf16");
  }
}

TEST(Bf16ReshapeTranspose, AreExact) {
  if (!Bf16ComputeAvailable()) GTEST_SKIP() << "oneDNN has no bf16 kernels on this CPU";
  std::mt19937 rng(1611);
  {
    graph::Graph g;
    graph::AttrMap attrs;
    attrs.SetInts(graph::attr::kShape, {6, -1});
    AddOp(&g, NodeType::kReshape, "op", {AddInput(&g, "x", {2, 3, 4}, kBF16)}, attrs, "y", kBF16);
    g.outputs = {g.FindTensor("y")};
    NodeRun run;
    ExpectExact(&g, "op", {MakeTensor(kBF16, {2, 3, 4}, RandomValuesOf(kBF16, &rng, 24))}, {},
                "reshape", &run);
    EXPECT_EQ(run.output_alias, OutputAlias::kView);
    EXPECT_EQ(run.output_desc.data_type(), memory::data_type::bf16);
  }
  {
    graph::Graph g;
    graph::AttrMap attrs;
    attrs.SetInt(graph::attr::kAxis, 1);
    AddOp(&g, NodeType::kFlatten, "op", {AddInput(&g, "x", {2, 16, 3, 3}, kBF16)}, attrs, "y",
          kBF16);
    g.outputs = {g.FindTensor("y")};
    // A blocked input is reordered to plain by the context (as bf16), then viewed.
    ExpectExact(&g, "op", {MakeTensor(kBF16, {2, 16, 3, 3}, RandomValuesOf(kBF16, &rng, 288))},
                {tag::nChw16c}, "flatten");
  }
  {
    graph::Graph g;
    graph::AttrMap attrs;
    attrs.SetInts(graph::attr::kPerm, {2, 0, 1});
    AddOp(&g, NodeType::kTranspose, "op", {AddInput(&g, "x", {2, 3, 5}, kBF16)}, attrs, "y", kBF16);
    g.outputs = {g.FindTensor("y")};
    NodeRun run;
    ExpectExact(&g, "op", {MakeTensor(kBF16, {2, 3, 5}, RandomValuesOf(kBF16, &rng, 30))}, {},
                "transpose", &run);
    EXPECT_EQ(run.kernel_name, "onednn_reorder_transpose_bf16");
  }
}

// --- Rejected mixes. -------------------------------------------------------------------------

// Creating the kernel of node "op" fails, naming it.
void ExpectRejected(graph::Graph* g, const std::string& label) {
  const Status inferred = graph::InferShapes(g);
  ASSERT_TRUE(inferred.ok()) << label << ": " << inferred.ToString();
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  std::unique_ptr<Kernel> kernel;
  const Status st = CreateKernel(*g, g->FindNode("op"), engine, &kernel);
  EXPECT_FALSE(st.ok()) << label;
  EXPECT_NE(st.message().find("node 'op'"), std::string::npos) << label << ": " << st.message();
}

TEST(Bf16Kernels, RejectMixesNoKernelComputes) {
  std::mt19937 rng(1612);
  const auto conv = [&](DataType x, DataType w, DataType y, DataType r) {
    graph::Graph g;
    std::vector<graph::TensorId> inputs = {
        AddInput(&g, "x", {1, 8, 5, 5}, x),
        AddConst(&g, "w", w, {8, 8, 3, 3}, RandomValuesOf(w, &rng, 576)), graph::kNoTensor};
    graph::AttrMap attrs = ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1);
    if (r != DataType::INVALID) {
      inputs.push_back(AddInput(&g, "r", {1, 8, 5, 5}, r));
      attrs.SetInt(graph::attr::kFusedSum, 1);
    } else {
      inputs.pop_back();
    }
    AddOp(&g, NodeType::kConv, "op", inputs, attrs, "y", y);
    g.outputs = {g.FindTensor("y")};
    ExpectRejected(&g, StrCat("conv x ", TypeName(x), " w ", TypeName(w), " y ", TypeName(y), " r ",
                              TypeName(r)));
  };
  conv(kBF16, kF32, kBF16, DataType::INVALID);  // bf16 x with f32 weights
  conv(kF32, kBF16, kF32, DataType::INVALID);   // f32 x with bf16 weights
  conv(kF32, kF32, kBF16, DataType::INVALID);   // fp32 compute, bf16 output
  conv(kBF16, kBF16, kBF16, kF32);              // residual not of the output's type
  conv(kBF16, kBF16, kF32, kBF16);

  {
    graph::Graph g;  // bf16 activation writing f32
    graph::AttrMap attrs;
    attrs.SetInt(graph::attr::kActivation, static_cast<int64_t>(ActivationType::kRelu));
    AddOp(&g, NodeType::kActivation, "op", {AddInput(&g, "x", {4, 4}, kBF16)}, attrs, "y", kF32);
    g.outputs = {g.FindTensor("y")};
    ExpectRejected(&g, "activation bf16 -> f32");
  }
  {
    graph::Graph g;  // bf16 + f32 runtime operands
    graph::AttrMap attrs;
    attrs.SetInt(graph::attr::kElementwiseOp, static_cast<int64_t>(ElementwiseOp::kAdd));
    AddOp(&g, NodeType::kElementwise, "op",
          {AddInput(&g, "a", {4, 4}, kBF16), AddInput(&g, "b", {4, 4}, kF32)}, attrs, "y", kBF16);
    g.outputs = {g.FindTensor("y")};
    ExpectRejected(&g, "elementwise bf16 + f32");
  }
  {
    graph::Graph g;  // FLOAT16 activations are read by Cast only
    graph::AttrMap attrs;
    attrs.SetInt(graph::attr::kActivation, static_cast<int64_t>(ActivationType::kRelu));
    AddOp(&g, NodeType::kActivation, "op", {AddInput(&g, "x", {4, 4}, DataType::FLOAT16)}, attrs,
          "y", DataType::FLOAT16);
    g.outputs = {g.FindTensor("y")};
    ExpectRejected(&g, "activation f16");
  }
  {
    graph::Graph g;  // concat of bf16 and f32
    graph::AttrMap attrs;
    attrs.SetInt(graph::attr::kAxis, 0);
    AddOp(&g, NodeType::kConcat, "op",
          {AddInput(&g, "a", {2, 4}, kBF16), AddInput(&g, "b", {2, 4}, kF32)}, attrs, "y", kBF16);
    g.outputs = {g.FindTensor("y")};
    ExpectRejected(&g, "concat bf16, f32");
  }
}

}  // namespace
}  // namespace qsdk::runtime::float_testing
