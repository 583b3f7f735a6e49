// BatchNorm folding: an inference BatchNorm directly after a Conv or FullyConnected is
// merged into that node's weights and bias. Per output channel c:
//   s[c]  = scale[c] / sqrt(var[c] + epsilon)
//   w'[c] = w[c] * s[c]                        (every filter / weight row of channel c)
//   b'[c] = (b[c] - mean[c]) * s[c] + bias[c]  (b = 0 when the node has no bias)
// computed in double and rounded once to float. The result equals the unfolded graph up
// to floating-point reassociation (the multiply by s moves from the output to the
// weights).
//
// Conditions: the Conv / FullyConnected output is read by the BatchNorm only and is not a
// graph output; the node has no fused activation (BN must come before it); the BatchNorm
// carries no precision request that the merged node would not keep (see
// PrecisionRequestsAllowMerge). The merged node takes over the BatchNorm's output tensor,
// so its name, consumers and graph-output status are unchanged. New weights are new
// constants: the old ones may be shared with other nodes; those no longer read are
// removed with the BatchNorm parameters.
#include <cmath>
#include <cstring>
#include <string>
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

// The FLOAT32 values of a constant tensor.
std::vector<float> ConstantValues(const graph::Tensor& t) {
  std::vector<float> v(t.data->size() / sizeof(float));
  if (!v.empty()) std::memcpy(v.data(), t.data->data(), v.size() * sizeof(float));
  return v;
}

bool IsFloatConstant(const Graph& graph, TensorId t) {
  return t != graph::kNoTensor && graph.tensors[t].is_constant() &&
         graph.tensors[t].dtype == DataType::FLOAT32;
}

// The Conv / FullyConnected node `bn` can be folded into, or kNoNode.
NodeId FoldTarget(const Graph& graph, const std::vector<std::vector<NodeId>>& consumers,
                  NodeId bn) {
  const Node& bn_node = graph.nodes[bn];
  if (bn_node.inputs.size() != 5 || bn_node.outputs.size() != 1) return graph::kNoNode;
  const NodeId host = internal::MergeableProducer(graph, consumers, bn, 0);
  if (host == graph::kNoNode) return graph::kNoNode;
  const Node& host_node = graph.nodes[host];
  if (host_node.type != NodeType::kConv && host_node.type != NodeType::kFullyConnected) {
    return graph::kNoNode;
  }
  if (!internal::PrecisionRequestsAllowMerge(bn_node, host_node)) return graph::kNoNode;
  if (host_node.inputs.size() < 2 || !IsFloatConstant(graph, host_node.inputs[1])) {
    return graph::kNoNode;
  }
  if (host_node.inputs.size() > 2 && host_node.inputs[2] != graph::kNoTensor &&
      !IsFloatConstant(graph, host_node.inputs[2])) {
    return graph::kNoNode;
  }
  for (size_t i = 1; i < 5; ++i) {
    if (!IsFloatConstant(graph, bn_node.inputs[i])) return graph::kNoNode;
  }
  return host;
}

// Folds the parameters of `bn` into the weights and bias of `host`; the caller then merges
// the nodes. Tensors to check for removal are appended to `stale`.
Status Fold(Graph* graph, NodeId host, NodeId bn, std::vector<TensorId>* stale) {
  const Node bn_node = graph->nodes[bn];
  Node& host_node = graph->nodes[host];
  const TensorId w_id = host_node.inputs[1];
  const TensorId b_id = host_node.inputs.size() > 2 ? host_node.inputs[2] : graph::kNoTensor;
  const std::vector<int64_t> w_shape = graph->tensors[w_id].shape;
  const std::vector<float> w = ConstantValues(graph->tensors[w_id]);
  if (w_shape.empty() || w_shape[0] < 1) {
    return InternalError("FoldBatchNorm: ", graph->DescribeNode(host), ": weight shape ",
                         graph::ShapeToString(w_shape), " has no output channel dimension");
  }
  const auto channels = static_cast<size_t>(w_shape[0]);
  std::vector<float> params[4];  // mean, var, scale, bias
  for (size_t i = 0; i < 4; ++i) {
    params[i] = ConstantValues(graph->tensors[bn_node.inputs[i + 1]]);
    if (params[i].size() != channels) {
      return InternalError("FoldBatchNorm: ", graph->DescribeNode(bn), ": parameter ", i + 1,
                           " has ", params[i].size(), " values for ", channels,
                           " output channels of ", graph->DescribeNode(host));
    }
  }
  std::vector<float> b(channels, 0.0f);
  if (b_id != graph::kNoTensor) {
    b = ConstantValues(graph->tensors[b_id]);
    if (b.size() != channels) {
      return InternalError("FoldBatchNorm: ", graph->DescribeNode(host), ": bias has ",
                           b.size(), " values for ", channels, " output channels");
    }
  }
  if (w.size() % channels != 0) {
    return InternalError("FoldBatchNorm: ", graph->DescribeNode(host), ": weight holds ",
                         w.size(), " values for ", channels, " output channels");
  }
  const double epsilon = bn_node.attrs.GetFloat(graph::attr::kEpsilon, 0.0);
  const size_t per_channel = w.size() / channels;
  std::vector<float> new_w(w.size());
  std::vector<float> new_b(channels);
  for (size_t c = 0; c < channels; ++c) {
    const double s = static_cast<double>(params[2][c]) /
                     std::sqrt(static_cast<double>(params[1][c]) + epsilon);
    for (size_t k = 0; k < per_channel; ++k) {
      new_w[c * per_channel + k] = static_cast<float>(w[c * per_channel + k] * s);
    }
    new_b[c] = static_cast<float>((static_cast<double>(b[c]) - params[0][c]) * s +
                                  params[3][c]);
  }

  // A copy: AddConstant appends to graph->nodes, which invalidates references into it.
  const std::string host_name = graph->nodes[host].name;
  const TensorId folded_w = graph->AddConstant(
      internal::UniqueName(*graph, host_name + "/bn_folded_weight"), DataType::FLOAT32, w_shape,
      new_w.data(), new_w.size() * sizeof(float));
  const TensorId folded_b = graph->AddConstant(
      internal::UniqueName(*graph, host_name + "/bn_folded_bias"), DataType::FLOAT32,
      {static_cast<int64_t>(channels)}, new_b.data(), new_b.size() * sizeof(float));

  // AddConstant appended nodes: re-take the reference.
  Node& target = graph->nodes[host];
  if (target.inputs.size() < 3) {
    target.inputs.resize(3, graph::kNoTensor);
    target.input_precisions.resize(3, DataType::INVALID);
  }
  target.inputs[1] = folded_w;
  target.inputs[2] = folded_b;
  stale->push_back(w_id);
  stale->push_back(b_id);
  for (size_t i = 1; i < 5; ++i) stale->push_back(bn_node.inputs[i]);
  return Status::Ok();
}

Status FoldBatchNormImpl(Graph* graph) {
  QSDK_RETURN_IF_ERROR(graph->Validate());
  std::vector<bool> remove(graph->nodes.size(), false);
  std::vector<TensorId> stale;
  // Node order: a BatchNorm's producer comes first, and the consumers are recomputed after
  // each fold so that Conv -> BN -> BN folds both.
  std::vector<NodeId> order;
  QSDK_RETURN_IF_ERROR(graph->TopologicalOrder(&order));
  for (NodeId bn : order) {
    if (graph->nodes[bn].type != NodeType::kBatchNorm) continue;
    const std::vector<std::vector<NodeId>> consumers = graph->Consumers();
    const NodeId host = FoldTarget(*graph, consumers, bn);
    if (host == graph::kNoNode) continue;
    QSDK_RETURN_IF_ERROR(Fold(graph, host, bn, &stale));
    internal::MergeIntoProducer(graph, host, bn, &remove, nullptr);
  }
  remove.resize(graph->nodes.size(), false);
  internal::MarkUnusedConstants(*graph, stale, &remove);
  return internal::RemoveMarkedNodes(graph, remove);
}

}  // namespace

Status FoldBatchNorm(graph::Graph* graph) {
  return internal::RunPass("FoldBatchNorm", graph, FoldBatchNormImpl);
}

}  // namespace qsdk::builder
