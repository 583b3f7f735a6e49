// Helpers for building small Graph IRs directly in tests, and their test data: every test
// folder that builds graphs by hand (graph, passes, reference, engine_file, runtime,
// runtime_ops) uses these, directly or through its own util header.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "graph/attributes.h"
#include "graph/graph.h"
#include "graph/shape_inference.h"
#include "qsdk/tensor.h"

namespace qsdk::graph::testing {

// Adds a graph input of `type`.
inline TensorId AddInput(Graph* g, const std::string& name, std::vector<int64_t> shape,
                         DataType type = DataType::FLOAT32) {
  Tensor t;
  t.name = name;
  t.dtype = type;
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

// Adds a graph input of a quantized type (INT8 / UINT8 / INT16) with its parameters.
inline TensorId AddQuantizedInput(Graph* g, const std::string& name, std::vector<int64_t> shape,
                                  DataType dtype, QuantParams quant) {
  const TensorId id = AddInput(g, name, std::move(shape), dtype);
  g->tensors[id].quant = std::move(quant);
  return id;
}

// Adds a constant of type `dtype` (`size` bytes of dense row-major data) with `quant`.
inline TensorId AddTypedConstant(Graph* g, const std::string& name, DataType dtype,
                                 std::vector<int64_t> shape, const void* bytes, size_t size,
                                 QuantParams quant = {}) {
  const TensorId id = g->AddConstant(name, dtype, std::move(shape), bytes, size);
  g->tensors[id].quant = std::move(quant);
  return id;
}

// The same, holding `values` (elements of `dtype`'s C++ type).
template <typename T>
TensorId AddTypedConstant(Graph* g, const std::string& name, DataType dtype,
                          std::vector<int64_t> shape, const std::vector<T>& values,
                          QuantParams quant = {}) {
  return AddTypedConstant(g, name, dtype, std::move(shape), values.data(),
                          values.size() * sizeof(T), std::move(quant));
}

// The same, holding a copy of `value` (its type, shape and data).
inline TensorId AddTypedConstant(Graph* g, const std::string& name, const qsdk::Tensor& value,
                                 QuantParams quant = {}) {
  return AddTypedConstant(g, name, value.GetDataType(), value.GetDimension().GetDims(),
                          value.GetData(), value.GetSizeInBytes(), std::move(quant));
}

// Makes tensor `t` (e.g. an op output, before shape inference keeps its type) quantized,
// as the quantization pass would.
inline void SetQuantized(Graph* g, TensorId t, DataType dtype, QuantParams quant) {
  g->tensors[t].dtype = dtype;
  g->tensors[t].quant = std::move(quant);
}

// Uniform random values in [lo, hi).
inline std::vector<float> RandomValues(std::mt19937* rng, int64_t count, float lo = -1.0f,
                                       float hi = 1.0f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(count));
  for (float& x : v) x = dist(*rng);
  return v;
}

// Uniform random integers in [lo, hi].
inline std::vector<int32_t> RandomInts(std::mt19937* rng, int64_t count, int32_t lo, int32_t hi) {
  std::uniform_int_distribution<int32_t> dist(lo, hi);
  std::vector<int32_t> v(static_cast<size_t>(count));
  for (int32_t& x : v) x = dist(*rng);
  return v;
}

// A FLOAT32 tensor of `shape` with uniform random values in [-1, 1), named `name`.
inline qsdk::Tensor RandomTensor(std::mt19937* rng, const std::vector<int64_t>& shape,
                                 const std::string& name = "") {
  qsdk::Tensor t = qsdk::Tensor::Allocate(DataType::FLOAT32, Dims(shape), name);
  const std::vector<float> v = RandomValues(rng, t.GetElementCount());
  for (size_t i = 0; i < v.size(); ++i) t.Data<float>()[i] = v[i];
  return t;
}

// Adds a FLOAT32 constant of `shape` with uniform random values in [lo, hi).
inline TensorId AddRandomConst(Graph* g, const std::string& name, std::vector<int64_t> shape,
                               std::mt19937* rng, float lo = -1.0f, float hi = 1.0f) {
  const int64_t count = ElementCount(shape);
  return AddConst(g, name, std::move(shape), RandomValues(rng, count, lo, hi));
}

// Adds a node `name` of `type` reading `inputs` with one fresh output tensor named
// `out_name` (default: name + ":0") of type `out_type`; returns the node id. The output
// shape is left empty: call InferNodeShapes / InferShapes.
inline NodeId AddOp(Graph* g, NodeType type, const std::string& name,
                    std::vector<TensorId> inputs, AttrMap attrs = {},
                    const std::string& out_name = "", DataType out_type = DataType::FLOAT32) {
  Tensor out;
  out.name = out_name.empty() ? name + ":0" : out_name;
  out.dtype = out_type;
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

// For the tests that chain ops by the tensors they produce (reference, engine_file,
// runtime, runtime_ops): the same AddOp, returning the output tensor instead of the node.
namespace dataflow {

inline TensorId AddOp(Graph* g, NodeType type, const std::string& name,
                      std::vector<TensorId> inputs, AttrMap attrs, const std::string& output,
                      DataType out_type = DataType::FLOAT32) {
  return Out(*g, testing::AddOp(g, type, name, std::move(inputs), std::move(attrs), output,
                                out_type));
}

}  // namespace dataflow

// Conv attributes as INetwork creates them: `pads` {top, bottom, left, right}, the fused
// activation `fused` (its alpha / beta unset, i.e. 0).
inline AttrMap ConvAttrs(std::vector<int64_t> strides = {1, 1},
                         std::vector<int64_t> pads = {0, 0, 0, 0},
                         std::vector<int64_t> dilations = {1, 1}, int64_t group = 1,
                         ActivationType fused = ActivationType::kNone) {
  AttrMap a;
  a.SetInts(attr::kStrides, std::move(strides));
  a.SetInts(attr::kPads, std::move(pads));
  a.SetInts(attr::kDilations, std::move(dilations));
  a.SetInt(attr::kGroup, group);
  a.SetInt(attr::kFusedActivation, static_cast<int64_t>(fused));
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

// One scale and zero point (axis -1).
inline QuantParams PerTensor(float scale, int32_t zero_point = 0) {
  QuantParams q;
  q.scales = {scale};
  q.zero_points = {zero_point};
  q.axis = -1;
  return q;
}

// Per-axis parameters with zero points 0 (weights, biases) or the given ones.
inline QuantParams PerAxis(std::vector<float> scales, int32_t axis,
                           std::vector<int32_t> zero_points = {}) {
  QuantParams q;
  if (zero_points.empty()) zero_points.assign(scales.size(), 0);
  q.scales = std::move(scales);
  q.zero_points = std::move(zero_points);
  q.axis = axis;
  return q;
}

}  // namespace qsdk::graph::testing
