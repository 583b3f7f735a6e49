#include "graph/graph.h"

#include <algorithm>
#include <limits>
#include <queue>
#include <unordered_map>

#include "common/status_macros.h"

namespace qsdk::graph {

TensorId Graph::AddTensor(Tensor tensor) {
  tensors.push_back(std::move(tensor));
  return static_cast<TensorId>(tensors.size() - 1);
}

NodeId Graph::AddNode(Node node) {
  const NodeId id = static_cast<NodeId>(nodes.size());
  node.input_precisions.resize(node.inputs.size(), DataType::INVALID);
  node.output_types.resize(node.outputs.size(), DataType::INVALID);
  for (TensorId out : node.outputs) tensors[out].producer = id;
  nodes.push_back(std::move(node));
  return id;
}

TensorId Graph::AddConstant(const std::string& name, DataType dtype, std::vector<int64_t> shape,
                            const void* bytes, size_t size) {
  Tensor t;
  t.name = name;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.data = std::make_shared<const AlignedBuffer>(bytes, size);
  const TensorId id = AddTensor(std::move(t));
  Node n;
  n.type = NodeType::kConst;
  n.name = name;
  n.outputs = {id};
  AddNode(std::move(n));
  return id;
}

bool Graph::IsGraphInput(TensorId id) const {
  return std::find(inputs.begin(), inputs.end(), id) != inputs.end();
}

bool Graph::IsGraphOutput(TensorId id) const {
  return std::find(outputs.begin(), outputs.end(), id) != outputs.end();
}

std::vector<std::vector<NodeId>> Graph::Consumers() const {
  std::vector<std::vector<NodeId>> consumers(tensors.size());
  for (NodeId n = 0; n < static_cast<NodeId>(nodes.size()); ++n) {
    for (TensorId in : nodes[n].inputs) {
      if (in >= 0 && in < static_cast<TensorId>(tensors.size())) consumers[in].push_back(n);
    }
  }
  return consumers;
}

std::string Graph::DescribeNode(NodeId id) const {
  if (id < 0 || id >= static_cast<NodeId>(nodes.size())) return StrCat("node #", id);
  return StrCat("node '", nodes[id].name, "' (", NodeTypeName(nodes[id].type), ")");
}

std::string Graph::DescribeTensor(TensorId id) const {
  if (id < 0 || id >= static_cast<TensorId>(tensors.size())) return StrCat("tensor #", id);
  return StrCat("tensor '", tensors[id].name, "'");
}

NodeId Graph::FindNode(const std::string& name) const {
  for (NodeId i = 0; i < static_cast<NodeId>(nodes.size()); ++i) {
    if (nodes[i].name == name) return i;
  }
  return kNoNode;
}

TensorId Graph::FindTensor(const std::string& name) const {
  for (TensorId i = 0; i < static_cast<TensorId>(tensors.size()); ++i) {
    if (tensors[i].name == name) return i;
  }
  return kNoTensor;
}

Status Graph::Validate() const {
  const auto tensor_count = static_cast<TensorId>(tensors.size());
  const auto node_count = static_cast<NodeId>(nodes.size());
  std::vector<NodeId> produced_by(tensors.size(), kNoNode);
  for (NodeId n = 0; n < node_count; ++n) {
    const Node& node = nodes[n];
    if (!IsValidNodeType(node.type)) {
      return InvalidArgument("node #", n, " '", node.name, "' has an unknown node type ",
                             static_cast<int>(node.type));
    }
    if (node.input_precisions.size() != node.inputs.size() ||
        node.output_types.size() != node.outputs.size()) {
      return InvalidArgument(DescribeNode(n), ": precision request count does not match its ",
                             "input/output count");
    }
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const TensorId in = node.inputs[i];
      if (in == kNoTensor) continue;
      if (in < 0 || in >= tensor_count) {
        return InvalidArgument(DescribeNode(n), ": input ", i, " refers to tensor #", in,
                               ", which does not exist (", tensor_count, " tensors)");
      }
    }
    if (node.outputs.empty()) {
      return InvalidArgument(DescribeNode(n), " has no outputs");
    }
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      const TensorId out = node.outputs[i];
      if (out < 0 || out >= tensor_count) {
        return InvalidArgument(DescribeNode(n), ": output ", i, " refers to tensor #", out,
                               ", which does not exist (", tensor_count, " tensors)");
      }
      if (produced_by[out] != kNoNode) {
        return InvalidArgument(DescribeTensor(out), " is produced by two nodes: ",
                               DescribeNode(produced_by[out]), " and ", DescribeNode(n));
      }
      produced_by[out] = n;
      if (tensors[out].producer != n) {
        return InvalidArgument(DescribeTensor(out), " records producer #", tensors[out].producer,
                               " but is an output of ", DescribeNode(n));
      }
    }
  }
  for (TensorId in : inputs) {
    if (in < 0 || in >= tensor_count) {
      return InvalidArgument("graph input refers to tensor #", in, ", which does not exist");
    }
    if (produced_by[in] != kNoNode || tensors[in].is_constant()) {
      return InvalidArgument("graph input ", DescribeTensor(in),
                             " is also produced by a node or constant");
    }
  }
  if (outputs.empty()) {
    return InvalidArgument("the network has no outputs: call INetwork::MarkOutput");
  }
  for (TensorId out : outputs) {
    if (out < 0 || out >= tensor_count) {
      return InvalidArgument("graph output refers to tensor #", out, ", which does not exist");
    }
  }
  for (TensorId t = 0; t < tensor_count; ++t) {
    const Tensor& tensor = tensors[t];
    if (tensor.producer != produced_by[t] &&
        !(tensor.producer == kNoNode && produced_by[t] == kNoNode)) {
      return InvalidArgument(DescribeTensor(t), " records producer #", tensor.producer,
                             " which does not list it as an output");
    }
    if (!IsValidDataType(tensor.dtype)) {
      return InvalidArgument(DescribeTensor(t), " has an invalid data type ",
                             static_cast<int>(tensor.dtype));
    }
  }
  // Every tensor that is read must be a graph input, a constant or produced.
  for (NodeId n = 0; n < node_count; ++n) {
    for (TensorId in : nodes[n].inputs) {
      if (in == kNoTensor) continue;
      if (produced_by[in] == kNoNode && !tensors[in].is_constant() && !IsGraphInput(in)) {
        return InvalidArgument(DescribeNode(n), " reads ", DescribeTensor(in),
                               ", which is neither a network input, a constant nor produced "
                               "by any node");
      }
    }
  }
  for (TensorId out : outputs) {
    if (produced_by[out] == kNoNode && !tensors[out].is_constant() && !IsGraphInput(out)) {
      return InvalidArgument("network output ", DescribeTensor(out),
                             " is neither a network input, a constant nor produced by a node");
    }
  }
  std::vector<NodeId> order;
  return TopologicalOrder(&order);
}

Status Graph::TopologicalOrder(std::vector<NodeId>* order) const {
  const auto node_count = static_cast<NodeId>(nodes.size());
  std::vector<int> pending(nodes.size(), 0);
  std::vector<std::vector<NodeId>> users(nodes.size());
  for (NodeId n = 0; n < node_count; ++n) {
    for (TensorId in : nodes[n].inputs) {
      if (in < 0 || in >= static_cast<TensorId>(tensors.size())) continue;
      const NodeId p = tensors[in].producer;
      if (p == kNoNode || p < 0 || p >= node_count) continue;
      ++pending[n];
      users[p].push_back(n);
    }
  }
  // Min-heap on node id keeps the order stable (insertion order among ready nodes).
  std::priority_queue<NodeId, std::vector<NodeId>, std::greater<NodeId>> ready;
  for (NodeId n = 0; n < node_count; ++n) {
    if (pending[n] == 0) ready.push(n);
  }
  order->clear();
  order->reserve(nodes.size());
  while (!ready.empty()) {
    const NodeId n = ready.top();
    ready.pop();
    order->push_back(n);
    for (NodeId u : users[n]) {
      if (--pending[u] == 0) ready.push(u);
    }
  }
  if (order->size() != nodes.size()) {
    for (NodeId n = 0; n < node_count; ++n) {
      if (pending[n] > 0) {
        return InvalidArgument("the graph has a cycle through ", DescribeNode(n),
                               ": a node may not depend on its own output");
      }
    }
  }
  return Status::Ok();
}

void Graph::RemoveNodes(const std::vector<bool>& remove) {
  std::vector<NodeId> node_map(nodes.size(), kNoNode);
  std::vector<Node> kept_nodes;
  for (NodeId n = 0; n < static_cast<NodeId>(nodes.size()); ++n) {
    if (n < static_cast<NodeId>(remove.size()) && remove[n]) continue;
    node_map[n] = static_cast<NodeId>(kept_nodes.size());
    kept_nodes.push_back(std::move(nodes[n]));
  }
  nodes = std::move(kept_nodes);
  // Keep tensors still referenced by a node, the graph inputs or the graph outputs.
  std::vector<bool> used(tensors.size(), false);
  for (const Node& node : nodes) {
    for (TensorId t : node.inputs) {
      if (t != kNoTensor) used[t] = true;
    }
    for (TensorId t : node.outputs) used[t] = true;
  }
  for (TensorId t : inputs) used[t] = true;
  for (TensorId t : outputs) used[t] = true;
  std::vector<TensorId> tensor_map(tensors.size(), kNoTensor);
  std::vector<Tensor> kept_tensors;
  for (TensorId t = 0; t < static_cast<TensorId>(tensors.size()); ++t) {
    if (!used[t]) continue;
    tensor_map[t] = static_cast<TensorId>(kept_tensors.size());
    Tensor tensor = std::move(tensors[t]);
    tensor.producer = tensor.producer == kNoNode ? kNoNode : node_map[tensor.producer];
    kept_tensors.push_back(std::move(tensor));
  }
  tensors = std::move(kept_tensors);
  for (Node& node : nodes) {
    for (TensorId& t : node.inputs) {
      if (t != kNoTensor) t = tensor_map[t];
    }
    for (TensorId& t : node.outputs) t = tensor_map[t];
  }
  for (TensorId& t : inputs) t = tensor_map[t];
  for (TensorId& t : outputs) t = tensor_map[t];
}

int64_t ElementCount(const std::vector<int64_t>& shape) {
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0) return -1;
    if (d != 0 && count > std::numeric_limits<int64_t>::max() / d) return -1;
    count *= d;
  }
  return count;
}

std::string ShapeToString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace qsdk::graph
