#include "builder/passes/pass_util.h"

#include <algorithm>
#include <unordered_set>

namespace qsdk::builder::internal {

using graph::Graph;
using graph::Node;
using graph::NodeId;
using graph::TensorId;

bool HasNoFusedActivation(const Node& node) {
  return node.attrs.GetInt(graph::attr::kFusedActivation, 0) ==
         static_cast<int64_t>(ActivationType::kNone);
}

namespace {

// The single consumer of tensor `t` when exactly one node reads it exactly once and it is
// not a graph output; kNoNode otherwise.
NodeId SoleConsumer(const Graph& graph, const std::vector<std::vector<NodeId>>& consumers,
                    TensorId t) {
  if (t < 0 || t >= static_cast<TensorId>(consumers.size())) return graph::kNoNode;
  if (graph.IsGraphOutput(t) || consumers[t].size() != 1) return graph::kNoNode;
  return consumers[t][0];
}

}  // namespace

NodeId MergeableProducer(const Graph& graph, const std::vector<std::vector<NodeId>>& consumers,
                         NodeId absorbed, size_t slot) {
  const Node& absorbed_node = graph.nodes[absorbed];
  if (slot >= absorbed_node.inputs.size()) return graph::kNoNode;
  const TensorId t = absorbed_node.inputs[slot];
  if (SoleConsumer(graph, consumers, t) != absorbed) return graph::kNoNode;
  const NodeId host = graph.tensors[t].producer;
  if (host == graph::kNoNode) return graph::kNoNode;
  if (!HasNoFusedActivation(graph.nodes[host])) return graph::kNoNode;
  return host;
}

bool PrecisionRequestsAllowMerge(const Node& absorbed, const Node& host, size_t data_slot,
                                 size_t moved_slot) {
  const DataType host_out =
      host.output_types.empty() ? DataType::INVALID : host.output_types[0];
  for (size_t i = 0; i < absorbed.input_precisions.size(); ++i) {
    const DataType request = absorbed.input_precisions[i];
    if (request == DataType::INVALID || i == moved_slot) continue;
    if (i != data_slot || request != host_out) return false;
  }
  for (const DataType request : absorbed.output_types) {
    if (request != DataType::INVALID && request != host_out) return false;
  }
  return true;
}

void MergeIntoProducer(Graph* graph, NodeId host, NodeId absorbed, std::vector<bool>* remove,
                       std::vector<std::vector<NodeId>>* consumers) {
  Node& absorbed_node = graph->nodes[absorbed];
  Node& host_node = graph->nodes[host];
  const TensorId old_out = host_node.outputs[0];
  const TensorId new_out = absorbed_node.outputs[0];
  // Keep the first output type request of the two (equal when both are set, see
  // PrecisionRequestsAllowMerge).
  if (host_node.output_types[0] == DataType::INVALID) {
    host_node.output_types[0] = absorbed_node.output_types[0];
  }
  host_node.outputs[0] = new_out;
  graph->tensors[new_out].producer = host;
  // The absorbed node is gone: it reads nothing and owns the orphaned old output until
  // RemoveNodes drops both.
  absorbed_node.inputs.clear();
  absorbed_node.input_precisions.clear();
  absorbed_node.outputs = {old_out};
  graph->tensors[old_out].producer = absorbed;
  if (consumers != nullptr) (*consumers)[old_out].clear();
  if (remove->size() < graph->nodes.size()) remove->resize(graph->nodes.size(), false);
  (*remove)[absorbed] = true;
}

Status RemoveMarkedNodes(Graph* graph, const std::vector<bool>& remove) {
  if (std::find(remove.begin(), remove.end(), true) == remove.end()) return Status::Ok();
  graph->RemoveNodes(remove);
  return graph->Validate();
}

std::string UniqueName(const Graph& graph, const std::string& base) {
  std::unordered_set<std::string> taken;
  for (const graph::Tensor& t : graph.tensors) taken.insert(t.name);
  for (const Node& n : graph.nodes) taken.insert(n.name);
  if (taken.count(base) == 0) return base;
  for (int64_t i = 1;; ++i) {
    std::string name = StrCat(base, "_", i);
    if (taken.count(name) == 0) return name;
  }
}

void MarkUnusedConstants(const Graph& graph, const std::vector<TensorId>& candidates,
                         std::vector<bool>* remove) {
  std::vector<bool> read(graph.tensors.size(), false);
  for (NodeId n = 0; n < static_cast<NodeId>(graph.nodes.size()); ++n) {
    if ((*remove)[n]) continue;
    for (TensorId in : graph.nodes[n].inputs) {
      if (in != graph::kNoTensor) read[in] = true;
    }
  }
  for (TensorId t : candidates) {
    if (t == graph::kNoTensor || read[t] || graph.IsGraphOutput(t)) continue;
    const NodeId p = graph.tensors[t].producer;
    if (p != graph::kNoNode && graph.nodes[p].type == NodeType::kConst) (*remove)[p] = true;
  }
}

}  // namespace qsdk::builder::internal
