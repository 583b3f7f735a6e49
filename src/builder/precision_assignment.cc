#include "builder/precision_assignment.h"

#include <algorithm>

#include "common/status_macros.h"

namespace qsdk::builder {
namespace {

using graph::Graph;
using graph::Node;
using graph::NodeId;
using graph::TensorId;

bool IsHeavy(NodeType type) {
  return type == NodeType::kConv || type == NodeType::kFullyConnected ||
         type == NodeType::kMatMul;
}

bool IsQuantizedType(DataType t) { return t == DataType::QINT8 || t == DataType::QUINT8; }

bool IsFloatRequest(DataType t) {
  return t == DataType::FLOAT32 || t == DataType::FLOAT16 || t == DataType::BFLOAT16;
}

// For the INT8 assigner every request that is not QINT8 / QUINT8 means "not INT8".
bool NotInt8Request(DataType t) { return IsFloatRequest(t) || t == DataType::QINT16; }

// The input slots that carry activations (as opposed to weights, biases, residuals).
std::vector<size_t> DataSlots(const Node& node) {
  switch (node.type) {
    case NodeType::kConv:
    case NodeType::kFullyConnected:
    case NodeType::kMatMul:
    case NodeType::kPool:
    case NodeType::kReshape:
    case NodeType::kFlatten: return {0};
    default: {
      std::vector<size_t> slots;
      for (size_t i = 0; i < node.inputs.size(); ++i) slots.push_back(i);
      return slots;
    }
  }
}

std::string Join(const std::vector<std::string>& parts) {
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i) s += (i ? "; " : "") + parts[i];
  return s;
}

class Assigner {
 public:
  // `fixed`: decisions already taken (INT16, dynamic, explicit); the INT8 assigner keeps
  // them and treats those nodes as FP32 neighbours.
  Assigner(const Graph& graph, const QuantizationSettings& settings,
           const std::vector<NodeDecision>& fixed, const std::vector<bool>& is_fixed)
      : graph_(graph), settings_(settings), consumers_(graph.Consumers()),
        quantized_(graph.tensors.size(), DataType::INVALID), fixed_(fixed), is_fixed_(is_fixed) {}

  Status Run(std::vector<NodeDecision>* decisions) {
    std::vector<NodeId> order;
    QSDK_RETURN_IF_ERROR(graph_.TopologicalOrder(&order));
    decisions_.assign(graph_.nodes.size(), NodeDecision());
    for (NodeId n : order) {
      if (is_fixed_[n]) {
        decisions_[n] = fixed_[n];
        continue;
      }
      QSDK_RETURN_IF_ERROR(Decide(n));
    }
    *decisions = std::move(decisions_);
    return Status::Ok();
  }

 private:
  // A failure under policy "strict"; a recorded fallback to FLOAT32 under "prefer".
  Status FailOrFallBack(NodeId /*n*/, Status failure, NodeDecision* d) {
    if (settings_.strict) return failure;
    d->fell_back = true;
    d->int8 = false;
    notes_.push_back(StrCat("fell back to FLOAT32 (policy prefer): ", failure.message()));
    return Status::Ok();
  }

  // A FLOAT32 constant always has one: its data's (the lowering computes it).
  bool HasRange(TensorId t) const {
    const graph::Tensor& tensor = graph_.tensors[t];
    return !tensor.range.empty() || (tensor.is_constant() && tensor.dtype == DataType::FLOAT32);
  }

  std::string RangeHint(TensorId t, NodeId n, size_t slot) const {
    return StrCat(graph_.DescribeTensor(t), " (input ", slot, " of ", graph_.DescribeNode(n),
                  ") has no range: calibrate the network (ICalibrator::Calibrate) or set one "
                  "(ITensor::SetDynamicRange, or custom_ranges in the builder config)");
  }

  // Whether consumer `c` would read tensor `t` quantized if it were available.
  bool Willing(NodeId c, TensorId t) const {
    const Node& node = graph_.nodes[c];
    if (is_fixed_[c] || !HasInt8Kernel(graph_, c)) return false;
    bool requests_int8 = false;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const DataType r = node.input_precisions[i];
      if (NotInt8Request(r)) return false;
      requests_int8 = requests_int8 || IsQuantizedType(r);
    }
    if (!settings_.int8_mode && !requests_int8) return false;
    for (size_t slot : DataSlots(node)) {
      if (node.inputs[slot] == t) return true;
    }
    // A fused residual is read quantized when available.
    return IsHeavy(node.type) && node.inputs.size() > 3 && node.inputs[3] == t;
  }

  Status Decide(NodeId n) {
    const Node& node = graph_.nodes[n];
    NodeDecision& d = decisions_[n];
    notes_.clear();
    d.input_types.assign(node.inputs.size(), DataType::INVALID);
    if (node.type == NodeType::kConst) {
      d.reason = "constant";
      return Status::Ok();
    }
    const std::vector<size_t> data_slots = DataSlots(node);

    // Requests (SetPrecision / SetOutputType, merged with custom_nodes by the builder).
    bool wants_float = false, wants_int8 = false;
    DataType int8_request = DataType::INVALID;  // the first quantized request, for messages
    std::vector<DataType> requested(node.inputs.size(), DataType::INVALID);
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const DataType r = node.input_precisions[i];
      if (r == DataType::INVALID) continue;
      if (!NotInt8Request(r) && !IsQuantizedType(r)) {
        QSDK_RETURN_IF_ERROR(FailOrFallBack(
            n,
            Unimplemented(graph_.DescribeNode(n), ": SetPrecision(", i, ", ", DataTypeName(r),
                          ") cannot be honoured: a node computes in FLOAT32, FLOAT16, "
                          "BFLOAT16, QINT8, QUINT8 or QINT16"),
            &d));
        continue;
      }
      if (std::find(data_slots.begin(), data_slots.end(), i) == data_slots.end()) {
        // Weights and biases follow the node's precision; a request on them that agrees
        // with a data-input request is redundant, one on its own is taken as the node's.
        if (NotInt8Request(r)) wants_float = true;
        if (IsQuantizedType(r)) wants_int8 = true;
        if (IsQuantizedType(r) && int8_request == DataType::INVALID) int8_request = r;
        continue;
      }
      requested[i] = r;
      wants_float = wants_float || NotInt8Request(r);
      wants_int8 = wants_int8 || IsQuantizedType(r);
      if (IsQuantizedType(r) && int8_request == DataType::INVALID) int8_request = r;
    }
    DataType out_request = node.output_types.empty() ? DataType::INVALID : node.output_types[0];
    if (out_request != DataType::INVALID && !IsFloatRequest(out_request) &&
        !IsQuantizedType(out_request)) {
      QSDK_RETURN_IF_ERROR(FailOrFallBack(
          n,
          Unimplemented(graph_.DescribeNode(n), ": SetOutputType(0, ", DataTypeName(out_request),
                        ") cannot be honoured: a node writes FLOAT32, FLOAT16, BFLOAT16, QINT8 "
                        "or QUINT8"),
          &d));
      out_request = DataType::INVALID;
    }
    // A float output type is the storage of the output (decided after this pass); for
    // INT8 it means "write a float output".
    if (IsFloatRequest(out_request)) out_request = DataType::FLOAT32;
    if (IsQuantizedType(out_request)) {
      wants_int8 = true;
      if (int8_request == DataType::INVALID) int8_request = out_request;
    }
    // A continuing op (pool, reshape, ...) keeps its input's type: a FLOAT32 output
    // request means it computes in FLOAT32.
    if (out_request == DataType::FLOAT32 && !IsHeavy(node.type) &&
        node.type != NodeType::kElementwise) {
      wants_float = true;
    }
    if (wants_int8 && wants_float) {
      QSDK_RETURN_IF_ERROR(FailOrFallBack(
          n,
          InvalidArgument(graph_.DescribeNode(n),
                          ": its requests mix FLOAT32 and quantized precisions, which no single "
                          "kernel can honour"),
          &d));
      wants_int8 = false;
    }
    const bool capable = HasInt8Kernel(graph_, n);
    if (wants_int8 && !capable) {
      QSDK_RETURN_IF_ERROR(FailOrFallBack(
          n,
          Unimplemented(graph_.DescribeNode(n), ": ", DataTypeName(int8_request),
                        " was requested but ", NodeTypeName(node.type), " has no INT8 kernel",
                        node.type == NodeType::kMatMul ? " with a non-constant second operand"
                                                       : ""),
          &d));
      wants_int8 = false;
    }

    // Compute precision.
    bool int8 = false;
    std::string why;
    if (wants_float) {
      why = "a float precision requested";
    } else if (!capable) {
      why = StrCat("no INT8 kernel for ", NodeTypeName(node.type));
    } else if (!wants_int8 && !settings_.int8_mode) {
      why = "precision mode without INT8";
    } else if (IsHeavy(node.type)) {
      const TensorId x = node.inputs[0];
      if (quantized_[x] != DataType::INVALID || HasRange(x)) {
        int8 = true;
        why = wants_int8 ? "QINT8/QUINT8 requested" : "INT8 part of the precision mode";
      } else {
        QSDK_RETURN_IF_ERROR(FailOrFallBack(
            n, Status(StatusCode::kFailedPrecondition, RangeHint(x, n, 0)), &d));
        why = "no range for its input";
      }
    } else {
      // Continuing ops run INT8 when their inputs arrive quantized (or, on request, when
      // the inputs can be quantized from their ranges).
      bool all_quantized = true, all_quantizable = true;
      for (size_t slot : data_slots) {
        const TensorId t = node.inputs[slot];
        all_quantized = all_quantized && quantized_[t] != DataType::INVALID;
        all_quantizable = all_quantizable && (quantized_[t] != DataType::INVALID || HasRange(t));
      }
      if (all_quantized || (wants_int8 && all_quantizable)) {
        int8 = true;
        why = wants_int8 ? "QINT8/QUINT8 requested" : "inputs arrive quantized";
      } else if (wants_int8) {
        for (size_t slot : data_slots) {
          const TensorId t = node.inputs[slot];
          if (quantized_[t] == DataType::INVALID && !HasRange(t)) {
            QSDK_RETURN_IF_ERROR(FailOrFallBack(
                n, Status(StatusCode::kFailedPrecondition, RangeHint(t, n, slot)), &d));
            break;
          }
        }
        why = "no range for an input";
      } else {
        why = "its inputs are not quantized";
      }
    }
    d.int8 = int8;

    const TensorId out = node.outputs[0];
    if (!int8) {
      for (size_t slot : data_slots) d.input_types[slot] = DataType::FLOAT32;
      if (IsHeavy(node.type) && node.inputs.size() > 3) d.input_types[3] = DataType::FLOAT32;
      if (IsQuantizedType(out_request)) {
        // Only reachable under "prefer" (strict failed above).
        notes_.push_back(StrCat("output type ", DataTypeName(out_request),
                                " not honoured: the node runs FLOAT32"));
      }
      d.output_type = DataType::FLOAT32;
      d.reason = Join([&] {
        std::vector<std::string> parts = {why};
        parts.insert(parts.end(), notes_.begin(), notes_.end());
        return parts;
      }());
      return Status::Ok();
    }

    // Input types of an INT8 node.
    if (node.type == NodeType::kConcat) {
      // One type (and, later, one scale) for every input: the output's.
      DataType type = out_request != DataType::INVALID ? out_request : DataType::INVALID;
      for (size_t slot : data_slots) {
        if (type == DataType::INVALID && IsQuantizedType(requested[slot])) type = requested[slot];
      }
      if (type == DataType::INVALID) {
        graph::TensorRange merged;
        for (size_t slot : data_slots) {
          const graph::TensorRange& r = graph_.tensors[node.inputs[slot]].range;
          if (r.empty()) continue;
          if (merged.empty()) {
            merged.min = {r.min[0]};
            merged.max = {r.max[0]};
          }
          for (float v : r.min) merged.min[0] = std::min(merged.min[0], v);
          for (float v : r.max) merged.max[0] = std::max(merged.max[0], v);
        }
        const TensorId first = node.inputs[data_slots[0]];
        type = !merged.empty() ? NaturalQuantizedType(merged, settings_.scheme)
                               : quantized_[first];
      }
      for (size_t slot : data_slots) d.input_types[slot] = type;
      d.output_type = type;
    } else {
      for (size_t slot : data_slots) {
        const TensorId t = node.inputs[slot];
        DataType type = requested[slot];
        if (type == DataType::INVALID) type = quantized_[t];
        if (type == DataType::INVALID) type = NaturalQuantizedType(graph_.tensors[t].range, settings_.scheme);
        d.input_types[slot] = type;
      }
      if (IsHeavy(node.type) && node.inputs.size() > 3) {
        const TensorId r = node.inputs[3];
        d.input_types[3] = quantized_[r] != DataType::INVALID ? quantized_[r] : DataType::FLOAT32;
      }
      if (node.type == NodeType::kPool || node.type == NodeType::kReshape ||
          node.type == NodeType::kFlatten) {
        d.output_type = d.input_types[0];  // same storage and parameters as the input
      } else {
        // Heavy ops and Elementwise requantize into their own output parameters, or write
        // FLOAT32 when nothing downstream reads INT8 (no requantize + dequantize pair).
        DataType type = DataType::FLOAT32;
        std::string out_why;
        if (IsQuantizedType(out_request)) {
          type = out_request;
        } else if (out_request == DataType::FLOAT32) {
          out_why = "FLOAT32 output requested";
        } else if (graph_.IsGraphOutput(out) && settings_.keep_output_float) {
          out_why = "network output kept FLOAT32";
        } else if (!HasRange(out)) {
          out_why = "no range for its output";
        } else {
          bool willing = false;
          for (NodeId c : consumers_[out]) willing = willing || Willing(c, out);
          if (willing) {
            type = NaturalQuantizedType(graph_.tensors[out].range, settings_.scheme);
          } else {
            out_why = "no consumer reads INT8";
          }
        }
        if (IsQuantizedType(type) && !HasRange(out)) {
          QSDK_RETURN_IF_ERROR(FailOrFallBack(
              n,
              Status(StatusCode::kFailedPrecondition,
                     StrCat(graph_.DescribeTensor(out), " (output of ", graph_.DescribeNode(n),
                            ") has no range for the requested ", DataTypeName(type),
                            " output: calibrate or set one")),
              &d));
          type = DataType::FLOAT32;
        }
        d.output_type = type;
        if (!out_why.empty()) notes_.push_back(StrCat("output FLOAT32: ", out_why));
      }
    }
    if (IsQuantizedType(d.output_type)) quantized_[out] = d.output_type;
    std::vector<std::string> parts = {why};
    parts.insert(parts.end(), notes_.begin(), notes_.end());
    d.reason = Join(parts);
    return Status::Ok();
  }

  const Graph& graph_;
  const QuantizationSettings& settings_;
  std::vector<std::vector<NodeId>> consumers_;
  // Per tensor: the quantized type its producer writes it in (INVALID = FLOAT32).
  std::vector<DataType> quantized_;
  const std::vector<NodeDecision>& fixed_;
  const std::vector<bool>& is_fixed_;
  std::vector<NodeDecision> decisions_;
  std::vector<std::string> notes_;
};

}  // namespace

bool HasInt8Kernel(const Graph& graph, NodeId id) {
  const Node& node = graph.nodes[id];
  switch (node.type) {
    case NodeType::kConv:
    case NodeType::kFullyConnected:
    case NodeType::kPool:
    case NodeType::kElementwise:
    case NodeType::kConcat:
    case NodeType::kReshape:
    case NodeType::kFlatten: return true;
    case NodeType::kMatMul:
      return node.inputs.size() > 1 && node.inputs[1] != graph::kNoTensor &&
             graph.tensors[node.inputs[1]].is_constant() &&
             graph.tensors[node.inputs[1]].shape.size() == 2;
    default: return false;
  }
}

DataType NaturalQuantizedType(const graph::TensorRange& range, ActivationScheme scheme) {
  float lo = 0.0f;
  for (float v : range.min) lo = std::min(lo, v);
  if (lo >= 0.0f) return DataType::QUINT8;
  return scheme == ActivationScheme::kSymmetric ? DataType::QINT8 : DataType::QUINT8;
}

bool HasInt16Kernel(const Graph& graph, NodeId id) {
  const Node& node = graph.nodes[id];
  if (node.type == NodeType::kConv || node.type == NodeType::kFullyConnected) return true;
  return node.type == NodeType::kMatMul && HasInt8Kernel(graph, id);
}

bool HasBf16Kernel(NodeType type) {
  switch (type) {
    case NodeType::kConv:
    case NodeType::kFullyConnected:
    case NodeType::kMatMul:
    case NodeType::kPool:
    case NodeType::kActivation:
    case NodeType::kSoftmax:
    case NodeType::kElementwise:
    case NodeType::kConcat:
    case NodeType::kBatchNorm:
    case NodeType::kReshape:
    case NodeType::kFlatten:
    case NodeType::kTranspose: return true;
    default: return false;
  }
}

const char* ComputePrecisionName(ComputePrecision p) {
  switch (p) {
    case ComputePrecision::kFloat32: return "FLOAT32";
    case ComputePrecision::kFloat16: return "FLOAT16";
    case ComputePrecision::kBFloat16: return "BFLOAT16";
    case ComputePrecision::kInt8: return "INT8";
    case ComputePrecision::kInt16: return "INT16";
    case ComputePrecision::kDynamicInt8: return "INT8_DYNAMIC";
    case ComputePrecision::kExplicit: return "INT8_EXPLICIT";
  }
  return "FLOAT32";
}

namespace {

bool IsIntegerType(DataType t) {
  return t == DataType::INT8 || t == DataType::UINT8 || t == DataType::INT16 ||
         t == DataType::INT32;
}

// A node the network quantized itself: an explicit Quantize / Dequantize, or a node the
// Q/DQ folding pass made quantized (a non-constant integer input or output).
bool IsExplicit(const Graph& g, const Node& node) {
  if (node.type == NodeType::kQuantize || node.type == NodeType::kDequantize) return true;
  if (node.type == NodeType::kConst) return false;
  for (TensorId t : node.inputs) {
    if (t != graph::kNoTensor && !g.tensors[t].is_constant() && IsIntegerType(g.tensors[t].dtype)) {
      return true;
    }
  }
  return IsIntegerType(g.tensors[node.outputs[0]].dtype);
}

// The first request among a node's data inputs (weights excluded).
DataType FirstRequest(const Graph& g, const Node& node) {
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const TensorId t = node.inputs[i];
    if (t == graph::kNoTensor || g.tensors[t].is_constant()) continue;
    if (node.input_precisions[i] != DataType::INVALID) return node.input_precisions[i];
  }
  for (DataType r : node.input_precisions) {
    if (r != DataType::INVALID) return r;
  }
  return DataType::INVALID;
}

bool HasRangeOrConstant(const Graph& g, TensorId t) {
  return !g.tensors[t].range.empty() ||
         (g.tensors[t].is_constant() && g.tensors[t].dtype == DataType::FLOAT32);
}

// Decides INT16, dynamic INT8 and explicit nodes before the INT8 assigner runs.
Status DecideFixed(const Graph& g, const QuantizationSettings& settings,
                   std::vector<NodeDecision>* fixed, std::vector<bool>* is_fixed) {
  fixed->assign(g.nodes.size(), NodeDecision());
  is_fixed->assign(g.nodes.size(), false);
  for (NodeId n = 0; n < static_cast<NodeId>(g.nodes.size()); ++n) {
    const Node& node = g.nodes[n];
    NodeDecision& d = (*fixed)[n];
    d.input_types.assign(node.inputs.size(), DataType::INVALID);
    if (node.type == NodeType::kConst) continue;
    const std::string what = g.DescribeNode(n);
    const auto fail_or_fall_back = [&](Status failure) -> Status {
      if (settings.strict) return failure;
      d.fell_back = true;
      d.reason = StrCat("fell back (policy prefer): ", failure.message());
      return Status::Ok();
    };
    if (IsExplicit(g, node)) {
      d.compute = ComputePrecision::kExplicit;
      d.reason = node.type == NodeType::kQuantize || node.type == NodeType::kDequantize
                     ? "explicit quantization: kept as a kernel (not folded)"
                     : "explicit quantization: Q/DQ folded into the kernel";
      (*is_fixed)[n] = true;
      continue;
    }
    const DataType request = FirstRequest(g, node);
    const bool dynamic = n < static_cast<NodeId>(settings.dynamic.size()) && settings.dynamic[n];
    if (dynamic && !IsFloatRequest(request) && !IsQuantizedType(request) &&
        request != DataType::QINT16) {
      if (node.type == NodeType::kFullyConnected ||
          (node.type == NodeType::kMatMul && HasInt8Kernel(g, n))) {
        d.compute = ComputePrecision::kDynamicInt8;
        d.reason = "dynamic quantization (activation scale per batch)";
        (*is_fixed)[n] = true;
        continue;
      }
      QSDK_RETURN_IF_ERROR(fail_or_fall_back(Unimplemented(
          what, ": dynamic quantization was requested but applies to FullyConnected and MatMul "
                "with a constant second operand only")));
    }
    const bool wants_int16 = request == DataType::QINT16 ||
                             (settings.int16_mode && request == DataType::INVALID);
    if (!wants_int16) continue;
    if (!HasInt16Kernel(g, n)) {
      if (request == DataType::QINT16) {
        QSDK_RETURN_IF_ERROR(fail_or_fall_back(Unimplemented(
            what, ": QINT16 was requested but ", NodeTypeName(node.type),
            " has no INT16 kernel (Conv, FullyConnected and MatMul with a constant second "
            "operand have one)")));
        (*is_fixed)[n] = d.fell_back;  // prefer: stays FP32 with the note
      }
      continue;
    }
    if (!HasRangeOrConstant(g, node.inputs[0])) {
      QSDK_RETURN_IF_ERROR(fail_or_fall_back(Status(
          StatusCode::kFailedPrecondition,
          StrCat(g.DescribeTensor(node.inputs[0]), " (input 0 of ", what,
                 ") has no range for INT16: calibrate the network or set one"))));
      (*is_fixed)[n] = true;
      continue;
    }
    d.compute = ComputePrecision::kInt16;
    d.input_types[0] = DataType::QINT16;
    d.reason = request == DataType::QINT16 ? "QINT16 requested" : "INT16 part of the precision mode";
    (*is_fixed)[n] = true;
  }
  return Status::Ok();
}

// Decides the float precision of every node that is not quantized, and the storage type
// of every float output.
Status DecideFloat(const Graph& g, const QuantizationSettings& settings,
                   std::vector<NodeDecision>* decisions) {
  for (NodeId n = 0; n < static_cast<NodeId>(g.nodes.size()); ++n) {
    const Node& node = g.nodes[n];
    NodeDecision& d = (*decisions)[n];
    if (node.type == NodeType::kConst) continue;
    DataType out_request = node.output_types.empty() ? DataType::INVALID : node.output_types[0];
    if (!IsFloatRequest(out_request)) out_request = DataType::INVALID;
    const bool network_output = g.IsGraphOutput(node.outputs[0]);
    const auto storage_for = [&](DataType natural) {
      if (out_request != DataType::INVALID) return out_request;
      if (network_output && settings.keep_output_float) return DataType::FLOAT32;
      return natural;
    };
    if (d.compute != ComputePrecision::kFloat32 || d.int8) {
      if (d.int8) d.compute = ComputePrecision::kInt8;
      d.output_storage = storage_for(DataType::FLOAT32);
      continue;
    }
    if (d.fell_back && node.type != NodeType::kQuantize) {
      d.output_storage = storage_for(DataType::FLOAT32);
      continue;
    }
    const DataType request = FirstRequest(g, node);
    const bool requested = IsFloatRequest(request);
    const DataType target = requested ? request : settings.float_type;
    const std::string what = g.DescribeNode(n);
    std::string why = requested ? StrCat(DataTypeName(target), " requested")
                                : StrCat("float part of the precision mode: ",
                                         DataTypeName(target));
    ComputePrecision compute = ComputePrecision::kFloat32;
    if (target == DataType::BFLOAT16) {
      Status problem;
      if (!HasBf16Kernel(node.type)) {
        problem = Unimplemented(what, ": BFLOAT16 ", requested ? "was requested" : "(mode)",
                                " but ", NodeTypeName(node.type), " has no BFLOAT16 kernel");
      } else if (!settings.bf16_supported) {
        problem = Unimplemented(what, ": BFLOAT16 cannot run on this CPU: ",
                                settings.bf16_unsupported_reason);
      }
      if (problem.ok()) {
        compute = ComputePrecision::kBFloat16;
      } else if (!HasBf16Kernel(node.type) && !requested) {
        why = StrCat("no BFLOAT16 kernel for ", NodeTypeName(node.type), ": FLOAT32");
      } else if (settings.strict) {
        return problem;
      } else {
        d.fell_back = true;
        why = StrCat("fell back to FLOAT32 (policy prefer): ", problem.message());
      }
    } else if (target == DataType::FLOAT16) {
      compute = ComputePrecision::kFloat16;
      why += " (FLOAT16 storage; FP32 arithmetic: oneDNN has no FP16 kernels for this CPU)";
    }
    d.compute = compute;
    if (!d.reason.empty() && d.reason.find("precision mode without INT8") == std::string::npos &&
        d.reason.find("a float precision requested") == std::string::npos) {
      d.reason = StrCat(why, "; ", d.reason);
    } else {
      d.reason = why;
    }
    const DataType natural = compute == ComputePrecision::kBFloat16  ? DataType::BFLOAT16
                             : compute == ComputePrecision::kFloat16 ? DataType::FLOAT16
                                                                     : DataType::FLOAT32;
    d.output_storage = storage_for(natural);
  }
  return Status::Ok();
}

}  // namespace

Status AssignPrecisions(const Graph& graph, const QuantizationSettings& settings,
                        std::vector<NodeDecision>* decisions) {
  QuantizationSettings effective = settings;
  // A network quantized by its own Q/DQ nodes is not quantized implicitly as well (as in
  // TensorRT's explicit quantization): its other nodes follow the float part of the mode.
  for (const Node& node : graph.nodes) {
    if (IsExplicit(graph, node)) {
      effective.int8_mode = false;
      effective.int16_mode = false;
      break;
    }
  }
  std::vector<NodeDecision> fixed;
  std::vector<bool> is_fixed;
  QSDK_RETURN_IF_ERROR(DecideFixed(graph, effective, &fixed, &is_fixed));
  QSDK_RETURN_IF_ERROR(Assigner(graph, effective, fixed, is_fixed).Run(decisions));
  return DecideFloat(graph, effective, decisions);
}

}  // namespace qsdk::builder
