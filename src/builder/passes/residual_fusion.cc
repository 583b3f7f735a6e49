// Residual fusion: an Elementwise add of a Conv / FullyConnected output and another tensor
// R (the residual branch of a ResNet block) is folded into that producer as a fused sum:
// the producer gets R as input 3 and attr::kFusedSum = 1, and computes act(op(x) + R)
// (oneDNN: a sum post-op, done in place in the destination). FuseActivations, which the
// builder runs afterwards, can then fuse a ReLU that follows the add.
//
// The reference kernels add R to the float-rounded op result, as the unfused add did, so
// the FP32 result is bit-identical. The add's output tensor is taken over by the producer
// (its name, consumers and graph-output status are unchanged).
//
// Conditions, for the add's operand t produced by node P:
// - P is a Conv or FullyConnected with no fused activation and no fused sum yet (a fused
//   activation would have to be applied before the sum, which a post-op chain of
//   sum-then-eltwise cannot express);
// - t is FLOAT32 (the fusion must not remove a quantization step, which would change the
//   result), is read by the add only, once, and is not a graph output;
// - the other operand R has exactly t's shape (no broadcasting; a dynamic extent must be
//   dynamic in both, i.e. the shared batch);
// - the add's precision requests are kept: requests on t's slot and on the output must
//   equal the output type requested on P (PrecisionRequestsAllowMerge's rule), and a
//   request on R's slot moves to P's new input 3, which reads the same tensor.
// When both operands qualify, the producer that comes later in topological order takes
// the sum: the other branch is then complete when it runs, which is what an in-place sum
// post-op needs, and the shortcut's buffer is consumed last.
//
// No cycle can appear: R is an input of the add, and every path from P to the add goes
// through t, whose only reader is the add, so R cannot depend on P.
#include <vector>

#include "builder/passes/pass.h"
#include "builder/passes/pass_util.h"
#include "common/status_macros.h"

namespace qsdk::builder {

namespace {

using graph::Graph;
using graph::Node;
using graph::NodeId;
using graph::TensorId;

constexpr size_t kBiasSlot = 2;
constexpr size_t kResidualSlot = 3;

bool AcceptsFusedSum(NodeType type) {
  return type == NodeType::kConv || type == NodeType::kFullyConnected;
}

bool IsAdd(const Node& node) {
  return node.type == NodeType::kElementwise && node.inputs.size() == 2 &&
         node.outputs.size() == 1 &&
         node.attrs.GetInt(graph::attr::kElementwiseOp, 0) ==
             static_cast<int64_t>(ElementwiseOp::kAdd);
}

// The producer of add operand `slot` if the add can be fused into it, or kNoNode.
NodeId Candidate(const Graph& graph, const std::vector<std::vector<NodeId>>& consumers, NodeId add,
                 size_t slot) {
  const Node& add_node = graph.nodes[add];
  const TensorId t = add_node.inputs[slot];
  const TensorId r = add_node.inputs[1 - slot];
  if (t == graph::kNoTensor || r == graph::kNoTensor || t == r) return graph::kNoNode;
  // A constant R stays an Elementwise add: the sum post-op adds a run-time buffer (a
  // constant operand would have to be copied into the destination at every run).
  if (graph.tensors[r].is_constant()) return graph::kNoNode;
  const NodeId host = internal::MergeableProducer(graph, consumers, add, slot);
  if (host == graph::kNoNode) return graph::kNoNode;
  const Node& host_node = graph.nodes[host];
  if (!AcceptsFusedSum(host_node.type) || host_node.outputs.size() != 1) return graph::kNoNode;
  if (host_node.attrs.GetInt(graph::attr::kFusedSum, 0) != 0) return graph::kNoNode;
  if (host_node.inputs.size() > kBiasSlot + 1) return graph::kNoNode;
  const graph::Tensor& t_tensor = graph.tensors[t];
  if (t_tensor.dtype != DataType::FLOAT32 || !t_tensor.quant.empty()) return graph::kNoNode;
  if (graph.tensors[r].shape != t_tensor.shape || t_tensor.shape.empty()) return graph::kNoNode;
  // The request on R's slot moves with R to the host's input 3.
  if (!internal::PrecisionRequestsAllowMerge(add_node, host_node, slot, 1 - slot)) {
    return graph::kNoNode;
  }
  return host;
}

Status FuseResidualsImpl(Graph* graph) {
  QSDK_RETURN_IF_ERROR(graph->Validate());
  std::vector<NodeId> order;
  QSDK_RETURN_IF_ERROR(graph->TopologicalOrder(&order));
  std::vector<size_t> position(graph->nodes.size(), 0);
  for (size_t i = 0; i < order.size(); ++i) position[static_cast<size_t>(order[i])] = i;

  std::vector<std::vector<NodeId>> consumers = graph->Consumers();
  std::vector<bool> remove(graph->nodes.size(), false);
  for (NodeId add = 0; add < static_cast<NodeId>(graph->nodes.size()); ++add) {
    if (!IsAdd(graph->nodes[add])) continue;
    const NodeId first = Candidate(*graph, consumers, add, 0);
    const NodeId second = Candidate(*graph, consumers, add, 1);
    size_t slot = 0;
    if (first == graph::kNoNode && second == graph::kNoNode) continue;
    if (first == graph::kNoNode ||
        (second != graph::kNoNode && position[static_cast<size_t>(second)] >
                                         position[static_cast<size_t>(first)])) {
      slot = 1;
    }
    const NodeId host = slot == 0 ? first : second;
    const Node& add_node = graph->nodes[add];
    Node& host_node = graph->nodes[host];
    const TensorId residual = add_node.inputs[1 - slot];

    // Input 3 = R, with kNoTensor for an absent bias.
    host_node.inputs.resize(kBiasSlot + 1, graph::kNoTensor);
    host_node.input_precisions.resize(kBiasSlot + 1, DataType::INVALID);
    host_node.inputs.push_back(residual);
    host_node.input_precisions.push_back(add_node.input_precisions[1 - slot]);
    host_node.attrs.SetInt(graph::attr::kFusedSum, 1);
    // R is now read by the host instead of the add.
    for (NodeId& reader : consumers[residual]) {
      if (reader == add) {
        reader = host;
        break;
      }
    }
    internal::MergeIntoProducer(graph, host, add, &remove, &consumers);
  }
  return internal::RemoveMarkedNodes(graph, remove);
}

}  // namespace

Status FuseResiduals(graph::Graph* graph) {
  return internal::RunPass("FuseResiduals", graph, FuseResidualsImpl);
}

}  // namespace qsdk::builder
