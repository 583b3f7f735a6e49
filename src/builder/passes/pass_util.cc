#include "builder/passes/pass_util.h"

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

bool PrecisionRequestsAllowMerge(const Node& absorbed, const Node& host) {
  const DataType host_out =
      host.output_types.empty() ? DataType::INVALID : host.output_types[0];
  for (size_t i = 0; i < absorbed.input_precisions.size(); ++i) {
    const DataType request = absorbed.input_precisions[i];
    if (request == DataType::INVALID) continue;
    if (i != 0 || request != host_out) return false;
  }
  for (const DataType request : absorbed.output_types) {
    if (request != DataType::INVALID && request != host_out) return false;
  }
  return true;
}

NodeId SoleConsumer(const Graph& graph, const std::vector<std::vector<NodeId>>& consumers,
                    TensorId t) {
  if (t < 0 || t >= static_cast<TensorId>(consumers.size())) return graph::kNoNode;
  if (graph.IsGraphOutput(t) || consumers[t].size() != 1) return graph::kNoNode;
  return consumers[t][0];
}

void TakeOverOutput(Graph* graph, NodeId host, TensorId out) {
  graph->nodes[host].outputs[0] = out;
  graph->tensors[out].producer = host;
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
