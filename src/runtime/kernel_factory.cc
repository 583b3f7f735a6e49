// runtime::CreateKernel: dispatch on the node type to the factories of kernels.h.
#include "common/status_macros.h"
#include "runtime/kernel.h"
#include "runtime/kernels/kernels.h"

namespace qsdk::runtime {

Status CreateKernel(const graph::Graph& graph, graph::NodeId id, const dnnl::engine& engine,
                    std::unique_ptr<Kernel>* kernel) {
  if (id < 0 || id >= static_cast<graph::NodeId>(graph.nodes.size())) {
    return InvalidArgument("CreateKernel: node id ", id, " is out of range (the graph has ",
                           graph.nodes.size(), " nodes)");
  }
  if (kernel == nullptr) return InvalidArgument("CreateKernel: null output pointer");
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

}  // namespace qsdk::runtime
