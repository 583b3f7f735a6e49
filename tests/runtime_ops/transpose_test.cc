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
  OpSpec spec;
  spec.type = NodeType::kTranspose;
  spec.attrs.SetInts(graph::attr::kPerm, std::move(perm));
  OpInput x;
  x.data = RandomData(rng, graph::ElementCount(shape));
  x.shape = std::move(shape);
  spec.inputs.push_back(std::move(x));
  return spec;
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
    std::string mismatch;
    const Status status =
        RunAndCompare(TransposeSpec(perm, shape, &rng), 0.0f, 0.0f, &run, &mismatch);
    ASSERT_TRUE(status.ok()) << status.ToString();
    EXPECT_EQ(mismatch, "");
  }
}

TEST(TransposeKernel, NchwToNhwcOfBlockedInput) {
  std::mt19937 rng(61);
  OpSpec spec = TransposeSpec({0, 2, 3, 1}, {2, 20, 3, 4}, &rng);
  spec.inputs[0].layout = memory::format_tag::nChw16c;
  KernelRun run;
  std::string mismatch;
  const Status status = RunAndCompare(spec, 0.0f, 0.0f, &run, &mismatch);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(mismatch, "");
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
