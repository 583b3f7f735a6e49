// Constant folding: a node whose inputs are all constants is evaluated once, at build
// time, with the reference kernels (the executable specification, so folding never
// changes a result), and becomes a Const node producing the same tensor: the node keeps
// its name, the tensor keeps its id and name, and its consumers read the constant.
//
// Not folded:
// - Const nodes (already constant) and nodes reading a graph input (never constant);
// - nodes with a precision request (SetPrecision / SetOutputType): the request asks for
//   the node to run in that precision, which folding in FP32 would silently ignore;
// - nodes whose output is a graph output, so that every network output is computed by the
//   engine (a constant output would have to be special-cased by every runtime path);
// - Dequantize nodes: a Dequantize of a constant is a network's quantized weight or bias
//   (explicit quantization), whose exact integers and parameters the Q/DQ folding pass
//   (qdq_folding.cc) reads; it makes the FLOAT32 constant itself where it cannot fold.
//   (A Quantize of a FLOAT32 constant does fold: into the integer constant with the same
//   parameters, which is what a Dequantize then reads.)
// Folding proceeds in topological order, so chains of constant nodes fold completely.
// The Const nodes that fed a folded node stay in the graph; RemoveDeadNodes drops them
// once nothing reads them.
#include <memory>
#include <vector>

#include "builder/passes/pass.h"
#include "builder/passes/pass_util.h"
#include "common/aligned_buffer.h"
#include "common/status_macros.h"
#include "reference/reference.h"

namespace qsdk::builder {

namespace {

using graph::Graph;
using graph::Node;
using graph::NodeId;
using graph::TensorId;

bool HasPrecisionRequest(const Node& node) {
  for (DataType t : node.input_precisions) {
    if (t != DataType::INVALID) return true;
  }
  for (DataType t : node.output_types) {
    if (t != DataType::INVALID) return true;
  }
  return false;
}

bool IsFoldable(const Graph& graph, const Node& node) {
  if (node.type == NodeType::kConst || node.inputs.empty()) return false;
  if (node.type == NodeType::kDequantize) return false;
  if (HasPrecisionRequest(node)) return false;
  for (TensorId out : node.outputs) {
    if (graph.IsGraphOutput(out)) return false;
  }
  for (TensorId in : node.inputs) {
    if (in != graph::kNoTensor && !graph.tensors[in].is_constant()) return false;
  }
  return true;
}

// A read-only view of a constant's data (the reference kernels never write their inputs).
Tensor ConstantView(const graph::Tensor& t) {
  return Tensor::Wrap(t.dtype, Dims(t.shape), const_cast<uint8_t*>(t.data->data()), t.name);
}

Status FoldNode(Graph* graph, NodeId id) {
  Node& node = graph->nodes[id];
  std::vector<Tensor> views(node.inputs.size());
  std::vector<const Tensor*> args(node.inputs.size(), nullptr);
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    if (node.inputs[i] == graph::kNoTensor) continue;
    views[i] = ConstantView(graph->tensors[node.inputs[i]]);
    args[i] = &views[i];
  }
  std::vector<Tensor> results;
  const Status status = reference::EvalNode(*graph, id, args, &results);
  if (!status.ok()) {
    return Status(status.code(), StrCat("FoldConstants: ", status.message()));
  }
  if (results.size() != node.outputs.size()) {
    return InternalError("FoldConstants: ", graph->DescribeNode(id), " produced ",
                         results.size(), " outputs for ", node.outputs.size(), " output tensors");
  }
  for (size_t k = 0; k < results.size(); ++k) {
    graph::Tensor& out = graph->tensors[node.outputs[k]];
    const Tensor& value = results[k];
    out.dtype = value.GetDataType();
    out.shape = value.GetDimension().GetDims();
    out.data = std::make_shared<const AlignedBuffer>(value.GetData(), value.GetSizeInBytes());
  }
  // The node itself becomes the Const producer of its (now constant) outputs.
  node.type = NodeType::kConst;
  node.attrs = graph::AttrMap();
  node.inputs.clear();
  node.input_precisions.clear();
  return Status::Ok();
}

Status FoldConstantsImpl(Graph* graph) {
  QSDK_RETURN_IF_ERROR(graph->Validate());
  std::vector<NodeId> order;
  QSDK_RETURN_IF_ERROR(graph->TopologicalOrder(&order));
  for (NodeId id : order) {
    if (IsFoldable(*graph, graph->nodes[id])) QSDK_RETURN_IF_ERROR(FoldNode(graph, id));
  }
  return Status::Ok();
}

}  // namespace

Status FoldConstants(graph::Graph* graph) {
  return internal::RunPass("FoldConstants", graph, FoldConstantsImpl);
}

}  // namespace qsdk::builder
