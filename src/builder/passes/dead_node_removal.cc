// Dead node removal: drops every node none of whose outputs reaches a graph output
// (directly or through other nodes), then every tensor no node references any more.
// Graph inputs and outputs are always kept, even when unused.
#include <vector>

#include "builder/passes/pass.h"
#include "builder/passes/pass_util.h"
#include "common/status_macros.h"

namespace qsdk::builder {

namespace {

using graph::Graph;
using graph::NodeId;
using graph::TensorId;

Status RemoveDeadNodesImpl(Graph* graph) {
  QSDK_RETURN_IF_ERROR(graph->Validate());
  // Walk back from the graph outputs through producers; Validate guarantees the ids.
  std::vector<bool> live_node(graph->nodes.size(), false);
  std::vector<bool> live_tensor(graph->tensors.size(), false);
  std::vector<TensorId> stack(graph->outputs.begin(), graph->outputs.end());
  while (!stack.empty()) {
    const TensorId t = stack.back();
    stack.pop_back();
    if (live_tensor[t]) continue;
    live_tensor[t] = true;
    const NodeId p = graph->tensors[t].producer;
    if (p == graph::kNoNode || live_node[p]) continue;
    live_node[p] = true;
    for (TensorId in : graph->nodes[p].inputs) {
      if (in != graph::kNoTensor && !live_tensor[in]) stack.push_back(in);
    }
  }
  std::vector<bool> remove(graph->nodes.size());
  for (size_t n = 0; n < remove.size(); ++n) remove[n] = !live_node[n];
  // Also drops tensors that nothing references (e.g. left behind by an earlier pass).
  graph->RemoveNodes(remove);
  return Status::Ok();
}

}  // namespace

Status RemoveDeadNodes(graph::Graph* graph) {
  return internal::RunPass("RemoveDeadNodes", graph, RemoveDeadNodesImpl);
}

}  // namespace qsdk::builder
