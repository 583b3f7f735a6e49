// Activation kernel (oneDNN eltwise) against the reference, every activation type, on
// random shapes, with plain and blocked (nChw16c) inputs.
#include <gtest/gtest.h>

#include <random>

#include "runtime/kernels/activation_mapping.h"
#include "runtime_ops/kernel_runner.h"

namespace qsdk::runtime::testing {
namespace {

using dnnl::memory;

// Tolerance per type. Relu, LeakyRelu, Relu6 and Clip are one comparison or one
// multiplication: oneDNN and the reference round identically, so they must match
// exactly. Sigmoid, Tanh and Gelu use oneDNN's polynomial exp / tanh / erf
// approximations (a few float ulps, ~1e-6 relative); HardSwish divides by 6 in another
// order. 1e-5 relative (+1e-6 absolute near 0) leaves margin for those, while a wrong
// formula is far off (e.g. tanh-based Gelu differs from erf-based Gelu by ~1e-4,
// Sigmoid vs Tanh by ~0.5).
void ToleranceFor(ActivationType type, float* atol, float* rtol) {
  switch (type) {
    case ActivationType::kRelu:
    case ActivationType::kLeakyRelu:
    case ActivationType::kRelu6:
    case ActivationType::kClip:
      *atol = 0.0f;
      *rtol = 0.0f;
      return;
    default:
      *atol = 1e-6f;
      *rtol = 1e-5f;
  }
}

OpSpec ActivationSpec(ActivationType type, float alpha, float beta, std::vector<int64_t> shape,
                      std::mt19937* rng) {
  return {NodeType::kActivation, ActivationAttrs(type, alpha, beta),
          {RandomInput(rng, std::move(shape), -8.0f, 8.0f)}};  // Past Relu6's 6.
}

TEST(ActivationKernel, EveryTypeMatchesReferenceOnRandomShapes) {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> rank_dist(1, 5), extent_dist(1, 7);
  std::uniform_real_distribution<float> param_dist(-2.0f, 2.0f);
  for (int type = 1; type <= kMaxActivationType; ++type) {
    for (int trial = 0; trial < 4; ++trial) {
      std::vector<int64_t> shape(rank_dist(rng));
      for (int64_t& e : shape) e = extent_dist(rng);
      float alpha = param_dist(rng), beta = param_dist(rng);
      if (alpha > beta) std::swap(alpha, beta);  // Clip needs alpha <= beta.
      const auto t = static_cast<ActivationType>(type);
      SCOPED_TRACE(StrCat("type ", ActivationTypeName(t), " shape ", graph::ShapeToString(shape),
                          " alpha ", alpha, " beta ", beta));
      float atol, rtol;
      ToleranceFor(t, &atol, &rtol);
      KernelRun run;
      ASSERT_NO_FATAL_FAILURE(
          ExpectMatchesReference(ActivationSpec(t, alpha, beta, shape, &rng), atol, rtol, &run));
      EXPECT_EQ(run.required_input_descs[0], run.given_input_descs[0]);
    }
  }
}

TEST(ActivationKernel, BlockedInputFlowsThroughUnchanged) {
  std::mt19937 rng(77);
  // C = 20 is not a multiple of 16, so the blocked layout carries padding channels.
  for (int type = 1; type <= kMaxActivationType; ++type) {
    const auto t = static_cast<ActivationType>(type);
    SCOPED_TRACE(ActivationTypeName(t));
    OpSpec spec = ActivationSpec(t, -0.5f, 0.75f, {2, 20, 5, 3}, &rng);
    spec.inputs[0].layout = memory::format_tag::nChw16c;
    float atol, rtol;
    ToleranceFor(t, &atol, &rtol);
    KernelRun run;
    ASSERT_NO_FATAL_FAILURE(ExpectMatchesReference(spec, atol, rtol, &run));
    // No reorder: the instance takes the blocked layout and produces it.
    EXPECT_EQ(run.required_input_descs[0], run.given_input_descs[0]);
    EXPECT_EQ(run.output_desc, run.given_input_descs[0]);
  }
}

TEST(ActivationKernel, HandPickedValuesAtTheKinks) {
  // Values on both sides of each kink, checked against hand-computed results.
  const std::vector<float> x = {-7.0f, -3.0f, -1.0f, 0.0f, 1.0f, 3.0f, 6.0f, 7.5f};
  struct Case {
    ActivationType type;
    float alpha, beta;
    std::vector<float> expected;
  };
  const Case cases[] = {
      {ActivationType::kRelu, 0.0f, 0.0f, {0, 0, 0, 0, 1, 3, 6, 7.5f}},
      {ActivationType::kLeakyRelu, 0.25f, 0.0f, {-1.75f, -0.75f, -0.25f, 0, 1, 3, 6, 7.5f}},
      {ActivationType::kRelu6, 0.0f, 6.0f, {0, 0, 0, 0, 1, 3, 6, 6}},
      {ActivationType::kClip, -2.0f, 3.0f, {-2, -2, -1, 0, 1, 3, 3, 3}},
      // x * min(max(x + 3, 0), 6) / 6: 0 for x <= -3, x for x >= 3.
      {ActivationType::kHardSwish, 0.0f, 0.0f, {0, 0, -1.0f / 3.0f, 0, 2.0f / 3.0f, 3, 6, 7.5f}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(ActivationTypeName(c.type));
    OpSpec spec;
    spec.type = NodeType::kActivation;
    spec.attrs.SetInt(graph::attr::kActivation, static_cast<int64_t>(c.type));
    spec.attrs.SetFloat(graph::attr::kAlpha, c.alpha);
    spec.attrs.SetFloat(graph::attr::kBeta, c.beta);
    spec.inputs.push_back({{static_cast<int64_t>(x.size())}, x});
    KernelRunner runner;
    ASSERT_TRUE(runner.Build(spec).ok());
    KernelRun run;
    const Status status = runner.RunKernel(&run);
    ASSERT_TRUE(status.ok()) << status.ToString();
    // 1 ulp of slack for HardSwish's division by 6; the others are exact.
    EXPECT_EQ(CompareClose(run.output, c.expected, 0.0f, 1.2e-7f), "");
  }
}

TEST(ActivationMapping, MapsEachTypeToItsOneDnnAlgorithm) {
  EltwiseParams p;
  ASSERT_TRUE(MapActivation(ActivationType::kRelu, 5.0f, 7.0f, "n", &p).ok());
  EXPECT_EQ(p.algorithm, dnnl::algorithm::eltwise_relu);
  EXPECT_EQ(p.alpha, 0.0f);  // Plain Relu ignores the attribute's alpha.
  ASSERT_TRUE(MapActivation(ActivationType::kLeakyRelu, 0.2f, 0.0f, "n", &p).ok());
  EXPECT_EQ(p.algorithm, dnnl::algorithm::eltwise_relu);
  EXPECT_EQ(p.alpha, 0.2f);
  ASSERT_TRUE(MapActivation(ActivationType::kRelu6, 1.0f, 2.0f, "n", &p).ok());
  EXPECT_EQ(p.algorithm, dnnl::algorithm::eltwise_clip_v2);
  EXPECT_EQ(p.alpha, 0.0f);
  EXPECT_EQ(p.beta, 6.0f);
  ASSERT_TRUE(MapActivation(ActivationType::kClip, -1.0f, 2.0f, "n", &p).ok());
  EXPECT_EQ(p.algorithm, dnnl::algorithm::eltwise_clip_v2);
  EXPECT_EQ(p.alpha, -1.0f);
  EXPECT_EQ(p.beta, 2.0f);
  ASSERT_TRUE(MapActivation(ActivationType::kSigmoid, 0, 0, "n", &p).ok());
  EXPECT_EQ(p.algorithm, dnnl::algorithm::eltwise_logistic);
  ASSERT_TRUE(MapActivation(ActivationType::kTanh, 0, 0, "n", &p).ok());
  EXPECT_EQ(p.algorithm, dnnl::algorithm::eltwise_tanh);
  ASSERT_TRUE(MapActivation(ActivationType::kHardSwish, 0, 0, "n", &p).ok());
  EXPECT_EQ(p.algorithm, dnnl::algorithm::eltwise_hardswish);
  ASSERT_TRUE(MapActivation(ActivationType::kGelu, 0, 0, "n", &p).ok());
  EXPECT_EQ(p.algorithm, dnnl::algorithm::eltwise_gelu_erf);
}

TEST(ActivationMapping, RejectsNoneAndInvertedClipNamingTheNode) {
  EltwiseParams p;
  Status status = MapActivation(ActivationType::kNone, 0, 0, "node 'a' (Activation)", &p);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("node 'a' (Activation)"), std::string::npos);
  status = MapActivation(ActivationType::kClip, 3.0f, 1.0f, "node 'a' (Activation)", &p);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("alpha <= beta"), std::string::npos) << status.message();
}

TEST(ActivationKernel, FactoryRejectsBadTypeAndConstantInput) {
  KernelRunner runner;
  OpSpec spec;
  spec.type = NodeType::kActivation;
  spec.attrs.SetInt(graph::attr::kActivation, 42);
  spec.inputs.push_back({{2}, {1.0f, 2.0f}});
  ASSERT_TRUE(runner.BuildUnchecked(spec, {2}).ok());
  std::unique_ptr<Kernel> kernel;
  Status status = runner.CreateKernel(&kernel);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("node 'op' (Activation)"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("42"), std::string::npos) << status.message();

  spec.attrs.SetInt(graph::attr::kActivation, static_cast<int64_t>(ActivationType::kRelu));
  spec.inputs[0].constant = true;
  ASSERT_TRUE(runner.BuildUnchecked(spec, {2}).ok());
  status = runner.CreateKernel(&kernel);
  EXPECT_EQ(status.code(), StatusCode::kUnimplemented) << status.ToString();
}

}  // namespace
}  // namespace qsdk::runtime::testing
