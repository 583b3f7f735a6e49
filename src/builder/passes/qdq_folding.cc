// Q/DQ folding: explicit quantization (INetwork Quantize / Dequantize nodes, ONNX QDQ
// models) becomes quantized kernels that use exactly the network's parameters, in the
// forms the runtime executes (docs/quantization.md; the same forms the builder's own INT8
// lowering produces). Nothing is recalibrated.
//
// Patterns, each node visited in topological order. Every rewrite computes what the Q/DQ
// graph computes except where integer arithmetic replaces float arithmetic: the heavy
// ops' exact integer sums (and the bias rounded to the accumulator's step) instead of float
// sums of dequantized products, and the average pool's mean of codes instead of the mean
// of dequantized values; an output code can then differ by 1 where the value lies within
// float rounding of a tie (docs/quantization.md §6).
// - Conv / FullyConnected / MatMul whose x is Dequantize(x_q) (x_q INT8 / UINT8 per tensor)
//   and whose weights are Dequantize(INT8 constant, zero points 0, per tensor or along the
//   output-channel axis): the node reads x_q and the INT8 constant. Its bias becomes INT32
//   in the scale s_x * s_w: a FLOAT32 constant is quantized (reference::QuantizeBias: the
//   one rounding the builder's INT8 lowering also makes), a Dequantize of an INT32 constant
//   whose scales equal s_x * s_w to float rounding (relative 1e-6) keeps its integers (any
//   other is dequantized, then quantized). A fused residual that is Dequantize(R_q) (8-bit,
//   per tensor) is read as R_q. The same with INT16 x and INT16 weights (values in
//   [-32767, 32767]: the INT16 kernels need it) gives the INT16 form: FLOAT32 bias and
//   residual.
// - Elementwise (add / sub / mul) with both operands Dequantize of 8-bit per-tensor
//   tensors: reads them quantized.
// - Pool, Reshape, Flatten reading Dequantize(x_q) (8-bit, per tensor) whose output is
//   quantized with exactly x_q's type and parameters (the quantized kernels keep them);
//   Concat when every input is such a Dequantize with the output's type and parameters.
//   Reshape, Flatten and max pooling without such a Quantize after them read x_q and the
//   Dequantize moves after them (exact: they copy or compare codes, and Dequantize is
//   increasing), so that their readers may fold it (e.g. Flatten then FullyConnected, or
//   a Quantize with other parameters, which becomes a requantization).
// - Output: when every reader of a folded node's output is a Quantize with one and the
//   same per-tensor parameters (of the node's family: 8-bit, or INT16 for the INT16
//   kernels), the node writes that Quantize's output and the Quantize nodes go; otherwise
//   a heavy or elementwise node writes FLOAT32 (integer compute, dequantized output), and
//   an average pool or a Concat is not folded.
// - Quantize(Dequantize(a_q)) reads a_q directly (a requantization, which the contract
//   defines as exactly that dequantize-then-quantize), or, with identical parameters, is
//   dropped: its readers read a_q.
// - A Relu whose every reader is a Quantize with zero points equal to the type's minimum
//   is dropped: such a Quantize already maps every value <= 0 to that code, so Q(relu(x))
//   = Q(x) bit for bit; this lets an add + Relu + Quantize fold.
// Folded nodes get kExplicitQuantizationAttr = 1. Nodes with a precision request
// (SetPrecision / SetOutputType) are left as they are, as are per-axis activation
// parameters (the kernels quantize activations per tensor).
//
// Afterwards, Quantize / Dequantize nodes nothing reads any more are removed; a
// Dequantize of a constant that is still read (weights of a node that did not fold) becomes
// a FLOAT32 constant holding exactly the dequantized values (the runtime needs constant
// weights); the others stay and run as kernels. Notes say which, and why.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "builder/passes/pass.h"
#include "builder/passes/pass_util.h"
#include "common/status_macros.h"
#include "graph/shape_inference.h"
#include "reference/quant_math.h"

namespace qsdk::builder {

namespace {

using graph::Graph;
using graph::Node;
using graph::NodeId;
using graph::QuantParams;
using graph::TensorId;

constexpr size_t kBiasSlot = 2;
constexpr size_t kResidualSlot = 3;

bool IsHeavy(NodeType t) {
  return t == NodeType::kConv || t == NodeType::kFullyConnected || t == NodeType::kMatMul;
}

bool Is8Bit(DataType t) { return t == DataType::INT8 || t == DataType::UINT8; }

bool HasPrecisionRequest(const Node& node) {
  for (DataType t : node.input_precisions) {
    if (t != DataType::INVALID) return true;
  }
  for (DataType t : node.output_types) {
    if (t != DataType::INVALID) return true;
  }
  return false;
}

// "UINT8 scale=0.0125 zero_point=0" / "INT8 per axis 0 (8 scales)" / "FLOAT32".
std::string TypeText(const graph::Tensor& t) {
  if (t.quant.empty()) return DataTypeName(t.dtype);
  if (t.quant.per_tensor()) {
    return StrCat(DataTypeName(t.dtype), " scale=", t.quant.scales[0],
                  " zero_point=", t.quant.zero_points[0]);
  }
  return StrCat(DataTypeName(t.dtype), " per axis ", t.quant.axis, " (", t.quant.scales.size(),
                " scales)");
}

// Index into a tensor's per-axis parameters for element `i` of its `shape`.
size_t ParamIndex(const QuantParams& p, const std::vector<int64_t>& shape, int64_t i) {
  if (p.per_tensor()) return 0;
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(p.axis) + 1; d < shape.size(); ++d) inner *= shape[d];
  return static_cast<size_t>((i / inner) % shape[static_cast<size_t>(p.axis)]);
}

// The integer value of element `i` of a quantized constant.
int32_t IntAt(const graph::Tensor& t, int64_t i) {
  switch (t.dtype) {
    case DataType::INT8: return t.data->As<int8_t>()[i];
    case DataType::UINT8: return t.data->As<uint8_t>()[i];
    case DataType::INT16: return t.data->As<int16_t>()[i];
    default: return t.data->As<int32_t>()[i];
  }
}

// The real values of a quantized constant: scale * (float(q) - float(zero_point)), the
// Dequantize kernel's arithmetic.
std::vector<float> Dequantized(const graph::Tensor& t) {
  const int64_t count = graph::ElementCount(t.shape);
  std::vector<float> v(static_cast<size_t>(std::max<int64_t>(count, 0)));
  for (int64_t i = 0; i < count; ++i) {
    const size_t k = ParamIndex(t.quant, t.shape, i);
    v[static_cast<size_t>(i)] =
        reference::DequantizeValue(IntAt(t, i), t.quant.scales[k], t.quant.zero_points[k]);
  }
  return v;
}

// Same float to rounding, as the runtime and the reference compare bias scales.
bool SameScale(float a, float b) { return std::fabs(a - b) <= 1e-6f * std::fabs(b); }

class QdqFolder {
 public:
  QdqFolder(Graph* graph, QdqFoldingNotes* notes) : g_(*graph), notes_(*notes) {}

  Status Run() {
    QSDK_RETURN_IF_ERROR(g_.Validate());
    // A network without explicit quantization is left exactly as it is.
    bool explicit_quantization = false;
    for (const Node& n : g_.nodes) {
      explicit_quantization = explicit_quantization || n.type == NodeType::kQuantize ||
                              n.type == NodeType::kDequantize;
    }
    if (!explicit_quantization) return Status::Ok();
    consumers_ = g_.Consumers();
    remove_.assign(g_.nodes.size(), false);
    folded_.assign(g_.nodes.size(), false);
    DropReluBeforeSaturatingQuantize();
    std::vector<NodeId> order;
    QSDK_RETURN_IF_ERROR(g_.TopologicalOrder(&order));
    for (NodeId n : order) {
      if (remove_[n]) continue;
      const NodeType type = g_.nodes[n].type;
      if (IsHeavy(type)) {
        QSDK_RETURN_IF_ERROR(FoldHeavy(n));
      } else if (type == NodeType::kElementwise) {
        FoldElementwise(n);
      } else if (type == NodeType::kPool || type == NodeType::kReshape ||
                 type == NodeType::kFlatten) {
        FoldCopyLike(n);
      } else if (type == NodeType::kConcat) {
        FoldConcat(n);
      } else if (type == NodeType::kQuantize) {
        FoldRequantize(n);
      }
    }
    RemoveUnread();
    MaterializeConstantDequantize();
    NoteKept();
    remove_.resize(g_.nodes.size(), false);
    internal::MarkUnusedConstants(g_, unreferenced_, &remove_);
    QSDK_RETURN_IF_ERROR(internal::RemoveMarkedNodes(&g_, remove_));
    // The rewritten nodes must satisfy the per-op type rules; re-inferring checks them.
    const Status s = graph::InferShapes(&g_);
    if (!s.ok()) {
      return InternalError("FoldQdq: the folded graph does not check (", s.message(), ")");
    }
    return Status::Ok();
  }

 private:
  // --- Graph helpers. ----------------------------------------------------------------------

  NodeId Producer(TensorId t) const {
    return t == graph::kNoTensor ? graph::kNoNode : g_.tensors[t].producer;
  }

  bool IsDequantize(NodeId n) const {
    return n != graph::kNoNode && !remove_[n] && g_.nodes[n].type == NodeType::kDequantize &&
           g_.nodes[n].inputs.size() == 1;
  }

  std::string Name(TensorId t) const { return StrCat("'", g_.tensors[t].name, "'"); }

  // Node `n` reads `t` at `slot` instead of what it read; keeps consumers_ current.
  void ReplaceInput(NodeId n, size_t slot, TensorId t) {
    TensorId& in = g_.nodes[n].inputs[slot];
    if (in == t) return;
    if (in != graph::kNoTensor) {
      std::vector<NodeId>& readers = consumers_[in];
      auto it = std::find(readers.begin(), readers.end(), n);
      if (it != readers.end()) readers.erase(it);
      unreferenced_.push_back(in);
    }
    in = t;
    if (t != graph::kNoTensor) consumers_[t].push_back(n);
  }

  // Removes node `n` (which must not be read any more): it reads nothing from now on.
  void RemoveNode(NodeId n) {
    Node& node = g_.nodes[n];
    for (size_t slot = 0; slot < node.inputs.size(); ++slot) {
      ReplaceInput(n, slot, graph::kNoTensor);
    }
    node.inputs.clear();
    node.input_precisions.clear();
    remove_[n] = true;
  }

  // Adds a constant (with its Const node) and returns it.
  TensorId AddConstant(const std::string& base, DataType dtype, const std::vector<int64_t>& shape,
                       const void* bytes, size_t size, const QuantParams& params) {
    const TensorId id = g_.AddConstant(internal::UniqueName(g_, base), dtype, shape, bytes, size);
    g_.tensors[id].quant = params;
    consumers_.resize(g_.tensors.size());
    remove_.resize(g_.nodes.size(), false);
    folded_.resize(g_.nodes.size(), false);
    return id;
  }

  // --- The sources a folded node reads. ---------------------------------------------------

  // When `t` is the output of a Dequantize of a per-tensor quantized tensor of an accepted
  // type (8-bit; INT16 too when `allow_int16`), that tensor; with `allow_constant`, also an
  // integer constant. Otherwise kNoTensor, with the reason in `why`.
  TensorId QuantizedSource(TensorId t, bool allow_int16, bool allow_constant,
                           std::string* why) const {
    const NodeId p = Producer(t);
    if (!IsDequantize(p)) {
      *why = StrCat("input ", Name(t), " is not the output of a Dequantize");
      return graph::kNoTensor;
    }
    const TensorId s = g_.nodes[p].inputs[0];
    const graph::Tensor& src = g_.tensors[s];
    if (src.is_constant() && !allow_constant) {
      *why = StrCat("input ", Name(t), " dequantizes a constant");
      return graph::kNoTensor;
    }
    if (!(Is8Bit(src.dtype) || (allow_int16 && src.dtype == DataType::INT16))) {
      *why = StrCat("input ", Name(t), " dequantizes ", TypeText(src), "; the quantized kernel ",
                    "reads ", allow_int16 ? "INT8, UINT8 or INT16" : "INT8 or UINT8");
      return graph::kNoTensor;
    }
    if (!src.quant.per_tensor()) {
      *why = StrCat("input ", Name(t), " dequantizes ", Name(s), " quantized per axis (",
                    TypeText(src), "); quantized kernels read activations quantized per tensor");
      return graph::kNoTensor;
    }
    return s;
  }

  // The Quantize nodes reading node n's output when they can become its output: the output
  // is not a network output, and every reader is a Quantize (without precision request)
  // writing the same type (accepted by `accept`) and the same per-tensor parameters.
  template <typename Accept>
  bool OutputQuantizers(NodeId n, Accept accept, std::vector<NodeId>* qs,
                        std::string* why) const {
    const TensorId t = g_.nodes[n].outputs[0];
    qs->clear();
    if (g_.IsGraphOutput(t)) {
      *why = StrCat("its output ", Name(t), " is a network output");
      return false;
    }
    if (consumers_[t].empty()) {
      *why = StrCat("nothing reads its output ", Name(t));
      return false;
    }
    const graph::Tensor* first = nullptr;
    for (NodeId c : consumers_[t]) {
      const Node& q = g_.nodes[c];
      if (q.type != NodeType::kQuantize) {
        *why = StrCat("its output ", Name(t), " is read by ", g_.DescribeNode(c),
                      ", not only by Quantize nodes");
        return false;
      }
      const graph::Tensor& out = g_.tensors[q.outputs[0]];
      if (HasPrecisionRequest(q) || g_.IsGraphOutput(q.outputs[0])) {
        *why = StrCat(g_.DescribeNode(c), " after it has a precision request");
        return false;
      }
      if (!out.quant.per_tensor() || !accept(out.dtype)) {
        *why = StrCat(g_.DescribeNode(c), " after it writes ", TypeText(out),
                      ", which this kernel cannot write");
        return false;
      }
      if (first != nullptr && (first->dtype != out.dtype || !(first->quant == out.quant))) {
        *why = StrCat("the Quantize nodes reading its output ", Name(t),
                      " use different parameters");
        return false;
      }
      first = &out;
      qs->push_back(c);
    }
    return true;
  }

  // Node n writes the output of the Quantize nodes `qs` (OutputQuantizers): the first one's
  // tensor, which the others' readers read too. The Quantize nodes go, the first keeping
  // n's old output (now read by nobody) until the removal.
  void TakeQuantizedOutput(NodeId n, const std::vector<NodeId>& qs) {
    const TensorId old_out = g_.nodes[n].outputs[0];
    const TensorId q_out = g_.nodes[qs[0]].outputs[0];
    for (size_t i = 1; i < qs.size(); ++i) {
      const TensorId other = g_.nodes[qs[i]].outputs[0];
      const std::vector<NodeId> readers = consumers_[other];
      for (NodeId r : readers) {
        for (size_t slot = 0; slot < g_.nodes[r].inputs.size(); ++slot) {
          if (g_.nodes[r].inputs[slot] == other) ReplaceInput(r, slot, q_out);
        }
      }
    }
    for (NodeId q : qs) RemoveNode(q);
    g_.nodes[n].outputs[0] = q_out;
    g_.tensors[q_out].producer = n;
    g_.nodes[qs[0]].outputs = {old_out};
    g_.tensors[old_out].producer = qs[0];
  }

  void MarkFolded(NodeId n, const std::string& what) {
    g_.nodes[n].attrs.SetInt(kExplicitQuantizationAttr, 1);
    folded_[n] = true;
    const Node& node = g_.nodes[n];
    std::string inputs;
    for (TensorId t : node.inputs) {
      if (t == graph::kNoTensor) continue;
      inputs += StrCat(inputs.empty() ? "" : ", ", Name(t), " (", TypeText(g_.tensors[t]), ")");
    }
    const TensorId out = node.outputs[0];
    notes_.folded.push_back(StrCat(g_.DescribeNode(n), ": ", what, ", with the network's ",
                                   "quantization; reads ", inputs, "; writes ", Name(out), " (",
                                   TypeText(g_.tensors[out]), ")"));
  }

  // --- Patterns. -----------------------------------------------------------------------------

  // Relu read only by Quantize nodes whose zero points are their type's minimum.
  void DropReluBeforeSaturatingQuantize() {
    for (NodeId n = 0; n < static_cast<NodeId>(g_.nodes.size()); ++n) {
      const Node& node = g_.nodes[n];
      if (node.type != NodeType::kActivation || node.inputs.size() != 1 ||
          node.outputs.size() != 1 || HasPrecisionRequest(node) ||
          node.attrs.GetInt(graph::attr::kActivation, 0) !=
              static_cast<int64_t>(ActivationType::kRelu)) {
        continue;
      }
      const TensorId out = node.outputs[0];
      if (g_.IsGraphOutput(out) || consumers_[out].empty()) continue;
      bool all_saturate = true;
      for (NodeId c : consumers_[out]) {
        const Node& q = g_.nodes[c];
        if (q.type != NodeType::kQuantize || HasPrecisionRequest(q)) {
          all_saturate = false;
          break;
        }
        const graph::Tensor& qt = g_.tensors[q.outputs[0]];
        for (int32_t z : qt.quant.zero_points) {
          all_saturate = all_saturate && z == reference::QuantizedMin(qt.dtype);
        }
      }
      if (!all_saturate) continue;
      const TensorId in = node.inputs[0];
      const std::vector<NodeId> readers = consumers_[out];
      for (NodeId c : readers) ReplaceInput(c, 0, in);
      notes_.folded.push_back(StrCat(
          g_.DescribeNode(n), ": removed: every reader is a Quantize whose zero point is its ",
          "type's minimum, which maps every value <= 0 to that code exactly as after the Relu"));
      RemoveNode(n);
    }
  }

  Status FoldHeavy(NodeId n) {
    const Node& node = g_.nodes[n];
    std::string why;
    if (HasPrecisionRequest(node)) {
      reason_[n] = "it has a precision request";
      return Status::Ok();
    }
    const TensorId x_q = QuantizedSource(node.inputs[0], true, false, &why);
    if (x_q == graph::kNoTensor) {
      reason_[n] = why;
      return Status::Ok();
    }
    const bool int16 = g_.tensors[x_q].dtype == DataType::INT16;
    const DataType weight_type = int16 ? DataType::INT16 : DataType::INT8;
    // Weights: Dequantize(constant), symmetric, per tensor or along the output channels.
    const TensorId w = node.inputs[1];
    const NodeId w_dq = Producer(w);
    if (!IsDequantize(w_dq) || !g_.tensors[g_.nodes[w_dq].inputs[0]].is_constant()) {
      reason_[n] = StrCat("its weights ", Name(w), " are not a Dequantize of a constant");
      return Status::Ok();
    }
    const TensorId w_q = g_.nodes[w_dq].inputs[0];
    const graph::Tensor& wt = g_.tensors[w_q];
    if (wt.dtype != weight_type) {
      reason_[n] = StrCat("its weights dequantize ", TypeText(wt), " but x is ",
                          DataTypeName(g_.tensors[x_q].dtype), "; the quantized kernels take ",
                          DataTypeName(weight_type), " weights with it");
      return Status::Ok();
    }
    for (int32_t z : wt.quant.zero_points) {
      if (z != 0) {
        reason_[n] = StrCat("its weights ", Name(w_q), " have zero point ", z,
                            "; quantized kernels take symmetric weights (zero point 0)");
        return Status::Ok();
      }
    }
    int32_t oc_axis = 0;
    if (node.type == NodeType::kMatMul) {
      const auto rank = static_cast<int32_t>(wt.shape.size());
      oc_axis = node.attrs.GetInt(graph::attr::kTransposeB) != 0 ? rank - 2 : rank - 1;
    }
    if (!wt.quant.per_tensor() && wt.quant.axis != oc_axis) {
      reason_[n] = StrCat("its weights ", Name(w_q), " are quantized along axis ", wt.quant.axis,
                          "; quantized kernels take weights per tensor or along the output ",
                          "channel axis ", oc_axis);
      return Status::Ok();
    }
    if (int16) {
      const int64_t count = graph::ElementCount(wt.shape);
      for (int64_t i = 0; i < count; ++i) {
        if (IntAt(wt, i) == -32768) {
          reason_[n] = StrCat("its INT16 weights ", Name(w_q), " hold -32768; the INT16 ",
                              "kernels take weights in [-32767, 32767]");
          return Status::Ok();
        }
      }
    }
    // Bias.
    TensorId bias = graph::kNoTensor;
    const bool has_bias =
        node.inputs.size() > kBiasSlot && node.inputs[kBiasSlot] != graph::kNoTensor;
    if (has_bias) {
      if (!MakeBias(n, x_q, w_q, int16, &bias, &why)) {
        reason_[n] = why;
        return Status::Ok();
      }
    }
    // Residual: read quantized when it is Dequantize(R_q) of an 8-bit per-tensor tensor
    // (the 8-bit kernels' sum post-op takes it; the INT16 ones read FLOAT32). (MakeBias
    // may have added a node: `node` is re-read.)
    const Node& host = g_.nodes[n];
    TensorId residual = graph::kNoTensor;
    if (!int16 && host.attrs.GetInt(graph::attr::kFusedSum, 0) != 0 &&
        host.inputs.size() > kResidualSlot) {
      std::string ignored;
      residual = QuantizedSource(host.inputs[kResidualSlot], false, false, &ignored);
    }
    std::vector<NodeId> qs;
    const bool quantized_output = OutputQuantizers(
        n, [&](DataType t) { return int16 ? t == DataType::INT16 : Is8Bit(t); }, &qs, &why);

    ReplaceInput(n, 0, x_q);
    ReplaceInput(n, 1, w_q);
    if (has_bias) ReplaceInput(n, kBiasSlot, bias);
    if (residual != graph::kNoTensor) ReplaceInput(n, kResidualSlot, residual);
    if (quantized_output) {
      TakeQuantizedOutput(n, qs);
    } else {
      output_reason_[n] = why;
    }
    MarkFolded(n, int16 ? "INT16 kernel" : "INT8 kernel");
    return Status::Ok();
  }

  // The bias of heavy node n in the quantized form: INT32 in the scale s_x * s_w (8-bit),
  // or FLOAT32 (INT16). False with `why` when it cannot be made.
  bool MakeBias(NodeId n, TensorId x_q, TensorId w_q, bool int16, TensorId* bias,
                std::string* why) {
    const TensorId b = g_.nodes[n].inputs[kBiasSlot];
    const graph::Tensor& bt = g_.tensors[b];
    std::vector<float> values;
    const graph::Tensor* dq_source = nullptr;
    if (bt.is_constant() && bt.dtype == DataType::FLOAT32) {
      if (int16) {
        *bias = b;
        return true;
      }
      const int64_t count = graph::ElementCount(bt.shape);
      values.assign(bt.data->As<float>(), bt.data->As<float>() + count);
    } else if (IsDequantize(Producer(b)) &&
               g_.tensors[g_.nodes[Producer(b)].inputs[0]].is_constant()) {
      dq_source = &g_.tensors[g_.nodes[Producer(b)].inputs[0]];
      values = Dequantized(*dq_source);
    } else {
      *why = StrCat("its bias ", Name(b), " is neither a FLOAT32 constant nor a Dequantize ",
                    "of a constant");
      return false;
    }
    const std::vector<int64_t> shape = bt.shape;
    const std::string base = dq_source != nullptr ? dq_source->name : bt.name;
    if (int16) {
      // The INT16 kernels add a FLOAT32 bias.
      *bias = AddConstant(base + "/float", DataType::FLOAT32, shape, values.data(),
                          values.size() * sizeof(float), QuantParams());
      return true;
    }
    const float s_x = g_.tensors[x_q].quant.scales[0];
    std::vector<int32_t> q;
    QuantParams params;
    const Status s = reference::QuantizeBias(values.data(), shape, s_x, g_.tensors[w_q].quant,
                                             &q, &params);
    if (!s.ok()) {
      *why = StrCat("its bias ", Name(b), " cannot be quantized: ", s.message());
      return false;
    }
    // An INT32 bias already in the accumulator's scale keeps its integers exactly.
    if (dq_source != nullptr && dq_source->dtype == DataType::INT32) {
      bool same = true;
      const int64_t count = graph::ElementCount(shape);
      for (int64_t i = 0; i < count && same; ++i) {
        const float given = dq_source->quant.scales[ParamIndex(dq_source->quant, shape, i)];
        same = SameScale(given, params.scales[ParamIndex(params, shape, i)]) &&
               dq_source->quant.zero_points[ParamIndex(dq_source->quant, shape, i)] == 0;
      }
      if (same) {
        for (int64_t i = 0; i < count; ++i) q[static_cast<size_t>(i)] = IntAt(*dq_source, i);
      }
    }
    *bias = AddConstant(base + "/int32", DataType::INT32, shape, q.data(),
                        q.size() * sizeof(int32_t), params);
    return true;
  }

  void FoldElementwise(NodeId n) {
    const Node& node = g_.nodes[n];
    std::string why;
    if (HasPrecisionRequest(node)) {
      reason_[n] = "it has a precision request";
      return;
    }
    if (node.inputs.size() != 2) return;
    const TensorId a = QuantizedSource(node.inputs[0], false, true, &why);
    const TensorId b = a == graph::kNoTensor ? graph::kNoTensor
                                              : QuantizedSource(node.inputs[1], false, true, &why);
    if (a == graph::kNoTensor || b == graph::kNoTensor) {
      reason_[n] = why;
      return;
    }
    if (g_.tensors[a].is_constant() && g_.tensors[b].is_constant()) {
      reason_[n] = "both operands are constants";
      return;
    }
    std::vector<NodeId> qs;
    const bool quantized_output = OutputQuantizers(n, Is8Bit, &qs, &why);
    ReplaceInput(n, 0, a);
    ReplaceInput(n, 1, b);
    if (quantized_output) {
      TakeQuantizedOutput(n, qs);
    } else {
      output_reason_[n] = why;
    }
    MarkFolded(n, "INT8 kernel");
  }

  // Pool / Reshape / Flatten: the quantized kernels write their input's parameters.
  void FoldCopyLike(NodeId n) {
    const Node& node = g_.nodes[n];
    std::string why;
    if (HasPrecisionRequest(node)) {
      reason_[n] = "it has a precision request";
      return;
    }
    if (node.inputs.size() != 1) return;
    const TensorId x = QuantizedSource(node.inputs[0], false, false, &why);
    if (x == graph::kNoTensor) {
      reason_[n] = why;
      return;
    }
    std::vector<NodeId> qs;
    if (!OutputQuantizers(n, Is8Bit, &qs, &why)) {
      if (CommutesWithDequantize(node)) {
        MoveDequantizeAfter(n, x);
        return;
      }
      reason_[n] = why;
      return;
    }
    const graph::Tensor& in = g_.tensors[x];
    const graph::Tensor& out = g_.tensors[g_.nodes[qs[0]].outputs[0]];
    if (in.dtype != out.dtype || !(in.quant == out.quant)) {
      if (CommutesWithDequantize(node)) {
        // The Quantize after it then requantizes its codes (FoldRequantize).
        MoveDequantizeAfter(n, x);
        return;
      }
      reason_[n] = StrCat("its output is quantized as ", TypeText(out), " but its input as ",
                          TypeText(in), "; the quantized kernel keeps its input's parameters");
      return;
    }
    ReplaceInput(n, 0, x);
    TakeQuantizedOutput(n, qs);
    MarkFolded(n, "INT8 kernel");
  }

  // Reshape, Flatten and max pooling give the same result on codes as on their
  // dequantized values (Dequantize is increasing: s > 0), so they may run before it.
  static bool CommutesWithDequantize(const Node& node) {
    if (node.type == NodeType::kReshape || node.type == NodeType::kFlatten) return true;
    const int64_t mode = node.attrs.GetInt(graph::attr::kPoolMode, 0);
    return node.type == NodeType::kPool && (mode == static_cast<int64_t>(PoolMode::kMax) ||
                                            mode == static_cast<int64_t>(PoolMode::kGlobalMax));
  }

  // Node n (CommutesWithDequantize) reads the codes `x` and writes them to a new tensor with
  // x's type and parameters, which a new Dequantize turns into n's old output: its readers
  // (e.g. an FC after a Flatten) then see a Dequantize they may fold.
  void MoveDequantizeAfter(NodeId n, TensorId x) {
    const TensorId out = g_.nodes[n].outputs[0];
    graph::Tensor q;
    q.name = internal::UniqueName(g_, g_.tensors[out].name + "/q");
    q.dtype = g_.tensors[x].dtype;
    q.quant = g_.tensors[x].quant;
    q.shape = g_.tensors[out].shape;
    const TensorId q_id = g_.AddTensor(std::move(q));
    consumers_.resize(g_.tensors.size());
    ReplaceInput(n, 0, x);
    g_.nodes[n].outputs[0] = q_id;
    g_.tensors[q_id].producer = n;
    Node dq;
    dq.type = NodeType::kDequantize;
    dq.name = internal::UniqueName(g_, g_.nodes[n].name + "/dequantize");
    dq.inputs = {q_id};
    dq.outputs = {out};
    const NodeId dq_id = g_.AddNode(std::move(dq));
    remove_.resize(g_.nodes.size(), false);
    folded_.resize(g_.nodes.size(), false);
    consumers_[q_id].push_back(dq_id);
    MarkFolded(n, "INT8 kernel (the Dequantize of its input moved after it)");
  }

  void FoldConcat(NodeId n) {
    const Node& node = g_.nodes[n];
    std::string why;
    if (HasPrecisionRequest(node)) {
      reason_[n] = "it has a precision request";
      return;
    }
    std::vector<NodeId> qs;
    if (!OutputQuantizers(n, Is8Bit, &qs, &why)) {
      reason_[n] = why;
      return;
    }
    const graph::Tensor& out = g_.tensors[g_.nodes[qs[0]].outputs[0]];
    std::vector<TensorId> sources;
    for (TensorId t : node.inputs) {
      const TensorId s = QuantizedSource(t, false, false, &why);
      if (s == graph::kNoTensor) {
        reason_[n] = why;
        return;
      }
      if (g_.tensors[s].dtype != out.dtype || !(g_.tensors[s].quant == out.quant)) {
        reason_[n] = StrCat("input ", Name(t), " dequantizes ", TypeText(g_.tensors[s]),
                            " but the output is quantized as ", TypeText(out),
                            "; a quantized concat copies codes, so they must be equal");
        return;
      }
      sources.push_back(s);
    }
    for (size_t slot = 0; slot < sources.size(); ++slot) ReplaceInput(n, slot, sources[slot]);
    TakeQuantizedOutput(n, qs);
    MarkFolded(n, "INT8 kernel");
  }

  // Quantize(Dequantize(a_q)): a requantization of a_q, or nothing when the parameters are
  // the same.
  void FoldRequantize(NodeId n) {
    const Node& node = g_.nodes[n];
    if (HasPrecisionRequest(node) || node.inputs.size() != 1) return;
    const NodeId p = Producer(node.inputs[0]);
    if (!IsDequantize(p)) return;
    const TensorId a = g_.nodes[p].inputs[0];
    const graph::Tensor& at = g_.tensors[a];
    if (at.is_constant()) return;  // a constant's Dequantize becomes a FLOAT32 constant
    const TensorId out = node.outputs[0];
    const graph::Tensor& ot = g_.tensors[out];
    if (at.dtype == ot.dtype && at.quant == ot.quant && !g_.IsGraphOutput(out)) {
      const std::vector<NodeId> readers = consumers_[out];
      for (NodeId r : readers) {
        for (size_t slot = 0; slot < g_.nodes[r].inputs.size(); ++slot) {
          if (g_.nodes[r].inputs[slot] == out) ReplaceInput(r, slot, a);
        }
      }
      notes_.folded.push_back(StrCat(g_.DescribeNode(n), ": removed: it quantizes ",
                                     g_.DescribeNode(p), "'s output with that node's own ",
                                     "parameters, so its readers read ", Name(a)));
      RemoveNode(n);
      return;
    }
    ReplaceInput(n, 0, a);
    g_.nodes[n].attrs.SetInt(kExplicitQuantizationAttr, 1);
    folded_[n] = true;
    notes_.folded.push_back(StrCat(g_.DescribeNode(n), ": requantizes ", Name(a), " (",
                                   TypeText(at), ") directly to ", TypeText(ot), " instead of ",
                                   "the Dequantize / Quantize pair"));
  }

  // --- Clean-up. -----------------------------------------------------------------------------

  // Removes Quantize / Dequantize nodes whose output nothing reads any more (repeatedly: a
  // removed Dequantize may leave its Quantize unread).
  void RemoveUnread() {
    for (bool changed = true; changed;) {
      changed = false;
      for (NodeId n = 0; n < static_cast<NodeId>(g_.nodes.size()); ++n) {
        const Node& node = g_.nodes[n];
        if (remove_[n] || node.outputs.size() != 1) continue;
        if (node.type != NodeType::kQuantize && node.type != NodeType::kDequantize) continue;
        const TensorId out = node.outputs[0];
        if (g_.IsGraphOutput(out) || !consumers_[out].empty()) continue;
        RemoveNode(n);
        changed = true;
      }
    }
  }

  // A Dequantize of a constant still read (by nodes that did not fold) becomes a Const
  // node producing the dequantized values: the node keeps its name, the tensor its id and
  // name.
  void MaterializeConstantDequantize() {
    for (NodeId n = 0; n < static_cast<NodeId>(g_.nodes.size()); ++n) {
      if (!IsDequantize(n)) continue;
      const TensorId src = g_.nodes[n].inputs[0];
      const TensorId out = g_.nodes[n].outputs[0];
      if (!g_.tensors[src].is_constant() || g_.IsGraphOutput(out)) continue;
      const std::vector<float> values = Dequantized(g_.tensors[src]);
      std::string readers;
      for (NodeId r : consumers_[out]) {
        auto it = reason_.find(r);
        readers += StrCat(readers.empty() ? "" : "; ", g_.DescribeNode(r),
                          it != reason_.end() ? StrCat(", not folded: ", it->second) : "");
      }
      graph::Tensor& t = g_.tensors[out];
      t.dtype = DataType::FLOAT32;
      t.quant = QuantParams();
      t.data = std::make_shared<const AlignedBuffer>(values.data(), values.size() * sizeof(float));
      notes_.materialized.push_back(StrCat(g_.DescribeNode(n), ": ", Name(src), " (",
                                           TypeText(g_.tensors[src]), ") dequantized into the ",
                                           "FLOAT32 constant ", Name(out), ", read by ", readers));
      Node& node = g_.nodes[n];
      ReplaceInput(n, 0, graph::kNoTensor);
      node.type = NodeType::kConst;
      node.attrs = graph::AttrMap();
      node.inputs.clear();
      node.input_precisions.clear();
    }
  }

  // Why a node n that reads or writes a kept Quantize / Dequantize was not folded.
  std::string WhyNot(NodeId n) const {
    auto it = reason_.find(n);
    if (it != reason_.end()) return StrCat(g_.DescribeNode(n), " is not folded: ", it->second);
    auto out = output_reason_.find(n);
    if (out != output_reason_.end()) {
      return StrCat(g_.DescribeNode(n), " writes FLOAT32: ", out->second);
    }
    return StrCat(g_.DescribeNode(n), " has no quantized form here");
  }

  void NoteKept() {
    for (NodeId n = 0; n < static_cast<NodeId>(g_.nodes.size()); ++n) {
      const Node& node = g_.nodes[n];
      if (remove_[n] || node.inputs.size() != 1) continue;
      if (node.type == NodeType::kQuantize && !folded_[n]) {
        const TensorId in = node.inputs[0];
        const NodeId p = Producer(in);
        const std::string why =
            p == graph::kNoNode ? StrCat("it quantizes the network input ", Name(in)) : WhyNot(p);
        notes_.kept.push_back(StrCat(g_.DescribeNode(n), ": kept as a kernel: ", why));
      } else if (node.type == NodeType::kDequantize) {
        const TensorId out = node.outputs[0];
        std::string why;
        if (g_.IsGraphOutput(out)) why = StrCat("its output ", Name(out), " is a network output");
        for (NodeId r : consumers_[out]) why += StrCat(why.empty() ? "" : "; ", WhyNot(r));
        notes_.kept.push_back(StrCat(g_.DescribeNode(n), ": kept as a kernel: ", why));
      }
    }
  }

  Graph& g_;
  QdqFoldingNotes& notes_;
  std::vector<std::vector<NodeId>> consumers_;
  std::vector<bool> remove_;
  std::vector<bool> folded_;
  std::map<NodeId, std::string> reason_;         // why a node was not folded
  std::map<NodeId, std::string> output_reason_;  // why a folded node writes FLOAT32
  std::vector<TensorId> unreferenced_;           // tensors some node stopped reading
};

Status FoldQdqImpl(Graph* graph, QdqFoldingNotes* notes) {
  QdqFoldingNotes local;
  return QdqFolder(graph, notes != nullptr ? notes : &local).Run();
}

}  // namespace

Status FoldQdq(graph::Graph* graph, QdqFoldingNotes* notes) {
  return internal::RunPass("FoldQdq", graph,
                           [notes](Graph* g) { return FoldQdqImpl(g, notes); });
}

}  // namespace qsdk::builder
