// The Graph IR: the one internal representation of a network. INetwork is a view over
// it, the ONNX importer produces it, the passes rewrite it, the reference interpreter and
// calibration run it, the engine file stores it and the runtime lowers it to kernels.
//
// Conventions
// - Tensors and nodes are addressed by index (TensorId / NodeId) into the vectors.
// - A tensor is constant iff `data` is set; its producer is then a Const node or none.
// - A tensor with neither producer nor data must be a graph input.
// - An absent optional input (e.g. a convolution without bias) is kNoTensor.
// - Shapes use -1 for dynamic extents (the batch); `shape` is valid only after shape
//   inference (shape_inference.h), which INetwork runs as nodes are added.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/aligned_buffer.h"
#include "graph/attributes.h"
#include "qsdk/data_type.h"
#include "qsdk/node_type.h"
#include "qsdk/status.h"

namespace qsdk::graph {

using TensorId = int32_t;
using NodeId = int32_t;
inline constexpr TensorId kNoTensor = -1;
inline constexpr NodeId kNoNode = -1;

// Quantization parameters of a tensor stored as an integer type:
//   real = scale * (q - zero_point)
// Per-tensor: one scale and zero point, axis = -1. Per-axis: one per index of `axis`
// (weights: the output-channel axis). Empty on float tensors.
struct QuantParams {
  std::vector<float> scales;
  std::vector<int32_t> zero_points;  // same count as scales
  int32_t axis = -1;

  bool empty() const { return scales.empty(); }
  bool per_tensor() const { return axis < 0; }
  bool operator==(const QuantParams& o) const {
    return scales == o.scales && zero_points == o.zero_points && axis == o.axis;
  }
};

// The range of real values a tensor takes (from calibration or set by the user), from
// which quantization parameters are derived. Per-tensor (axis -1, one min and max) or
// per-axis.
struct TensorRange {
  std::vector<float> min;
  std::vector<float> max;
  int32_t axis = -1;
  // True when set by the user (ITensor::SetDynamicRange, or a config custom_range):
  // calibration never overwrites such a range.
  bool manual = false;

  bool empty() const { return min.empty(); }
  bool operator==(const TensorRange& o) const {
    return min == o.min && max == o.max && axis == o.axis && manual == o.manual;
  }
};

struct Tensor {
  std::string name;
  DataType dtype = DataType::FLOAT32;
  std::vector<int64_t> shape;
  // Constant data, dense row-major in `dtype`; shared between graph copies (immutable).
  std::shared_ptr<const AlignedBuffer> data;
  NodeId producer = kNoNode;
  // Set iff dtype is an integer type holding quantized values (INT8, UINT8, INT16, and
  // INT32 biases).
  QuantParams quant;
  // Set by calibration or ITensor::SetDynamicRange; used by the quantization pass.
  TensorRange range;

  bool is_constant() const { return data != nullptr; }
};

struct Node {
  NodeType type = NodeType::kInvalid;
  std::string name;
  AttrMap attrs;
  std::vector<TensorId> inputs;
  std::vector<TensorId> outputs;
  // Per-node precision requests (SetPrecision / SetOutputType); INVALID = unset. Sized
  // like inputs / outputs.
  std::vector<DataType> input_precisions;
  std::vector<DataType> output_types;
};

class Graph {
 public:
  std::vector<Tensor> tensors;
  std::vector<Node> nodes;
  std::vector<TensorId> inputs;
  std::vector<TensorId> outputs;

  // Adds a tensor and returns its id.
  TensorId AddTensor(Tensor tensor);
  // Adds a node whose outputs are already-added tensors; sets their producer and sizes
  // the precision vectors. Returns its id.
  NodeId AddNode(Node node);
  // Adds a constant tensor with the given data (copied) and a Const node producing it.
  TensorId AddConstant(const std::string& name, DataType dtype, std::vector<int64_t> shape,
                       const void* bytes, size_t size);

  bool IsGraphInput(TensorId id) const;
  bool IsGraphOutput(TensorId id) const;

  // For every tensor, the nodes that read it (in node order; a node reading a tensor
  // twice is listed twice).
  std::vector<std::vector<NodeId>> Consumers() const;

  // Checks the structure: ids in range, each tensor produced at most once and consistent
  // with `producer`, every non-constant tensor used is produced or a graph input, node
  // types valid, at least one output, no cycle. Messages name the node / tensor.
  Status Validate() const;

  // Nodes in an order where producers come before consumers (stable: ties keep node
  // order). Fails naming a node on a cycle.
  Status TopologicalOrder(std::vector<NodeId>* order) const;

  // Removes the nodes with remove[id] == true, then every tensor no longer referenced
  // (graph inputs and outputs are kept), renumbering ids.
  void RemoveNodes(const std::vector<bool>& remove);

  // Name helpers for messages: "node 'conv1' (Conv)" / "tensor 'x'".
  std::string DescribeNode(NodeId id) const;
  std::string DescribeTensor(TensorId id) const;

  // Finds by name; kNoNode / kNoTensor when absent.
  NodeId FindNode(const std::string& name) const;
  TensorId FindTensor(const std::string& name) const;
};

// Number of elements of a fully defined shape; -1 if any extent is negative or the
// product overflows int64.
int64_t ElementCount(const std::vector<int64_t>& shape);

// "[1,3,224,224]".
std::string ShapeToString(const std::vector<int64_t>& shape);

}  // namespace qsdk::graph
