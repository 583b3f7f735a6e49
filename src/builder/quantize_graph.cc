#include "builder/quantize_graph.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "common/status_macros.h"
#include "reference/quant_math.h"

namespace qsdk::builder {
namespace {

using graph::Graph;
using graph::Node;
using graph::NodeId;
using graph::QuantParams;
using graph::TensorId;
using graph::TensorRange;

DataType StorageOf(DataType q) {
  switch (q) {
    case DataType::QINT8: return DataType::INT8;
    case DataType::QINT16: return DataType::INT16;
    default: return DataType::UINT8;
  }
}

const char* SuffixOf(DataType q) {
  switch (q) {
    case DataType::QINT8: return "s8";
    case DataType::QINT16: return "s16";
    default: return "u8";
  }
}

bool IsHeavy(NodeType t) {
  return t == NodeType::kConv || t == NodeType::kFullyConnected || t == NodeType::kMatMul;
}

// Per-tensor min / max over a (possibly per-axis) range.
void Envelope(const TensorRange& range, float* lo, float* hi) {
  *lo = range.min[0];
  *hi = range.max[0];
  for (float v : range.min) *lo = std::min(*lo, v);
  for (float v : range.max) *hi = std::max(*hi, v);
}

// Parameters of `range` stored as `type` (QINT8 / QUINT8). The scheme picks between the
// two only for ranges with negative values; an explicit type overrides it.
Status ParamsFor(const TensorRange& range, DataType type, const std::string& what,
                 QuantParams* params) {
  float lo = 0, hi = 0;
  Envelope(range, &lo, &hi);
  if (type == DataType::QINT16) {
    reference::ActivationQuant choice;
    Status s = reference::ChooseInt16ActivationParams(lo, hi, &choice);
    if (!s.ok()) return InvalidArgument(what, ": ", s.message());
    *params = choice.params;
    return Status::Ok();
  }
  reference::QuantScheme scheme = reference::QuantScheme::kSymmetric;
  if (type == DataType::QUINT8) {
    scheme = reference::QuantScheme::kAsymmetric;  // u8 with a negative min needs a zero point
  } else {
    // INT8 symmetric even for a non-negative range: widen to the symmetric envelope.
    // An all-zero range gets s = 1 as the contract says (m = 127 gives 127 / 127).
    const float m = std::max(std::fabs(lo), std::fabs(hi));
    lo = m > 0.0f ? -m : -127.0f;
    hi = m > 0.0f ? m : 127.0f;
  }
  reference::ActivationQuant choice;
  Status s = reference::ChooseActivationParams(lo, hi, scheme, &choice);
  if (!s.ok()) return InvalidArgument(what, ": ", s.message());
  if (choice.dtype != StorageOf(type)) {
    return InternalError(what, ": parameters chosen for ", DataTypeName(choice.dtype),
                         " instead of ", DataTypeName(type));
  }
  *params = choice.params;
  return Status::Ok();
}

// The [min, max] of a FLOAT32 constant's values.
TensorRange ConstantRange(const graph::Tensor& t) {
  TensorRange r;
  const int64_t count = graph::ElementCount(t.shape);
  if (count <= 0 || t.dtype != DataType::FLOAT32) return r;
  const float* v = t.data->As<float>();
  float lo = v[0], hi = v[0];
  for (int64_t i = 1; i < count; ++i) {
    lo = std::min(lo, v[i]);
    hi = std::max(hi, v[i]);
  }
  r.min = {lo};
  r.max = {hi};
  return r;
}

class Lowering {
 public:
  Lowering(Graph* graph, const std::vector<NodeDecision>& decisions,
           const QuantizationSettings& settings)
      : g_(*graph), decisions_(decisions), settings_(settings) {}

  Status Run() {
    std::vector<NodeId> order;
    QSDK_RETURN_IF_ERROR(g_.TopologicalOrder(&order));
    const size_t original_nodes = g_.nodes.size();
    consumers_ = g_.Consumers();
    for (NodeId n : order) {
      if (static_cast<size_t>(n) >= original_nodes) continue;
      switch (decisions_[n].compute) {
        case ComputePrecision::kInt8: QSDK_RETURN_IF_ERROR(Lower(n)); break;
        case ComputePrecision::kInt16: QSDK_RETURN_IF_ERROR(LowerInt16(n)); break;
        case ComputePrecision::kDynamicInt8: QSDK_RETURN_IF_ERROR(LowerDynamic(n)); break;
        default: break;
      }
    }
    return Status::Ok();
  }

 private:
  // Adds a tensor "<base>/<suffix>" (unique) and returns its id.
  TensorId NewTensor(const std::string& base, const std::string& suffix, DataType dtype,
                     const std::vector<int64_t>& shape, QuantParams params) {
    std::string name = base + "/" + suffix;
    for (int k = 1; g_.FindTensor(name) != graph::kNoTensor; ++k) {
      name = StrCat(base, "/", suffix, k);
    }
    graph::Tensor t;
    t.name = name;
    t.dtype = dtype;
    t.shape = shape;
    t.quant = std::move(params);
    return g_.AddTensor(std::move(t));
  }

  std::string UniqueNodeName(const std::string& base) const {
    std::string name = base;
    for (int k = 1; g_.FindNode(name) != graph::kNoNode; ++k) name = StrCat(base, k);
    return name;
  }

  NodeId AddUnary(NodeType type, const std::string& name, TensorId in, TensorId out) {
    Node node;
    node.type = type;
    node.name = UniqueNodeName(name);
    node.inputs = {in};
    node.outputs = {out};
    return g_.AddNode(std::move(node));
  }

  // The version of tensor `t` stored as `type` with `params` (params empty = derive from
  // the range), creating a Quantize (or requantize) node if needed.
  Status Quantized(TensorId t, DataType type, const QuantParams* params, TensorId* out) {
    auto& by_type = versions_[t];
    auto it = by_type.find(type);
    if (it != by_type.end() && (params == nullptr || g_.tensors[it->second].quant == *params)) {
      *out = it->second;
      return Status::Ok();
    }
    QuantParams chosen;
    if (params != nullptr) {
      chosen = *params;
    } else {
      if (g_.tensors[t].range.empty() && g_.tensors[t].is_constant()) {
        g_.tensors[t].range = ConstantRange(g_.tensors[t]);  // a constant's range is its data's
      }
      if (g_.tensors[t].range.empty()) {
        return Status(StatusCode::kFailedPrecondition,
                      StrCat(g_.DescribeTensor(t), " must be quantized but has no range: "
                                                   "calibrate or set one"));
      }
      QSDK_RETURN_IF_ERROR(ParamsFor(g_.tensors[t].range, type, g_.DescribeTensor(t), &chosen));
    }
    const std::string base = g_.tensors[t].name;
    if (g_.tensors[t].is_constant() && g_.tensors[t].dtype == DataType::FLOAT32) {
      // A constant operand is quantized now, once, rather than by a node at every run.
      const graph::Tensor& c = g_.tensors[t];
      const int64_t count = graph::ElementCount(c.shape);
      const float inv = reference::InverseScale(chosen.scales[0]);
      std::vector<uint8_t> bytes(static_cast<size_t>(count));
      for (int64_t i = 0; i < count; ++i) {
        const int32_t q =
            reference::QuantizeValue(c.data->As<float>()[i], inv, chosen.zero_points[0],
                                     StorageOf(type));
        bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(q);  // two's complement for INT8
      }
      const std::vector<int64_t> shape = c.shape;
      const std::string name = UniqueConstName(base + "/" + SuffixOf(type));
      const TensorId q =
          g_.AddConstant(name, StorageOf(type), shape, bytes.data(), bytes.size());
      g_.tensors[q].quant = chosen;
      by_type[type] = q;
      *out = q;
      return Status::Ok();
    }
    // Requantize from an existing quantized version when there is one (no FLOAT32 round
    // trip in memory), else quantize the FLOAT32 tensor.
    TensorId source = t;
    if (!by_type.empty()) source = by_type.begin()->second;
    const TensorId q = NewTensor(base, SuffixOf(type), StorageOf(type), g_.tensors[t].shape,
                                 chosen);
    AddUnary(NodeType::kQuantize, base + "/quantize", source, q);
    if (it == by_type.end()) by_type[type] = q;
    *out = q;
    return Status::Ok();
  }

  // Replaces constant input `slot` of node `n` with its INT8 (weights) version.
  Status QuantizeWeightsOf(NodeId n, size_t slot, int32_t axis, QuantParams* wparams) {
    const TensorId w = g_.nodes[n].inputs[slot];
    const graph::Tensor& wt = g_.tensors[w];
    std::vector<int8_t> q;
    QSDK_RETURN_IF_ERROR(reference::QuantizeWeights(wt.data->As<float>(), wt.shape, axis, &q,
                                                    wparams));
    const TensorId id = g_.AddConstant(UniqueConstName(wt.name + "/int8"), DataType::INT8,
                                       wt.shape, q.data(), q.size());
    g_.tensors[id].quant = *wparams;
    g_.nodes[n].inputs[slot] = id;
    return Status::Ok();
  }

  // The output-channel axis of the weights of heavy node n (per-channel granularity), or
  // -1: Conv filters [OC, ...] and FC weights [OC, K] axis 0; a MatMul's constant b
  // [K, N] per output column (the axis holding N: rank-1, or rank-2 when transposed).
  int32_t WeightsAxis(NodeId n) const {
    if (!settings_.per_channel_weights) return -1;
    if (g_.nodes[n].type != NodeType::kMatMul) return 0;
    const auto rank = static_cast<int32_t>(g_.tensors[g_.nodes[n].inputs[1]].shape.size());
    return g_.nodes[n].attrs.GetInt(graph::attr::kTransposeB) != 0 ? rank - 2 : rank - 1;
  }

  // INT16: x quantized to QINT16 (symmetric), weights INT16 symmetric, bias and residual
  // stay FLOAT32, output FLOAT32.
  Status LowerInt16(NodeId n) {
    TensorId q = graph::kNoTensor;
    QSDK_RETURN_IF_ERROR(Quantized(g_.nodes[n].inputs[0], DataType::QINT16, nullptr, &q));
    g_.nodes[n].inputs[0] = q;
    const TensorId w = g_.nodes[n].inputs[1];
    const graph::Tensor& wt = g_.tensors[w];
    std::vector<int16_t> qw;
    QuantParams wparams;
    QSDK_RETURN_IF_ERROR(reference::QuantizeWeightsInt16(wt.data->As<float>(), wt.shape,
                                                         WeightsAxis(n), &qw, &wparams));
    const TensorId id = g_.AddConstant(UniqueConstName(wt.name + "/int16"), DataType::INT16,
                                       wt.shape, qw.data(), qw.size() * sizeof(int16_t));
    g_.tensors[id].quant = wparams;
    g_.nodes[n].inputs[1] = id;
    return Status::Ok();
  }

  // Dynamic INT8: weights INT8 now; the activation is quantized per batch by the kernel.
  Status LowerDynamic(NodeId n) {
    QuantParams wparams;
    QSDK_RETURN_IF_ERROR(QuantizeWeightsOf(n, 1, WeightsAxis(n), &wparams));
    g_.nodes[n].attrs.SetInt(graph::attr::kDynamicQuantization, 1);
    return Status::Ok();
  }

  Status QuantizeBiasOf(NodeId n, size_t slot, float input_scale, const QuantParams& wparams) {
    const TensorId b = g_.nodes[n].inputs[slot];
    if (b == graph::kNoTensor) return Status::Ok();
    const graph::Tensor& bt = g_.tensors[b];
    std::vector<int32_t> q;
    QuantParams bparams;
    QSDK_RETURN_IF_ERROR(reference::QuantizeBias(bt.data->As<float>(), bt.shape, input_scale,
                                                 wparams, &q, &bparams));
    const TensorId id = g_.AddConstant(UniqueConstName(bt.name + "/int32"), DataType::INT32,
                                       bt.shape, q.data(), q.size() * sizeof(int32_t));
    g_.tensors[id].quant = bparams;
    g_.nodes[n].inputs[slot] = id;
    return Status::Ok();
  }

  std::string UniqueConstName(const std::string& base) const {
    std::string name = base;
    for (int k = 1; g_.FindTensor(name) != graph::kNoTensor || g_.FindNode(name) != graph::kNoNode;
         ++k) {
      name = StrCat(base, k);
    }
    return name;
  }

  // Makes node n write its output quantized as `type` with `params`: the node writes a
  // new tensor, and the original (FLOAT32) tensor is produced by a Dequantize of it.
  void QuantizeOutput(NodeId n, DataType type, QuantParams params) {
    const TensorId t = g_.nodes[n].outputs[0];
    const std::string base = g_.tensors[t].name;
    const TensorId q = NewTensor(base, "q", StorageOf(type), g_.tensors[t].shape, params);
    g_.nodes[n].outputs[0] = q;
    g_.tensors[q].producer = n;
    g_.tensors[t].producer = graph::kNoNode;
    AddUnary(NodeType::kDequantize, base + "/dequantize", q, t);
    versions_[t][type] = q;
  }

  Status Lower(NodeId n) {
    const NodeDecision& d = decisions_[n];
    const NodeType type = g_.nodes[n].type;
    const std::string what = g_.DescribeNode(n);

    if (type == NodeType::kConcat) return LowerConcat(n);

    // Data inputs (and a fused residual, when it is available quantized).
    for (size_t slot = 0; slot < d.input_types.size(); ++slot) {
      const DataType want = d.input_types[slot];
      if (want != DataType::QINT8 && want != DataType::QUINT8) continue;
      const TensorId t = g_.nodes[n].inputs[slot];
      if (IsHeavy(type) && slot == 3) {
        auto it = versions_[t].find(want);
        if (it != versions_[t].end()) g_.nodes[n].inputs[slot] = it->second;
        continue;
      }
      TensorId q = graph::kNoTensor;
      QSDK_RETURN_IF_ERROR(Quantized(t, want, nullptr, &q));
      g_.nodes[n].inputs[slot] = q;
    }

    if (IsHeavy(type)) {
      const float input_scale = g_.tensors[g_.nodes[n].inputs[0]].quant.scales[0];
      QuantParams wparams;
      QSDK_RETURN_IF_ERROR(QuantizeWeightsOf(n, 1, WeightsAxis(n), &wparams));
      if (g_.nodes[n].inputs.size() > 2) {
        QSDK_RETURN_IF_ERROR(QuantizeBiasOf(n, 2, input_scale, wparams));
      }
    }

    // Output.
    if (d.output_type == DataType::QINT8 || d.output_type == DataType::QUINT8) {
      QuantParams params;
      if (type == NodeType::kPool || type == NodeType::kReshape || type == NodeType::kFlatten) {
        params = g_.tensors[g_.nodes[n].inputs[0]].quant;  // same parameters as the input
      } else {
        const TensorId out = g_.nodes[n].outputs[0];
        QSDK_RETURN_IF_ERROR(ParamsFor(g_.tensors[out].range, d.output_type,
                                       StrCat(what, " output"), &params));
      }
      QuantizeOutput(n, d.output_type, params);
    }
    return Status::Ok();
  }

  // One scale for the inputs of a concat: the output's, from the union of the inputs'
  // ranges (or the first input's parameters when no range is known).
  Status LowerConcat(NodeId n) {
    const NodeDecision& d = decisions_[n];
    const DataType type = d.output_type;
    TensorRange merged;
    for (TensorId t : g_.nodes[n].inputs) {
      const TensorRange& r = g_.tensors[t].range;
      if (r.empty()) continue;
      float lo = 0, hi = 0;
      Envelope(r, &lo, &hi);
      if (merged.empty()) {
        merged.min = {lo};
        merged.max = {hi};
      }
      merged.min[0] = std::min(merged.min[0], lo);
      merged.max[0] = std::max(merged.max[0], hi);
    }
    QuantParams params;
    if (!merged.empty()) {
      QSDK_RETURN_IF_ERROR(ParamsFor(merged, type, g_.DescribeNode(n), &params));
    } else {
      const TensorId first = g_.nodes[n].inputs[0];
      auto it = versions_[first].find(type);
      if (it == versions_[first].end()) {
        return Status(StatusCode::kFailedPrecondition,
                      StrCat(g_.DescribeNode(n), ": no range on any input to choose the "
                                                 "concat's shared scale"));
      }
      params = g_.tensors[it->second].quant;
    }
    for (size_t slot = 0; slot < g_.nodes[n].inputs.size(); ++slot) {
      const TensorId t = g_.nodes[n].inputs[slot];
      auto it = versions_[t].find(type);
      // The producer writes the concat's scale directly when the concat is its only reader.
      if (it != versions_[t].end() && consumers_[t].size() == 1 &&
          g_.tensors[it->second].producer != graph::kNoNode &&
          g_.nodes[g_.tensors[it->second].producer].type != NodeType::kQuantize) {
        const NodeId producer = g_.tensors[it->second].producer;
        const NodeType pt = g_.nodes[producer].type;
        if (IsHeavy(pt) || pt == NodeType::kElementwise) {
          g_.tensors[it->second].quant = params;
          g_.nodes[n].inputs[slot] = it->second;
          continue;
        }
      }
      TensorId q = graph::kNoTensor;
      QSDK_RETURN_IF_ERROR(Quantized(t, type, &params, &q));
      g_.nodes[n].inputs[slot] = q;
    }
    QuantizeOutput(n, type, params);
    return Status::Ok();
  }

  Graph& g_;
  const std::vector<NodeDecision>& decisions_;
  const QuantizationSettings& settings_;
  std::vector<std::vector<NodeId>> consumers_;
  // Per original tensor: its quantized versions by type (QINT8 / QUINT8).
  std::map<TensorId, std::map<DataType, TensorId>> versions_;
};

}  // namespace

Status QuantizeGraph(Graph* graph, const std::vector<NodeDecision>& decisions,
                     const QuantizationSettings& settings) {
  if (decisions.size() != graph->nodes.size()) {
    return InternalError("QuantizeGraph: ", decisions.size(), " decisions for ",
                         graph->nodes.size(), " nodes");
  }
  return Lowering(graph, decisions, settings).Run();
}

}  // namespace qsdk::builder
