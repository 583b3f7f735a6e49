// Activation fusion: an Activation node directly after a Conv, FullyConnected or MatMul
// is folded into it as attr::kFusedActivation (with its alpha / beta as kFusedAlpha /
// kFusedBeta), which applies the same function to the same values: the result is
// bit-identical. Every ActivationType is fusable; the runtime maps them to oneDNN
// eltwise post-ops or applies them in its reference path.
//
// Conditions: the producer's output is read by the Activation only and is not a graph
// output (otherwise the pre-activation values are still needed); the producer has no
// fused activation yet; the Activation carries no precision request that the merged node
// would not keep (see PrecisionRequestsAllowMerge: a request on the removed node is never
// silently dropped). The producer takes over the Activation's output tensor, so its name,
// consumers and graph-output status are unchanged.
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

bool AcceptsFusedActivation(NodeType type) {
  return type == NodeType::kConv || type == NodeType::kFullyConnected ||
         type == NodeType::kMatMul;
}

// The node `act` can be fused into, or kNoNode.
NodeId FusionTarget(const Graph& graph, const std::vector<std::vector<NodeId>>& consumers,
                    NodeId act) {
  const Node& act_node = graph.nodes[act];
  if (act_node.inputs.size() != 1 || act_node.outputs.size() != 1) return graph::kNoNode;
  const TensorId x = act_node.inputs[0];
  if (internal::SoleConsumer(graph, consumers, x) != act) return graph::kNoNode;
  const NodeId host = graph.tensors[x].producer;
  if (host == graph::kNoNode) return graph::kNoNode;
  const Node& host_node = graph.nodes[host];
  if (!AcceptsFusedActivation(host_node.type)) return graph::kNoNode;
  if (!internal::HasNoFusedActivation(host_node)) return graph::kNoNode;
  if (!internal::PrecisionRequestsAllowMerge(act_node, host_node)) return graph::kNoNode;
  const int64_t type = act_node.attrs.GetInt(graph::attr::kActivation, 0);
  if (type < 1 || type > kMaxActivationType) return graph::kNoNode;
  return host;
}

Status FuseActivationsImpl(Graph* graph) {
  QSDK_RETURN_IF_ERROR(graph->Validate());
  std::vector<bool> remove(graph->nodes.size(), false);
  bool fused_any = false;
  std::vector<std::vector<NodeId>> consumers = graph->Consumers();
  for (NodeId act = 0; act < static_cast<NodeId>(graph->nodes.size()); ++act) {
    if (graph->nodes[act].type != NodeType::kActivation) continue;
    const NodeId host = FusionTarget(*graph, consumers, act);
    if (host == graph::kNoNode) continue;
    Node& act_node = graph->nodes[act];
    Node& host_node = graph->nodes[host];
    const TensorId old_out = host_node.outputs[0];
    const TensorId new_out = act_node.outputs[0];
    host_node.attrs.SetInt(graph::attr::kFusedActivation,
                           act_node.attrs.GetInt(graph::attr::kActivation));
    host_node.attrs.SetFloat(graph::attr::kFusedAlpha,
                             act_node.attrs.GetFloat(graph::attr::kAlpha, 0.0));
    host_node.attrs.SetFloat(graph::attr::kFusedBeta,
                             act_node.attrs.GetFloat(graph::attr::kBeta, 0.0));
    if (host_node.output_types[0] == DataType::INVALID) {
      host_node.output_types[0] = act_node.output_types[0];
    }
    internal::TakeOverOutput(graph, host, new_out);
    // The Activation is gone: it reads nothing and owns the orphaned old output until
    // RemoveNodes drops both.
    act_node.inputs.clear();
    act_node.input_precisions.clear();
    act_node.outputs = {old_out};
    graph->tensors[old_out].producer = act;
    consumers[old_out].clear();
    remove[act] = true;
    fused_any = true;
  }
  if (!fused_any) return Status::Ok();
  graph->RemoveNodes(remove);
  return graph->Validate();
}

}  // namespace

Status FuseActivations(graph::Graph* graph) {
  if (graph == nullptr) return InvalidArgument("FuseActivations: the graph pointer is null");
  return internal::GuardExceptions("FuseActivations",
                                   [&]() -> Status { return FuseActivationsImpl(graph); });
}

}  // namespace qsdk::builder
