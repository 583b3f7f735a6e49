#include "engine_test_util.h"

#include "graph/shape_inference.h"
#include "runtime_test_util.h"

namespace qsdk::runtime::testing {

std::shared_ptr<graph::Graph> BuildSmallCnn(std::mt19937* rng, int64_t batch) {
  auto g = std::make_shared<graph::Graph>();
  const graph::TensorId x = AddInput(g.get(), "x", {batch, 3, 16, 16});
  // Weights scaled so activations stay O(1) through the layers.
  const graph::TensorId w1 =
      AddConst(g.get(), "w1", {16, 3, 3, 3}, RandomValues(rng, 16 * 3 * 9, -0.3f, 0.3f));
  const graph::TensorId b1 = AddConst(g.get(), "b1", {16}, RandomValues(rng, 16));
  const graph::TensorId c1 = AddOp(g.get(), NodeType::kConv, "conv1", {x, w1, b1},
                                   ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1), "c1");
  const graph::TensorId r1 = AddOp(g.get(), NodeType::kActivation, "relu1", {c1},
                                   ActivationAttrs(ActivationType::kRelu), "r1");
  const graph::TensorId w2 =
      AddConst(g.get(), "w2", {16, 16, 3, 3}, RandomValues(rng, 16 * 16 * 9, -0.1f, 0.1f));
  const graph::TensorId b2 = AddConst(g.get(), "b2", {16}, RandomValues(rng, 16));
  const graph::TensorId c2 = AddOp(g.get(), NodeType::kConv, "conv2", {r1, w2, b2},
                                   ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1), "c2");
  const graph::TensorId s = AddOp(g.get(), NodeType::kElementwise, "add", {c2, r1},
                                  ElementwiseAttrs(ElementwiseOp::kAdd), "s");
  const graph::TensorId p =
      AddOp(g.get(), NodeType::kPool, "pool", {s}, PoolAttrs(PoolMode::kMax, {2, 2}, {2, 2}), "p");
  const graph::TensorId f = AddOp(g.get(), NodeType::kFlatten, "flatten", {p}, AxisAttrs(1), "f");
  const graph::TensorId w3 =
      AddConst(g.get(), "w3", {10, 16 * 8 * 8}, RandomValues(rng, 10 * 16 * 8 * 8, -0.05f, 0.05f));
  const graph::TensorId b3 = AddConst(g.get(), "b3", {10}, RandomValues(rng, 10));
  graph::AttrMap fc;
  SetFused(&fc, ActivationType::kNone);
  const graph::TensorId logits =
      AddOp(g.get(), NodeType::kFullyConnected, "fc", {f, w3, b3}, fc, "logits");
  const graph::TensorId prob =
      AddOp(g.get(), NodeType::kSoftmax, "softmax", {logits}, AxisAttrs(1), "prob");
  g->outputs = {prob};
  const Status st = graph::InferShapes(g.get());
  if (!st.ok()) return nullptr;
  return g;
}

}  // namespace qsdk::runtime::testing
