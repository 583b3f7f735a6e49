// INetwork implementation: thin views (ITensor / INode objects) over one graph::Graph.
// Nodes and tensors are never removed from a network, so ids and view pointers are
// stable for the network's lifetime.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "qsdk/network.h"

namespace qsdk::graph {

class NetworkImpl;

// The network-side identity of a tensor; every ITensor a network hands out is one.
class TensorView final : public ITensor {
 public:
  TensorView(NetworkImpl* network, TensorId id) : network_(network), id_(id) {}
  const std::string& GetTensorName() const override;
  Status SetTensorName(const std::string& name) override;
  Dims GetDimension() const override;
  DataType GetDataType() const override;
  INode* GetProducer() const override;
  bool IsNetworkInput() const override;
  bool IsNetworkOutput() const override;
  Status SetDynamicRange(float min, float max) override;
  Status SetDynamicRange(const std::vector<float>& min, const std::vector<float>& max,
                         int64_t axis) override;
  bool GetDynamicRange(std::vector<float>* min, std::vector<float>* max,
                       int64_t* axis) const override;
  void ClearDynamicRange() override;

  NetworkImpl* network() const { return network_; }
  TensorId id() const { return id_; }

 private:
  NetworkImpl* network_;
  TensorId id_;
};

class NetworkImpl final : public INetwork {
 public:
  NetworkImpl() = default;

  ITensor* AddInput(DataType type, const Dims& dims) override;
  IConstNode* AddIConstNode(DataType type, const Dims& dims, const void* data) override;
  IConvNode* AddIConvNode(ITensor* input, ITensor* filter, ITensor* bias) override;
  IFullyConnectedNode* AddIFullyConnectedNode(ITensor* input, ITensor* weight,
                                              ITensor* bias) override;
  IMatMulNode* AddIMatMulNode(ITensor* a, ITensor* b, ITensor* bias) override;
  IActivationNode* AddIActivationNode(ITensor* input, ActivationType type) override;
  IPoolNode* AddIPoolNode(ITensor* input, PoolMode mode) override;
  IElementwiseNode* AddIElementwiseNode(ITensor* a, ITensor* b, ElementwiseOp op) override;
  IConcatNode* AddIConcatNode(const std::vector<ITensor*>& inputs, int64_t axis) override;
  IBatchNormNode* AddIBatchNormNode(ITensor* input, ITensor* mean, ITensor* variance,
                                    ITensor* scale, ITensor* bias) override;
  ISoftmaxNode* AddISoftmaxNode(ITensor* input, int64_t axis) override;
  IReshapeNode* AddIReshapeNode(ITensor* input, const Dims& shape) override;
  IFlattenNode* AddIFlattenNode(ITensor* input, int64_t axis) override;
  ITransposeNode* AddITransposeNode(ITensor* input, const std::vector<int64_t>& perm) override;
  IQuantizeNode* AddIQuantizeNode(ITensor* input, DataType type, const std::vector<float>& scales,
                                  const std::vector<int32_t>& zero_points, int64_t axis) override;
  IDequantizeNode* AddIDequantizeNode(ITensor* input, const std::vector<float>& scales,
                                      const std::vector<int32_t>& zero_points,
                                      int64_t axis) override;
  Status MarkOutput(ITensor* tensor) override;
  INode* FindNodeByName(const std::string& name) const override;
  ITensor* FindTensorByName(const std::string& name) const override;
  int64_t GetNodeCount() const override;
  INode* GetNode(int64_t index) const override;
  std::vector<ITensor*> GetInputs() const override;
  std::vector<ITensor*> GetOutputs() const override;
  Status GetLastError() const override { return last_error_; }

  // The IR this network views. The builder copies it.
  const Graph& graph() const { return graph_; }
  Graph& mutable_graph() { return graph_; }

  ITensor* tensor_view(TensorId id) const { return tensor_views_[id].get(); }
  INode* node_view(NodeId id) const { return node_views_[id].get(); }

  // Resolves a user-provided tensor of this network for `what` ("node 'x' input 1").
  // `optional` accepts nullptr (returns kNoTensor).
  Status Resolve(ITensor* tensor, const std::string& what, bool optional, TensorId* id) const;

  // Applies `mutate` to node `id`, re-infers every shape, and rolls the whole graph back
  // when inference fails (so a rejected setter leaves the network as it was).
  template <typename Fn>
  Status MutateNode(NodeId id, Fn mutate);

  bool NameTakenByNode(const std::string& name, NodeId except) const;
  bool NameTakenByTensor(const std::string& name, TensorId except) const;

 private:
  // Adds a node of `type` reading `inputs` with `output_count` fresh outputs, infers its
  // shapes, and creates its view. On failure removes it, records last_error_, and
  // returns kNoNode.
  // `output` gives the output tensor's type and quantization parameters (Quantize).
  NodeId AddNodeChecked(NodeType type, const std::vector<ITensor*>& inputs,
                        const std::vector<bool>& optional, AttrMap attrs,
                        const Tensor& output = Tensor());
  TensorId AddTensorWithView(Tensor tensor);
  std::string UniqueName(const std::string& prefix, bool for_node);
  template <typename View>
  View* Fail(const Status& status) {
    last_error_ = status;
    return nullptr;
  }

  Graph graph_;
  std::deque<std::unique_ptr<TensorView>> tensor_views_;
  std::deque<std::unique_ptr<INode>> node_views_;
  Status last_error_;
  int64_t name_counter_ = 0;
};

}  // namespace qsdk::graph
