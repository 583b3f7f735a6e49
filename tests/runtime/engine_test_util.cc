#include "engine_test_util.h"

#include "graph/shape_inference.h"
#include "runtime_test_util.h"

namespace qsdk::runtime::testing {

std::shared_ptr<graph::Graph> BuildSmallCnn(std::mt19937* rng, int64_t batch) {
  auto g = std::make_shared<graph::Graph>();
  const graph::TensorId x = AddInput(g.get(), "x", {batch, 3, 16, 16});
  // Weights scaled so activations stay O(1) through the layers.
  const graph::TensorId w1 =
      AddConstant(g.get(), "w1", {16, 3, 3, 3}, RandomValues(rng, 16 * 3 * 9, -0.3f, 0.3f));
  const graph::TensorId b1 = AddConstant(g.get(), "b1", {16}, RandomValues(rng, 16));
  const graph::TensorId c1 = AddOp(g.get(), NodeType::kConv, "conv1", {x, w1, b1},
                                   ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1), "c1");
  graph::AttrMap relu;
  relu.SetInt(graph::attr::kActivation, static_cast<int64_t>(ActivationType::kRelu));
  relu.SetFloat(graph::attr::kAlpha, 0.0);
  relu.SetFloat(graph::attr::kBeta, 0.0);
  const graph::TensorId r1 = AddOp(g.get(), NodeType::kActivation, "relu1", {c1}, relu, "r1");
  const graph::TensorId w2 =
      AddConstant(g.get(), "w2", {16, 16, 3, 3}, RandomValues(rng, 16 * 16 * 9, -0.1f, 0.1f));
  const graph::TensorId b2 = AddConstant(g.get(), "b2", {16}, RandomValues(rng, 16));
  const graph::TensorId c2 = AddOp(g.get(), NodeType::kConv, "conv2", {r1, w2, b2},
                                   ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1), "c2");
  graph::AttrMap add;
  add.SetInt(graph::attr::kElementwiseOp, static_cast<int64_t>(ElementwiseOp::kAdd));
  const graph::TensorId s = AddOp(g.get(), NodeType::kElementwise, "add", {c2, r1}, add, "s");
  graph::AttrMap pool;
  pool.SetInt(graph::attr::kPoolMode, static_cast<int64_t>(PoolMode::kMax));
  pool.SetInts(graph::attr::kKernel, {2, 2});
  pool.SetInts(graph::attr::kStrides, {2, 2});
  pool.SetInts(graph::attr::kPads, {0, 0, 0, 0});
  pool.SetInt(graph::attr::kCountIncludePad, 0);
  pool.SetInt(graph::attr::kCeilMode, 0);
  const graph::TensorId p = AddOp(g.get(), NodeType::kPool, "pool", {s}, pool, "p");
  graph::AttrMap flatten;
  flatten.SetInt(graph::attr::kAxis, 1);
  const graph::TensorId f = AddOp(g.get(), NodeType::kFlatten, "flatten", {p}, flatten, "f");
  const graph::TensorId w3 = AddConstant(g.get(), "w3", {10, 16 * 8 * 8},
                                         RandomValues(rng, 10 * 16 * 8 * 8, -0.05f, 0.05f));
  const graph::TensorId b3 = AddConstant(g.get(), "b3", {10}, RandomValues(rng, 10));
  graph::AttrMap fc;
  SetFused(&fc, ActivationType::kNone);
  const graph::TensorId logits =
      AddOp(g.get(), NodeType::kFullyConnected, "fc", {f, w3, b3}, fc, "logits");
  graph::AttrMap softmax;
  softmax.SetInt(graph::attr::kAxis, 1);
  const graph::TensorId prob =
      AddOp(g.get(), NodeType::kSoftmax, "softmax", {logits}, softmax, "prob");
  g->outputs = {prob};
  const Status st = graph::InferShapes(g.get());
  if (!st.ok()) return nullptr;
  return g;
}

}  // namespace qsdk::runtime::testing
