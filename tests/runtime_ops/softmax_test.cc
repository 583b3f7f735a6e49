// Softmax kernel (oneDNN softmax) against the reference on random shapes and axes; a
// blocked input is asked for in plain layout.
#include <gtest/gtest.h>

#include <random>

#include "runtime_ops/kernel_runner.h"

namespace qsdk::runtime::testing {
namespace {

using dnnl::memory;

// Outputs lie in (0, 1]. oneDNN evaluates exp with a polynomial (a few ulps) and sums
// at most 7 terms in float; the reference works in double. 1e-6 absolute + 1e-5
// relative covers that; softmax along the wrong axis or without the max shift's
// stability would be off by ~1e-1 or produce NaN.
constexpr float kAtol = 1e-6f, kRtol = 1e-5f;

OpSpec SoftmaxSpec(int64_t axis, std::vector<int64_t> shape, std::mt19937* rng) {
  return {NodeType::kSoftmax, AxisAttrs(axis), {RandomInput(rng, std::move(shape), -5.0f, 5.0f)}};
}

TEST(SoftmaxKernel, RandomShapesAndAxesMatchReference) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> rank_dist(1, 4), extent_dist(1, 7);
  for (int trial = 0; trial < 30; ++trial) {
    std::vector<int64_t> shape(rank_dist(rng));
    for (int64_t& e : shape) e = extent_dist(rng);
    const int64_t axis =
        std::uniform_int_distribution<int64_t>(0, static_cast<int64_t>(shape.size()) - 1)(rng);
    SCOPED_TRACE(StrCat("x ", graph::ShapeToString(shape), " axis ", axis));
    KernelRun run;
    ASSERT_NO_FATAL_FAILURE(
        ExpectMatchesReference(SoftmaxSpec(axis, shape, &rng), kAtol, kRtol, &run));
    EXPECT_EQ(run.required_input_descs[0], PlainDesc(shape));
  }
}

TEST(SoftmaxKernel, LargeInputsStayFinite) {
  // exp(100) overflows float: only the max-shifted form gives finite results.
  OpSpec spec;
  spec.type = NodeType::kSoftmax;
  spec.attrs.SetInt(graph::attr::kAxis, 1);
  spec.inputs.push_back({{1, 3}, {100.0f, 100.0f, 98.0f}});
  KernelRun run;
  ASSERT_NO_FATAL_FAILURE(ExpectMatchesReference(spec, kAtol, kRtol, &run));
}

TEST(SoftmaxKernel, BlockedInputIsReorderedToPlain) {
  std::mt19937 rng(8);
  OpSpec spec = SoftmaxSpec(1, {2, 20, 3, 2}, &rng);
  spec.inputs[0].layout = memory::format_tag::nChw16c;
  KernelRun run;
  ASSERT_NO_FATAL_FAILURE(ExpectMatchesReference(spec, kAtol, kRtol, &run));
  EXPECT_EQ(run.required_input_descs[0], PlainDesc({2, 20, 3, 2}));
  EXPECT_EQ(run.output_desc, PlainDesc({2, 20, 3, 2}));
}

}  // namespace
}  // namespace qsdk::runtime::testing
