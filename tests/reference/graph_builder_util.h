// Small hand-built Graph IR fixtures for the EvalNode / RunGraph tests.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "graph/attributes.h"
#include "graph/graph.h"

namespace qsdk::reference::testing {

// The graph names the tests use (they import this namespace).
using graph::AttrMap;
using graph::Graph;
using graph::TensorId;
namespace attr = graph::attr;

// Adds a graph input tensor.
inline graph::TensorId AddInput(graph::Graph* g, const std::string& name,
                                std::vector<int64_t> shape) {
  graph::Tensor t;
  t.name = name;
  t.shape = std::move(shape);
  const graph::TensorId id = g->AddTensor(std::move(t));
  g->inputs.push_back(id);
  return id;
}

// Adds a FLOAT32 constant (with its Const node).
inline graph::TensorId AddFloatConstant(graph::Graph* g, const std::string& name,
                                        std::vector<int64_t> shape,
                                        const std::vector<float>& values) {
  return g->AddConstant(name, DataType::FLOAT32, std::move(shape), values.data(),
                        values.size() * sizeof(float));
}

// Adds a node of `type` reading `inputs` and producing a new tensor named `output`.
inline graph::TensorId AddOp(graph::Graph* g, NodeType type, const std::string& name,
                             std::vector<graph::TensorId> inputs, graph::AttrMap attrs,
                             const std::string& output) {
  graph::Tensor t;
  t.name = output;
  const graph::TensorId out = g->AddTensor(std::move(t));
  graph::Node n;
  n.type = type;
  n.name = name;
  n.inputs = std::move(inputs);
  n.outputs = {out};
  n.attrs = std::move(attrs);
  g->AddNode(std::move(n));
  return out;
}

// Conv attributes: `strides` [2], `pads` [4] (top, bottom, left, right), `dilations` [2],
// group 1, no fused activation.
inline graph::AttrMap ConvAttrs(std::vector<int64_t> strides, std::vector<int64_t> pads,
                                std::vector<int64_t> dilations) {
  graph::AttrMap a;
  a.SetInts(graph::attr::kStrides, std::move(strides));
  a.SetInts(graph::attr::kPads, std::move(pads));
  a.SetInts(graph::attr::kDilations, std::move(dilations));
  a.SetInt(graph::attr::kGroup, 1);
  return a;
}

// Max Pool attributes: `kernel` [2], `strides` [2], no padding, floor mode.
inline graph::AttrMap MaxPoolAttrs(std::vector<int64_t> kernel, std::vector<int64_t> strides) {
  graph::AttrMap a;
  a.SetInt(graph::attr::kPoolMode, static_cast<int64_t>(PoolMode::kMax));
  a.SetInts(graph::attr::kKernel, std::move(kernel));
  a.SetInts(graph::attr::kStrides, std::move(strides));
  a.SetInts(graph::attr::kPads, {0, 0, 0, 0});
  a.SetInt(graph::attr::kCountIncludePad, 0);
  a.SetInt(graph::attr::kCeilMode, 0);
  return a;
}

// The FullyConnected example the EvalNode and RunGraph tests share: x [-1, 2] (dynamic
// batch) -> FullyConnected(w [3,2], b [3], fused LeakyRelu 0.5) -> h. For x =
// [[1,2],[-1,0]]: x.w^T + b = [[1, -1, -0.5], [-1, -3, -0.5]] and h = [[1, -0.5, -0.25],
// [-0.5, -1.5, -0.25]].
inline const std::vector<float> kFcWeights = {1, 0, 0, 1, 1, -1};  // [3, 2]
inline const std::vector<float> kFcBias = {0, -3, 0.5f};          // [3]

struct FcGraph {
  graph::Graph g;
  graph::TensorId x, w, b, h;
  graph::NodeId fc;
};

// The example with h as the graph output.
inline FcGraph MakeFcGraph() {
  FcGraph f;
  f.x = AddInput(&f.g, "x", {-1, 2});
  f.w = AddFloatConstant(&f.g, "w", {3, 2}, kFcWeights);
  f.b = AddFloatConstant(&f.g, "b", {3}, kFcBias);
  graph::AttrMap a;
  a.SetInt(graph::attr::kFusedActivation, static_cast<int64_t>(ActivationType::kLeakyRelu));
  a.SetFloat(graph::attr::kFusedAlpha, 0.5);
  f.h = AddOp(&f.g, NodeType::kFullyConnected, "fc", {f.x, f.w, f.b}, a, "h");
  f.fc = f.g.tensors[f.h].producer;
  f.g.outputs = {f.h};
  return f;
}

}  // namespace qsdk::reference::testing
