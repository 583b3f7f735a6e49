// A lowered BF16 graph run by an engine (contexts, layouts and the arena handle bf16
// intermediate tensors): FLOAT32 input -> Cast -> bf16 convolutions (one with a fused bf16
// residual) -> bf16 max pooling -> Flatten -> FullyConnected writing FLOAT32 directly (the
// conversion fused) -> FLOAT32 output. Compared with the contract's reference semantics
// applied node by node (every value widened exactly, FP32 reference operator, result
// rounded to the node's output type).
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/status_macros.h"
#include "graph/shape_inference.h"
#include "runtime/engine.h"
#include "runtime_ops/float_types_util.h"

namespace qsdk::runtime::float_testing {
namespace {

std::shared_ptr<graph::Graph> BuildBf16Net(std::mt19937* rng) {
  auto g = std::make_shared<graph::Graph>();
  const graph::TensorId x = AddInput(g.get(), "x", {2, 16, 8, 8}, kF32);
  const graph::TensorId xb = AddOp(g.get(), NodeType::kCast, "cast", {x}, {}, "xb", kBF16);
  const graph::TensorId c1 =
      AddOp(g.get(), NodeType::kConv, "conv1",
            {xb,
             AddConst(g.get(), "w1", kBF16, {16, 16, 3, 3},
                      RandomValuesOf(kBF16, rng, 2304, -0.2f, 0.2f)),
             AddConst(g.get(), "b1", kF32, {16}, RandomValuesOf(kF32, rng, 16))},
            ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1, ActivationType::kRelu), "c1", kBF16);
  graph::AttrMap residual = ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1, ActivationType::kRelu);
  residual.SetInt(graph::attr::kFusedSum, 1);
  const graph::TensorId c2 =
      AddOp(g.get(), NodeType::kConv, "conv2",
            {c1,
             AddConst(g.get(), "w2", kBF16, {16, 16, 3, 3},
                      RandomValuesOf(kBF16, rng, 2304, -0.2f, 0.2f)),
             AddConst(g.get(), "b2", kF32, {16}, RandomValuesOf(kF32, rng, 16)), xb},
            residual, "c2", kBF16);
  const graph::TensorId p = AddOp(g.get(), NodeType::kPool, "pool", {c2},
                                  testing::PoolAttrs(PoolMode::kMax, {2, 2}, {2, 2}), "p", kBF16);
  const graph::TensorId f =
      AddOp(g.get(), NodeType::kFlatten, "flatten", {p}, testing::AxisAttrs(1), "f", kBF16);
  graph::AttrMap fc;
  fc.SetInt(graph::attr::kFusedActivation, static_cast<int64_t>(ActivationType::kNone));
  const graph::TensorId y = AddOp(
      g.get(), NodeType::kFullyConnected, "fc",
      {f, AddConst(g.get(), "wf", kBF16, {10, 256}, RandomValuesOf(kBF16, rng, 2560, -0.1f, 0.1f)),
       AddConst(g.get(), "bf", kF32, {10}, RandomValuesOf(kF32, rng, 10))},
      fc, "y", kF32);
  g->outputs = {y};
  return g;
}

// The contract's semantics node by node: returns the graph output.
Status EmulateNodeByNode(const graph::Graph& g, const Tensor& x, std::vector<float>* y) {
  std::vector<graph::NodeId> order;
  QSDK_RETURN_IF_ERROR(g.TopologicalOrder(&order));
  std::map<graph::TensorId, Tensor> values;
  values[g.inputs[0]] = x;
  for (graph::NodeId id : order) {
    const graph::Node& node = g.nodes[id];
    if (node.type == NodeType::kConst) continue;
    const graph::Tensor& out = g.tensors[node.outputs[0]];
    std::vector<Tensor> runtime;
    for (graph::TensorId t : node.inputs) {
      if (t != graph::kNoTensor && !g.tensors[t].is_constant()) runtime.push_back(values.at(t));
    }
    std::vector<float> result;
    if (node.type == NodeType::kCast) {
      result = ToFloats(runtime[0]);
    } else {
      QSDK_RETURN_IF_ERROR(ReferenceBeforeRounding(g, id, runtime, &result));
    }
    values[node.outputs[0]] = MakeTensor(out.dtype, out.shape, result);  // rounds (RNE)
  }
  *y = ToFloats(values.at(g.outputs[0]));
  return Status::Ok();
}

TEST(Bf16Engine, LoweredBf16GraphRunsAndMatchesTheContract) {
  if (!Bf16ComputeAvailable()) GTEST_SKIP() << "oneDNN has no bf16 kernels on this CPU";
  std::mt19937 rng(1630);
  std::shared_ptr<graph::Graph> g = BuildBf16Net(&rng);
  ASSERT_TRUE(graph::InferShapes(g.get()).ok());
  std::unique_ptr<IEngine> engine;
  const Status created = CreateEngine(g, &engine);
  ASSERT_TRUE(created.ok()) << created.ToString();
  std::vector<std::pair<std::string, std::string>> names;
  ASSERT_TRUE(GetKernelNames(*engine, &names).ok());
  const std::map<std::string, std::string> by_node(names.begin(), names.end());
  EXPECT_EQ(by_node.at("cast"), "onednn_reorder_cast_f32_bf16");
  EXPECT_EQ(by_node.at("conv1"), "onednn_conv_bf16");
  EXPECT_EQ(by_node.at("conv2"), "onednn_conv_bf16");
  EXPECT_EQ(by_node.at("pool"), "onednn_pooling_bf16");
  EXPECT_EQ(by_node.at("fc"), "onednn_inner_product_bf16");

  std::unique_ptr<IContext> context;
  ASSERT_TRUE(engine->CreateIContext(&context).ok());
  const std::vector<float> xv = RandomValuesOf(kF32, &rng, 2 * 16 * 64);
  const Tensor x = MakeTensor(kF32, {2, 16, 8, 8}, xv, "x");
  std::vector<Tensor> outputs;
  const Status ran = context->Execute({x}, &outputs);
  ASSERT_TRUE(ran.ok()) << ran.ToString();
  ASSERT_EQ(outputs.size(), 1u);
  ASSERT_EQ(outputs[0].GetDataType(), kF32);

  std::vector<float> expected;
  const Status emulated = EmulateNodeByNode(*g, x, &expected);
  ASSERT_TRUE(emulated.ok()) << emulated.ToString();
  // Each of the four bf16 roundings (cast, conv1, conv2, pool is exact) may land one bf16
  // ulp (2^-8 relative) away from the emulation's for some elements; those differences
  // pass through the next layers' weighted sums, whose gains are about 1 here (weights of
  // magnitude ~1/sqrt(fan-in)). 2e-2 * max|y| (about five ulps) bounds that, while a
  // wrong layout, type or missing residual changes the logits by O(max|y|).
  EXPECT_EQ(CompareRounded(ToFloats(outputs[0]), expected, kF32, 2e-2 * MaxAbs(expected)), "");

  // bf16 activations flow between the convolutions in oneDNN's layout: no reorder of c1.
  std::vector<ReorderRecord> reorders;
  ASSERT_TRUE(GetLastPlanReorders(*context, &reorders).ok());
  for (const ReorderRecord& r : reorders) {
    EXPECT_NE(r.tensor, "c1") << r.ToString();
  }
  // A second run reuses the plan and gives the same bits.
  std::vector<Tensor> again;
  ASSERT_TRUE(context->Execute({x}, &again).ok());
  EXPECT_EQ(ToFloats(again[0]), ToFloats(outputs[0]));
}

}  // namespace
}  // namespace qsdk::runtime::float_testing
