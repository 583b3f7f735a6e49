// Small hand-built Graph IR fixtures for the EvalNode / RunGraph tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/attributes.h"
#include "graph/graph.h"

namespace qsdk::reference::testing {

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

}  // namespace qsdk::reference::testing
