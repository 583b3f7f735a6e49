// Heavy kernels (conv, fully connected, matmul) vs reference::EvalNode on randomized
// shapes and parameters (fixed seeds).
//
// Tolerance: |kernel - reference| <= 1e-4 * max|reference| (+1e-6 absolute for an
// all-zero output). The reference accumulates in double and rounds once; oneDNN
// accumulates in fp32 in a blocked order (and may use FMA), so each output carries a
// rounding error of about sqrt(K) * 2^-24 times the magnitude of the partial sums. With
// K <= ~600 products of values in [-1, 1) that is ~1e-6 of the output scale: 1e-4 leaves
// two orders of magnitude of margin while still catching any indexing, padding, stride,
// group or transpose mistake (those produce O(1) relative errors).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "graph/shape_inference.h"
#include "runtime/kernel.h"
#include "runtime/kernels/heavy_kernel_util.h"
#include "runtime_test_util.h"

namespace qsdk::runtime {
namespace {

using dnnl::memory;
using testing::AddConst;
using testing::AddInput;
using testing::AddOp;
using testing::NodeRun;

constexpr double kRelTolerance = 1e-4;

// Runs node `id` with the kernel and the reference and compares them.
void ExpectMatchesReference(const graph::Graph& graph, graph::NodeId id,
                            const std::vector<Tensor>& inputs, const std::string& label,
                            const std::vector<memory::format_tag>& layouts = {},
                            NodeRun* run_out = nullptr) {
  NodeRun run;
  Tensor expected;
  ASSERT_TRUE(testing::RunNodeAndReference(graph, id, inputs, layouts, label, &run, &expected));
  ASSERT_EQ(run.output.GetDimension(), expected.GetDimension()) << label;
  const double tolerance = kRelTolerance * testing::MaxAbs(expected) + 1e-6;
  EXPECT_LE(testing::MaxAbsDiff(run.output, expected), tolerance) << label;
  if (run_out != nullptr) *run_out = run;
}

struct ConvCase {
  int64_t n, c, h, w, oc, kh, kw, group;
  std::vector<int64_t> strides, pads, dilations;
  ActivationType act;
  bool bias;
  bool dynamic_batch;
};

std::string Describe(const ConvCase& k) {
  return "conv N" + std::to_string(k.n) + " C" + std::to_string(k.c) + " " + std::to_string(k.h) +
         "x" + std::to_string(k.w) + " OC" + std::to_string(k.oc) + " K" + std::to_string(k.kh) +
         "x" + std::to_string(k.kw) + " g" + std::to_string(k.group) + " s" +
         std::to_string(k.strides[0]) + "," + std::to_string(k.strides[1]) + " p" +
         std::to_string(k.pads[0]) + "," + std::to_string(k.pads[1]) + "," +
         std::to_string(k.pads[2]) + "," + std::to_string(k.pads[3]) + " d" +
         std::to_string(k.dilations[0]) + "," + std::to_string(k.dilations[1]) + " act" +
         std::to_string(static_cast<int>(k.act)) + (k.bias ? " bias" : "") +
         (k.dynamic_batch ? " dyn" : "");
}

void RunConvCase(const ConvCase& k, std::mt19937* rng) {
  graph::Graph g;
  const graph::TensorId x = AddInput(&g, "x", {k.dynamic_batch ? -1 : k.n, k.c, k.h, k.w});
  const graph::TensorId w =
      AddConst(&g, "w", {k.oc, k.c / k.group, k.kh, k.kw},
               testing::RandomValues(rng, k.oc * (k.c / k.group) * k.kh * k.kw));
  std::vector<graph::TensorId> inputs = {x, w};
  if (k.bias) inputs.push_back(AddConst(&g, "b", {k.oc}, testing::RandomValues(rng, k.oc)));
  AddOp(&g, NodeType::kConv, "conv", inputs,
        testing::ConvAttrs(k.strides, k.pads, k.dilations, k.group, k.act), "y");
  g.outputs = {g.FindTensor("y")};
  ASSERT_TRUE(graph::InferShapes(&g).ok()) << Describe(k);
  ExpectMatchesReference(g, g.FindNode("conv"), {testing::RandomTensor(rng, {k.n, k.c, k.h, k.w})},
                         Describe(k));
}

TEST(ConvKernelTest, HandPickedGeometries) {
  std::mt19937 rng(7);
  const std::vector<ConvCase> cases = {
      // Plain 3x3, same padding, 16 -> 32 channels (blocked layouts).
      {2, 16, 9, 9, 32, 3, 3, 1, {1, 1}, {1, 1, 1, 1}, {1, 1}, ActivationType::kNone, true, false},
      // First-layer style: 3 input channels, stride 2, asymmetric pads, fused ReLU.
      {1, 3, 15, 13, 16, 3, 3, 1, {2, 2}, {0, 1, 1, 0}, {1, 1}, ActivationType::kRelu, true, false},
      // Depthwise (group = C), ReLU6.
      {2,
       32,
       10,
       10,
       32,
       3,
       3,
       32,
       {1, 1},
       {1, 1, 1, 1},
       {1, 1},
       ActivationType::kRelu6,
       true,
       false},
      // Depthwise with channel multiplier 2, stride 2.
      {1, 8, 11, 9, 16, 3, 3, 8, {2, 2}, {1, 1, 1, 1}, {1, 1}, ActivationType::kNone, false, false},
      // Grouped (4 groups), dilation 2, sigmoid.
      {2,
       16,
       12,
       12,
       24,
       3,
       3,
       4,
       {1, 1},
       {2, 2, 2, 2},
       {2, 2},
       ActivationType::kSigmoid,
       true,
       false},
      // 1x1, channel counts that are not multiples of the block (padded layouts).
      {3, 10, 7, 5, 20, 1, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, ActivationType::kNone, true, false},
      // Rectangular filter, stride (1,2), dilation (3,1), asymmetric pads.
      {1, 6, 14, 16, 7, 2, 5, 1, {1, 2}, {3, 0, 2, 1}, {3, 1}, ActivationType::kRelu, false, false},
      // Dynamic batch in the graph: kernel packed for a nominal batch, run at 5.
      {5, 16, 8, 8, 16, 3, 3, 1, {1, 1}, {1, 1, 1, 1}, {1, 1}, ActivationType::kRelu, true, true},
  };
  for (const ConvCase& k : cases) RunConvCase(k, &rng);
}

TEST(ConvKernelTest, RandomGeometries) {
  std::mt19937 rng(20240611);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const ActivationType acts[] = {ActivationType::kNone, ActivationType::kRelu,
                                 ActivationType::kRelu6, ActivationType::kSigmoid};
  for (int trial = 0; trial < 24; ++trial) {
    ConvCase k;
    k.n = pick(1, 3);
    const int kind = pick(0, 2);  // 0 dense, 1 grouped, 2 depthwise
    k.group = kind == 0 ? 1 : (kind == 1 ? pick(2, 4) : pick(3, 17));
    const int64_t per_group_in = kind == 2 ? 1 : pick(1, 12);
    const int64_t per_group_out = kind == 2 ? pick(1, 2) : pick(1, 12);
    k.c = per_group_in * k.group;
    k.oc = per_group_out * k.group;
    k.kh = pick(1, 5);
    k.kw = pick(1, 5);
    k.strides = {pick(1, 3), pick(1, 3)};
    k.dilations = {pick(1, 2), pick(1, 2)};
    k.pads = {pick(0, 2), pick(0, 2), pick(0, 2), pick(0, 2)};
    // Big enough for an output extent >= 1.
    k.h = (k.kh - 1) * k.dilations[0] + 1 + pick(0, 10);
    k.w = (k.kw - 1) * k.dilations[1] + 1 + pick(0, 10);
    k.act = acts[pick(0, 3)];
    k.bias = pick(0, 1) == 1;
    k.dynamic_batch = pick(0, 1) == 1;
    RunConvCase(k, &rng);
  }
}

TEST(ConvKernelTest, BlockedDestinationFlowsToNextConv) {
  // A conv with 16 -> 16 channels picks a blocked layout for its output and accepts a
  // blocked input, so two consecutive convs need no reorder between them.
  std::mt19937 rng(3);
  graph::Graph g;
  const graph::TensorId x = AddInput(&g, "x", {1, 16, 8, 8});
  const graph::TensorId w =
      AddConst(&g, "w", {16, 16, 3, 3}, testing::RandomValues(&rng, 16 * 16 * 9));
  AddOp(&g, NodeType::kConv, "conv", {x, w}, testing::ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1),
        "y");
  g.outputs = {g.FindTensor("y")};
  ASSERT_TRUE(graph::InferShapes(&g).ok());
  NodeRun run;
  ExpectMatchesReference(g, g.FindNode("conv"), {testing::RandomTensor(&rng, {1, 16, 8, 8})},
                         "blocked conv", {memory::format_tag::nChw16c}, &run);
  EXPECT_EQ(run.required_inputs[0], run.output_desc)
      << "the conv's output layout should be the layout it requires for its input";
}

TEST(ConvKernelTest, FusedResidualIsSummedInPlace) {
  // y = act(conv(x) + R) with R a runtime input (attr fused_sum): a sum post-op on the
  // destination, which starts as R (the instance aliases its output to R in place). 19
  // output channels: with AVX2 the destination is nChw8c with a padded channel block, so R
  // is laid out (and padded) like it.
  std::mt19937 rng(31);
  for (ActivationType act : {ActivationType::kNone, ActivationType::kRelu}) {
    for (bool bias : {false, true}) {
      graph::Graph g;
      const graph::TensorId x = AddInput(&g, "x", {2, 16, 7, 7});
      const graph::TensorId w =
          AddConst(&g, "w", {19, 16, 3, 3}, testing::RandomValues(&rng, 19 * 16 * 9));
      const graph::TensorId b =
          bias ? AddConst(&g, "b", {19}, testing::RandomValues(&rng, 19)) : graph::kNoTensor;
      const graph::TensorId r = AddInput(&g, "r", {2, 19, 7, 7});
      graph::AttrMap attrs = testing::ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1, act);
      attrs.SetInt(graph::attr::kFusedSum, 1);
      AddOp(&g, NodeType::kConv, "conv", {x, w, b, r}, attrs, "y");
      g.outputs = {g.FindTensor("y")};
      ASSERT_TRUE(graph::InferShapes(&g).ok());
      NodeRun run;
      const std::string label = std::string("conv + residual, act ") + ActivationTypeName(act) +
                                (bias ? ", bias" : "");
      ExpectMatchesReference(g, g.FindNode("conv"),
                             {testing::RandomTensor(&rng, {2, 16, 7, 7}),
                              testing::RandomTensor(&rng, {2, 19, 7, 7})},
                             label, {}, &run);
      EXPECT_EQ(run.output_alias, OutputAlias::kInPlace) << label;
      ASSERT_EQ(run.required_inputs.size(), 2u) << label;
      EXPECT_EQ(run.required_inputs[1], run.output_desc) << label;
    }
  }
}

TEST(FullyConnectedKernelTest, FusedResidual) {
  std::mt19937 rng(32);
  for (const std::vector<int64_t>& x_shape :
       {std::vector<int64_t>{3, 40}, std::vector<int64_t>{3, 10, 2, 2}}) {
    graph::Graph g;
    const graph::TensorId x = AddInput(&g, "x", x_shape);
    const graph::TensorId w = AddConst(&g, "w", {12, 40}, testing::RandomValues(&rng, 480));
    const graph::TensorId b = AddConst(&g, "b", {12}, testing::RandomValues(&rng, 12));
    const graph::TensorId r = AddInput(&g, "r", {3, 12});
    graph::AttrMap attrs;
    testing::SetFused(&attrs, ActivationType::kRelu);
    attrs.SetInt(graph::attr::kFusedSum, 1);
    AddOp(&g, NodeType::kFullyConnected, "fc", {x, w, b, r}, attrs, "y");
    g.outputs = {g.FindTensor("y")};
    ASSERT_TRUE(graph::InferShapes(&g).ok());
    NodeRun run;
    const std::string label = "fc + residual, x " + graph::ShapeToString(x_shape);
    ExpectMatchesReference(
        g, g.FindNode("fc"),
        {testing::RandomTensor(&rng, x_shape), testing::RandomTensor(&rng, {3, 12})}, label, {},
        &run);
    EXPECT_EQ(run.output_alias, OutputAlias::kInPlace) << label;
  }
}

TEST(ConvKernelTest, RejectsNonConstantFilter) {
  graph::Graph g;
  const graph::TensorId x = AddInput(&g, "x", {1, 4, 8, 8});
  const graph::TensorId w = AddInput(&g, "w", {4, 4, 3, 3});
  AddOp(&g, NodeType::kConv, "conv", {x, w}, testing::ConvAttrs({1, 1}, {0, 0, 0, 0}, {1, 1}, 1),
        "y");
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  std::unique_ptr<Kernel> kernel;
  const Status st = CreateKernel(g, g.FindNode("conv"), engine, &kernel);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("node 'conv' (Conv)"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("constant"), std::string::npos) << st.message();
}

// --- ChooseWeights: the three ways a per-shape primitive gets its weights --------------

class ChooseWeightsTest : public ::testing::Test {
 protected:
  static constexpr int64_t kN = 4, kK = 64, kOc = 48;
  using IpPd = dnnl::inner_product_forward::primitive_desc;

  void SetUp() override {
    std::mt19937 rng(15);
    src_ = testing::RandomValues(&rng, kN * kK);
    weights_ = testing::RandomValues(&rng, kOc * kK);
  }

  IpPd Make(const memory::desc& weights_md) {
    dnnl::inner_product_forward::desc desc(dnnl::prop_kind::forward_inference,
                                           PlainDesc({kN, kK}), weights_md, memory::desc(),
                                           PlainDesc({kN, kOc}));
    return IpPd(desc, engine_);
  }

  // The graph's weights reordered into `md` (as a Kernel packs them).
  memory Packed(const memory::desc& md) {
    memory plain(PlainDesc({kOc, kK}), engine_, weights_.data());
    memory packed(md, engine_);
    dnnl::reorder(plain, packed).execute(stream_, plain, packed);
    stream_.wait();
    return packed;
  }

  // Runs `pd` with `weights` and checks y = x * w^T against a double-precision loop.
  // Tolerance 1e-4 relative to max|y|: fp32 accumulation over K = 64 (see top of file).
  void ExpectComputesProduct(const IpPd& pd, const memory& weights) {
    memory src(PlainDesc({kN, kK}), engine_, src_.data());
    std::vector<float> out(kN * kOc);
    memory dst(PlainDesc({kN, kOc}), engine_, out.data());
    dnnl::inner_product_forward(pd).execute(
        stream_, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}});
    stream_.wait();
    double max_abs = 0.0, max_diff = 0.0;
    for (int64_t n = 0; n < kN; ++n) {
      for (int64_t o = 0; o < kOc; ++o) {
        double acc = 0.0;
        for (int64_t k = 0; k < kK; ++k) acc += double(src_[n * kK + k]) * weights_[o * kK + k];
        max_abs = std::max(max_abs, std::fabs(acc));
        max_diff = std::max(max_diff, std::fabs(acc - out[n * kOc + o]));
      }
    }
    EXPECT_LE(max_diff, 1e-4 * max_abs);
  }

  dnnl::engine engine_{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream_{engine_};
  std::vector<float> src_, weights_;
};

TEST_F(ChooseWeightsTest, SharesPackedWeightsInThePreferredLayout) {
  const memory::desc any({kOc, kK}, memory::data_type::f32, memory::format_tag::any);
  const memory packed = Packed(Make(any).weights_desc());
  WeightsChoice choice;
  const IpPd pd = ChooseWeights<IpPd>([&](const memory::desc& md) { return Make(md); }, packed,
                                      engine_, &choice);
  EXPECT_TRUE(choice.shared);
  EXPECT_EQ(choice.weights.get(), packed.get());
  ExpectComputesProduct(pd, choice.weights);
}

TEST_F(ChooseWeightsTest, ImposesPackedLayoutWhenAFastImplementationTakesIt) {
  // Plain [OC, K] is not what oneDNN prefers here, but its gemm-based inner product
  // takes it: the packed weights are still shared.
  const memory packed = Packed(PlainDesc({kOc, kK}));
  const memory::desc any({kOc, kK}, memory::data_type::f32, memory::format_tag::any);
  ASSERT_NE(Make(any).weights_desc(), packed.get_desc()) << "test premise";
  WeightsChoice choice;
  const IpPd pd = ChooseWeights<IpPd>([&](const memory::desc& md) { return Make(md); }, packed,
                                      engine_, &choice);
  EXPECT_TRUE(choice.shared);
  EXPECT_FALSE(IsReferenceImpl(pd)) << pd.impl_info_str();
  EXPECT_EQ(pd.weights_desc(), packed.get_desc());
  ExpectComputesProduct(pd, choice.weights);
}

TEST_F(ChooseWeightsTest, RelaysOutWeightsWhenOnlyTheReferenceTakesThePackedLayout) {
  // AB8a4b is a layout no optimized fp32 inner product uses.
  const memory packed =
      Packed(memory::desc({kOc, kK}, memory::data_type::f32, memory::format_tag::AB8a4b));
  WeightsChoice choice;
  const IpPd pd = ChooseWeights<IpPd>([&](const memory::desc& md) { return Make(md); }, packed,
                                      engine_, &choice);
  EXPECT_FALSE(choice.shared);
  EXPECT_FALSE(IsReferenceImpl(pd)) << pd.impl_info_str();
  EXPECT_EQ(choice.weights.get_desc(), pd.weights_desc());
  ExpectComputesProduct(pd, choice.weights);
}

// --- Fully connected -----------------------------------------------------------------

graph::Graph FcGraph(std::mt19937* rng, std::vector<int64_t> x_shape, int64_t oc, bool bias,
                     ActivationType act) {
  graph::Graph g;
  const graph::TensorId x = AddInput(&g, "x", x_shape);
  int64_t k = 1;
  for (size_t i = 1; i < x_shape.size(); ++i) k *= x_shape[i];
  const graph::TensorId w = AddConst(&g, "w", {oc, k}, testing::RandomValues(rng, oc * k));
  std::vector<graph::TensorId> inputs = {x, w};
  if (bias) inputs.push_back(AddConst(&g, "b", {oc}, testing::RandomValues(rng, oc)));
  graph::AttrMap attrs;
  testing::SetFused(&attrs, act);
  AddOp(&g, NodeType::kFullyConnected, "fc", inputs, attrs, "y");
  g.outputs = {g.FindTensor("y")};
  EXPECT_TRUE(graph::InferShapes(&g).ok());
  return g;
}

TEST(FullyConnectedKernelTest, TwoDimensionalInputs) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 10; ++trial) {
    std::uniform_int_distribution<int> dist(1, 70);
    const int64_t n = dist(rng) % 8 + 1, k = dist(rng) * 3, oc = dist(rng);
    const ActivationType act = trial % 3 == 0   ? ActivationType::kRelu
                               : trial % 3 == 1 ? ActivationType::kSigmoid
                                                : ActivationType::kNone;
    graph::Graph g = FcGraph(&rng, {trial % 2 ? -1 : n, k}, oc, trial % 4 != 3, act);
    ExpectMatchesReference(
        g, g.FindNode("fc"), {testing::RandomTensor(&rng, {n, k})},
        "fc " + std::to_string(n) + "x" + std::to_string(k) + " -> " + std::to_string(oc));
  }
}

TEST(FullyConnectedKernelTest, DynamicBatchAtSeveralBatches) {
  // Weights are packed for a nominal batch of 1; larger batches may prefer another
  // weights layout (then the instance imposes the packed one or re-lays them out).
  std::mt19937 rng(14);
  graph::Graph g = FcGraph(&rng, {-1, 256}, 192, true, ActivationType::kRelu);
  for (int64_t n : {1, 7, 64, 200}) {
    ExpectMatchesReference(g, g.FindNode("fc"), {testing::RandomTensor(&rng, {n, 256})},
                           "fc batch " + std::to_string(n));
  }
}

TEST(FullyConnectedKernelTest, FourDimensionalPlainAndBlockedInputs) {
  std::mt19937 rng(12);
  struct Case {
    std::vector<int64_t> shape;
    memory::format_tag layout;
  };
  const std::vector<Case> cases = {
      {{2, 16, 3, 3}, memory::format_tag::undef},
      {{2, 16, 3, 3}, memory::format_tag::nChw16c},  // as a conv produces it
      {{3, 20, 2, 5}, memory::format_tag::nChw16c},  // padded channel block
      {{1, 7, 4, 4}, memory::format_tag::nhwc},
      {{4, 5, 6}, memory::format_tag::undef},  // rank 3
  };
  for (const Case& c : cases) {
    graph::Graph g = FcGraph(&rng, c.shape, 10, true, ActivationType::kRelu);
    NodeRun run;
    ExpectMatchesReference(g, g.FindNode("fc"), {testing::RandomTensor(&rng, c.shape)},
                           "fc " + graph::ShapeToString(c.shape) + " layout " +
                               std::to_string(static_cast<int>(c.layout)),
                           {c.layout}, &run);
  }
}

TEST(FullyConnectedKernelTest, HighRankInputIsFlattened) {
  std::mt19937 rng(13);
  const std::vector<int64_t> shape = {2, 2, 3, 2, 2, 2};  // rank 6: beyond inner product's 5
  graph::Graph g = FcGraph(&rng, shape, 6, true, ActivationType::kNone);
  NodeRun run;
  ExpectMatchesReference(g, g.FindNode("fc"), {testing::RandomTensor(&rng, shape)}, "fc rank 6", {},
                         &run);
  EXPECT_EQ(run.required_inputs[0], PlainDesc(shape));
}

// --- MatMul --------------------------------------------------------------------------

struct MatMulCase {
  std::vector<int64_t> a, b;  // stored shapes
  bool transpose_a, transpose_b;
  bool b_constant;
  std::vector<int64_t> bias;  // empty = none
  ActivationType act;
  std::vector<int64_t> a_graph_shape;  // empty = a; else e.g. with -1 extents
};

void RunMatMulCase(const MatMulCase& m, std::mt19937* rng) {
  graph::Graph g;
  const graph::TensorId a = AddInput(&g, "a", m.a_graph_shape.empty() ? m.a : m.a_graph_shape);
  const graph::TensorId b =
      m.b_constant ? AddConst(&g, "b", m.b, testing::RandomValues(rng, graph::ElementCount(m.b)))
                   : AddInput(&g, "b", m.b);
  std::vector<graph::TensorId> inputs = {a, b};
  if (!m.bias.empty()) {
    inputs.push_back(
        AddConst(&g, "bias", m.bias, testing::RandomValues(rng, graph::ElementCount(m.bias))));
  }
  graph::AttrMap attrs;
  attrs.SetInt(graph::attr::kTransposeA, m.transpose_a);
  attrs.SetInt(graph::attr::kTransposeB, m.transpose_b);
  testing::SetFused(&attrs, m.act);
  AddOp(&g, NodeType::kMatMul, "mm", inputs, attrs, "y");
  g.outputs = {g.FindTensor("y")};
  const std::string label = "matmul a" + graph::ShapeToString(m.a) + (m.transpose_a ? "T" : "") +
                            " b" + graph::ShapeToString(m.b) + (m.transpose_b ? "T" : "") +
                            (m.b_constant ? " const" : "") + " bias" + graph::ShapeToString(m.bias);
  ASSERT_TRUE(graph::InferShapes(&g).ok()) << label;
  std::vector<Tensor> runtime = {testing::RandomTensor(rng, m.a)};
  if (!m.b_constant) runtime.push_back(testing::RandomTensor(rng, m.b));
  ExpectMatchesReference(g, g.FindNode("mm"), runtime, label);
}

TEST(MatMulKernelTest, Cases) {
  std::mt19937 rng(21);
  const std::vector<MatMulCase> cases = {
      {{8, 16}, {16, 12}, false, false, true, {12}, ActivationType::kNone, {}},
      {{8, 16}, {16, 12}, false, false, false, {}, ActivationType::kRelu, {}},
      // Transposes via strides.
      {{16, 8}, {16, 12}, true, false, false, {}, ActivationType::kNone, {}},
      {{8, 16}, {12, 16}, false, true, true, {1, 12}, ActivationType::kSigmoid, {}},
      // Full [M, N] bias: oneDNN's fast matmul takes it only as a binary post-op, which
      // must come before the fused activation.
      {{16, 8}, {12, 16}, true, true, false, {8, 12}, ActivationType::kSigmoid, {}},
      {{8, 16}, {16, 12}, false, false, true, {8, 12}, ActivationType::kRelu, {}},
      // Batched, equal batch dims.
      {{3, 5, 7}, {3, 7, 4}, false, false, false, {}, ActivationType::kNone, {}},
      // Broadcast batch: b shared by every batch (rank 2 vs 3), constant weights.
      {{4, 5, 7}, {7, 6}, false, false, true, {6}, ActivationType::kRelu, {}},
      // Broadcast both ways: [2,1,M,K] x [1,3,K,N].
      {{2, 1, 4, 5}, {1, 3, 5, 6}, false, false, false, {}, ActivationType::kNone, {}},
      // Broadcast batch with transposes and a full-rank bias.
      {{2, 3, 6, 4}, {3, 5, 6}, true, true, false, {2, 3, 4, 5}, ActivationType::kNone, {}},
      // Dynamic leading extent in the graph with constant b: packed for a nominal shape.
      {{9, 16}, {16, 32}, false, false, true, {32}, ActivationType::kRelu, {-1, 16}},
      {{2, 9, 16}, {32, 16}, false, true, true, {}, ActivationType::kNone, {-1, 9, 16}},
  };
  for (const MatMulCase& m : cases) RunMatMulCase(m, &rng);
}

TEST(MatMulKernelTest, RandomShapes) {
  std::mt19937 rng(22);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int trial = 0; trial < 20; ++trial) {
    MatMulCase m;
    const int64_t mm = pick(1, 20), k = pick(1, 40), n = pick(1, 20);
    const int batch_rank = pick(0, 2);
    std::vector<int64_t> a_batch, b_batch;
    for (int i = 0; i < batch_rank; ++i) {
      const int64_t e = pick(1, 3);
      const int mode = pick(0, 2);  // 0 equal, 1 a broadcasts, 2 b broadcasts
      a_batch.push_back(mode == 1 ? 1 : e);
      b_batch.push_back(mode == 2 ? 1 : e);
    }
    if (batch_rank > 0 && pick(0, 1) == 1) b_batch.erase(b_batch.begin());  // lower rank b
    m.transpose_a = pick(0, 1) == 1;
    m.transpose_b = pick(0, 1) == 1;
    m.a = a_batch;
    m.a.push_back(m.transpose_a ? k : mm);
    m.a.push_back(m.transpose_a ? mm : k);
    m.b = b_batch;
    m.b.push_back(m.transpose_b ? n : k);
    m.b.push_back(m.transpose_b ? k : n);
    m.b_constant = pick(0, 1) == 1;
    if (pick(0, 1) == 1) m.bias = {n};
    m.act = pick(0, 1) == 1 ? ActivationType::kRelu : ActivationType::kNone;
    RunMatMulCase(m, &rng);
  }
}

}  // namespace
}  // namespace qsdk::runtime
