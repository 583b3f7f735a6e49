// FLOAT16 constants in nodes that compute in FP32 (docs/ops.md: FLOAT16 is storage only):
// runtime::CreateKernel widens them to FLOAT32 once, exactly, so each kernel must produce
// the same bits as the same node built with the widened FLOAT32 constants. Also the
// widening itself (HalfBitsToFloat) over every pattern, against Eigen.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "common/status_macros.h"
#include "graph/shape_inference.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/onednn_util.h"
#include "runtime_ops/float_types_util.h"

namespace qsdk::runtime::float_testing {
namespace {

TEST(Fp16Constants, HalfWideningIsExactForEveryPattern) {
  size_t mismatches = 0;
  for (uint32_t b = 0; b < 65536; ++b) {
    const float ours = HalfBitsToFloat(static_cast<uint16_t>(b));
    const float eigen = HalfBitsToFloatEigen(static_cast<uint16_t>(b));
    uint32_t ours_bits, eigen_bits;
    std::memcpy(&ours_bits, &ours, 4);
    std::memcpy(&eigen_bits, &eigen, 4);
    // NaN payload bits are not specified; a NaN must stay a NaN of the same sign.
    const bool same = std::isnan(eigen) ? std::isnan(ours) && (ours_bits >> 31) == (b >> 15)
                                        : ours_bits == eigen_bits;
    if (!same) ++mismatches;
  }
  EXPECT_EQ(mismatches, 0u);
}

// Builds the same one-node graph twice through `build(g, constant_type)`: once with its
// float constants FLOAT16, once FLOAT32 holding the same (f16-representable) values. Runs
// both kernels on `inputs` and expects identical output bits.
void ExpectSameAsWidened(const std::function<void(graph::Graph*, DataType)>& build,
                         const std::vector<Tensor>& inputs, const std::string& label) {
  graph::Graph half, wide;
  build(&half, kF16);
  build(&wide, kF32);
  ASSERT_TRUE(graph::InferShapes(&half).ok()) << label;
  ASSERT_TRUE(graph::InferShapes(&wide).ok()) << label;
  NodeRun half_run, wide_run;
  const Status a = RunNode(half, half.FindNode("op"), inputs, {}, &half_run);
  ASSERT_TRUE(a.ok()) << label << ": " << a.ToString();
  const Status b = RunNode(wide, wide.FindNode("op"), inputs, {}, &wide_run);
  ASSERT_TRUE(b.ok()) << label << ": " << b.ToString();
  EXPECT_EQ(half_run.kernel_name, wide_run.kernel_name) << label;
  ASSERT_EQ(half_run.output.GetSizeInBytes(), wide_run.output.GetSizeInBytes()) << label;
  EXPECT_EQ(std::memcmp(half_run.output.GetData(), wide_run.output.GetData(),
                        half_run.output.GetSizeInBytes()),
            0)
      << label;
  // The widened node also matches the reference (the FLOAT16 values read exactly): same
  // tolerance as the FP32 heavy-kernel tests, 1e-4 * max|reference|.
  std::vector<float> expected;
  ASSERT_TRUE(ReferenceBeforeRounding(half, half.FindNode("op"), inputs, &expected).ok());
  EXPECT_EQ(CompareRounded(ToFloats(half_run.output), expected, kF32, 1e-4 * MaxAbs(expected)), "")
      << label;
}

TEST(Fp16Constants, ConvWithHalfWeightsAndBiasEqualsWidenedFp32Conv) {
  std::mt19937 rng(1620);
  // Weights with values across f16's range, including subnormals (exact in f32).
  std::vector<float> w = RandomValuesOf(kF16, &rng, 32 * 16 * 9, -0.5f, 0.5f);
  w[0] = RoundTo(kF16, 3.0e-7f);
  w[1] = RoundTo(kF16, -6.0e-8f);
  w[2] = 0.0f;
  ASSERT_NE(w[0], 0.0f);
  ASSERT_NE(w[1], 0.0f);
  const std::vector<float> b = RandomValuesOf(kF16, &rng, 32);
  for (ActivationType act : {ActivationType::kNone, ActivationType::kRelu}) {
    const auto build = [&](graph::Graph* g, DataType type) {
      AddOp(g, NodeType::kConv, "op",
            {AddInput(g, "x", {2, 16, 8, 8}, kF32), AddConst(g, "w", type, {32, 16, 3, 3}, w),
             AddConst(g, "b", type, {32}, b)},
            ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1, act), "y", kF32);
      g->outputs = {g->FindTensor("y")};
    };
    ExpectSameAsWidened(build, {MakeTensor(kF32, {2, 16, 8, 8}, RandomValuesOf(kF32, &rng, 2048))},
                        StrCat("conv act ", static_cast<int>(act)));
  }
}

TEST(Fp16Constants, FullyConnectedAndMatMulWithHalfWeights) {
  std::mt19937 rng(1621);
  const std::vector<float> w = RandomValuesOf(kF16, &rng, 10 * 48, -0.5f, 0.5f);
  const std::vector<float> b = RandomValuesOf(kF16, &rng, 10);
  ExpectSameAsWidened(
      [&](graph::Graph* g, DataType type) {
        graph::AttrMap attrs;
        attrs.SetInt(graph::attr::kFusedActivation, static_cast<int64_t>(ActivationType::kRelu));
        AddOp(g, NodeType::kFullyConnected, "op",
              {AddInput(g, "x", {3, 48}, kF32), AddConst(g, "w", type, {10, 48}, w),
               AddConst(g, "b", type, {10}, b)},
              attrs, "y", kF32);
        g->outputs = {g->FindTensor("y")};
      },
      {MakeTensor(kF32, {3, 48}, RandomValuesOf(kF32, &rng, 144))}, "fully connected");
  ExpectSameAsWidened(
      [&](graph::Graph* g, DataType type) {
        graph::AttrMap attrs;
        attrs.SetInt(graph::attr::kTransposeA, 0);
        attrs.SetInt(graph::attr::kTransposeB, 1);
        AddOp(g, NodeType::kMatMul, "op",
              {AddInput(g, "a", {2, 5, 48}, kF32), AddConst(g, "b", type, {10, 48}, w),
               AddConst(g, "bias", type, {10}, b)},
              attrs, "y", kF32);
        g->outputs = {g->FindTensor("y")};
      },
      {MakeTensor(kF32, {2, 5, 48}, RandomValuesOf(kF32, &rng, 480))}, "matmul");
}

TEST(Fp16Constants, ElementwiseOperandAndBatchNormParameters) {
  std::mt19937 rng(1622);
  const std::vector<float> c = RandomValuesOf(kF16, &rng, 16);
  for (ElementwiseOp op : {ElementwiseOp::kAdd, ElementwiseOp::kSub, ElementwiseOp::kMul}) {
    ExpectSameAsWidened(
        [&](graph::Graph* g, DataType type) {
          graph::AttrMap attrs;
          attrs.SetInt(graph::attr::kElementwiseOp, static_cast<int64_t>(op));
          // The constant first: a sub with the runtime operand second.
          AddOp(g, NodeType::kElementwise, "op",
                {AddConst(g, "c", type, {16, 1, 1}, c), AddInput(g, "x", {2, 16, 3, 3}, kF32)},
                attrs, "y", kF32);
          g->outputs = {g->FindTensor("y")};
        },
        {MakeTensor(kF32, {2, 16, 3, 3}, RandomValuesOf(kF32, &rng, 288))},
        StrCat("elementwise ", static_cast<int>(op)));
  }
  const std::vector<float> mean = RandomValuesOf(kF16, &rng, 16);
  const std::vector<float> var = RandomValuesOf(kF16, &rng, 16, 0.1f, 2.0f);
  const std::vector<float> scale = RandomValuesOf(kF16, &rng, 16);
  const std::vector<float> bias = RandomValuesOf(kF16, &rng, 16);
  ExpectSameAsWidened(
      [&](graph::Graph* g, DataType type) {
        graph::AttrMap attrs;
        attrs.SetFloat(graph::attr::kEpsilon, 1e-5);
        AddOp(g, NodeType::kBatchNorm, "op",
              {AddInput(g, "x", {2, 16, 4, 4}, kF32), AddConst(g, "mean", type, {16}, mean),
               AddConst(g, "var", type, {16}, var), AddConst(g, "scale", type, {16}, scale),
               AddConst(g, "bias", type, {16}, bias)},
              attrs, "y", kF32);
        g->outputs = {g->FindTensor("y")};
      },
      {MakeTensor(kF32, {2, 16, 4, 4}, RandomValuesOf(kF32, &rng, 512))}, "batchnorm");
}

TEST(Fp16Constants, KernelsCalledDirectlyRejectUnwidenedHalfConstants) {
  // Only CreateKernel widens: a factory handed a FLOAT16 constant directly refuses it
  // rather than misreading its bytes.
  std::mt19937 rng(1623);
  graph::Graph g;
  AddOp(&g, NodeType::kConv, "op",
        {AddInput(&g, "x", {1, 4, 5, 5}, kF32),
         AddConst(&g, "w", kF16, {4, 4, 3, 3}, RandomValuesOf(kF16, &rng, 144))},
        ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1), "y", kF32);
  g.outputs = {g.FindTensor("y")};
  ASSERT_TRUE(graph::InferShapes(&g).ok());
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  std::unique_ptr<Kernel> kernel;
  const Status st = CreateConvKernel(g, g.FindNode("op"), engine, &kernel);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("node 'op' (Conv)"), std::string::npos) << st.message();
  EXPECT_TRUE(CreateKernel(g, g.FindNode("op"), engine, &kernel).ok());
}

}  // namespace
}  // namespace qsdk::runtime::float_testing
