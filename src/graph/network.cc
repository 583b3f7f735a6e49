#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/status_macros.h"
#include "graph/network_impl.h"
#include "graph/shape_inference.h"

namespace qsdk {

std::unique_ptr<INetwork> CreateINetwork() {
  return std::make_unique<graph::NetworkImpl>();
}

namespace graph {

// ---------------------------------------------------------------------------------------
// TensorView

const std::string& TensorView::GetTensorName() const {
  return network_->graph().tensors[id_].name;
}

Status TensorView::SetTensorName(const std::string& name) {
  if (name.empty()) {
    return InvalidArgument("SetTensorName on ", network_->graph().DescribeTensor(id_),
                           ": the name must not be empty");
  }
  if (network_->NameTakenByTensor(name, id_)) {
    return InvalidArgument("SetTensorName on ", network_->graph().DescribeTensor(id_),
                           ": the name '", name, "' is already used by another tensor");
  }
  network_->mutable_graph().tensors[id_].name = name;
  return Status::Ok();
}

Dims TensorView::GetDimension() const { return Dims(network_->graph().tensors[id_].shape); }

DataType TensorView::GetDataType() const { return network_->graph().tensors[id_].dtype; }

INode* TensorView::GetProducer() const {
  const NodeId producer = network_->graph().tensors[id_].producer;
  return producer == kNoNode ? nullptr : network_->node_view(producer);
}

bool TensorView::IsNetworkInput() const { return network_->graph().IsGraphInput(id_); }

bool TensorView::IsNetworkOutput() const { return network_->graph().IsGraphOutput(id_); }

Status TensorView::SetDynamicRange(float min, float max) {
  return SetDynamicRange(std::vector<float>{min}, std::vector<float>{max}, -1);
}

Status TensorView::SetDynamicRange(const std::vector<float>& min, const std::vector<float>& max,
                                   int64_t axis) {
  const Tensor& tensor = network_->graph().tensors[id_];
  const std::string what = StrCat("SetDynamicRange on ", network_->graph().DescribeTensor(id_));
  if (min.empty() || min.size() != max.size()) {
    return InvalidArgument(what, ": min has ", min.size(), " values and max ", max.size(),
                           "; they must be equal and non-empty");
  }
  if (axis < -1 || axis >= static_cast<int64_t>(tensor.shape.size())) {
    return InvalidArgument(what, ": axis ", axis, " is out of range for shape ",
                           ShapeToString(tensor.shape), " (-1 means per tensor)");
  }
  if (axis == -1 && min.size() != 1) {
    return InvalidArgument(what, ": a per-tensor range has one min and one max, got ",
                           min.size());
  }
  if (axis >= 0) {
    const int64_t extent = tensor.shape[static_cast<size_t>(axis)];
    if (extent < 0 || static_cast<int64_t>(min.size()) != extent) {
      return InvalidArgument(what, ": ", min.size(), " values for axis ", axis, " of extent ",
                             extent, "; a per-axis range needs one per index of a fixed axis");
    }
  }
  for (size_t i = 0; i < min.size(); ++i) {
    if (!std::isfinite(min[i]) || !std::isfinite(max[i]) || min[i] > max[i]) {
      return InvalidArgument(what, ": range [", min[i], ", ", max[i], "] at index ", i,
                             " is invalid; min and max must be finite with min <= max");
    }
  }
  TensorRange range;
  range.min = min;
  range.max = max;
  range.axis = static_cast<int32_t>(axis);
  range.manual = true;
  network_->mutable_graph().tensors[id_].range = std::move(range);
  return Status::Ok();
}

bool TensorView::GetDynamicRange(std::vector<float>* min, std::vector<float>* max,
                                 int64_t* axis) const {
  const TensorRange& range = network_->graph().tensors[id_].range;
  if (range.empty()) return false;
  if (min) *min = range.min;
  if (max) *max = range.max;
  if (axis) *axis = range.axis;
  return true;
}

void TensorView::ClearDynamicRange() { network_->mutable_graph().tensors[id_].range = TensorRange(); }

// ---------------------------------------------------------------------------------------
// Node views

namespace {

// Implements INode for any typed node interface.
template <typename Interface>
class NodeView : public Interface {
 public:
  NodeView(NetworkImpl* network, NodeId id) : network_(network), id_(id) {}

  NodeType GetNodeType() const override { return node().type; }
  const std::string& GetNodeName() const override { return node().name; }
  Status SetNodeName(const std::string& name) override {
    if (name.empty()) return InvalidArgument("SetNodeName on ", Describe(), ": empty name");
    if (network_->NameTakenByNode(name, id_)) {
      return InvalidArgument("SetNodeName on ", Describe(), ": the name '", name,
                             "' is already used by another node");
    }
    network_->mutable_graph().nodes[id_].name = name;
    return Status::Ok();
  }
  int64_t GetInputCount() const override { return static_cast<int64_t>(node().inputs.size()); }
  ITensor* GetInput(int64_t index) const override {
    if (index < 0 || index >= GetInputCount()) return nullptr;
    const TensorId t = node().inputs[static_cast<size_t>(index)];
    return t == kNoTensor ? nullptr : network_->tensor_view(t);
  }
  Status SetInput(int64_t index, ITensor* tensor) override {
    if (index < 0 || index >= GetInputCount()) {
      return Status(StatusCode::kOutOfRange,
                    StrCat("SetInput on ", Describe(), ": input index ", index,
                           " is out of range [0, ", GetInputCount(), ")"));
    }
    TensorId t = kNoTensor;
    QSDK_RETURN_IF_ERROR(
        network_->Resolve(tensor, StrCat(Describe(), " input ", index), false, &t));
    return network_->MutateNode(id_, [&](Node& n) { n.inputs[static_cast<size_t>(index)] = t; });
  }
  int64_t GetOutputCount() const override { return static_cast<int64_t>(node().outputs.size()); }
  ITensor* GetOutput(int64_t index) const override {
    if (index < 0 || index >= GetOutputCount()) return nullptr;
    return network_->tensor_view(node().outputs[static_cast<size_t>(index)]);
  }
  Status SetPrecision(int64_t input_index, DataType type) override {
    if (input_index < 0 || input_index >= GetInputCount()) {
      return Status(StatusCode::kOutOfRange,
                    StrCat("SetPrecision on ", Describe(), ": input index ", input_index,
                           " is out of range [0, ", GetInputCount(), ")"));
    }
    if (type != DataType::INVALID && !IsValidDataType(type)) {
      return InvalidArgument("SetPrecision on ", Describe(), ": data type value ",
                             static_cast<int>(type), " is not a qsdk::DataType");
    }
    network_->mutable_graph().nodes[id_].input_precisions[static_cast<size_t>(input_index)] = type;
    return Status::Ok();
  }
  DataType GetPrecision(int64_t input_index) const override {
    if (input_index < 0 || input_index >= GetInputCount()) return DataType::INVALID;
    return node().input_precisions[static_cast<size_t>(input_index)];
  }
  Status SetOutputType(int64_t output_index, DataType type) override {
    if (output_index < 0 || output_index >= GetOutputCount()) {
      return Status(StatusCode::kOutOfRange,
                    StrCat("SetOutputType on ", Describe(), ": output index ", output_index,
                           " is out of range [0, ", GetOutputCount(), ")"));
    }
    if (type != DataType::INVALID && !IsValidDataType(type)) {
      return InvalidArgument("SetOutputType on ", Describe(), ": data type value ",
                             static_cast<int>(type), " is not a qsdk::DataType");
    }
    network_->mutable_graph().nodes[id_].output_types[static_cast<size_t>(output_index)] = type;
    return Status::Ok();
  }
  DataType GetOutputType(int64_t output_index) const override {
    if (output_index < 0 || output_index >= GetOutputCount()) return DataType::INVALID;
    return node().output_types[static_cast<size_t>(output_index)];
  }

 protected:
  const Node& node() const { return network_->graph().nodes[id_]; }
  const AttrMap& attrs() const { return node().attrs; }
  std::string Describe() const { return network_->graph().DescribeNode(id_); }
  // Sets attributes through MutateNode (validated by shape inference, rolled back on error).
  Status SetAttr(const char* key, AttrValue value) {
    return network_->MutateNode(id_, [&](Node& n) { n.attrs.Set(key, value); });
  }
  std::vector<int64_t> Ints(const char* key) const { return attrs().GetInts(key); }

  NetworkImpl* network_;
  NodeId id_;
};

class ConstNodeView final : public NodeView<IConstNode> {
 public:
  using NodeView::NodeView;
};

class ConvNodeView final : public NodeView<IConvNode> {
 public:
  using NodeView::NodeView;
  Status SetStride(int64_t h, int64_t w) override {
    return SetAttr(attr::kStrides, std::vector<int64_t>{h, w});
  }
  Status SetPad(int64_t top, int64_t bottom, int64_t left, int64_t right) override {
    return SetAttr(attr::kPads, std::vector<int64_t>{top, bottom, left, right});
  }
  Status SetDilation(int64_t h, int64_t w) override {
    return SetAttr(attr::kDilations, std::vector<int64_t>{h, w});
  }
  Status SetGroup(int64_t group) override { return SetAttr(attr::kGroup, group); }
  std::vector<int64_t> GetStride() const override { return Ints(attr::kStrides); }
  std::vector<int64_t> GetPad() const override { return Ints(attr::kPads); }
  std::vector<int64_t> GetDilation() const override { return Ints(attr::kDilations); }
  int64_t GetGroup() const override { return attrs().GetInt(attr::kGroup, 1); }
};

class FullyConnectedNodeView final : public NodeView<IFullyConnectedNode> {
 public:
  using NodeView::NodeView;
};

class MatMulNodeView final : public NodeView<IMatMulNode> {
 public:
  using NodeView::NodeView;
  Status SetTransposeA(bool t) override { return SetAttr(attr::kTransposeA, int64_t{t}); }
  Status SetTransposeB(bool t) override { return SetAttr(attr::kTransposeB, int64_t{t}); }
  bool GetTransposeA() const override { return attrs().GetInt(attr::kTransposeA) != 0; }
  bool GetTransposeB() const override { return attrs().GetInt(attr::kTransposeB) != 0; }
};

class ActivationNodeView final : public NodeView<IActivationNode> {
 public:
  using NodeView::NodeView;
  ActivationType GetActivationType() const override {
    return static_cast<ActivationType>(attrs().GetInt(attr::kActivation));
  }
  Status SetAlpha(float alpha) override {
    if (!std::isfinite(alpha)) {
      return InvalidArgument("SetAlpha on ", Describe(), ": alpha = ", alpha,
                             "; it must be finite");
    }
    return SetAttr(attr::kAlpha, static_cast<double>(alpha));
  }
  Status SetBeta(float beta) override {
    if (!std::isfinite(beta)) {
      return InvalidArgument("SetBeta on ", Describe(), ": beta = ", beta, "; it must be finite");
    }
    return SetAttr(attr::kBeta, static_cast<double>(beta));
  }
  float GetAlpha() const override { return static_cast<float>(attrs().GetFloat(attr::kAlpha)); }
  float GetBeta() const override { return static_cast<float>(attrs().GetFloat(attr::kBeta)); }
};

class PoolNodeView final : public NodeView<IPoolNode> {
 public:
  using NodeView::NodeView;
  PoolMode GetPoolMode() const override {
    return static_cast<PoolMode>(attrs().GetInt(attr::kPoolMode));
  }
  Status SetKernel(int64_t h, int64_t w) override {
    return SetAttr(attr::kKernel, std::vector<int64_t>{h, w});
  }
  Status SetStride(int64_t h, int64_t w) override {
    return SetAttr(attr::kStrides, std::vector<int64_t>{h, w});
  }
  Status SetPad(int64_t top, int64_t bottom, int64_t left, int64_t right) override {
    return SetAttr(attr::kPads, std::vector<int64_t>{top, bottom, left, right});
  }
  Status SetCountIncludePad(bool include) override {
    return SetAttr(attr::kCountIncludePad, int64_t{include});
  }
  Status SetCeilMode(bool ceil_mode) override { return SetAttr(attr::kCeilMode, int64_t{ceil_mode}); }
  std::vector<int64_t> GetKernel() const override { return Ints(attr::kKernel); }
  std::vector<int64_t> GetStride() const override { return Ints(attr::kStrides); }
  std::vector<int64_t> GetPad() const override { return Ints(attr::kPads); }
  bool GetCountIncludePad() const override { return attrs().GetInt(attr::kCountIncludePad) != 0; }
  bool GetCeilMode() const override { return attrs().GetInt(attr::kCeilMode) != 0; }
};

class ElementwiseNodeView final : public NodeView<IElementwiseNode> {
 public:
  using NodeView::NodeView;
  ElementwiseOp GetElementwiseOp() const override {
    return static_cast<ElementwiseOp>(attrs().GetInt(attr::kElementwiseOp));
  }
};

class ConcatNodeView final : public NodeView<IConcatNode> {
 public:
  using NodeView::NodeView;
  int64_t GetAxis() const override { return attrs().GetInt(attr::kAxis); }
};

class BatchNormNodeView final : public NodeView<IBatchNormNode> {
 public:
  using NodeView::NodeView;
  Status SetEpsilon(float epsilon) override {
    if (!(epsilon > 0.0f) || !std::isfinite(epsilon)) {
      return InvalidArgument("SetEpsilon on ", Describe(), ": epsilon = ", epsilon,
                             "; it must be finite and > 0");
    }
    return SetAttr(attr::kEpsilon, static_cast<double>(epsilon));
  }
  float GetEpsilon() const override {
    return static_cast<float>(attrs().GetFloat(attr::kEpsilon));
  }
};

class SoftmaxNodeView final : public NodeView<ISoftmaxNode> {
 public:
  using NodeView::NodeView;
  int64_t GetAxis() const override { return attrs().GetInt(attr::kAxis); }
};

class ReshapeNodeView final : public NodeView<IReshapeNode> {
 public:
  using NodeView::NodeView;
  Dims GetShape() const override { return Dims(Ints(attr::kShape)); }
};

class FlattenNodeView final : public NodeView<IFlattenNode> {
 public:
  using NodeView::NodeView;
  int64_t GetAxis() const override { return attrs().GetInt(attr::kAxis); }
};

class TransposeNodeView final : public NodeView<ITransposeNode> {
 public:
  using NodeView::NodeView;
  std::vector<int64_t> GetPermutation() const override { return Ints(attr::kPerm); }
};

// Quantize reads its parameters from its output tensor, Dequantize from its input.
template <typename Interface, bool kFromOutput>
class QuantParamsNodeView : public NodeView<Interface> {
 public:
  using NodeView<Interface>::NodeView;
  std::vector<float> GetScales() const override { return params().scales; }
  std::vector<int32_t> GetZeroPoints() const override { return params().zero_points; }
  int64_t GetAxis() const override { return params().axis; }

 protected:
  const graph::Tensor& tensor() const {
    const Node& n = this->node();
    return this->network_->graph().tensors[kFromOutput ? n.outputs[0] : n.inputs[0]];
  }
  const QuantParams& params() const { return tensor().quant; }
};

class QuantizeNodeView final : public QuantParamsNodeView<IQuantizeNode, true> {
 public:
  using QuantParamsNodeView::QuantParamsNodeView;
  DataType GetQuantizedType() const override { return tensor().dtype; }
};

class DequantizeNodeView final : public QuantParamsNodeView<IDequantizeNode, false> {
 public:
  using QuantParamsNodeView::QuantParamsNodeView;
};

std::unique_ptr<INode> MakeNodeView(NetworkImpl* network, NodeId id, NodeType type) {
  switch (type) {
    case NodeType::kConst: return std::make_unique<ConstNodeView>(network, id);
    case NodeType::kConv: return std::make_unique<ConvNodeView>(network, id);
    case NodeType::kFullyConnected: return std::make_unique<FullyConnectedNodeView>(network, id);
    case NodeType::kMatMul: return std::make_unique<MatMulNodeView>(network, id);
    case NodeType::kActivation: return std::make_unique<ActivationNodeView>(network, id);
    case NodeType::kPool: return std::make_unique<PoolNodeView>(network, id);
    case NodeType::kElementwise: return std::make_unique<ElementwiseNodeView>(network, id);
    case NodeType::kConcat: return std::make_unique<ConcatNodeView>(network, id);
    case NodeType::kBatchNorm: return std::make_unique<BatchNormNodeView>(network, id);
    case NodeType::kSoftmax: return std::make_unique<SoftmaxNodeView>(network, id);
    case NodeType::kReshape: return std::make_unique<ReshapeNodeView>(network, id);
    case NodeType::kFlatten: return std::make_unique<FlattenNodeView>(network, id);
    case NodeType::kTranspose: return std::make_unique<TransposeNodeView>(network, id);
    case NodeType::kQuantize: return std::make_unique<QuantizeNodeView>(network, id);
    case NodeType::kDequantize: return std::make_unique<DequantizeNodeView>(network, id);
    // Cast is inserted by the builder; networks do not create it.
    case NodeType::kCast:
    case NodeType::kInvalid: break;
  }
  return nullptr;
}

// Normalizes a possibly negative axis against `rank` (+1 when `inclusive`: Flatten
// accepts axis == rank). Returns false when out of range.
bool NormalizeAxis(int64_t axis, int64_t rank, bool inclusive, int64_t* out) {
  const int64_t limit = inclusive ? rank + 1 : rank;
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= limit) return false;
  *out = axis;
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// NetworkImpl

bool NetworkImpl::NameTakenByNode(const std::string& name, NodeId except) const {
  for (NodeId i = 0; i < static_cast<NodeId>(graph_.nodes.size()); ++i) {
    if (i != except && graph_.nodes[i].name == name) return true;
  }
  return false;
}

bool NetworkImpl::NameTakenByTensor(const std::string& name, TensorId except) const {
  for (TensorId i = 0; i < static_cast<TensorId>(graph_.tensors.size()); ++i) {
    if (i != except && graph_.tensors[i].name == name) return true;
  }
  return false;
}

std::string NetworkImpl::UniqueName(const std::string& prefix, bool for_node) {
  while (true) {
    std::string name = StrCat(prefix, "_", name_counter_++);
    if (for_node ? !NameTakenByNode(name, kNoNode) : !NameTakenByTensor(name, kNoTensor)) {
      return name;
    }
  }
}

Status NetworkImpl::Resolve(ITensor* tensor, const std::string& what, bool optional,
                            TensorId* id) const {
  *id = kNoTensor;
  if (tensor == nullptr) {
    if (optional) return Status::Ok();
    return InvalidArgument(what, ": the tensor is null");
  }
  const auto* view = dynamic_cast<const TensorView*>(tensor);
  if (view == nullptr || view->network() != this) {
    return InvalidArgument(what, ": tensor '", tensor->GetTensorName(),
                           "' belongs to another network; tensors cannot be shared between "
                           "networks");
  }
  *id = view->id();
  return Status::Ok();
}

template <typename Fn>
Status NetworkImpl::MutateNode(NodeId id, Fn mutate) {
  Node saved = graph_.nodes[id];
  std::vector<std::vector<int64_t>> saved_shapes;
  std::vector<DataType> saved_types;
  for (const Tensor& t : graph_.tensors) {
    saved_shapes.push_back(t.shape);
    saved_types.push_back(t.dtype);
  }
  mutate(graph_.nodes[id]);
  Status status = InferShapes(&graph_);
  if (!status.ok()) {
    graph_.nodes[id] = std::move(saved);
    for (size_t i = 0; i < graph_.tensors.size(); ++i) {
      graph_.tensors[i].shape = std::move(saved_shapes[i]);
      graph_.tensors[i].dtype = saved_types[i];
    }
  }
  return status;
}

TensorId NetworkImpl::AddTensorWithView(Tensor tensor) {
  const TensorId id = graph_.AddTensor(std::move(tensor));
  tensor_views_.push_back(std::make_unique<TensorView>(this, id));
  return id;
}

ITensor* NetworkImpl::AddInput(DataType type, const Dims& dims) {
  if (!IsValidDataType(type)) {
    return Fail<ITensor>(InvalidArgument("AddInput: data type value ", static_cast<int>(type),
                                         " is not a valid qsdk::DataType"));
  }
  for (int64_t d : dims.GetDims()) {
    if (d < -1) {
      return Fail<ITensor>(InvalidArgument("AddInput: shape ", dims.ToString(),
                                           " has extent ", d,
                                           "; extents must be >= 0, or -1 for dynamic"));
    }
  }
  Tensor t;
  t.name = UniqueName("input", false);
  t.dtype = type;
  t.shape = dims.GetDims();
  const TensorId id = AddTensorWithView(std::move(t));
  graph_.inputs.push_back(id);
  last_error_ = Status::Ok();
  return tensor_views_[id].get();
}

IConstNode* NetworkImpl::AddIConstNode(DataType type, const Dims& dims, const void* data) {
  if (!IsValidDataType(type)) {
    return Fail<IConstNode>(InvalidArgument("AddIConstNode: data type value ",
                                            static_cast<int>(type),
                                            " is not a valid qsdk::DataType"));
  }
  const int64_t count = dims.GetElementCount();
  if (count < 0) {
    return Fail<IConstNode>(InvalidArgument("AddIConstNode: shape ", dims.ToString(),
                                            " must be fully defined (no -1) and not overflow"));
  }
  if (data == nullptr && count > 0) {
    return Fail<IConstNode>(InvalidArgument("AddIConstNode: data is null for shape ",
                                            dims.ToString()));
  }
  const std::string name = UniqueName("Const", true);
  Tensor t;
  t.name = name + "_output";
  t.dtype = type;
  t.shape = dims.GetDims();
  const size_t bytes = static_cast<size_t>(count) * DataTypeSize(type);
  try {
    t.data = std::make_shared<const AlignedBuffer>(data, bytes);
  } catch (const std::bad_alloc&) {
    return Fail<IConstNode>(Status(StatusCode::kResourceExhausted,
                                   StrCat("AddIConstNode: cannot allocate ", bytes, " bytes")));
  }
  const TensorId out = AddTensorWithView(std::move(t));
  Node n;
  n.type = NodeType::kConst;
  n.name = name;
  n.outputs = {out};
  const NodeId id = graph_.AddNode(std::move(n));
  node_views_.push_back(MakeNodeView(this, id, NodeType::kConst));
  last_error_ = Status::Ok();
  return static_cast<IConstNode*>(node_views_[id].get());
}

NodeId NetworkImpl::AddNodeChecked(NodeType type, const std::vector<ITensor*>& inputs,
                                   const std::vector<bool>& optional, AttrMap attrs,
                                   const Tensor& output) {
  const std::string name = UniqueName(NodeTypeName(type), true);
  Node node;
  node.type = type;
  node.name = name;
  node.attrs = std::move(attrs);
  for (size_t i = 0; i < inputs.size(); ++i) {
    TensorId id = kNoTensor;
    const bool is_optional = i < optional.size() && optional[i];
    Status status = Resolve(inputs[i],
                            StrCat("Add", NodeTypeName(type), " '", name, "' input ", i),
                            is_optional, &id);
    if (!status.ok()) {
      last_error_ = status;
      return kNoNode;
    }
    node.inputs.push_back(id);
  }
  Tensor out;
  out.dtype = output.dtype;
  out.quant = output.quant;
  out.name = UniqueName(name + "_output", false);
  const size_t tensor_count = graph_.tensors.size();
  const TensorId out_id = graph_.AddTensor(std::move(out));
  node.outputs = {out_id};
  const NodeId id = graph_.AddNode(std::move(node));
  Status status = InferNodeShapes(&graph_, id);
  if (!status.ok()) {
    graph_.nodes.pop_back();
    graph_.tensors.resize(tensor_count);
    last_error_ = status;
    return kNoNode;
  }
  tensor_views_.push_back(std::make_unique<TensorView>(this, out_id));
  node_views_.push_back(MakeNodeView(this, id, type));
  last_error_ = Status::Ok();
  return id;
}

namespace {
template <typename T>
T* ViewOrNull(NetworkImpl* network, NodeId id) {
  return id == kNoNode ? nullptr : static_cast<T*>(network->node_view(id));
}
}  // namespace

IConvNode* NetworkImpl::AddIConvNode(ITensor* input, ITensor* filter, ITensor* bias) {
  AttrMap a;
  a.SetInts(attr::kStrides, {1, 1});
  a.SetInts(attr::kPads, {0, 0, 0, 0});
  a.SetInts(attr::kDilations, {1, 1});
  // The group count follows from the shapes (C / filter dim 1), so that a grouped or
  // depthwise convolution is valid the moment it is added; SetGroup may still change it.
  int64_t group = 1;
  if (input != nullptr && filter != nullptr) {
    const Dims x = input->GetDimension(), w = filter->GetDimension();
    if (x.GetDimsNum() == 4 && w.GetDimsNum() == 4 && x.GetDimValue(1) > 0 &&
        w.GetDimValue(1) > 0 && x.GetDimValue(1) % w.GetDimValue(1) == 0) {
      group = x.GetDimValue(1) / w.GetDimValue(1);
    }
  }
  a.SetInt(attr::kGroup, group);
  a.SetInt(attr::kFusedActivation, 0);
  return ViewOrNull<IConvNode>(
      this, AddNodeChecked(NodeType::kConv, {input, filter, bias}, {false, false, true}, a));
}

IFullyConnectedNode* NetworkImpl::AddIFullyConnectedNode(ITensor* input, ITensor* weight,
                                                         ITensor* bias) {
  AttrMap a;
  a.SetInt(attr::kFusedActivation, 0);
  return ViewOrNull<IFullyConnectedNode>(
      this,
      AddNodeChecked(NodeType::kFullyConnected, {input, weight, bias}, {false, false, true}, a));
}

IMatMulNode* NetworkImpl::AddIMatMulNode(ITensor* a, ITensor* b, ITensor* bias) {
  AttrMap attrs;
  attrs.SetInt(attr::kTransposeA, 0);
  attrs.SetInt(attr::kTransposeB, 0);
  attrs.SetInt(attr::kFusedActivation, 0);
  std::vector<ITensor*> inputs = {a, b};
  if (bias != nullptr) inputs.push_back(bias);
  return ViewOrNull<IMatMulNode>(this, AddNodeChecked(NodeType::kMatMul, inputs, {}, attrs));
}

IActivationNode* NetworkImpl::AddIActivationNode(ITensor* input, ActivationType type) {
  const auto v = static_cast<int32_t>(type);
  if (v < 1 || v > kMaxActivationType) {
    return Fail<IActivationNode>(InvalidArgument(
        "AddIActivationNode: activation type value ", v, " is not a valid ActivationType"));
  }
  AttrMap a;
  a.SetInt(attr::kActivation, v);
  double alpha = 0.0, beta = 0.0;
  if (type == ActivationType::kLeakyRelu) alpha = 0.01;
  if (type == ActivationType::kRelu6) beta = 6.0;
  if (type == ActivationType::kClip) {
    alpha = std::numeric_limits<float>::lowest();
    beta = std::numeric_limits<float>::max();
  }
  a.SetFloat(attr::kAlpha, alpha);
  a.SetFloat(attr::kBeta, beta);
  return ViewOrNull<IActivationNode>(this, AddNodeChecked(NodeType::kActivation, {input}, {}, a));
}

IPoolNode* NetworkImpl::AddIPoolNode(ITensor* input, PoolMode mode) {
  const auto v = static_cast<int32_t>(mode);
  if (v < 1 || v > kMaxPoolMode) {
    return Fail<IPoolNode>(
        InvalidArgument("AddIPoolNode: pool mode value ", v, " is not a valid PoolMode"));
  }
  AttrMap a;
  a.SetInt(attr::kPoolMode, v);
  a.SetInts(attr::kKernel, {1, 1});
  a.SetInts(attr::kStrides, {1, 1});
  a.SetInts(attr::kPads, {0, 0, 0, 0});
  a.SetInt(attr::kCountIncludePad, 0);
  a.SetInt(attr::kCeilMode, 0);
  return ViewOrNull<IPoolNode>(this, AddNodeChecked(NodeType::kPool, {input}, {}, a));
}

IElementwiseNode* NetworkImpl::AddIElementwiseNode(ITensor* a, ITensor* b, ElementwiseOp op) {
  const auto v = static_cast<int32_t>(op);
  if (v < 1 || v > kMaxElementwiseOp) {
    return Fail<IElementwiseNode>(InvalidArgument("AddIElementwiseNode: operation value ", v,
                                                  " is not a valid ElementwiseOp"));
  }
  AttrMap attrs;
  attrs.SetInt(attr::kElementwiseOp, v);
  return ViewOrNull<IElementwiseNode>(
      this, AddNodeChecked(NodeType::kElementwise, {a, b}, {}, attrs));
}

IConcatNode* NetworkImpl::AddIConcatNode(const std::vector<ITensor*>& inputs, int64_t axis) {
  if (inputs.empty()) {
    return Fail<IConcatNode>(InvalidArgument("AddIConcatNode: at least one input is required"));
  }
  int64_t normalized = axis;
  if (inputs[0] != nullptr) {
    const int64_t rank = inputs[0]->GetDimension().GetDimsNum();
    if (!NormalizeAxis(axis, rank, false, &normalized)) {
      return Fail<IConcatNode>(InvalidArgument("AddIConcatNode: axis ", axis,
                                               " is out of range for rank ", rank));
    }
  }
  AttrMap a;
  a.SetInt(attr::kAxis, normalized);
  return ViewOrNull<IConcatNode>(this, AddNodeChecked(NodeType::kConcat, inputs, {}, a));
}

IBatchNormNode* NetworkImpl::AddIBatchNormNode(ITensor* input, ITensor* mean, ITensor* variance,
                                               ITensor* scale, ITensor* bias) {
  AttrMap a;
  a.SetFloat(attr::kEpsilon, 1e-5);
  return ViewOrNull<IBatchNormNode>(
      this, AddNodeChecked(NodeType::kBatchNorm, {input, mean, variance, scale, bias}, {}, a));
}

ISoftmaxNode* NetworkImpl::AddISoftmaxNode(ITensor* input, int64_t axis) {
  int64_t normalized = axis;
  if (input != nullptr) {
    const int64_t rank = input->GetDimension().GetDimsNum();
    if (!NormalizeAxis(axis, rank, false, &normalized)) {
      return Fail<ISoftmaxNode>(InvalidArgument("AddISoftmaxNode: axis ", axis,
                                                " is out of range for rank ", rank));
    }
  }
  AttrMap a;
  a.SetInt(attr::kAxis, normalized);
  return ViewOrNull<ISoftmaxNode>(this, AddNodeChecked(NodeType::kSoftmax, {input}, {}, a));
}

IReshapeNode* NetworkImpl::AddIReshapeNode(ITensor* input, const Dims& shape) {
  AttrMap a;
  a.SetInts(attr::kShape, shape.GetDims());
  return ViewOrNull<IReshapeNode>(this, AddNodeChecked(NodeType::kReshape, {input}, {}, a));
}

IFlattenNode* NetworkImpl::AddIFlattenNode(ITensor* input, int64_t axis) {
  int64_t normalized = axis;
  if (input != nullptr) {
    const int64_t rank = input->GetDimension().GetDimsNum();
    if (!NormalizeAxis(axis, rank, true, &normalized)) {
      return Fail<IFlattenNode>(InvalidArgument("AddIFlattenNode: axis ", axis,
                                                " is out of range [", -rank, ", ", rank,
                                                "] for rank ", rank));
    }
  }
  AttrMap a;
  a.SetInt(attr::kAxis, normalized);
  return ViewOrNull<IFlattenNode>(this, AddNodeChecked(NodeType::kFlatten, {input}, {}, a));
}

ITransposeNode* NetworkImpl::AddITransposeNode(ITensor* input, const std::vector<int64_t>& perm) {
  AttrMap a;
  a.SetInts(attr::kPerm, perm);
  return ViewOrNull<ITransposeNode>(this, AddNodeChecked(NodeType::kTranspose, {input}, {}, a));
}

namespace {

// Quantization parameters from the API's arguments for a tensor of `shape` and integer
// `type`, checked by graph::CheckQuantParams (scale finite and > 0, zero point in the
// type's range, one per index of the axis). `what` names the call.
Status MakeQuantParams(const std::string& what, const std::vector<int64_t>& shape, DataType type,
                       const std::vector<float>& scales, const std::vector<int32_t>& zero_points,
                       int64_t axis, QuantParams* params) {
  const auto rank = static_cast<int64_t>(shape.size());
  if (scales.empty()) return InvalidArgument(what, ": no scale was given; it needs at least one");
  if (axis < -1 || axis >= rank) {
    return InvalidArgument(what, ": axis ", axis, " is out of range; it must be -1 (per tensor) "
                           "or in [0, ", rank, ") for an input of rank ", rank);
  }
  params->scales = scales;
  params->zero_points = zero_points;
  params->axis = static_cast<int32_t>(axis);
  Tensor probe;
  probe.dtype = type;
  probe.shape = shape;
  probe.quant = *params;
  return CheckQuantParams(probe, what);
}

DataType StorageType(DataType type) {
  switch (type) {
    case DataType::QINT8: return DataType::INT8;
    case DataType::QUINT8: return DataType::UINT8;
    case DataType::QINT16: return DataType::INT16;
    default: return type;
  }
}

}  // namespace

IQuantizeNode* NetworkImpl::AddIQuantizeNode(ITensor* input, DataType type,
                                             const std::vector<float>& scales,
                                             const std::vector<int32_t>& zero_points,
                                             int64_t axis) {
  TensorId in = kNoTensor;
  Status status = Resolve(input, "AddIQuantizeNode input", false, &in);
  if (!status.ok()) return Fail<IQuantizeNode>(status);
  const DataType storage = StorageType(type);
  if (storage != DataType::INT8 && storage != DataType::UINT8 && storage != DataType::INT16) {
    return Fail<IQuantizeNode>(InvalidArgument(
        "AddIQuantizeNode: type ", DataTypeName(type),
        " is not a quantized type; it must be INT8, UINT8 or INT16 (or QINT8 / QUINT8 / QINT16)"));
  }
  Tensor out;
  out.dtype = storage;
  status = MakeQuantParams(StrCat("AddIQuantizeNode on ", graph_.DescribeTensor(in)),
                           graph_.tensors[in].shape, storage, scales, zero_points, axis,
                           &out.quant);
  if (!status.ok()) return Fail<IQuantizeNode>(status);
  return ViewOrNull<IQuantizeNode>(
      this, AddNodeChecked(NodeType::kQuantize, {input}, {}, AttrMap(), out));
}

IDequantizeNode* NetworkImpl::AddIDequantizeNode(ITensor* input, const std::vector<float>& scales,
                                                 const std::vector<int32_t>& zero_points,
                                                 int64_t axis) {
  TensorId in = kNoTensor;
  Status status = Resolve(input, "AddIDequantizeNode input", false, &in);
  if (!status.ok()) return Fail<IDequantizeNode>(status);
  Tensor& t = graph_.tensors[in];
  const std::string what = StrCat("AddIDequantizeNode on ", graph_.DescribeTensor(in));
  if (t.dtype != DataType::INT8 && t.dtype != DataType::UINT8 && t.dtype != DataType::INT16 &&
      t.dtype != DataType::INT32) {
    return Fail<IDequantizeNode>(InvalidArgument(
        what, ": the input has type ", DataTypeName(t.dtype),
        "; Dequantize reads an INT8, UINT8, INT16 or INT32 tensor (a Quantize output or an "
        "integer constant)"));
  }
  QuantParams params;
  status = MakeQuantParams(what, t.shape, t.dtype, scales, zero_points, axis, &params);
  if (!status.ok()) return Fail<IDequantizeNode>(status);
  if (!t.quant.empty() && !(t.quant == params)) {
    return Fail<IDequantizeNode>(InvalidArgument(
        what, ": the tensor is already quantized with other parameters (scale ",
        t.quant.scales[0], ", zero point ", t.quant.zero_points[0], ", axis ", t.quant.axis,
        "); a tensor has one set of quantization parameters"));
  }
  const bool had_params = !t.quant.empty();
  t.quant = params;
  IDequantizeNode* node = ViewOrNull<IDequantizeNode>(
      this, AddNodeChecked(NodeType::kDequantize, {input}, {}, AttrMap()));
  if (node == nullptr && !had_params) graph_.tensors[in].quant = QuantParams();
  return node;
}

Status NetworkImpl::MarkOutput(ITensor* tensor) {
  TensorId id = kNoTensor;
  QSDK_RETURN_IF_ERROR(Resolve(tensor, "MarkOutput", false, &id));
  if (graph_.IsGraphOutput(id)) {
    return InvalidArgument("MarkOutput: ", graph_.DescribeTensor(id),
                           " is already marked as an output");
  }
  if (graph_.tensors[id].is_constant()) {
    return InvalidArgument("MarkOutput: ", graph_.DescribeTensor(id),
                           " is a constant; only computed tensors can be network outputs");
  }
  if (graph_.IsGraphInput(id)) {
    return InvalidArgument("MarkOutput: ", graph_.DescribeTensor(id),
                           " is a network input; only computed tensors can be network outputs");
  }
  graph_.outputs.push_back(id);
  return Status::Ok();
}

INode* NetworkImpl::FindNodeByName(const std::string& name) const {
  const NodeId id = graph_.FindNode(name);
  return id == kNoNode ? nullptr : node_views_[id].get();
}

ITensor* NetworkImpl::FindTensorByName(const std::string& name) const {
  const TensorId id = graph_.FindTensor(name);
  return id == kNoTensor ? nullptr : tensor_views_[id].get();
}

int64_t NetworkImpl::GetNodeCount() const { return static_cast<int64_t>(graph_.nodes.size()); }

INode* NetworkImpl::GetNode(int64_t index) const {
  if (index < 0 || index >= GetNodeCount()) return nullptr;
  return node_views_[static_cast<size_t>(index)].get();
}

std::vector<ITensor*> NetworkImpl::GetInputs() const {
  std::vector<ITensor*> result;
  for (TensorId id : graph_.inputs) result.push_back(tensor_views_[id].get());
  return result;
}

std::vector<ITensor*> NetworkImpl::GetOutputs() const {
  std::vector<ITensor*> result;
  for (TensorId id : graph_.outputs) result.push_back(tensor_views_[id].get());
  return result;
}

}  // namespace graph
}  // namespace qsdk
