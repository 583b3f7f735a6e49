// reference::RunGraph: the reference interpreter of a whole Graph IR. Every node runs
// through EvalNode, so intermediate tensors may have any type a node produces (FLOAT32,
// FLOAT16 / BFLOAT16, quantized integers); constants are viewed in their stored type
// (FLOAT16 weights, INT8 / INT16 weights, INT32 biases).
#include <cstring>
#include <string>
#include <utility>

#include "graph/shape_inference.h"
#include "reference/op_util.h"
#include "reference/reference.h"

namespace qsdk::reference {

namespace {

using graph::Graph;
using graph::NodeId;
using graph::TensorId;

// Checks user input `index` against graph input tensor `t` of `graph`.
Status CheckGraphInput(const Graph& graph, size_t index, TensorId t, const Tensor& given) {
  const graph::Tensor& decl = graph.tensors[t];
  const std::string what = StrCat("RunGraph: input ", index, " (", graph.DescribeTensor(t), ")");
  // FLOAT32 (the only type of a built network's inputs), or an INT8 / UINT8 / INT16
  // input the graph declares quantized (its parameters are the graph's). FLOAT16 /
  // BFLOAT16 exist only inside a built graph, behind a Cast.
  const bool quantized_decl = (decl.dtype == DataType::INT8 || decl.dtype == DataType::UINT8 ||
                               decl.dtype == DataType::INT16) &&
                              !decl.quant.empty();
  if (decl.dtype != DataType::FLOAT32 && !quantized_decl) {
    return InvalidArgument(what, " is declared ", DataTypeName(decl.dtype),
                           "; graph inputs must be FLOAT32, or INT8 / UINT8 / INT16 with "
                           "quantization parameters");
  }
  if (given.GetDataType() != decl.dtype) {
    return InvalidArgument(what, " has type ", DataTypeName(given.GetDataType()),
                           "; the graph declares ", DataTypeName(decl.dtype));
  }
  const std::vector<int64_t>& dims = given.GetDimension().GetDims();
  if (!given.GetDimension().IsFullyDefined() || given.GetElementCount() < 0) {
    return InvalidArgument(what, " has shape ", given.GetDimension().ToString(),
                           "; every extent of a tensor to run must be known");
  }
  if (dims.size() != decl.shape.size()) {
    return InvalidArgument(what, " has shape ", given.GetDimension().ToString(), " of rank ",
                           dims.size(), "; the graph declares ", graph::ShapeToString(decl.shape),
                           " of rank ", decl.shape.size());
  }
  for (size_t d = 0; d < dims.size(); ++d) {
    if (decl.shape[d] >= 0 && decl.shape[d] != dims[d]) {
      return InvalidArgument(what, " has shape ", given.GetDimension().ToString(),
                             "; the graph declares ", graph::ShapeToString(decl.shape), " (extent ",
                             d, " must be ", decl.shape[d], ")");
    }
  }
  if (given.empty() && given.GetElementCount() > 0) {
    return InvalidArgument(what, " has no data");
  }
  return Status::Ok();
}

// A read-only view of a constant tensor's data (never written: operators take const
// inputs), so that running a graph does not copy its weights. Constants keep their stored
// type (FLOAT16 weights are widened by EvalNode; quantized INT8 / INT16 weights and INT32
// biases keep their parameters in the graph).
Tensor ConstantView(const graph::Tensor& t) {
  return Tensor::Wrap(t.dtype, Dims(t.shape), const_cast<uint8_t*>(t.data->data()), t.name);
}

// A copy of `t` with its own buffer.
Status DeepCopy(const Tensor& t, const std::string& name, Tensor* out) {
  Tensor copy = Tensor::Allocate(t.GetDataType(), t.GetDimension(), name);
  if (copy.empty()) {
    return Status(StatusCode::kResourceExhausted,
                  StrCat("RunGraph: cannot allocate output '", name, "' of shape ",
                         t.GetDimension().ToString()));
  }
  if (t.GetSizeInBytes() > 0) std::memcpy(copy.GetData(), t.GetData(), t.GetSizeInBytes());
  *out = std::move(copy);
  return Status::Ok();
}

Status RunGraphImpl(const Graph& graph, const std::vector<Tensor>& inputs,
                    std::vector<Tensor>* outputs) {
  if (outputs == nullptr) return InvalidArgument("RunGraph: the outputs pointer is null");
  QSDK_RETURN_IF_ERROR(graph.Validate());
  if (inputs.size() != graph.inputs.size()) {
    return InvalidArgument("RunGraph: ", inputs.size(), " input tensors were given; the graph has ",
                           graph.inputs.size(), " inputs");
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    QSDK_RETURN_IF_ERROR(CheckGraphInput(graph, i, graph.inputs[i], inputs[i]));
  }

  // The graph with the concrete input shapes; inference over it checks every node before
  // anything is computed. Constant data is shared with `graph`, not copied.
  Graph g = graph;
  for (size_t i = 0; i < inputs.size(); ++i) {
    g.tensors[g.inputs[i]].shape = inputs[i].GetDimension().GetDims();
  }
  QSDK_RETURN_IF_ERROR(graph::InferShapes(&g));
  std::vector<NodeId> order;
  QSDK_RETURN_IF_ERROR(g.TopologicalOrder(&order));

  // values[t]: the tensor computed (or given) for tensor t; released after its last use.
  std::vector<Tensor> values(g.tensors.size());
  std::vector<int> pending_uses(g.tensors.size(), 0);
  for (const graph::Node& node : g.nodes) {
    for (TensorId t : node.inputs) {
      if (t != graph::kNoTensor) ++pending_uses[t];
    }
  }
  for (size_t i = 0; i < inputs.size(); ++i) values[g.inputs[i]] = inputs[i];
  for (TensorId t = 0; t < static_cast<TensorId>(g.tensors.size()); ++t) {
    if (g.tensors[t].is_constant()) values[t] = ConstantView(g.tensors[t]);
  }

  for (NodeId id : order) {
    const graph::Node& node = g.nodes[id];
    // A Const node's output is the constant view set above.
    if (node.type == NodeType::kConst) continue;
    std::vector<const Tensor*> args(node.inputs.size(), nullptr);
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const TensorId t = node.inputs[i];
      if (t == graph::kNoTensor) continue;
      // Shape inference admits no zero extents, so a computed tensor always has data.
      if (values[t].empty()) {
        return InternalError(g.DescribeNode(id), ": input ", i, " ", g.DescribeTensor(t),
                             " has not been computed");
      }
      args[i] = &values[t];
    }
    std::vector<Tensor> results;
    QSDK_RETURN_IF_ERROR(EvalNode(g, id, args, &results));
    for (size_t k = 0; k < node.outputs.size() && k < results.size(); ++k) {
      values[node.outputs[k]] = std::move(results[k]);
    }
    // Release inputs no later node reads (graph outputs are kept).
    for (TensorId t : node.inputs) {
      if (t == graph::kNoTensor) continue;
      if (--pending_uses[t] == 0 && !g.IsGraphOutput(t)) values[t] = Tensor();
    }
  }

  std::vector<Tensor> result;
  std::vector<bool> returned(g.tensors.size(), false);
  for (TensorId t : g.outputs) {
    const Tensor& v = values[t];
    const std::string& name = g.tensors[t].name;
    // Graph inputs, constants and an output listed twice would share memory with the
    // caller's input, the graph's weights or the other output: give each its own copy.
    if (!v.OwnsData() || g.IsGraphInput(t) || returned[t]) {
      Tensor copy;
      QSDK_RETURN_IF_ERROR(DeepCopy(v, name, &copy));
      result.push_back(std::move(copy));
    } else {
      Tensor shared = v;
      shared.SetName(name);
      result.push_back(std::move(shared));
    }
    returned[t] = true;
  }
  *outputs = std::move(result);
  return Status::Ok();
}

}  // namespace

Status RunGraph(const graph::Graph& graph, const std::vector<Tensor>& inputs,
                std::vector<Tensor>* outputs) {
  return internal::GuardExceptions(
      "RunGraph", [&]() -> Status { return RunGraphImpl(graph, inputs, outputs); });
}

}  // namespace qsdk::reference
