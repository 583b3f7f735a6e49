// runtime::CreateKernel: dispatch on the node type to the factories of kernels.h.
//
// FLOAT16 constants (docs/ops.md: FLOAT16 is storage only, this runtime has no f16 compute
// kernels): the weights / bias of Conv, FullyConnected and MatMul, the operands of
// Elementwise and the parameters of BatchNorm may be FLOAT16 constants in a node that
// otherwise computes in FP32 (half-size engine files). Such a node's kernel is created from
// a copy of the graph in which those constants are FLOAT32, widened exactly, once, here:
// the kernels themselves only take FLOAT32 / BFLOAT16 / integer constants.
#include <memory>
#include <new>

#include "common/status_macros.h"
#include "runtime/kernel.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/onednn_util.h"

namespace qsdk::runtime {
namespace {

Status Dispatch(const graph::Graph& graph, graph::NodeId id, const dnnl::engine& engine,
                std::unique_ptr<Kernel>* kernel) {
  // Forms of the heavy ops with kernels of their own, recognized before the node type
  // (kernels.h): INT16 compute and dynamic quantization.
  if (IsInt16HeavyNode(graph, id)) return CreateInt16HeavyKernel(graph, id, engine, kernel);
  if (IsDynamicQuantizedNode(graph, id)) {
    return CreateDynamicQuantizedKernel(graph, id, engine, kernel);
  }
  switch (graph.nodes[id].type) {
    case NodeType::kConv:
      return CreateConvKernel(graph, id, engine, kernel);
    case NodeType::kFullyConnected:
      return CreateFullyConnectedKernel(graph, id, engine, kernel);
    case NodeType::kMatMul:
      return CreateMatMulKernel(graph, id, engine, kernel);
    case NodeType::kActivation:
      return CreateActivationKernel(graph, id, engine, kernel);
    case NodeType::kPool:
      return CreatePoolKernel(graph, id, engine, kernel);
    case NodeType::kElementwise:
      return CreateElementwiseKernel(graph, id, engine, kernel);
    case NodeType::kConcat:
      return CreateConcatKernel(graph, id, engine, kernel);
    case NodeType::kBatchNorm:
      return CreateBatchNormKernel(graph, id, engine, kernel);
    case NodeType::kSoftmax:
      return CreateSoftmaxKernel(graph, id, engine, kernel);
    case NodeType::kReshape:
    case NodeType::kFlatten:
      return CreateReshapeKernel(graph, id, engine, kernel);
    case NodeType::kTranspose:
      return CreateTransposeKernel(graph, id, engine, kernel);
    case NodeType::kQuantize:
    case NodeType::kDequantize:
      return CreateQuantizeKernel(graph, id, engine, kernel);
    case NodeType::kCast:
      return CreateCastKernel(graph, id, engine, kernel);
    case NodeType::kConst:
      // A Const node's output is a constant tensor, held by the kernels that read it.
      return InvalidArgument(graph.DescribeNode(id),
                             ": a Const node has no kernel; its tensor is a constant");
    case NodeType::kInvalid:
      break;
  }
  return InvalidArgument(graph.DescribeNode(id), ": node type ",
                         static_cast<int32_t>(graph.nodes[id].type), " has no runtime kernel");
}

// True when node `id` reads a FLOAT16 constant that its kernel needs widened: any node
// but Cast (which converts FLOAT16 itself) and Const.
bool ReadsHalfConstant(const graph::Graph& graph, graph::NodeId id) {
  const graph::Node& node = graph.nodes[id];
  if (node.type == NodeType::kCast || node.type == NodeType::kConst) return false;
  for (graph::TensorId t : node.inputs) {
    if (t < 0 || t >= static_cast<graph::TensorId>(graph.tensors.size())) continue;
    const graph::Tensor& tensor = graph.tensors[t];
    if (tensor.is_constant() && tensor.dtype == DataType::FLOAT16) return true;
  }
  return false;
}

// `graph` with every FLOAT16 constant input of node `id` replaced by its exact FLOAT32
// widening (the other constants share their data with `graph`).
Status WidenHalfConstants(const graph::Graph& graph, graph::NodeId id, graph::Graph* widened) {
  const std::string what = graph.DescribeNode(id);
  try {
    *widened = graph;
    for (graph::TensorId t : graph.nodes[id].inputs) {
      if (t < 0 || t >= static_cast<graph::TensorId>(graph.tensors.size())) continue;
      graph::Tensor& tensor = widened->tensors[t];
      if (!tensor.is_constant() || tensor.dtype != DataType::FLOAT16) continue;
      const int64_t count = graph::ElementCount(tensor.shape);
      if (count < 0) {
        return InvalidArgument(what, ": constant ", graph.DescribeTensor(t), " has shape ",
                               graph::ShapeToString(tensor.shape), "; it must be concrete");
      }
      const size_t n = static_cast<size_t>(count);
      if (tensor.data->size() < n * sizeof(uint16_t)) {
        return DataLoss(what, ": constant ", graph.DescribeTensor(t), " holds ",
                        tensor.data->size(), " bytes; FLOAT16 shape ",
                        graph::ShapeToString(tensor.shape), " needs ", n * sizeof(uint16_t));
      }
      auto buffer = std::make_shared<AlignedBuffer>(n * sizeof(float));
      const uint16_t* half = tensor.data->As<uint16_t>();
      float* out = buffer->As<float>();
      for (size_t k = 0; k < n; ++k) out[k] = HalfBitsToFloat(half[k]);
      tensor.dtype = DataType::FLOAT32;
      tensor.data = std::move(buffer);
    }
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted,
                  StrCat(what, ": out of memory widening its FLOAT16 constants"));
  }
  return Status::Ok();
}

}  // namespace

Status CreateKernel(const graph::Graph& graph, graph::NodeId id, const dnnl::engine& engine,
                    std::unique_ptr<Kernel>* kernel) {
  if (id < 0 || id >= static_cast<graph::NodeId>(graph.nodes.size())) {
    return InvalidArgument("CreateKernel: node id ", id, " is out of range (the graph has ",
                           graph.nodes.size(), " nodes)");
  }
  if (kernel == nullptr) return InvalidArgument("CreateKernel: null output pointer");
  if (!ReadsHalfConstant(graph, id)) return Dispatch(graph, id, engine, kernel);
  // The kernels copy what they need out of the graph at creation (packed weights, held
  // constants), so the widened copy need not outlive this call.
  graph::Graph widened;
  QSDK_RETURN_IF_ERROR(WidenHalfConstants(graph, id, &widened));
  return Dispatch(widened, id, engine, kernel);
}

}  // namespace qsdk::runtime
