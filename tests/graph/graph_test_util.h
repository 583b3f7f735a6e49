// Helpers for building small Graph IRs directly in tests (graph and passes tests).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "graph/attributes.h"
#include "graph/graph.h"
#include "graph/shape_inference.h"

namespace qsdk::graph::testing {

// Adds a graph input of FLOAT32 type.
inline TensorId AddInput(Graph* g, const std::string& name, std::vector<int64_t> shape) {
  Tensor t;
  t.name = name;
  t.shape = std::move(shape);
  const TensorId id = g->AddTensor(std::move(t));
  g->inputs.push_back(id);
  return id;
}

// Adds a FLOAT32 constant (with its Const node) holding `values`.
inline TensorId AddConst(Graph* g, const std::string& name, std::vector<int64_t> shape,
                         const std::vector<float>& values) {
  return g->AddConstant(name, DataType::FLOAT32, std::move(shape), values.data(),
                        values.size() * sizeof(float));
}

// Uniform random values in [lo, hi).
inline std::vector<float> RandomValues(int64_t count, std::mt19937* rng, float lo = -1.0f,
                                       float hi = 1.0f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(count));
  for (float& x : v) x = dist(*rng);
  return v;
}

// Adds a FLOAT32 constant of `shape` with uniform random values in [lo, hi).
inline TensorId AddRandomConst(Graph* g, const std::string& name, std::vector<int64_t> shape,
                               std::mt19937* rng, float lo = -1.0f, float hi = 1.0f) {
  const int64_t count = ElementCount(shape);
  return AddConst(g, name, std::move(shape), RandomValues(count, rng, lo, hi));
}

// Adds a node `name` of `type` reading `inputs` with one fresh output tensor named
// `out_name` (default: name + ":0"); returns the node id. The output shape is left empty:
// call InferNodeShapes / InferShapes.
inline NodeId AddOp(Graph* g, NodeType type, const std::string& name,
                    std::vector<TensorId> inputs, AttrMap attrs = {},
                    const std::string& out_name = "") {
  Tensor out;
  out.name = out_name.empty() ? name + ":0" : out_name;
  const TensorId out_id = g->AddTensor(std::move(out));
  Node n;
  n.type = type;
  n.name = name;
  n.attrs = std::move(attrs);
  n.inputs = std::move(inputs);
  n.outputs = {out_id};
  return g->AddNode(std::move(n));
}

// Output tensor of a one-output node.
inline TensorId Out(const Graph& g, NodeId node) { return g.nodes[node].outputs[0]; }

inline AttrMap ConvAttrs(std::vector<int64_t> strides = {1, 1},
                         std::vector<int64_t> pads = {0, 0, 0, 0},
                         std::vector<int64_t> dilations = {1, 1}, int64_t group = 1) {
  AttrMap a;
  a.SetInts(attr::kStrides, std::move(strides));
  a.SetInts(attr::kPads, std::move(pads));
  a.SetInts(attr::kDilations, std::move(dilations));
  a.SetInt(attr::kGroup, group);
  a.SetInt(attr::kFusedActivation, 0);
  return a;
}

inline AttrMap FcAttrs() {
  AttrMap a;
  a.SetInt(attr::kFusedActivation, 0);
  return a;
}

inline AttrMap MatMulAttrs(bool transpose_a = false, bool transpose_b = false) {
  AttrMap a;
  a.SetInt(attr::kTransposeA, transpose_a ? 1 : 0);
  a.SetInt(attr::kTransposeB, transpose_b ? 1 : 0);
  a.SetInt(attr::kFusedActivation, 0);
  return a;
}

inline AttrMap ActivationAttrs(ActivationType type, double alpha = 0.0, double beta = 0.0) {
  AttrMap a;
  a.SetInt(attr::kActivation, static_cast<int64_t>(type));
  a.SetFloat(attr::kAlpha, alpha);
  a.SetFloat(attr::kBeta, beta);
  return a;
}

inline AttrMap PoolAttrs(PoolMode mode, std::vector<int64_t> kernel = {1, 1},
                         std::vector<int64_t> strides = {1, 1},
                         std::vector<int64_t> pads = {0, 0, 0, 0}, bool count_include_pad = false,
                         bool ceil_mode = false) {
  AttrMap a;
  a.SetInt(attr::kPoolMode, static_cast<int64_t>(mode));
  a.SetInts(attr::kKernel, std::move(kernel));
  a.SetInts(attr::kStrides, std::move(strides));
  a.SetInts(attr::kPads, std::move(pads));
  a.SetInt(attr::kCountIncludePad, count_include_pad ? 1 : 0);
  a.SetInt(attr::kCeilMode, ceil_mode ? 1 : 0);
  return a;
}

inline AttrMap ElementwiseAttrs(ElementwiseOp op) {
  AttrMap a;
  a.SetInt(attr::kElementwiseOp, static_cast<int64_t>(op));
  return a;
}

inline AttrMap AxisAttrs(int64_t axis) {
  AttrMap a;
  a.SetInt(attr::kAxis, axis);
  return a;
}

inline AttrMap BatchNormAttrs(double epsilon = 1e-5) {
  AttrMap a;
  a.SetFloat(attr::kEpsilon, epsilon);
  return a;
}

inline AttrMap ReshapeAttrs(std::vector<int64_t> shape) {
  AttrMap a;
  a.SetInts(attr::kShape, std::move(shape));
  return a;
}

inline AttrMap TransposeAttrs(std::vector<int64_t> perm) {
  AttrMap a;
  a.SetInts(attr::kPerm, std::move(perm));
  return a;
}

}  // namespace qsdk::graph::testing
