// Dynamically quantized FullyConnected / MatMul runtime kernel (point 5 of the issue-5
// contract) against reference::DynamicQuantizedFullyConnected / DynamicQuantizedMatMul.
//
// Tolerance: none (bit-identical). The quantization parameters are chosen by the same
// function in both, x_q is computed with the same float operations, the integer sum is
// exact (oneDNN's int8 arithmetic is exact with VNNI or AMX, which the tests require, as
// the static INT8 tests do), and the scaling, bias and activation are the same float
// operations in the same order.
#include "reference/dynamic_quant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "graph/attributes.h"
#include "int16_test_util.h"
#include "runtime/int8_test_util.h"

namespace qsdk::runtime {
namespace {

using namespace testing;  // NOLINT(build/namespaces)

struct FcCase {
  std::string label;
  std::vector<int64_t> x_shape;
  int64_t oc = 1;
  bool per_channel = false;
  bool bias = true;
  ActivationType act = ActivationType::kNone;
  std::vector<float> x;  // empty: random in [-2, 3)
};

void RunFc(const FcCase& c, std::mt19937* rng) {
  SCOPED_TRACE(c.label);
  const int64_t k = graph::ElementCount(c.x_shape) / c.x_shape[0];
  const Tensor x =
      MakeTyped(DataType::FLOAT32, c.x_shape,
                c.x.empty() ? RandomValues(rng, graph::ElementCount(c.x_shape), -2.0f, 3.0f) : c.x);
  const Tensor w = RandomIntTensor(rng, DataType::INT8, {c.oc, k}, -127, 127);
  const Tensor b = RandomFloatTensor(rng, {c.oc}, -1.0f, 1.0f);
  std::vector<float> ws;
  for (int64_t o = 0; o < c.oc; ++o) ws.push_back(0.003f * static_cast<float>(1 + o % 9));
  const graph::QuantParams wq = c.per_channel ? PerAxis(ws, 0) : PerTensor(0.0047f);
  graph::AttrMap attrs;
  attrs.SetInt(graph::attr::kDynamicQuantization, 1);
  attrs.SetInt(graph::attr::kFusedActivation, static_cast<int64_t>(c.act));
  graph::Graph g;
  graph::NodeId id = graph::kNoNode;
  const Status built =
      testing::BuildNode(NodeType::kFullyConnected, attrs,
                         {Runtime(x), Constant(w, wq), c.bias ? Constant(b) : Absent()},
                         DataType::FLOAT32, {}, &g, &id);
  ASSERT_TRUE(built.ok()) << built.ToString();
  RuntimeRun run;
  const Status st = testing::RunRuntimeNode(g, id, {x}, &run);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(run.kernel_name, "onednn_fully_connected_dynamic_int8");
  reference::FusedActivation act;
  act.type = c.act;
  Tensor expected;
  const Status rs =
      reference::DynamicQuantizedFullyConnected(x, {&w, wq}, c.bias ? &b : nullptr, act, &expected);
  ASSERT_TRUE(rs.ok()) << rs.ToString();
  EXPECT_TRUE(BitExact(run.output, expected));
}

TEST(DynamicQuantKernelTest, FullyConnectedBitExact) {
  QSDK_REQUIRE_VNNI();
  std::mt19937 rng(1701);
  std::vector<FcCase> cases;
  cases.push_back({"per tensor, bias", {4, 37}, 19, false, true, ActivationType::kNone, {}});
  cases.push_back(
      {"per channel, relu, 4-D x", {3, 2, 5, 5}, 70, true, true, ActivationType::kRelu, {}});
  cases.push_back({"per channel, no bias, gelu, batch 1",
                   {1, 300},
                   33,
                   true,
                   false,
                   ActivationType::kGelu,
                   {}});
  cases.push_back({"all zero input (s = 1, z = 0: y = bias)",
                   {2, 16},
                   8,
                   true,
                   true,
                   ActivationType::kNone,
                   std::vector<float>(32, 0.0f)});
  std::vector<float> negative = RandomValues(&rng, 2 * 16, -5.0f, -0.1f);
  cases.push_back({"all negative input (hi = 0, z = 255)",
                   {2, 16},
                   8,
                   false,
                   true,
                   ActivationType::kNone,
                   negative});
  std::vector<float> positive = RandomValues(&rng, 3 * 16, 0.5f, 9.0f);
  cases.push_back({"all positive input (lo = 0, z = 0)",
                   {3, 16},
                   8,
                   true,
                   true,
                   ActivationType::kRelu,
                   positive});
  for (const FcCase& c : cases) RunFc(c, &rng);
}

TEST(DynamicQuantKernelTest, MatMulBitExact) {
  QSDK_REQUIRE_VNNI();
  std::mt19937 rng(1702);
  struct Case {
    std::vector<int64_t> a, b, bias;
    bool ta, tb, per_column;
    ActivationType act;
  };
  const Case cases[] = {
      {{5, 24}, {24, 40}, {40}, false, false, true, ActivationType::kNone},
      {{2, 3, 6, 24}, {10, 24}, {1, 10}, false, true, true, ActivationType::kRelu},
      {{2, 24, 6}, {2, 24, 10}, {2, 6, 1}, true, false, false, ActivationType::kSigmoid},
      {{6, 24}, {3, 10, 24}, {}, false, true, false, ActivationType::kNone},
  };
  for (const Case& c : cases) {
    const std::string label = graph::ShapeToString(c.a) + " x " + graph::ShapeToString(c.b);
    SCOPED_TRACE(label);
    const Tensor a = RandomFloatTensor(&rng, c.a, -4.0f, 1.5f);
    const Tensor b = RandomIntTensor(&rng, DataType::INT8, c.b, -127, 127);
    const std::vector<int64_t> bias_shape = c.bias.empty() ? std::vector<int64_t>{1} : c.bias;
    const Tensor bias = RandomFloatTensor(&rng, bias_shape, -2.0f, 2.0f);
    const graph::QuantParams bq = c.per_column ? PerColumn(c.b, c.tb, 0.002f, 4) : PerTensor(0.01f);
    graph::AttrMap attrs;
    attrs.SetInt(graph::attr::kDynamicQuantization, 1);
    attrs.SetInt(graph::attr::kTransposeA, c.ta ? 1 : 0);
    attrs.SetInt(graph::attr::kTransposeB, c.tb ? 1 : 0);
    attrs.SetInt(graph::attr::kFusedActivation, static_cast<int64_t>(c.act));
    graph::Graph g;
    graph::NodeId id = graph::kNoNode;
    const Status built = testing::BuildNode(
        NodeType::kMatMul, attrs,
        {Runtime(a), Constant(b, bq), c.bias.empty() ? Absent() : Constant(bias)},
        DataType::FLOAT32, {}, &g, &id);
    ASSERT_TRUE(built.ok()) << built.ToString();
    RuntimeRun run;
    const Status st = testing::RunRuntimeNode(g, id, {a}, &run);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(run.kernel_name, "onednn_matmul_dynamic_int8");
    reference::MatMulParams p;
    p.transpose_a = c.ta;
    p.transpose_b = c.tb;
    p.activation.type = c.act;
    Tensor expected;
    const Status rs = reference::DynamicQuantizedMatMul(
        a, {&b, bq}, c.bias.empty() ? nullptr : &bias, p, &expected);
    ASSERT_TRUE(rs.ok()) << rs.ToString();
    EXPECT_TRUE(BitExact(run.output, expected));
  }
}

TEST(DynamicQuantKernelTest, NonFiniteInputGivesNaN) {
  // The reference refuses such an input; Execute cannot fail, so the kernel writes NaN.
  const Tensor x = MakeTyped(
      DataType::FLOAT32, {2, 3},
      std::vector<float>{1.0f, std::numeric_limits<float>::infinity(), 0.0f, 2.0f, 3.0f, 4.0f});
  const Tensor w = MakeTyped(DataType::INT8, {2, 3}, std::vector<int32_t>{1, 2, 3, 4, 5, 6});
  graph::AttrMap attrs;
  attrs.SetInt(graph::attr::kDynamicQuantization, 1);
  graph::Graph g;
  graph::NodeId id = graph::kNoNode;
  ASSERT_TRUE(testing::BuildNode(NodeType::kFullyConnected, attrs,
                                 {Runtime(x), Constant(w, PerTensor(0.1f))}, DataType::FLOAT32, {},
                                 &g, &id)
                  .ok());
  RuntimeRun run;
  const Status st = testing::RunRuntimeNode(g, id, {x}, &run);
  ASSERT_TRUE(st.ok()) << st.ToString();
  for (int64_t i = 0; i < run.output.GetElementCount(); ++i) {
    EXPECT_TRUE(std::isnan(run.output.Data<float>()[i])) << i;
  }
}

TEST(DynamicQuantKernelTest, RejectsBadWeights) {
  const Tensor x = MakeTyped(DataType::FLOAT32, {1, 2}, std::vector<float>{1.0f, 2.0f});
  graph::AttrMap attrs;
  attrs.SetInt(graph::attr::kDynamicQuantization, 1);
  const std::vector<BadWeights> bad = {
      {"float weights",
       MakeTyped(DataType::FLOAT32, {2, 2}, std::vector<float>{1, 2, 3, 4}),
       {},
       "INT8"},
      {"asymmetric weights", MakeTyped(DataType::INT8, {2, 2}, std::vector<int32_t>{1, 2, 3, 4}),
       PerTensor(0.1f, 2), "zero point"},
      {"weights along K", MakeTyped(DataType::INT8, {2, 2}, std::vector<int32_t>{1, 2, 3, 4}),
       PerAxis({0.1f, 0.2f}, 1), "axis 0"},
  };
  ExpectBadWeightsRejected(NodeType::kFullyConnected, attrs, Runtime(x), bad);
}

}  // namespace
}  // namespace qsdk::runtime
