#include "builder/float_lowering.h"

#include <map>
#include <utility>

#include "common/status_macros.h"
#include "reference/float_types.h"

namespace qsdk::builder {
namespace {

using graph::Graph;
using graph::Node;
using graph::NodeId;
using graph::TensorId;

bool IsFloat(DataType t) {
  return t == DataType::FLOAT32 || t == DataType::FLOAT16 || t == DataType::BFLOAT16;
}

bool IsHeavy(NodeType t) {
  return t == NodeType::kConv || t == NodeType::kFullyConnected || t == NodeType::kMatMul;
}

const char* Suffix(DataType t) {
  switch (t) {
    case DataType::FLOAT16: return "f16";
    case DataType::BFLOAT16: return "bf16";
    default: return "f32";
  }
}

class FloatLowering {
 public:
  FloatLowering(Graph* graph, const std::vector<NodeDecision>& decisions)
      : g_(*graph), decisions_(decisions) {}

  Status Run() {
    std::vector<NodeId> order;
    QSDK_RETURN_IF_ERROR(g_.TopologicalOrder(&order));
    // Constants first, then outputs (which fixes every tensor's stored type), then inputs.
    for (NodeId n : order) QSDK_RETURN_IF_ERROR(ConvertConstants(n));
    for (NodeId n : order) QSDK_RETURN_IF_ERROR(StoreOutput(n));
    for (NodeId n : order) QSDK_RETURN_IF_ERROR(CastInputs(n));
    return Status::Ok();
  }

 private:
  ComputePrecision Compute(NodeId n) const {
    return static_cast<size_t>(n) < decisions_.size() ? decisions_[n].compute
                                                      : ComputePrecision::kFloat32;
  }

  DataType Storage(NodeId n) const {
    DataType s = static_cast<size_t>(n) < decisions_.size() ? decisions_[n].output_storage
                                                            : DataType::FLOAT32;
    if (g_.IsGraphOutput(g_.nodes[n].outputs[0])) s = DataType::FLOAT32;
    return IsFloat(s) ? s : DataType::FLOAT32;
  }

  // The type node n's kernel writes its float output in.
  DataType KernelOutput(NodeId n) const {
    if (Compute(n) != ComputePrecision::kBFloat16) return DataType::FLOAT32;
    if (IsHeavy(g_.nodes[n].type) && Storage(n) == DataType::FLOAT32) return DataType::FLOAT32;
    return DataType::BFLOAT16;
  }

  // The type node n reads its float (non-constant) data input `slot` in.
  DataType KernelInput(NodeId n, size_t slot) const {
    const Node& node = g_.nodes[n];
    if (IsHeavy(node.type) && slot == 3) return KernelOutput(n);  // fused residual
    return Compute(n) == ComputePrecision::kBFloat16 ? DataType::BFLOAT16 : DataType::FLOAT32;
  }

  std::string UniqueTensorName(const std::string& base) const {
    std::string name = base;
    for (int k = 1; g_.FindTensor(name) != graph::kNoTensor || g_.FindNode(name) != graph::kNoNode;
         ++k) {
      name = StrCat(base, k);
    }
    return name;
  }

  std::string UniqueNodeName(const std::string& base) const {
    std::string name = base;
    for (int k = 1; g_.FindNode(name) != graph::kNoNode; ++k) name = StrCat(base, k);
    return name;
  }

  // A FLOAT32 constant converted to `type` (shared per (tensor, type)).
  Status ConvertedConstant(TensorId t, DataType type, TensorId* out) {
    auto key = std::make_pair(t, type);
    auto it = converted_.find(key);
    if (it != converted_.end()) {
      *out = it->second;
      return Status::Ok();
    }
    const graph::Tensor& c = g_.tensors[t];
    const int64_t count = graph::ElementCount(c.shape);
    std::vector<uint16_t> bits(static_cast<size_t>(count));
    const float* v = c.data->As<float>();
    for (int64_t i = 0; i < count; ++i) {
      bits[static_cast<size_t>(i)] = type == DataType::BFLOAT16
                                         ? reference::FloatToBfloat16Bits(v[i])
                                         : reference::FloatToHalfBits(v[i]);
    }
    const std::vector<int64_t> shape = c.shape;
    const std::string name = UniqueTensorName(c.name + "/" + Suffix(type));
    *out = g_.AddConstant(name, type, shape, bits.data(), bits.size() * sizeof(uint16_t));
    converted_[key] = *out;
    return Status::Ok();
  }

  Status ConvertConstants(NodeId n) {
    const ComputePrecision p = Compute(n);
    if (p != ComputePrecision::kBFloat16 && p != ComputePrecision::kFloat16) return Status::Ok();
    Node& node = g_.nodes[n];
    for (size_t slot = 0; slot < node.inputs.size(); ++slot) {
      const TensorId t = node.inputs[slot];
      if (t == graph::kNoTensor || !g_.tensors[t].is_constant() ||
          g_.tensors[t].dtype != DataType::FLOAT32) {
        continue;
      }
      DataType to = DataType::INVALID;
      if (p == ComputePrecision::kBFloat16) {
        // BF16 kernels: weights and constant data operands BF16; biases and BatchNorm
        // parameters stay FLOAT32 (oneDNN takes them in f32).
        if (IsHeavy(node.type) && slot == 2) continue;
        if (node.type == NodeType::kBatchNorm && slot >= 1) continue;
        to = DataType::BFLOAT16;
      } else {
        // FP16 storage: the constants the runtime widens at load.
        const bool eligible = IsHeavy(node.type) || node.type == NodeType::kBatchNorm ||
                              node.type == NodeType::kElementwise;
        if (!eligible || (IsHeavy(node.type) && slot == 0)) continue;
        to = DataType::FLOAT16;
      }
      TensorId converted = graph::kNoTensor;
      QSDK_RETURN_IF_ERROR(ConvertedConstant(t, to, &converted));
      g_.nodes[n].inputs[slot] = converted;
    }
    return Status::Ok();
  }

  NodeId AddCast(TensorId in, TensorId out) {
    Node cast;
    cast.type = NodeType::kCast;
    cast.name = UniqueNodeName(g_.tensors[out].name + "/cast");
    cast.inputs = {in};
    cast.outputs = {out};
    return g_.AddNode(std::move(cast));
  }

  Status StoreOutput(NodeId n) {
    const Node& node = g_.nodes[n];
    if (node.type == NodeType::kConst || node.type == NodeType::kCast) return Status::Ok();
    const TensorId t = node.outputs[0];
    if (!IsFloat(g_.tensors[t].dtype) || !g_.tensors[t].quant.empty()) return Status::Ok();
    const DataType kernel = KernelOutput(n);
    const DataType storage = Storage(n);
    if (kernel == storage) {
      g_.tensors[t].dtype = storage;
      return Status::Ok();
    }
    // The kernel writes a new tensor; a Cast stores it in the original one.
    graph::Tensor written;
    written.name = UniqueTensorName(g_.tensors[t].name + "/" + Suffix(kernel));
    written.dtype = kernel;
    written.shape = g_.tensors[t].shape;
    written.range = g_.tensors[t].range;
    const TensorId w = g_.AddTensor(std::move(written));
    g_.nodes[n].outputs[0] = w;
    g_.tensors[w].producer = n;
    g_.tensors[t].producer = graph::kNoNode;
    g_.tensors[t].dtype = storage;
    AddCast(w, t);
    return Status::Ok();
  }

  Status CastInputs(NodeId n) {
    const NodeType type = g_.nodes[n].type;
    if (type == NodeType::kConst || type == NodeType::kCast) return Status::Ok();
    for (size_t slot = 0; slot < g_.nodes[n].inputs.size(); ++slot) {
      const TensorId t = g_.nodes[n].inputs[slot];
      if (t == graph::kNoTensor || g_.tensors[t].is_constant()) continue;
      if (!IsFloat(g_.tensors[t].dtype) || !g_.tensors[t].quant.empty()) continue;
      const DataType want = KernelInput(n, slot);
      if (g_.tensors[t].dtype == want) continue;
      auto key = std::make_pair(t, want);
      auto it = casts_.find(key);
      TensorId c = graph::kNoTensor;
      if (it != casts_.end()) {
        c = it->second;
      } else {
        graph::Tensor cast_out;
        cast_out.name = UniqueTensorName(g_.tensors[t].name + "/" + Suffix(want));
        cast_out.dtype = want;
        cast_out.shape = g_.tensors[t].shape;
        cast_out.range = g_.tensors[t].range;
        c = g_.AddTensor(std::move(cast_out));
        AddCast(t, c);
        casts_[key] = c;
      }
      g_.nodes[n].inputs[slot] = c;
    }
    return Status::Ok();
  }

  Graph& g_;
  const std::vector<NodeDecision>& decisions_;
  std::map<std::pair<TensorId, DataType>, TensorId> converted_;
  std::map<std::pair<TensorId, DataType>, TensorId> casts_;
};

}  // namespace

Status LowerFloatTypes(Graph* graph, const std::vector<NodeDecision>& decisions) {
  return FloatLowering(graph, decisions).Run();
}

}  // namespace qsdk::builder
