// Small hand-built Graph IR fixtures for the EvalNode / RunGraph tests, and the graph
// builders of graph/graph_test_util.h they use (ops chained by their output tensors).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "graph/attributes.h"
#include "graph/graph.h"
#include "graph/graph_test_util.h"

namespace qsdk::reference::testing {

// The graph names and builders the tests use (they import this namespace); ops are chained
// by their output tensors.
using graph::AttrMap;
using graph::Graph;
using graph::TensorId;
namespace attr = graph::attr;
using namespace ::qsdk::graph::testing;  // NOLINT(build/namespaces)
using graph::testing::dataflow::AddOp;

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
  f.w = AddConst(&f.g, "w", {3, 2}, kFcWeights);
  f.b = AddConst(&f.g, "b", {3}, kFcBias);
  graph::AttrMap a;
  a.SetInt(graph::attr::kFusedActivation, static_cast<int64_t>(ActivationType::kLeakyRelu));
  a.SetFloat(graph::attr::kFusedAlpha, 0.5);
  f.h = AddOp(&f.g, NodeType::kFullyConnected, "fc", {f.x, f.w, f.b}, a, "h");
  f.fc = f.g.tensors[f.h].producer;
  f.g.outputs = {f.h};
  return f;
}

}  // namespace qsdk::reference::testing
