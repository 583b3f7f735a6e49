// Transpose kernel (a oneDNN reorder from a permuted-strides view) against the reference
// on random ranks and permutations. Tolerance: exact (0); values are only moved.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "runtime_ops/kernel_runner.h"

namespace qsdk::runtime::testing {
namespace {

using dnnl::memory;

OpSpec TransposeSpec(std::vector<int64_t> perm, std::vector<int64_t> shape, std::mt19937* rng) {
  return {NodeType::kTranspose, TransposeAttrs(std::move(perm)),
          {RandomInput(rng, std::move(shape))}};
}

TEST(TransposeKernel, RandomPermutationsMatchReference) {
  std::mt19937 rng(60);
  std::uniform_int_distribution<int> rank_dist(1, 6), extent_dist(1, 5);
  for (int trial = 0; trial < 40; ++trial) {
    std::vector<int64_t> shape(rank_dist(rng));
    for (int64_t& e : shape) e = extent_dist(rng);
    std::vector<int64_t> perm(shape.size());
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    SCOPED_TRACE(StrCat("x ", graph::ShapeToString(shape), " perm ", graph::ShapeToString(perm)));
    KernelRun run;
    ASSERT_NO_FATAL_FAILURE(
        ExpectMatchesReference(TransposeSpec(perm, shape, &rng), 0.0f, 0.0f, &run));
  }
}

TEST(TransposeKernel, NchwToNhwcOfBlockedInput) {
  std::mt19937 rng(61);
  OpSpec spec = TransposeSpec({0, 2, 3, 1}, {2, 20, 3, 4}, &rng);
  spec.inputs[0].layout = memory::format_tag::nChw16c;
  KernelRun run;
  ASSERT_NO_FATAL_FAILURE(ExpectMatchesReference(spec, 0.0f, 0.0f, &run));
  EXPECT_EQ(run.output_shape, (std::vector<int64_t>{2, 3, 4, 20}));
  EXPECT_EQ(run.required_input_descs[0], PlainDesc({2, 20, 3, 4}));
  EXPECT_EQ(run.output_desc, PlainDesc({2, 3, 4, 20}));
}

TEST(TransposeKernel, FactoryRejectsNonPermutation) {
  std::mt19937 rng(62);
  KernelRunner runner;
  ASSERT_TRUE(runner.BuildUnchecked(TransposeSpec({0, 0}, {2, 3}, &rng), {2, 2}).ok());
  std::unique_ptr<Kernel> kernel;
  const Status status = runner.CreateKernel(&kernel);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("node 'op' (Transpose)"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("[0,0]"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace qsdk::runtime::testing
