// Helpers for the pass tests: random inputs, running a graph with the reference
// interpreter, and comparing results.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/graph_test_util.h"
#include "graph/shape_inference.h"
#include "qsdk/tensor.h"
#include "reference/reference.h"

namespace qsdk::passes_test {

// The graph names and graph-building helpers (graph_test_util.h) the pass tests use; they
// import this namespace.
using graph::AttrMap;
using graph::Graph;
using graph::NodeId;
using graph::TensorId;
using namespace ::qsdk::graph::testing;  // NOLINT(build/namespaces)

// One random tensor per graph input, with the given concrete shapes.
inline std::vector<Tensor> RandomInputs(const std::vector<std::vector<int64_t>>& shapes,
                                        uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Tensor> inputs;
  for (const auto& s : shapes) inputs.push_back(RandomTensor(&rng, s));
  return inputs;
}

// Runs `graph` with the reference interpreter; fails the test on error.
inline std::vector<Tensor> RunReference(const graph::Graph& graph,
                                        const std::vector<Tensor>& inputs) {
  std::vector<Tensor> outputs;
  const Status s = reference::RunGraph(graph, inputs, &outputs);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return outputs;
}

// Expects equal shapes and |a - b| <= atol + rtol * |b| element-wise (rtol = atol = 0:
// bit-identical).
inline void ExpectClose(const std::vector<Tensor>& actual, const std::vector<Tensor>& expected,
                        double rtol, double atol) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t k = 0; k < actual.size(); ++k) {
    const Tensor& a = actual[k];
    const Tensor& b = expected[k];
    ASSERT_EQ(a.GetDimension(), b.GetDimension()) << "output " << k;
    EXPECT_EQ(a.GetName(), b.GetName()) << "output " << k;
    const float* pa = a.Data<float>();
    const float* pb = b.Data<float>();
    int64_t bad = 0;
    for (int64_t i = 0; i < a.GetElementCount(); ++i) {
      const double diff = std::fabs(static_cast<double>(pa[i]) - pb[i]);
      if (!(diff <= atol + rtol * std::fabs(static_cast<double>(pb[i])))) {
        if (++bad <= 5) {
          ADD_FAILURE() << "output " << k << " element " << i << ": " << pa[i] << " vs " << pb[i];
        }
      }
    }
    EXPECT_EQ(bad, 0) << "output " << k << " mismatching elements";
  }
}

// Runs `after` (a transformed copy of `before`) and `before` with the reference
// interpreter on the same random inputs, one per graph input with the given concrete
// `shapes` (RandomInputs with `seed`), and expects the results to match within `rtol` /
// `atol` (ExpectClose).
inline void ExpectSameResults(const graph::Graph& after, const graph::Graph& before,
                              const std::vector<std::vector<int64_t>>& shapes, uint32_t seed,
                              double rtol, double atol) {
  const std::vector<Tensor> inputs = RandomInputs(shapes, seed);
  ExpectClose(RunReference(after, inputs), RunReference(before, inputs), rtol, atol);
}

// x [2, 3] + c [3] (a random constant drawn with `seed`) -> "add" -> "relu", with no
// graph output yet (the caller picks them).
inline Graph AddThenRelu(uint32_t seed) {
  std::mt19937 rng(seed);
  Graph g;
  const TensorId x = AddInput(&g, "x", {2, 3});
  const TensorId c = AddRandomConst(&g, "c", {3}, &rng);
  const NodeId add =
      AddOp(&g, NodeType::kElementwise, "add", {x, c}, ElementwiseAttrs(ElementwiseOp::kAdd));
  AddOp(&g, NodeType::kActivation, "relu", {Out(g, add)}, ActivationAttrs(ActivationType::kRelu));
  return g;
}

// Infers shapes and validates; fails the test on error.
inline void Finish(graph::Graph* g) {
  const Status s = graph::InferShapes(g);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const Status v = g->Validate();
  ASSERT_TRUE(v.ok()) << v.ToString();
}

// Number of nodes of `type`.
inline int CountNodes(const graph::Graph& g, NodeType type) {
  return static_cast<int>(std::count_if(g.nodes.begin(), g.nodes.end(),
                                        [&](const graph::Node& n) { return n.type == type; }));
}

// Re-infers shapes of a transformed graph (a pass must leave it inferred: the shapes it
// holds must be those inference gives) and validates it.
inline void ExpectValidAndInferred(const graph::Graph& g) {
  ASSERT_TRUE(g.Validate().ok()) << g.Validate().ToString();
  graph::Graph copy = g;
  const Status s = graph::InferShapes(&copy);
  ASSERT_TRUE(s.ok()) << s.ToString();
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    EXPECT_EQ(copy.tensors[t].shape, g.tensors[t].shape) << "tensor " << g.tensors[t].name;
  }
}

// The precision-request rule shared by the passes that merge a node into its producer:
// in `base` (a finished graph where node `absorbed` reads the output of node "conv" at its
// input 0), the same output request on "conv" and on `absorbed`, and on that input, lets
// `pass` merge `absorbed` (no node of `absorbed_type` is left), and the merged node keeps
// the request.
template <typename Pass>
void ExpectEqualRequestsMerge(const Graph& base, Pass pass, const std::string& absorbed,
                              NodeType absorbed_type) {
  Graph same = base;
  same.nodes[same.FindNode("conv")].output_types[0] = DataType::QINT8;
  same.nodes[same.FindNode(absorbed)].output_types[0] = DataType::QINT8;
  same.nodes[same.FindNode(absorbed)].input_precisions[0] = DataType::QINT8;
  const Status s = pass(&same);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(CountNodes(same, absorbed_type), 0);
  EXPECT_EQ(same.nodes[same.FindNode("conv")].output_types[0], DataType::QINT8);
}

}  // namespace qsdk::passes_test
