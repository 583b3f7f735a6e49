// reference::EvalNode: evaluates one Graph IR node with the reference operators.
//
// The node is first checked and its output shapes inferred by graph::InferNodeShapes on a
// one-node copy of the graph whose input tensors have the concrete shapes of `inputs`:
// the builder's rules (arity, constness, attribute presence and ranges, shapes) are thus
// applied exactly as everywhere else, with messages naming the node. The operator then
// computes the output from the attributes, and its shape must agree with the inferred one
// (a disagreement would be a bug in one of the two, reported as kInternal).
//
// Quantized nodes: qsdk::Tensor has no quantization parameters, so they come from the
// graph's tensors (inputs) and from inference on the copy (the output keeps the type and
// parameters the quantization pass gave it). A node whose input or output is stored as
// integers runs the quantized kernel of quantized_ops.h (INT8 / UINT8), int16_ops.h (a
// Conv / FullyConnected / MatMul reading or writing INT16) or dynamic_quant.h
// (FullyConnected / MatMul with attr::kDynamicQuantization = 1); Quantize / Dequantize
// always do.
//
// Reduced float types (FLOAT16 / BFLOAT16, float_types.h): every such input is widened to
// FLOAT32 (exact), the FLOAT32 operator runs, and a FLOAT16 / BFLOAT16 output is rounded
// from its FLOAT32 result once, to nearest even. This is the reference semantics of BF16
// compute nodes, of FLOAT16 constants read by an FP32 node, and of Cast (the identity on
// the widened input followed by that rounding: f16 <-> bf16 goes through f32).
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "common/aligned_buffer.h"
#include "graph/shape_inference.h"
#include "reference/dynamic_quant.h"
#include "reference/float_types.h"
#include "reference/int16_ops.h"
#include "reference/op_util.h"
#include "reference/ops.h"
#include "reference/quantized_ops.h"
#include "reference/reference.h"

namespace qsdk::reference {

namespace {

using graph::Graph;
using graph::Node;
using graph::NodeId;
using graph::TensorId;

// Reads the attributes of a node that shape inference has validated (presence, type,
// ranges). Lists are still length-checked so that no index can go out of bounds.
class Attrs {
 public:
  Attrs(const Graph& graph, NodeId id) : graph_(graph), id_(id), attrs_(graph.nodes[id].attrs) {}

  int64_t Int(const char* key) const { return attrs_.GetInt(key, 0); }
  float Float(const char* key) const { return static_cast<float>(attrs_.GetFloat(key, 0.0)); }

  Status Ints(const char* key, size_t size, std::vector<int64_t>* out) const {
    *out = attrs_.GetInts(key);
    if (out->size() != size) {
      return InvalidArgument(graph_.DescribeNode(id_), ": attribute '", key, "' has ", out->size(),
                             " values; it needs ", size);
    }
    return Status::Ok();
  }

  // The sliding-window attributes Conv and Pool share, strides [h, w] and pads
  // [top, bottom, left, right], into the fields of those names of `p` (ConvParams or
  // PoolParams).
  template <typename WindowParams>
  Status StridesAndPads(WindowParams* p) const {
    std::vector<int64_t> strides, pads;
    QSDK_RETURN_IF_ERROR(Ints(graph::attr::kStrides, 2, &strides));
    QSDK_RETURN_IF_ERROR(Ints(graph::attr::kPads, 4, &pads));
    p->stride_h = strides[0];
    p->stride_w = strides[1];
    p->pad_top = pads[0];
    p->pad_bottom = pads[1];
    p->pad_left = pads[2];
    p->pad_right = pads[3];
    return Status::Ok();
  }

  FusedActivation Fused() const {
    FusedActivation act;
    act.type = static_cast<ActivationType>(Int(graph::attr::kFusedActivation));
    act.alpha = Float(graph::attr::kFusedAlpha);
    act.beta = Float(graph::attr::kFusedBeta);
    return act;
  }

 private:
  const Graph& graph_;
  NodeId id_;
  const graph::AttrMap& attrs_;
};

// Checks `inputs` against the node's slots: one entry per slot, nullptr exactly for the
// absent optional slots, tensors of the graph tensor's type (FLOAT32 / FLOAT16 / BFLOAT16,
// or the integer type of a quantized tensor, whose parameters the graph holds) with a
// known shape and data. (An integer tensor without parameters is read by no op: shape
// inference on the copy names that rule.)
Status CheckInputs(const Graph& graph, NodeId id, const std::vector<const Tensor*>& inputs) {
  const Node& node = graph.nodes[id];
  const std::string where = graph.DescribeNode(id);
  if (inputs.size() != node.inputs.size()) {
    return InvalidArgument(where, ": ", inputs.size(), " input tensors were given; the node has ",
                           node.inputs.size(), " input slots");
  }
  const auto tensor_count = static_cast<TensorId>(graph.tensors.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorId t = node.inputs[i];
    if (t == graph::kNoTensor) {
      if (inputs[i] != nullptr) {
        return InvalidArgument(where, ": input ", i,
                               " is absent in the graph but a tensor was "
                               "given for it");
      }
      continue;
    }
    if (t < 0 || t >= tensor_count) {
      return InvalidArgument(where, ": input ", i, " refers to tensor #", t,
                             ", which does not exist (", tensor_count, " tensors)");
    }
    const std::string name = StrCat("input ", i, " '", graph.tensors[t].name, "'");
    const Tensor* in = inputs[i];
    if (in == nullptr) return InvalidArgument(where, ": ", name, " is missing (null)");
    const graph::Tensor& decl = graph.tensors[t];
    const DataType expected = decl.dtype;
    if (in->GetDataType() != expected) {
      return InvalidArgument(where, ": ", name, " has type ", DataTypeName(in->GetDataType()),
                             "; the graph declares it ", DataTypeName(expected),
                             decl.quant.empty() ? "" : " (quantized)");
    }
    if (!in->GetDimension().IsFullyDefined() || in->GetElementCount() < 0) {
      return InvalidArgument(where, ": ", name, " has shape ", in->GetDimension().ToString(),
                             "; a tensor to compute with needs every extent known");
    }
    if (in->empty() && in->GetElementCount() > 0) {
      return InvalidArgument(where, ": ", name, " has no data");
    }
  }
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    const TensorId t = node.outputs[i];
    if (t < 0 || t >= tensor_count) {
      return InvalidArgument(where, ": output ", i, " refers to tensor #", t,
                             ", which does not exist (", tensor_count, " tensors)");
    }
  }
  return Status::Ok();
}

// True when tensor `t` is the output of a Dequantize node reading a constant: explicit
// quantization gives Conv / FullyConnected weights and biases in that form until the Q/DQ
// folding pass, and shape inference accepts it where it requires a constant.
bool IsDequantizedConstant(const Graph& graph, TensorId t) {
  const graph::NodeId producer = graph.tensors[t].producer;
  if (producer < 0 || static_cast<size_t>(producer) >= graph.nodes.size()) return false;
  const Node& p = graph.nodes[producer];
  if (p.type != NodeType::kDequantize || p.inputs.empty()) return false;
  const TensorId source = p.inputs[0];
  return source >= 0 && static_cast<size_t>(source) < graph.tensors.size() &&
         graph.tensors[source].is_constant();
}

// A graph holding only node `id` (as node 0), one tensor per input slot with the concrete
// shape of that input (constants keep their data, which the builder rules may require),
// and its output tensors without shapes. Then infers the output shapes and types.
struct InferredOutput {
  std::vector<int64_t> shape;
  // The output type: FLOAT32 / FLOAT16 / BFLOAT16 (quant empty), or the quantized type and
  // parameters the graph gives the output (inference keeps them only where the op has a
  // quantized kernel).
  QuantizedOutputSpec spec;
};

Status InferOnCopy(const Graph& graph, NodeId id, const std::vector<const Tensor*>& inputs,
                   std::vector<InferredOutput>* outputs) {
  const Node& node = graph.nodes[id];
  Graph small;
  Node copy = node;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    if (node.inputs[i] == graph::kNoTensor) continue;
    graph::Tensor t = graph.tensors[node.inputs[i]];
    t.producer = graph::kNoNode;
    t.dtype = inputs[i]->GetDataType();
    t.shape = inputs[i]->GetDimension().GetDims();
    // The copy has no Dequantize node: a dequantized constant becomes the constant it
    // stands for (its value is the given input), so that the constness rules still hold.
    if (!t.is_constant() && IsDequantizedConstant(graph, node.inputs[i])) {
      t.data = std::make_shared<const AlignedBuffer>(inputs[i]->GetData(),
                                                     inputs[i]->GetSizeInBytes());
    }
    copy.inputs[i] = small.AddTensor(std::move(t));
    if (!small.tensors[copy.inputs[i]].is_constant()) small.inputs.push_back(copy.inputs[i]);
  }
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    graph::Tensor t = graph.tensors[node.outputs[i]];
    t.producer = graph::kNoNode;
    // A Const node's output keeps its shape and data: they are what inference checks.
    if (node.type != NodeType::kConst) t.shape.clear();
    copy.outputs[i] = small.AddTensor(std::move(t));
    small.outputs.push_back(copy.outputs[i]);
  }
  const NodeId small_id = small.AddNode(std::move(copy));
  QSDK_RETURN_IF_ERROR(graph::InferNodeShapes(&small, small_id));
  outputs->clear();
  for (TensorId t : small.nodes[small_id].outputs) {
    const graph::Tensor& out = small.tensors[t];
    if (graph::ElementCount(out.shape) < 0) {
      return InternalError(graph.DescribeNode(id), ": shape inference left output shape ",
                           graph::ShapeToString(out.shape),
                           " not fully defined for concrete inputs");
    }
    InferredOutput info;
    info.shape = out.shape;
    // Inference leaves a float type or a quantized type on every output; anything else
    // would be an unparameterized integer, which no op writes.
    info.spec.dtype = (!out.quant.empty() || IsFloatType(out.dtype)) ? out.dtype
                                                                      : DataType::FLOAT32;
    info.spec.quant = out.quant;
    outputs->push_back(std::move(info));
  }
  return Status::Ok();
}

// Copies the data of the constant output of a Const node.
Status EvalConst(const Graph& graph, NodeId id, const std::vector<int64_t>& shape, Tensor* y) {
  const graph::Tensor& t = graph.tensors[graph.nodes[id].outputs[0]];
  Tensor out = Tensor::Allocate(t.dtype, Dims(shape));
  if (out.empty()) {
    return Status(StatusCode::kResourceExhausted,
                  StrCat("Const: cannot allocate the output of shape ",
                         graph::ShapeToString(shape)));
  }
  // Shape inference checked that the data holds exactly this many elements of its type.
  if (out.GetSizeInBytes() != t.data->size()) {
    return InternalError(graph.DescribeNode(id), ": constant holds ", t.data->size(),
                         " bytes for shape ", graph::ShapeToString(shape));
  }
  if (t.data->size() > 0) std::memcpy(out.GetData(), t.data->data(), t.data->size());
  *y = std::move(out);
  return Status::Ok();
}

// The operand of slot `i`: the given tensor with the graph tensor's quantization
// parameters (empty for FLOAT32); an absent operand for a missing or absent slot.
QuantizedOperand Operand(const Graph& graph, const Node& node,
                         const std::vector<const Tensor*>& in, size_t i) {
  QuantizedOperand op;
  if (i >= in.size() || i >= node.inputs.size() || node.inputs[i] == graph::kNoTensor) return op;
  op.tensor = in[i];
  op.quant = graph.tensors[node.inputs[i]].quant;
  return op;
}

// True when a quantized kernel runs the node: an input or the output is stored as
// integers. (Shape inference admits integer tensors only for ops that have one.)
bool UsesQuantizedKernel(const std::vector<const Tensor*>& in, const QuantizedOutputSpec& out) {
  if (!IsFloatType(out.dtype)) return true;
  for (const Tensor* t : in) {
    if (t != nullptr && !IsFloatType(t->GetDataType())) return true;
  }
  return false;
}

bool IsInt16(const Tensor* t) { return t != nullptr && t->GetDataType() == DataType::INT16; }

// Pool, Concat, Reshape and Flatten on quantized tensors keep the input's type and
// parameters: the graph's output must carry exactly those.
Status RequireSameQuantization(const QuantizedOperand& x, const QuantizedOutputSpec& out) {
  const DataType in_type = x.tensor != nullptr ? x.tensor->GetDataType() : DataType::INVALID;
  if (out.dtype != in_type || !(out.quant == x.quant)) {
    const auto describe = [](DataType t, const graph::QuantParams& q) {
      return q.empty() ? std::string(DataTypeName(t))
                       : StrCat(DataTypeName(t), " (scale ", q.scales[0], ", zero point ",
                                q.zero_points[0], q.scales.size() > 1 ? ", per axis" : "", ")");
    };
    return InvalidArgument("the output is ", describe(out.dtype, out.quant), " but the input is ",
                           describe(in_type, x.quant),
                           "; this op moves quantized values unchanged, so the output must "
                           "have the input's type and quantization parameters");
  }
  return Status::Ok();
}

// Runs the operator of node `id` on `in` (validated, one per slot, float inputs already
// widened to FLOAT32; `inferred.spec` is FLOAT32 for a float output, which the caller
// rounds to the graph's float type).
Status Dispatch(const Graph& graph, NodeId id, const std::vector<const Tensor*>& in,
                const InferredOutput& inferred, Tensor* y) {
  const Node& node = graph.nodes[id];
  const Attrs attrs(graph, id);
  namespace attr = graph::attr;
  const QuantizedOutputSpec& out = inferred.spec;
  const auto op = [&](size_t i) { return Operand(graph, node, in, i); };
  // The optional third input of Conv / FullyConnected / MatMul, and the fused residual
  // (fourth input, present iff attr::kFusedSum = 1) of Conv / FullyConnected.
  const Tensor* bias = in.size() > 2 ? in[2] : nullptr;
  const Tensor* residual =
      (attrs.Int(attr::kFusedSum) != 0 && in.size() > 3) ? in[3] : nullptr;
  const QuantizedOperand q_residual = residual != nullptr ? op(3) : QuantizedOperand();
  // Conv / FC / MatMul run quantized when the data input, the weights or the output are
  // integers; an FP32 one may still read a quantized residual, by its real value.
  const bool heavy = node.type == NodeType::kConv || node.type == NodeType::kFullyConnected ||
                     node.type == NodeType::kMatMul;
  const bool quantized =
      heavy ? UsesQuantizedKernel({in[0], in[1]}, out) : UsesQuantizedKernel(in, out);
  // INT16 kernels: any INT16 operand or output routes there, so that a mix (say INT16 x
  // with INT8 weights) is reported against the INT16 rules rather than the INT8 ones.
  const bool int16 = heavy && (IsInt16(in[0]) || IsInt16(in[1]) || out.dtype == DataType::INT16);
  // Dynamic quantization (FullyConnected / MatMul): FLOAT32 in and out, INT8 weights.
  const bool dynamic = (node.type == NodeType::kFullyConnected ||
                        node.type == NodeType::kMatMul) &&
                       attrs.Int(attr::kDynamicQuantization) != 0;
  if (dynamic) {
    if (residual != nullptr) {
      return InvalidArgument("attribute '", attr::kFusedSum, "' = 1 with '",
                             attr::kDynamicQuantization,
                             "' = 1; a dynamically quantized node has no fused residual");
    }
    if (!IsFloatType(out.dtype)) {
      return InvalidArgument("the output is ", DataTypeName(out.dtype), " (quantized) with '",
                             attr::kDynamicQuantization,
                             "' = 1; a dynamically quantized node writes FLOAT32");
    }
  }
  Tensor real_residual;
  if (heavy && !quantized && residual != nullptr &&
      residual->GetDataType() != DataType::FLOAT32) {
    QSDK_RETURN_IF_ERROR(Dequantize(q_residual, &real_residual));
    residual = &real_residual;
  }
  switch (node.type) {
    case NodeType::kConst:
      return EvalConst(graph, id, inferred.shape, y);
    case NodeType::kConv: {
      ConvParams p;
      QSDK_RETURN_IF_ERROR(attrs.StridesAndPads(&p));
      std::vector<int64_t> dilations;
      QSDK_RETURN_IF_ERROR(attrs.Ints(attr::kDilations, 2, &dilations));
      p.dilation_h = dilations[0];
      p.dilation_w = dilations[1];
      p.group = attrs.Int(attr::kGroup);
      p.activation = attrs.Fused();
      if (int16) return Int16Conv2D(op(0), op(1), bias, residual, p, out, y);
      if (quantized) return QuantizedConv2D(op(0), op(1), op(2), q_residual, p, out, y);
      return Conv2D(*in[0], *in[1], bias, residual, p, y);
    }
    case NodeType::kFullyConnected:
      if (dynamic) return DynamicQuantizedFullyConnected(*in[0], op(1), bias, attrs.Fused(), y);
      if (int16) return Int16FullyConnected(op(0), op(1), bias, residual, attrs.Fused(), out, y);
      if (quantized) {
        return QuantizedFullyConnected(op(0), op(1), op(2), q_residual, attrs.Fused(), out, y);
      }
      return FullyConnected(*in[0], *in[1], bias, residual, attrs.Fused(), y);
    case NodeType::kMatMul: {
      MatMulParams p;
      p.transpose_a = attrs.Int(attr::kTransposeA) != 0;
      p.transpose_b = attrs.Int(attr::kTransposeB) != 0;
      p.activation = attrs.Fused();
      if (dynamic) return DynamicQuantizedMatMul(*in[0], op(1), bias, p, y);
      if (int16) return Int16MatMul(op(0), op(1), bias, p, out, y);
      if (quantized) return QuantizedMatMul(op(0), op(1), op(2), p, out, y);
      return MatMul(*in[0], *in[1], bias, p, y);
    }
    case NodeType::kActivation:
      return Activation(*in[0], static_cast<ActivationType>(attrs.Int(attr::kActivation)),
                        attrs.Float(attr::kAlpha), attrs.Float(attr::kBeta), y);
    case NodeType::kPool: {
      PoolParams p;
      p.mode = static_cast<PoolMode>(attrs.Int(attr::kPoolMode));
      if (p.mode != PoolMode::kGlobalAverage && p.mode != PoolMode::kGlobalMax) {
        std::vector<int64_t> kernel;
        QSDK_RETURN_IF_ERROR(attrs.Ints(attr::kKernel, 2, &kernel));
        p.kernel_h = kernel[0];
        p.kernel_w = kernel[1];
        QSDK_RETURN_IF_ERROR(attrs.StridesAndPads(&p));
        p.count_include_pad = attrs.Int(attr::kCountIncludePad) != 0;
        p.ceil_mode = attrs.Int(attr::kCeilMode) != 0;
      }
      if (quantized) {
        QSDK_RETURN_IF_ERROR(RequireSameQuantization(op(0), out));
        return QuantizedPool(op(0), p, y);
      }
      return Pool(*in[0], p, y);
    }
    case NodeType::kElementwise: {
      const auto type = static_cast<ElementwiseOp>(attrs.Int(attr::kElementwiseOp));
      if (quantized) return QuantizedElementwise(op(0), op(1), type, out, y);
      return Elementwise(*in[0], *in[1], type, y);
    }
    case NodeType::kConcat:
      if (quantized) {
        std::vector<QuantizedOperand> operands;
        for (size_t i = 0; i < in.size(); ++i) operands.push_back(op(i));
        QSDK_RETURN_IF_ERROR(RequireSameQuantization(operands[0], out));
        return QuantizedConcat(operands, attrs.Int(attr::kAxis), y);
      }
      return Concat(in, attrs.Int(attr::kAxis), y);
    case NodeType::kBatchNorm:
      return BatchNorm(*in[0], *in[1], *in[2], *in[3], *in[4],
                       node.attrs.GetFloat(attr::kEpsilon, 0.0), y);
    case NodeType::kSoftmax:
      return Softmax(*in[0], attrs.Int(attr::kAxis), y);
    case NodeType::kReshape:
      if (quantized) {
        QSDK_RETURN_IF_ERROR(RequireSameQuantization(op(0), out));
        return QuantizedReshape(op(0), node.attrs.GetInts(attr::kShape), y);
      }
      return Reshape(*in[0], node.attrs.GetInts(attr::kShape), y);
    case NodeType::kFlatten:
      if (quantized) {
        QSDK_RETURN_IF_ERROR(RequireSameQuantization(op(0), out));
        return QuantizedFlatten(op(0), attrs.Int(attr::kAxis), y);
      }
      return Flatten(*in[0], attrs.Int(attr::kAxis), y);
    case NodeType::kTranspose:
      return Transpose(*in[0], node.attrs.GetInts(attr::kPerm), y);
    case NodeType::kQuantize:
      return Quantize(op(0), out, y);
    case NodeType::kDequantize:
      return Dequantize(op(0), y);
    case NodeType::kCast:
      // The identity on the widened input; EvalNode then rounds to the output type, which
      // is the cast's single rounding (f16 <-> bf16 through f32, as the contract says).
      return Cast(*in[0], DataType::FLOAT32, y);
    case NodeType::kInvalid:
      break;
  }
  return InvalidArgument("node type ", static_cast<int>(node.type), " has no reference kernel");
}

Status EvalNodeImpl(const Graph& graph, NodeId id, const std::vector<const Tensor*>& inputs,
                    std::vector<Tensor>* outputs) {
  if (outputs == nullptr) return InvalidArgument("EvalNode: the outputs pointer is null");
  if (id < 0 || id >= static_cast<NodeId>(graph.nodes.size())) {
    return InvalidArgument("EvalNode: node #", id, " does not exist (", graph.nodes.size(),
                           " nodes)");
  }
  QSDK_RETURN_IF_ERROR(CheckInputs(graph, id, inputs));
  std::vector<InferredOutput> inferred;
  QSDK_RETURN_IF_ERROR(InferOnCopy(graph, id, inputs, &inferred));
  // Every op has exactly one output (shape inference enforces it).
  if (inferred.size() != 1) {
    return InternalError(graph.DescribeNode(id), ": expected 1 output, inference gave ",
                         inferred.size());
  }
  // FLOAT16 / BFLOAT16 inputs widened to FLOAT32 (exact); the operators compute in FLOAT32.
  std::vector<Tensor> widened(inputs.size());
  std::vector<const Tensor*> args = inputs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor* t = inputs[i];
    if (t == nullptr || !IsFloatType(t->GetDataType()) || t->GetDataType() == DataType::FLOAT32) {
      continue;
    }
    const Status widen = Cast(*t, DataType::FLOAT32, &widened[i]);
    if (!widen.ok()) {
      return Status(widen.code(), StrCat(graph.DescribeNode(id), ": input ", i, ": ",
                                         widen.message()));
    }
    args[i] = &widened[i];
  }
  const DataType out_type = inferred[0].spec.dtype;
  const bool narrow_output = out_type == DataType::FLOAT16 || out_type == DataType::BFLOAT16;
  InferredOutput compute = inferred[0];
  if (narrow_output) compute.spec.dtype = DataType::FLOAT32;
  Tensor y;
  Status st = Dispatch(graph, id, args, compute, &y);
  // A float output of a reduced type: the FLOAT32 result rounded once (RNE).
  if (st.ok() && narrow_output && graph.nodes[id].type != NodeType::kConst &&
      y.GetDataType() == DataType::FLOAT32) {
    Tensor rounded;
    st = Cast(y, out_type, &rounded);
    y = std::move(rounded);
  }
  if (!st.ok()) {
    // Operator messages name the op; add the node.
    return Status(st.code(), StrCat(graph.DescribeNode(id), ": ", st.message()));
  }
  if (y.GetDimension().GetDims() != inferred[0].shape) {
    return InternalError(graph.DescribeNode(id), ": the reference kernel produced shape ",
                         y.GetDimension().ToString(), " but shape inference gives ",
                         graph::ShapeToString(inferred[0].shape));
  }
  const DataType expected_type = graph.nodes[id].type == NodeType::kConst
                                     ? graph.tensors[graph.nodes[id].outputs[0]].dtype
                                     : inferred[0].spec.dtype;
  if (y.GetDataType() != expected_type) {
    return InternalError(graph.DescribeNode(id), ": the reference kernel produced type ",
                         DataTypeName(y.GetDataType()), " but the output is ",
                         DataTypeName(expected_type));
  }
  y.SetName(graph.tensors[graph.nodes[id].outputs[0]].name);
  outputs->clear();
  outputs->push_back(std::move(y));
  return Status::Ok();
}

}  // namespace

Status EvalNode(const graph::Graph& graph, graph::NodeId id,
                const std::vector<const Tensor*>& inputs, std::vector<Tensor>* outputs) {
  return internal::GuardExceptions(
      "EvalNode", [&]() -> Status { return EvalNodeImpl(graph, id, inputs, outputs); });
}

}  // namespace qsdk::reference
