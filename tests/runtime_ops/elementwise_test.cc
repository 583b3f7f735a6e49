// Elementwise kernel (oneDNN binary) against the reference: add / sub / mul, numpy
// broadcasting in every direction (src1-only, src0-only including sub's negation path,
// both sides, lower ranks), constant operands, and blocked (nChw16c) inputs.
//
// Tolerance: exact (0). Each output is one float add, sub or mul of the two inputs in
// both oneDNN and the reference (a double operation rounded once to float gives the same
// correctly rounded result), and the negation in the swapped sub is exact.
#include <gtest/gtest.h>

#include <random>

#include "runtime_ops/kernel_runner.h"

namespace qsdk::runtime::testing {
namespace {

using dnnl::memory;

OpSpec BinarySpec(ElementwiseOp op, std::vector<int64_t> a_shape, std::vector<int64_t> b_shape,
                  std::mt19937* rng) {
  OpSpec spec{NodeType::kElementwise, ElementwiseAttrs(op), {}};
  for (auto* shape : {&a_shape, &b_shape}) {
    spec.inputs.push_back(RandomInput(rng, *shape, -4.0f, 4.0f));
  }
  return spec;
}

const ElementwiseOp kOps[] = {ElementwiseOp::kAdd, ElementwiseOp::kSub, ElementwiseOp::kMul};

TEST(ElementwiseKernel, RandomBroadcastsMatchReference) {
  std::mt19937 rng(555);
  std::uniform_int_distribution<int> rank_dist(1, 4), extent_dist(2, 5), kind_dist(0, 3),
      drop_dist(0, 2), constant_dist(0, 2);
  for (int trial = 0; trial < 60; ++trial) {
    const int rank = rank_dist(rng);
    std::vector<int64_t> a, b;
    for (int d = 0; d < rank; ++d) {
      const int64_t e = extent_dist(rng);
      switch (kind_dist(rng)) {
        case 0:
          a.push_back(e);
          b.push_back(e);
          break;  // Equal.
        case 1:
          a.push_back(1);
          b.push_back(e);
          break;  // a broadcast.
        case 2:
          a.push_back(e);
          b.push_back(1);
          break;  // b broadcast.
        default:
          a.push_back(1);
          b.push_back(1);
          break;
      }
    }
    // Sometimes drop leading dims of one operand (numpy left-padding with 1s).
    const int drop = std::min(drop_dist(rng), rank - 1);
    if (trial % 2 == 0) {
      a.erase(a.begin(), a.begin() + drop);
    } else {
      b.erase(b.begin(), b.begin() + drop);
    }
    const ElementwiseOp op = kOps[trial % 3];
    OpSpec spec = BinarySpec(op, a, b, &rng);
    const int constant = constant_dist(rng);  // 0: none, 1: a, 2: b constant.
    if (constant > 0) spec.inputs[constant - 1].constant = true;
    SCOPED_TRACE(StrCat("op ", static_cast<int>(op), " a ", graph::ShapeToString(a), " b ",
                        graph::ShapeToString(b), " constant ", constant));
    ExpectExact(spec);
  }
}

TEST(ElementwiseKernel, EveryBroadcastDirectionForEveryOp) {
  std::mt19937 rng(8);
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> cases = {
      {{2, 3, 4}, {2, 3, 4}},  // Same shape.
      {{2, 3, 4}, {1, 3, 1}},  // b broadcast.
      {{1, 3, 1}, {2, 3, 4}},  // a broadcast: swapped operands (negated for sub).
      {{4, 1}, {1, 5}},        // Both broadcast: a expanded first.
      {{5}, {3, 1}},           // Both broadcast with a of lower rank.
      {{3, 4}, {2, 3, 4}},     // a of lower rank.
      {{2, 3, 4}, {4}},        // b of lower rank.
      {{}, {2, 3}},            // Scalar a.
  };
  for (ElementwiseOp op : kOps) {
    for (const auto& [a, b] : cases) {
      for (int constant = 0; constant < 3; ++constant) {
        OpSpec spec = BinarySpec(op, a, b, &rng);
        if (constant > 0) spec.inputs[constant - 1].constant = true;
        SCOPED_TRACE(StrCat("op ", static_cast<int>(op), " a ", graph::ShapeToString(a), " b ",
                            graph::ShapeToString(b), " constant ", constant));
        ExpectExact(spec);
      }
    }
  }
}

TEST(ElementwiseKernel, SubWithBroadcastFirstOperandIsNotReversed) {
  // a = [1] broadcast against b = [3]: a - b, not b - a.
  OpSpec spec;
  spec.type = NodeType::kElementwise;
  spec.attrs.SetInt(graph::attr::kElementwiseOp, static_cast<int64_t>(ElementwiseOp::kSub));
  spec.inputs.push_back({{1}, {10.0f}});
  spec.inputs.push_back({{3}, {1.0f, 2.0f, 3.0f}});
  KernelRunner runner;
  ASSERT_TRUE(runner.Build(spec).ok());
  KernelRun run;
  ASSERT_TRUE(runner.RunKernel(&run).ok());
  EXPECT_EQ(run.output, (std::vector<float>{9.0f, 8.0f, 7.0f}));
}

TEST(ElementwiseKernel, EqualBlockedInputsKeepTheirLayout) {
  std::mt19937 rng(21);
  for (ElementwiseOp op : kOps) {
    OpSpec spec = BinarySpec(op, {2, 20, 3, 5}, {2, 20, 3, 5}, &rng);
    spec.inputs[0].layout = memory::format_tag::nChw16c;
    spec.inputs[1].layout = memory::format_tag::nChw16c;
    const KernelRun run = ExpectExact(spec);
    ASSERT_EQ(run.required_input_descs.size(), 2u);
    EXPECT_EQ(run.required_input_descs[0], run.given_input_descs[0]);
    EXPECT_EQ(run.required_input_descs[1], run.given_input_descs[1]);
    EXPECT_EQ(run.output_desc, run.given_input_descs[0]);
  }
}

TEST(ElementwiseKernel, BlockedInputWithBroadcastOrConstantOperand) {
  std::mt19937 rng(22);
  for (ElementwiseOp op : kOps) {
    // A per-channel constant bias [1,C,1,1] against a blocked activation, in both operand
    // orders (the constant-first sub goes through the negated swap).
    for (int constant_slot : {0, 1}) {
      std::vector<int64_t> full = {2, 20, 3, 5}, bias = {1, 20, 1, 1};
      OpSpec spec =
          constant_slot == 1 ? BinarySpec(op, full, bias, &rng) : BinarySpec(op, bias, full, &rng);
      spec.inputs[constant_slot].constant = true;
      spec.inputs[1 - constant_slot].layout = memory::format_tag::nChw16c;
      SCOPED_TRACE(StrCat("op ", static_cast<int>(op), " constant slot ", constant_slot));
      const KernelRun run = ExpectExact(spec);
      ASSERT_EQ(run.required_input_descs.size(), 1u);
      EXPECT_EQ(run.required_input_descs[0], run.given_input_descs[0]);
      EXPECT_EQ(run.output_desc, run.given_input_descs[0]);
    }
    // A full-size constant next to a blocked runtime input: the constant is reordered
    // to the blocked layout and the runtime input flows through.
    OpSpec spec = BinarySpec(op, {1, 17, 4, 4}, {1, 17, 4, 4}, &rng);
    spec.inputs[0].constant = true;
    spec.inputs[1].layout = memory::format_tag::nChw16c;
    const KernelRun run = ExpectExact(spec);
    EXPECT_EQ(run.required_input_descs[0], run.given_input_descs[0]);
    // Runtime broadcast operand [1,C,1,1] with a blocked full operand: asked for in the
    // same blocked format (oneDNN's fast binary path needs it).
    OpSpec both = BinarySpec(op, {2, 20, 3, 5}, {1, 20, 1, 1}, &rng);
    both.inputs[0].layout = memory::format_tag::nChw16c;
    const KernelRun run2 = ExpectExact(both);
    EXPECT_EQ(run2.required_input_descs[0], run2.given_input_descs[0]);
    EXPECT_EQ(run2.required_input_descs[1],
              memory::desc({1, 20, 1, 1}, memory::data_type::f32, memory::format_tag::nChw16c));
    // A lower-rank runtime operand with the output's dims next to a blocked one: taken
    // plain, converted internally (a [20,3,5] plain buffer is not a blocked one).
    for (bool swap : {false, true}) {
      OpSpec lower = swap ? BinarySpec(op, {20, 3, 5}, {1, 20, 3, 5}, &rng)
                          : BinarySpec(op, {1, 20, 3, 5}, {20, 3, 5}, &rng);
      lower.inputs[swap ? 1 : 0].layout = memory::format_tag::nChw16c;
      SCOPED_TRACE(StrCat("op ", static_cast<int>(op), " lower rank first ", swap));
      const KernelRun run3 = ExpectExact(lower);
      EXPECT_EQ(run3.required_input_descs[swap ? 0 : 1], PlainDesc({20, 3, 5}));
    }
  }
}

TEST(ElementwiseKernel, BlockedOperandWithEveryBroadcastPattern) {
  // Broadcasts over channels next to a blocked layout with padded channels (C = 20) are
  // where oneDNN's fast paths are most fragile; each pattern, in both operand orders,
  // runtime or constant.
  std::mt19937 rng(23);
  const std::vector<int64_t> full = {2, 20, 3, 5};
  const std::vector<std::vector<int64_t>> partners = {{1, 20, 1, 1}, {1, 1, 3, 5},  {1, 1, 1, 1},
                                                      {2, 1, 1, 1},  {2, 20, 1, 1}, {1, 20, 3, 5},
                                                      {1, 20, 1, 5}, {2, 1, 3, 5}};
  for (ElementwiseOp op : kOps) {
    for (const auto& partner : partners) {
      for (int full_slot : {0, 1}) {
        for (bool constant : {false, true}) {
          OpSpec spec = full_slot == 0 ? BinarySpec(op, full, partner, &rng)
                                       : BinarySpec(op, partner, full, &rng);
          spec.inputs[full_slot].layout = memory::format_tag::nChw16c;
          spec.inputs[1 - full_slot].constant = constant;
          SCOPED_TRACE(StrCat("op ", static_cast<int>(op), " partner ",
                              graph::ShapeToString(partner), " full slot ", full_slot, " constant ",
                              constant));
          const KernelRun run = ExpectExact(spec);
          // The blocked operand is never reordered.
          const size_t full_index = constant ? 0 : full_slot;
          EXPECT_EQ(run.required_input_descs[full_index], run.given_input_descs[full_index]);
        }
      }
    }
  }
}

TEST(ElementwiseKernel, FactoryRejectsBadOpAndTwoConstants) {
  std::mt19937 rng(3);
  OpSpec spec = BinarySpec(ElementwiseOp::kAdd, {2}, {2}, &rng);
  spec.attrs.SetInt(graph::attr::kElementwiseOp, 9);
  KernelRunner runner;
  ASSERT_TRUE(runner.BuildUnchecked(spec, {2}).ok());
  std::unique_ptr<Kernel> kernel;
  Status status = runner.CreateKernel(&kernel);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("node 'op' (Elementwise)"), std::string::npos)
      << status.message();

  spec.attrs.SetInt(graph::attr::kElementwiseOp, static_cast<int64_t>(ElementwiseOp::kAdd));
  spec.inputs[0].constant = spec.inputs[1].constant = true;
  ASSERT_TRUE(runner.BuildUnchecked(spec, {2}).ok());
  status = runner.CreateKernel(&kernel);
  EXPECT_EQ(status.code(), StatusCode::kUnimplemented) << status.ToString();
}

}  // namespace
}  // namespace qsdk::runtime::testing
