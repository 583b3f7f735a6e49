// Concat kernel (oneDNN concat) against the reference: random ranks, axes and input
// counts with constant inputs mixed in; the layout rule for blocked (nChw16c) inputs.
// Tolerance: exact (0); concatenation only copies values.
#include <gtest/gtest.h>

#include <random>

#include "runtime_ops/kernel_runner.h"

namespace qsdk::runtime::testing {
namespace {

using dnnl::memory;

OpSpec ConcatSpec(int64_t axis, const std::vector<std::vector<int64_t>>& shapes,
                  std::mt19937* rng) {
  OpSpec spec{NodeType::kConcat, AxisAttrs(axis), {}};
  for (const auto& shape : shapes) spec.inputs.push_back(RandomInput(rng, shape));
  return spec;
}

TEST(ConcatKernel, RandomShapesAxesAndConstantsMatchReference) {
  std::mt19937 rng(4321);
  std::uniform_int_distribution<int> rank_dist(1, 5), extent_dist(1, 5), count_dist(1, 4),
      bit(0, 1);
  for (int trial = 0; trial < 40; ++trial) {
    const int rank = rank_dist(rng);
    const int64_t axis = std::uniform_int_distribution<int64_t>(0, rank - 1)(rng);
    std::vector<int64_t> base(rank);
    for (int64_t& e : base) e = extent_dist(rng);
    std::vector<std::vector<int64_t>> shapes(count_dist(rng), base);
    for (auto& shape : shapes) shape[axis] = extent_dist(rng);
    OpSpec spec = ConcatSpec(axis, shapes, &rng);
    // Make some inputs constant, keeping at least one runtime input.
    for (size_t i = 1; i < spec.inputs.size(); ++i) spec.inputs[i].constant = bit(rng);
    if (bit(rng)) std::swap(spec.inputs.front(), spec.inputs.back());
    SCOPED_TRACE(
        StrCat("trial ", trial, " rank ", rank, " axis ", axis, " inputs ", spec.inputs.size()));
    ExpectExact(spec);
  }
}

TEST(ConcatKernel, BlockedLayoutKeptWhenChannelsAlignToTheBlock) {
  std::mt19937 rng(10);
  // Channels 16 + 32: each input starts on a 16-channel block of the output.
  OpSpec spec = ConcatSpec(1, {{2, 16, 3, 3}, {2, 32, 3, 3}}, &rng);
  for (OpInput& in : spec.inputs) in.layout = memory::format_tag::nChw16c;
  KernelRun run = ExpectExact(spec);
  EXPECT_EQ(run.required_input_descs[0], run.given_input_descs[0]);
  EXPECT_EQ(run.required_input_descs[1], run.given_input_descs[1]);
  EXPECT_EQ(run.output_desc,
            memory::desc({2, 48, 3, 3}, memory::data_type::f32, memory::format_tag::nChw16c));

  // Along H the channel blocking does not matter, even with C = 20 (padded blocks).
  spec = ConcatSpec(2, {{1, 20, 2, 3}, {1, 20, 5, 3}}, &rng);
  for (OpInput& in : spec.inputs) in.layout = memory::format_tag::nChw16c;
  run = ExpectExact(spec);
  EXPECT_EQ(run.required_input_descs[0], run.given_input_descs[0]);
  EXPECT_EQ(run.required_input_descs[1], run.given_input_descs[1]);
}

TEST(ConcatKernel, MisalignedChannelsFallBackToPlain) {
  std::mt19937 rng(11);
  // 20 + 12 channels: the second input would start inside a block.
  OpSpec spec = ConcatSpec(1, {{1, 20, 2, 2}, {1, 12, 2, 2}}, &rng);
  for (OpInput& in : spec.inputs) in.layout = memory::format_tag::nChw16c;
  const KernelRun run = ExpectExact(spec);
  EXPECT_EQ(run.required_input_descs[0], PlainDesc({1, 20, 2, 2}));
  EXPECT_EQ(run.required_input_descs[1], PlainDesc({1, 12, 2, 2}));
  EXPECT_EQ(run.output_desc, PlainDesc({1, 32, 2, 2}));
}

TEST(ConcatKernel, ConstantInputFollowsBlockedLayout) {
  std::mt19937 rng(12);
  OpSpec spec = ConcatSpec(1, {{1, 16, 2, 2}, {1, 16, 2, 2}, {1, 32, 2, 2}}, &rng);
  spec.inputs[0].layout = memory::format_tag::nChw16c;
  spec.inputs[1].constant = true;
  spec.inputs[2].layout = memory::format_tag::nChw16c;
  const KernelRun run = ExpectExact(spec);
  ASSERT_EQ(run.required_input_descs.size(), 2u);
  EXPECT_EQ(run.required_input_descs[0], run.given_input_descs[0]);
  EXPECT_EQ(run.required_input_descs[1], run.given_input_descs[1]);
}

TEST(ConcatKernel, FactoryRejectsAllConstantInputs) {
  std::mt19937 rng(13);
  OpSpec spec = ConcatSpec(0, {{2}, {3}}, &rng);
  spec.inputs[0].constant = spec.inputs[1].constant = true;
  KernelRunner runner;
  ASSERT_TRUE(runner.BuildUnchecked(spec, {5}).ok());
  std::unique_ptr<Kernel> kernel;
  const Status status = runner.CreateKernel(&kernel);
  EXPECT_EQ(status.code(), StatusCode::kUnimplemented);
  EXPECT_NE(status.message().find("node 'op' (Concat)"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace qsdk::runtime::testing
