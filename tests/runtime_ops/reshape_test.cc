// Reshape / Flatten kernel: zero copy on a plain layout (the output aliases the input
// buffer), values exactly the reference's; a blocked input is asked for in plain layout.
#include <gtest/gtest.h>

#include <random>

#include "runtime_ops/kernel_runner.h"

namespace qsdk::runtime::testing {
namespace {

using dnnl::memory;

OpSpec ReshapeSpec(std::vector<int64_t> shape_attr, std::vector<int64_t> x_shape,
                   std::mt19937* rng) {
  return {NodeType::kReshape, ReshapeAttrs(std::move(shape_attr)),
          {RandomInput(rng, std::move(x_shape))}};
}

OpSpec FlattenSpec(int64_t axis, std::vector<int64_t> x_shape, std::mt19937* rng) {
  return {NodeType::kFlatten, AxisAttrs(axis), {RandomInput(rng, std::move(x_shape))}};
}

// Exact (0): the values are not touched.
void ExpectZeroCopyMatch(const OpSpec& spec) {
  KernelRun run;
  ASSERT_NO_FATAL_FAILURE(ExpectMatchesReference(spec, 0.0f, 0.0f, &run));
  EXPECT_TRUE(run.output_aliases_input);
  EXPECT_TRUE(run.output_shares_input_buffer);
  EXPECT_EQ(run.scratchpad_bytes, 0u);
  EXPECT_EQ(run.output_desc, PlainDesc(run.output_shape));
}

TEST(ReshapeKernel, ShapesWithCopyAndInferredExtents) {
  std::mt19937 rng(40);
  ExpectZeroCopyMatch(ReshapeSpec({6, 4}, {2, 3, 4}, &rng));
  ExpectZeroCopyMatch(ReshapeSpec({0, -1}, {2, 3, 4}, &rng));
  ExpectZeroCopyMatch(ReshapeSpec({-1}, {2, 3, 4}, &rng));
  ExpectZeroCopyMatch(ReshapeSpec({1, 2, 1, 12}, {2, 3, 4}, &rng));
}

TEST(ReshapeKernel, FlattenEveryAxis) {
  std::mt19937 rng(41);
  for (int64_t axis = 0; axis <= 4; ++axis) {
    SCOPED_TRACE(StrCat("axis ", axis));
    ExpectZeroCopyMatch(FlattenSpec(axis, {2, 3, 1, 5}, &rng));
  }
}

TEST(ReshapeKernel, BlockedInputIsAskedForInPlain) {
  std::mt19937 rng(42);
  OpSpec spec = FlattenSpec(1, {2, 20, 3, 3}, &rng);
  spec.inputs[0].layout = memory::format_tag::nChw16c;
  ExpectZeroCopyMatch(spec);
  KernelRunner runner;
  ASSERT_TRUE(runner.Build(spec).ok());
  KernelRun run;
  ASSERT_TRUE(runner.RunKernel(&run).ok());
  EXPECT_EQ(run.required_input_descs[0], PlainDesc({2, 20, 3, 3}));
}

TEST(ReshapeKernel, InstantiateRejectsElementCountChange) {
  std::mt19937 rng(43);
  KernelRunner runner;
  ASSERT_TRUE(runner.BuildUnchecked(ReshapeSpec({5}, {2, 3}, &rng), {5}).ok());
  KernelRun run;
  const Status status = runner.RunKernel(&run);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("node 'op' (Reshape)"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace qsdk::runtime::testing
