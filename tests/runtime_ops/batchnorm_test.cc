// BatchNorm kernel (oneDNN batch normalization, inference with stored statistics)
// against the reference, ranks 2..6 (6 goes through the [N, C, rest] view), plain and
// blocked (nChw16c) inputs.
#include <gtest/gtest.h>

#include <random>

#include "runtime_ops/kernel_runner.h"

namespace qsdk::runtime::testing {
namespace {

using dnnl::memory;

// x, mean in [-1, 1], var in [0.1, 2], scale in [-2, 2]: |y| <= 2 * 2 / sqrt(0.1) ~ 13.
// oneDNN computes 1 / sqrt(var + eps) and the products in float: a few ulps of the
// result, ~1e-6 absolute at worst; 1e-5 + 1e-5 relative leaves margin. A wrong epsilon
// placement or a swapped scale / bias is off by far more than that.
constexpr float kAtol = 1e-5f, kRtol = 1e-5f;

OpSpec BatchNormSpec(std::vector<int64_t> shape, float epsilon, std::mt19937* rng) {
  const int64_t c = shape[1];
  OpSpec spec{NodeType::kBatchNorm, BatchNormAttrs(epsilon), {RandomInput(rng, std::move(shape))}};
  const std::pair<float, float> ranges[4] = {
      {-1.0f, 1.0f}, {0.1f, 2.0f}, {-2.0f, 2.0f}, {-1.0f, 1.0f}};
  for (const auto& [lo, hi] : ranges) {
    spec.inputs.push_back(RandomInput(rng, {c}, lo, hi));
    spec.inputs.back().constant = true;
  }
  return spec;
}

TEST(BatchNormKernel, RandomShapesMatchReference) {
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> rank_dist(2, 6), extent_dist(1, 5), c_dist(1, 24);
  std::uniform_real_distribution<float> eps_dist(1e-5f, 1e-2f);
  for (int trial = 0; trial < 24; ++trial) {
    std::vector<int64_t> shape(rank_dist(rng));
    for (int64_t& e : shape) e = extent_dist(rng);
    shape[1] = c_dist(rng);
    const float epsilon = eps_dist(rng);
    SCOPED_TRACE(StrCat("x ", graph::ShapeToString(shape), " epsilon ", epsilon));
    KernelRun run;
    ASSERT_NO_FATAL_FAILURE(
        ExpectMatchesReference(BatchNormSpec(shape, epsilon, &rng), kAtol, kRtol, &run));
  }
}

TEST(BatchNormKernel, BlockedInputFlowsThrough) {
  std::mt19937 rng(100);
  OpSpec spec = BatchNormSpec({2, 20, 4, 3}, 1e-3f, &rng);
  spec.inputs[0].layout = memory::format_tag::nChw16c;
  KernelRun run;
  ASSERT_NO_FATAL_FAILURE(ExpectMatchesReference(spec, kAtol, kRtol, &run));
  EXPECT_EQ(run.required_input_descs[0], run.given_input_descs[0]);
  EXPECT_EQ(run.output_desc, run.given_input_descs[0]);
}

TEST(BatchNormKernel, FactoryRejectsRuntimeStatisticsAndBadEpsilon) {
  std::mt19937 rng(101);
  OpSpec spec = BatchNormSpec({1, 3, 2, 2}, 1e-5f, &rng);
  spec.inputs[2].constant = false;  // var arrives at run time.
  KernelRunner runner;
  ASSERT_TRUE(runner.BuildUnchecked(spec, {1, 3, 2, 2}).ok());
  std::unique_ptr<Kernel> kernel;
  Status status = runner.CreateKernel(&kernel);
  EXPECT_EQ(status.code(), StatusCode::kUnimplemented);
  EXPECT_NE(status.message().find("'var'"), std::string::npos) << status.message();

  spec = BatchNormSpec({1, 3, 2, 2}, 0.0f, &rng);
  ASSERT_TRUE(runner.BuildUnchecked(spec, {1, 3, 2, 2}).ok());
  status = runner.CreateKernel(&kernel);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("node 'op' (BatchNorm)"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace qsdk::runtime::testing
