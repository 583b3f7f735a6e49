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
  const NodeId host = internal::MergeableProducer(graph, consumers, act, 0);
  if (host == graph::kNoNode) return graph::kNoNode;
  const Node& host_node = graph.nodes[host];
  if (!AcceptsFusedActivation(host_node.type)) return graph::kNoNode;
  if (!internal::PrecisionRequestsAllowMerge(act_node, host_node)) return graph::kNoNode;
  const int64_t type = act_node.attrs.GetInt(graph::attr::kActivation, 0);
  if (type < 1 || type > kMaxActivationType) return graph::kNoNode;
  return host;
}

Status FuseActivationsImpl(Graph* graph) {
  QSDK_RETURN_IF_ERROR(graph->Validate());
  std::vector<bool> remove(graph->nodes.size(), false);
  std::vector<std::vector<NodeId>> consumers = graph->Consumers();
  for (NodeId act = 0; act < static_cast<NodeId>(graph->nodes.size()); ++act) {
    if (graph->nodes[act].type != NodeType::kActivation) continue;
    const NodeId host = FusionTarget(*graph, consumers, act);
    if (host == graph::kNoNode) continue;
    const Node& act_node = graph->nodes[act];
    Node& host_node = graph->nodes[host];
    host_node.attrs.SetInt(graph::attr::kFusedActivation,
                           act_node.attrs.GetInt(graph::attr::kActivation));
    host_node.attrs.SetFloat(graph::attr::kFusedAlpha,
                             act_node.attrs.GetFloat(graph::attr::kAlpha, 0.0));
    host_node.attrs.SetFloat(graph::attr::kFusedBeta,
                             act_node.attrs.GetFloat(graph::attr::kBeta, 0.0));
    internal::MergeIntoProducer(graph, host, act, &remove, &consumers);
  }
  return internal::RemoveMarkedNodes(graph, remove);
}

}  // namespace

Status FuseActivations(graph::Graph* graph) {
  return internal::RunPass("FuseActivations", graph, FuseActivationsImpl);
}

}  // namespace qsdk::builder
