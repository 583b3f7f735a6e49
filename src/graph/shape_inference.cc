#include "graph/shape_inference.h"

#include <cmath>
#include <cstddef>
#include <iomanip>
#include <limits>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "common/status_macros.h"

namespace qsdk::graph {
namespace {

using Shape = std::vector<int64_t>;
constexpr int64_t kDynamic = -1;

std::string ActivationName(int64_t value) {
  return ActivationTypeName(static_cast<ActivationType>(value));
}

// Overflow-checked arithmetic: shapes come from users and from files, so a hostile value
// must produce a status, not undefined behaviour.
bool IsFloatType(DataType t) {
  return t == DataType::FLOAT32 || t == DataType::FLOAT16 || t == DataType::BFLOAT16;
}

bool AddOverflows(int64_t a, int64_t b, int64_t* out) { return __builtin_add_overflow(a, b, out); }
bool MulOverflows(int64_t a, int64_t b, int64_t* out) { return __builtin_mul_overflow(a, b, out); }

// Product of the extents, or -1 when one is dynamic. `overflow` is set when the product of
// the known extents does not fit int64 (checked even when an extent is dynamic, so that the
// shape cannot overflow once the dynamic extent is known to be >= 1).
int64_t ProductOrDynamic(const Shape& shape, size_t begin, size_t end, bool* overflow) {
  int64_t product = 1;
  bool dynamic = false;
  *overflow = false;
  for (size_t i = begin; i < end; ++i) {
    if (shape[i] == kDynamic) {
      dynamic = true;
      continue;
    }
    if (MulOverflows(product, shape[i], &product)) {
      *overflow = true;
      return kDynamic;
    }
  }
  return dynamic ? kDynamic : product;
}

// A float with enough digits to tell neighbouring values apart in messages.
std::string FloatText(float v) {
  std::ostringstream s;
  s << std::setprecision(std::numeric_limits<float>::max_digits10) << v;
  return s.str();
}

// Validation and inference of one node; one method per op.
class NodeInference {
 public:
  NodeInference(Graph* graph, NodeId id) : graph_(*graph), id_(id), node_(graph->nodes[id]) {}

  Status Run() {
    QSDK_RETURN_IF_ERROR(CheckStructure());
    switch (node_.type) {
      case NodeType::kConst: return InferConst();
      case NodeType::kConv: return InferConv();
      case NodeType::kFullyConnected: return InferFullyConnected();
      case NodeType::kMatMul: return InferMatMul();
      case NodeType::kActivation: return InferActivation();
      case NodeType::kPool: return InferPool();
      case NodeType::kElementwise: return InferElementwise();
      case NodeType::kConcat: return InferConcat();
      case NodeType::kBatchNorm: return InferBatchNorm();
      case NodeType::kSoftmax: return InferSoftmax();
      case NodeType::kReshape: return InferReshape();
      case NodeType::kFlatten: return InferFlatten();
      case NodeType::kTranspose: return InferTranspose();
      case NodeType::kQuantize: return InferQuantize();
      case NodeType::kDequantize: return InferDequantize();
      case NodeType::kCast: return InferCast();
      case NodeType::kInvalid: break;
    }
    return InvalidArgument("node #", id_, " '", node_.name, "' has an unknown node type ",
                           static_cast<int>(node_.type));
  }

 private:
  template <typename... Args>
  Status Error(const Args&... args) const {
    return InvalidArgument(graph_.DescribeNode(id_), ": ", args...);
  }

  // --- Structure: slot counts, ids, dtypes, shape sanity. -------------------------------

  struct Arity {
    size_t min_inputs;
    size_t max_inputs;  // SIZE_MAX: unbounded.
    std::vector<size_t> optional_slots;
  };

  Arity ArityOf(NodeType type) const {
    switch (type) {
      case NodeType::kConst: return {0, 0, {}};
      // Conv / FullyConnected: with a fused sum (attr::kFusedSum = 1) input 3 is the
      // residual, and the bias slot 2 is then present or kNoTensor.
      case NodeType::kConv:
      case NodeType::kFullyConnected:
        if (node_.attrs.GetInt(attr::kFusedSum, 0) == 1) return {4, 4, {2}};
        return {2, 3, {2}};
      case NodeType::kMatMul: return {2, 3, {2}};
      case NodeType::kElementwise: return {2, 2, {}};
      case NodeType::kConcat: return {1, std::numeric_limits<size_t>::max(), {}};
      case NodeType::kBatchNorm: return {5, 5, {}};
      default: return {1, 1, {}};
    }
  }

  Status CheckStructure() {
    if (!IsValidNodeType(node_.type)) {
      return InvalidArgument("node #", id_, " '", node_.name, "' has an unknown node type ",
                             static_cast<int>(node_.type));
    }
    const Arity arity = ArityOf(node_.type);
    const size_t count = node_.inputs.size();
    if (count < arity.min_inputs || count > arity.max_inputs) {
      if (arity.min_inputs == arity.max_inputs) {
        return Error("has ", count, " input slots; this op takes exactly ", arity.min_inputs);
      }
      if (arity.max_inputs == std::numeric_limits<size_t>::max()) {
        return Error("has ", count, " input slots; this op takes at least ", arity.min_inputs);
      }
      return Error("has ", count, " input slots; this op takes ", arity.min_inputs, " to ",
                   arity.max_inputs);
    }
    const auto tensor_count = static_cast<TensorId>(graph_.tensors.size());
    for (size_t i = 0; i < count; ++i) {
      const TensorId t = node_.inputs[i];
      if (t == kNoTensor) {
        bool optional = false;
        for (size_t slot : arity.optional_slots) optional = optional || slot == i;
        if (!optional) return Error("input ", i, " is missing; it is required");
        continue;
      }
      if (t < 0 || t >= tensor_count) {
        return Error("input ", i, " refers to tensor #", t, ", which does not exist (",
                     tensor_count, " tensors)");
      }
      const Tensor& tensor = graph_.tensors[t];
      QSDK_RETURN_IF_ERROR(CheckInputType(i, tensor));
      QSDK_RETURN_IF_ERROR(CheckShapeSanity(InputName(i), tensor));
    }
    if (node_.outputs.size() != 1) {
      return Error("has ", node_.outputs.size(), " outputs; every op has exactly 1");
    }
    const TensorId out = node_.outputs[0];
    if (out < 0 || out >= tensor_count) {
      return Error("output 0 refers to tensor #", out, ", which does not exist (",
                   tensor_count, " tensors)");
    }
    for (size_t i = 0; i < count; ++i) {
      if (node_.inputs[i] == out) {
        return Error("output 0 '", graph_.tensors[out].name, "' is also its input ", i,
                     "; a node may not read its own output");
      }
    }
    if (node_.type != NodeType::kConst && graph_.tensors[out].is_constant()) {
      return Error("output 0 '", graph_.tensors[out].name,
                   "' holds constant data; only a Const node may produce a constant");
    }
    return Status::Ok();
  }

  // Which element types an op reads. FLOAT32 everywhere; quantized integer tensors
  // (INT8 / UINT8 with quantization parameters) only where a quantized kernel exists;
  // INT8 weights and INT32 biases of quantized Conv / FullyConnected / MatMul.
  static bool ReadsQuantized(NodeType type) {
    switch (type) {
      case NodeType::kConv:
      case NodeType::kFullyConnected:
      case NodeType::kMatMul:
      case NodeType::kPool:
      case NodeType::kElementwise:
      case NodeType::kConcat:
      case NodeType::kReshape:
      case NodeType::kFlatten:
      case NodeType::kQuantize:
      case NodeType::kDequantize: return true;
      default: return false;
    }
  }

  // INT16 quantized tensors: only the INT16 kernels (Conv / FullyConnected / MatMul) and
  // Quantize / Dequantize read them.
  static bool ReadsInt16(NodeType type) {
    return type == NodeType::kConv || type == NodeType::kFullyConnected ||
           type == NodeType::kMatMul || type == NodeType::kQuantize ||
           type == NodeType::kDequantize;
  }

  Status CheckInputType(size_t i, const Tensor& tensor) const {
    if (IsFloatType(tensor.dtype)) {
      if (!tensor.quant.empty()) {
        return Error(InputName(i), " is ", DataTypeName(tensor.dtype),
                     " but has quantization parameters");
      }
      return Status::Ok();
    }
    const bool quantized_storage =
        tensor.dtype == DataType::INT8 || tensor.dtype == DataType::UINT8 ||
        tensor.dtype == DataType::INT16 || tensor.dtype == DataType::INT32;
    if (!quantized_storage || !ReadsQuantized(node_.type) ||
        (tensor.dtype == DataType::INT16 && !ReadsInt16(node_.type))) {
      return Error(InputName(i), " has type ", DataTypeName(tensor.dtype), "; this op reads ",
                   !ReadsQuantized(node_.type) ? "FLOAT32 / FLOAT16 / BFLOAT16 only"
                   : ReadsInt16(node_.type)
                       ? "FLOAT32 / FLOAT16 / BFLOAT16 or quantized INT8 / UINT8 / INT16 / INT32"
                       : "FLOAT32 / FLOAT16 / BFLOAT16 or quantized INT8 / UINT8 / INT32");
    }
    if (tensor.quant.empty()) {
      return Error(InputName(i), " has type ", DataTypeName(tensor.dtype),
                   " without quantization parameters; integer tensors must be quantized");
    }
    return CheckNodeQuantParams(InputName(i), tensor);
  }

  // graph::CheckQuantParams, its message prefixed with the node.
  Status CheckNodeQuantParams(const std::string& what, const Tensor& tensor) const {
    const Status status = CheckQuantParams(tensor, what);
    if (status.ok()) return status;
    return Error(status.message());
  }

  // Every extent is -1 (dynamic) or >= 1, the element count fits int64, and a constant is
  // fully defined with exactly as many bytes as its shape needs.
  Status CheckShapeSanity(const std::string& what, const Tensor& tensor) const {
    for (int64_t d : tensor.shape) {
      if (d != kDynamic && d < 1) {
        return Error(what, " has shape ", ShapeToString(tensor.shape), "; each extent must be ",
                     ">= 1 or -1 (dynamic)");
      }
    }
    bool overflow = false;
    ProductOrDynamic(tensor.shape, 0, tensor.shape.size(), &overflow);
    if (overflow) {
      return Error(what, " has shape ", ShapeToString(tensor.shape),
                   "; its element count overflows int64");
    }
    if (tensor.is_constant()) {
      const int64_t count = ElementCount(tensor.shape);
      if (count < 0) {
        return Error(what, " is a constant of shape ", ShapeToString(tensor.shape),
                     "; a constant must have a fully defined shape");
      }
      const size_t elem = DataTypeSize(tensor.dtype);
      if (elem == 0 || static_cast<uint64_t>(count) >
                           std::numeric_limits<size_t>::max() / elem ||
          tensor.data->size() != static_cast<size_t>(count) * elem) {
        return Error(what, " is a constant of shape ", ShapeToString(tensor.shape), " and type ",
                     DataTypeName(tensor.dtype), " holding ", tensor.data->size(),
                     " bytes; the shape needs ", count, " elements of ", elem, " bytes");
      }
    }
    return Status::Ok();
  }

  bool HasInput(size_t i) const { return i < node_.inputs.size() && node_.inputs[i] != kNoTensor; }
  const Tensor& In(size_t i) const { return graph_.tensors[node_.inputs[i]]; }
  const Shape& InShape(size_t i) const { return In(i).shape; }

  // "input 1 'w'".
  std::string InputName(size_t i) const {
    return StrCat("input ", i, " '", graph_.tensors[node_.inputs[i]].name, "'");
  }

  // Weights and biases of Conv / FullyConnected / MatMul may also be the output of a
  // Dequantize of a constant (explicit quantization): the Q/DQ folding pass folds it
  // into quantized weights, or into FLOAT32 constants when it cannot.
  Status RequireWeightConstant(size_t i, const char* role) const {
    const NodeId producer = In(i).producer;
    if (!In(i).is_constant() && producer != kNoNode &&
        static_cast<size_t>(producer) < graph_.nodes.size() &&
        graph_.nodes[producer].type == NodeType::kDequantize &&
        !graph_.nodes[producer].inputs.empty() &&
        graph_.nodes[producer].inputs[0] >= 0 &&
        static_cast<size_t>(graph_.nodes[producer].inputs[0]) < graph_.tensors.size() &&
        graph_.tensors[graph_.nodes[producer].inputs[0]].is_constant()) {
      return Status::Ok();
    }
    return RequireConstant(i, role);
  }

  Status RequireConstant(size_t i, const char* role) const {
    if (!In(i).is_constant()) {
      return Error(InputName(i), " (", role, ") is not a constant; it must be a constant ",
                   "(the output of a Const node) by build time");
    }
    return Status::Ok();
  }

  Status RequireRank(size_t i, size_t rank, const char* rule) const {
    if (InShape(i).size() != rank) {
      return Error(InputName(i), " has shape ", ShapeToString(InShape(i)), "; ", rule);
    }
    return Status::Ok();
  }

  // Sets the output shape. The output type stays what the precision lowering chose: a
  // float type (FLOAT32 / FLOAT16 / BFLOAT16), or a quantized tensor (INT8 / UINT8 with
  // parameters for ops that have quantized kernels, INT16 for the INT16 kernels);
  // otherwise (and always for Dequantize) it is FLOAT32.
  void SetOutput(Shape shape) {
    Tensor& out = graph_.tensors[node_.outputs[0]];
    out.shape = std::move(shape);
    const bool quantized_output =
        (out.dtype == DataType::INT8 || out.dtype == DataType::UINT8 ||
         (out.dtype == DataType::INT16 && ReadsInt16(node_.type))) &&
        !out.quant.empty() && ReadsQuantized(node_.type) && node_.type != NodeType::kDequantize;
    const bool float_output = IsFloatType(out.dtype) && out.quant.empty() &&
                              node_.type != NodeType::kDequantize;
    if (float_output) return;
    if (!quantized_output) {
      out.dtype = DataType::FLOAT32;
      out.quant = QuantParams();
    }
  }

  // Sets the output after checking that its element count fits int64.
  Status SetCheckedOutput(Shape shape) {
    bool overflow = false;
    ProductOrDynamic(shape, 0, shape.size(), &overflow);
    if (overflow) {
      return Error("the output shape ", ShapeToString(shape),
                   " has an element count that overflows int64");
    }
    SetOutput(std::move(shape));
    return Status::Ok();
  }

  // --- Attributes. -----------------------------------------------------------------------

  const AttrValue* FindAttr(const char* key) const {
    const auto& values = node_.attrs.values();
    auto it = values.find(key);
    return it == values.end() ? nullptr : &it->second;
  }

  Status GetInt(const char* key, int64_t* value) const {
    const AttrValue* v = FindAttr(key);
    if (v == nullptr) return Error("attribute '", key, "' is missing");
    const auto* i = std::get_if<int64_t>(v);
    if (i == nullptr) return Error("attribute '", key, "' is not an integer");
    *value = *i;
    return Status::Ok();
  }

  Status GetBool(const char* key, int64_t* value) const {
    QSDK_RETURN_IF_ERROR(GetInt(key, value));
    if (*value != 0 && *value != 1) {
      return Error("attribute '", key, "' = ", *value, "; it must be 0 or 1");
    }
    return Status::Ok();
  }

  Status GetFloat(const char* key, double* value) const {
    const AttrValue* v = FindAttr(key);
    if (v == nullptr) return Error("attribute '", key, "' is missing");
    const auto* d = std::get_if<double>(v);
    if (d == nullptr) return Error("attribute '", key, "' is not a floating-point number");
    if (!std::isfinite(*d)) return Error("attribute '", key, "' = ", *d, "; it must be finite");
    *value = *d;
    return Status::Ok();
  }

  // A list of exactly `size` integers, each >= `min_value`.
  Status GetInts(const char* key, size_t size, int64_t min_value, const char* rule,
                 Shape* value) const {
    const AttrValue* v = FindAttr(key);
    if (v == nullptr) return Error("attribute '", key, "' is missing");
    const auto* list = std::get_if<std::vector<int64_t>>(v);
    if (list == nullptr) return Error("attribute '", key, "' is not a list of integers");
    if (list->size() != size) {
      return Error("attribute '", key, "' = ", ShapeToString(*list), "; it needs ", size,
                   " values");
    }
    for (int64_t x : *list) {
      if (x < min_value) return Error("attribute '", key, "' = ", ShapeToString(*list), "; ", rule);
    }
    *value = *list;
    return Status::Ok();
  }

  // An axis already normalized by the network: 0 <= axis < limit.
  Status GetAxis(int64_t limit, int64_t* axis) const {
    QSDK_RETURN_IF_ERROR(GetInt(attr::kAxis, axis));
    if (*axis < 0 || *axis >= limit) {
      return Error("attribute 'axis' = ", *axis, "; it must be in [0, ", limit, ") for ",
                   InputName(0), " of shape ", ShapeToString(InShape(0)));
    }
    return Status::Ok();
  }

  // Checks an activation type and its parameters. `type_key` etc. are either the
  // Activation node's keys or the fused_* keys of Conv / FC / MatMul.
  Status CheckActivation(const char* type_key, const char* alpha_key, const char* beta_key,
                         bool allow_none) const {
    int64_t type = 0;
    if (!allow_none) {
      QSDK_RETURN_IF_ERROR(GetInt(type_key, &type));
    } else if (FindAttr(type_key) != nullptr) {
      // Absent fused activation means none (attributes.h).
      QSDK_RETURN_IF_ERROR(GetInt(type_key, &type));
    }
    const int64_t min_type = allow_none ? 0 : 1;
    if (type < min_type || type > kMaxActivationType) {
      return Error("attribute '", type_key, "' = ", type, "; it must be an ActivationType in [",
                   min_type, ", ", kMaxActivationType, "]");
    }
    const auto act = static_cast<ActivationType>(type);
    if (act == ActivationType::kClip) {
      double alpha = 0.0;
      double beta = 0.0;
      QSDK_RETURN_IF_ERROR(GetFloat(alpha_key, &alpha));
      QSDK_RETURN_IF_ERROR(GetFloat(beta_key, &beta));
      if (alpha > beta) {
        return Error(ActivationName(type), " bounds '", alpha_key, "' = ", alpha, " > '",
                     beta_key, "' = ", beta,
                     "; the lower bound must not exceed the upper bound");
      }
    } else if (act == ActivationType::kLeakyRelu) {
      double alpha = 0.0;
      QSDK_RETURN_IF_ERROR(GetFloat(alpha_key, &alpha));
    }
    // Other activations ignore alpha / beta; if present they still must be finite numbers
    // so that a serialized graph never carries garbage.
    double unused = 0.0;
    if (FindAttr(alpha_key) != nullptr) QSDK_RETURN_IF_ERROR(GetFloat(alpha_key, &unused));
    if (FindAttr(beta_key) != nullptr) QSDK_RETURN_IF_ERROR(GetFloat(beta_key, &unused));
    return Status::Ok();
  }

  Status CheckFusedActivation() const {
    return CheckActivation(attr::kFusedActivation, attr::kFusedAlpha, attr::kFusedBeta, true);
  }

  // Conv / FullyConnected: attribute 'fused_sum' (absent = 0) is 0 or 1, and input 3 (the
  // residual R of y = act(op(x) + R)) is present iff it is 1, with exactly the output
  // shape `out` (no broadcasting; a dynamic extent matches anything) and type FLOAT32 or
  // INT8 / UINT8 quantized per tensor.
  Status CheckFusedResidual(const Shape& out) const {
    int64_t fused_sum = 0;
    if (FindAttr(attr::kFusedSum) != nullptr) {
      QSDK_RETURN_IF_ERROR(GetBool(attr::kFusedSum, &fused_sum));
    }
    const bool has_residual = node_.inputs.size() > 3;
    if (fused_sum == 0) {
      if (has_residual) {
        return Error("has ", node_.inputs.size(), " input slots but attribute '",
                     attr::kFusedSum, "' is not 1; input 3 (the residual) exists only with a "
                     "fused sum");
      }
      return Status::Ok();
    }
    if (!has_residual || node_.inputs[3] == kNoTensor) {
      return Error("attribute '", attr::kFusedSum,
                   "' = 1 but input 3 (the residual) is missing; a fused sum needs it");
    }
    const Tensor& r = In(3);
    if (!IsFloatType(r.dtype)) {
      if (r.dtype != DataType::INT8 && r.dtype != DataType::UINT8) {
        return Error(InputName(3), " (the residual) has type ", DataTypeName(r.dtype),
                     "; it must be FLOAT32, FLOAT16, BFLOAT16, INT8 or UINT8");
      }
      if (!r.quant.per_tensor()) {
        return Error(InputName(3), " (the residual) is quantized along axis ", r.quant.axis,
                     "; a residual is quantized per tensor");
      }
    }
    const Shape& rs = InShape(3);
    bool same = rs.size() == out.size();
    for (size_t d = 0; same && d < rs.size(); ++d) {
      same = rs[d] == out[d] || rs[d] == kDynamic || out[d] == kDynamic;
    }
    if (!same) {
      return Error(InputName(3), " (the residual) has shape ", ShapeToString(rs),
                   " but the output has shape ", ShapeToString(out),
                   "; a fused residual must have exactly the output shape");
    }
    return Status::Ok();
  }

  // --- Broadcasting. ---------------------------------------------------------------------

  // Numpy broadcasting of one extent pair. A dynamic extent stays dynamic unless the other
  // extent is > 1 (then the dynamic one must be 1 or equal at run time; the result is
  // known). Returns false on a definite mismatch.
  static bool BroadcastExtent(int64_t a, int64_t b, int64_t* out) {
    if (a == b) {
      *out = a;
    } else if (a == 1) {
      *out = b;
    } else if (b == 1) {
      *out = a;
    } else if (a == kDynamic) {
      *out = b;
    } else if (b == kDynamic) {
      *out = a;
    } else {
      return false;
    }
    return true;
  }

  // Broadcasts two shapes aligned on the right. On mismatch sets *bad_axis (of the output).
  static bool Broadcast(const Shape& a, const Shape& b, Shape* out, size_t* bad_axis) {
    const size_t rank = std::max(a.size(), b.size());
    out->assign(rank, 1);
    for (size_t i = 0; i < rank; ++i) {
      const int64_t ea = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
      const int64_t eb = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
      if (!BroadcastExtent(ea, eb, &(*out)[i])) {
        *bad_axis = i;
        return false;
      }
    }
    return true;
  }

  // --- Ops. ------------------------------------------------------------------------------

  Status InferConst() {
    const Tensor& out = graph_.tensors[node_.outputs[0]];
    if (!out.is_constant()) {
      return Error("output 0 '", out.name, "' has no data; a Const node's output must hold it");
    }
    const std::string what = StrCat("output 0 '", out.name, "'");
    if (!IsFloatType(out.dtype)) {
      // Quantized weights (INT8 / INT16, per channel) and biases (INT32) made by the
      // builder, or integer data a Dequantize node gives its parameters (explicit
      // quantization: a network's integer constant has none until then).
      if (out.dtype != DataType::INT8 && out.dtype != DataType::UINT8 &&
          out.dtype != DataType::INT16 && out.dtype != DataType::INT32) {
        return Error(what, " has type ", DataTypeName(out.dtype),
                     "; constants are FLOAT32 / FLOAT16 / BFLOAT16, or INT8 / UINT8 / INT16 / "
                     "INT32");
      }
      if (!out.quant.empty()) QSDK_RETURN_IF_ERROR(CheckNodeQuantParams(what, out));
    } else if (!out.quant.empty()) {
      return Error(what, " is ", DataTypeName(out.dtype), " but has quantization parameters");
    }
    return CheckShapeSanity(what, out);
  }

  // Quantize: input FLOAT32 (quantize) or quantized (requantize); output INT8 / UINT8 /
  // INT16 with the parameters the network or the builder set on it. Same shape.
  Status InferQuantize() {
    Tensor& out = graph_.tensors[node_.outputs[0]];
    const std::string what = StrCat("output 0 '", out.name, "'");
    if (out.dtype != DataType::INT8 && out.dtype != DataType::UINT8 &&
        out.dtype != DataType::INT16) {
      return Error(what, " has type ", DataTypeName(out.dtype),
                   "; Quantize produces INT8, UINT8 or INT16");
    }
    if (IsFloatType(In(0).dtype) && In(0).dtype != DataType::FLOAT32) {
      return Error(InputName(0), " has type ", DataTypeName(In(0).dtype),
                   "; Quantize reads FLOAT32 or a quantized tensor");
    }
    if (In(0).quant.empty() && !IsFloatType(In(0).dtype)) {
      return Error(InputName(0), " has type ", DataTypeName(In(0).dtype),
                   " without quantization parameters");
    }
    if (out.quant.empty()) return Error(what, " has no quantization parameters");
    out.shape = InShape(0);
    return CheckNodeQuantParams(what, out);
  }

  // Dequantize: quantized INT8 / UINT8 / INT16 / INT32 input, FLOAT32 output of the same
  // shape.
  Status InferDequantize() {
    if (IsFloatType(In(0).dtype)) {
      return Error(InputName(0), " has type ", DataTypeName(In(0).dtype),
                   "; Dequantize reads INT8, UINT8, INT16 or INT32");
    }
    if (In(0).quant.empty()) {
      return Error(InputName(0), " has type ", DataTypeName(In(0).dtype),
                   " without quantization parameters; Dequantize needs a scale and zero point");
    }
    SetOutput(InShape(0));
    return Status::Ok();
  }

  // Cast: a float tensor to the float type the builder set on the output (FLOAT32 /
  // FLOAT16 / BFLOAT16, round to nearest even when narrowing). Same shape.
  Status InferCast() {
    Tensor& out = graph_.tensors[node_.outputs[0]];
    if (!IsFloatType(In(0).dtype)) {
      return Error(InputName(0), " has type ", DataTypeName(In(0).dtype),
                   "; Cast reads FLOAT32, FLOAT16 or BFLOAT16");
    }
    if (!IsFloatType(out.dtype) || !out.quant.empty()) {
      return Error("output 0 '", out.name, "' has type ", DataTypeName(out.dtype),
                   "; Cast writes FLOAT32, FLOAT16 or BFLOAT16");
    }
    out.shape = InShape(0);
    return Status::Ok();
  }

  Status InferConv() {
    QSDK_RETURN_IF_ERROR(RequireWeightConstant(1, "filter"));
    if (HasInput(2)) QSDK_RETURN_IF_ERROR(RequireWeightConstant(2, "bias"));
    QSDK_RETURN_IF_ERROR(RequireRank(0, 4, "a convolution input needs rank 4 [N, C, H, W]"));
    QSDK_RETURN_IF_ERROR(RequireRank(1, 4, "a filter needs rank 4 [OC, C/group, KH, KW]"));
    Shape strides, pads, dilations;
    int64_t group = 0;
    QSDK_RETURN_IF_ERROR(GetInts(attr::kStrides, 2, 1, "each stride must be >= 1", &strides));
    QSDK_RETURN_IF_ERROR(GetInts(attr::kPads, 4, 0, "each pad must be >= 0", &pads));
    QSDK_RETURN_IF_ERROR(
        GetInts(attr::kDilations, 2, 1, "each dilation must be >= 1", &dilations));
    QSDK_RETURN_IF_ERROR(GetInt(attr::kGroup, &group));
    if (group < 1) return Error("attribute 'group' = ", group, "; it must be >= 1");
    QSDK_RETURN_IF_ERROR(CheckFusedActivation());

    const Shape& x = InShape(0);
    const Shape& w = InShape(1);
    const int64_t oc = w[0];
    if (oc % group != 0) {
      return Error(InputName(1), " has shape ", ShapeToString(w), ": ", oc,
                   " output channels are not divisible by group = ", group);
    }
    if (x[1] != kDynamic) {
      if (x[1] % group != 0) {
        return Error(InputName(0), " has shape ", ShapeToString(x), ": ", x[1],
                     " channels are not divisible by group = ", group);
      }
      if (x[1] / group != w[1]) {
        return Error(InputName(1), " has shape ", ShapeToString(w), "; with ", x[1],
                     " input channels and group = ", group, " its dim 1 must be ", x[1] / group);
      }
    }
    if (HasInput(2)) {
      const Shape& b = InShape(2);
      if (b.size() != 1 || b[0] != oc) {
        return Error(InputName(2), " has shape ", ShapeToString(b), "; a bias needs shape [",
                     oc, "] (one value per output channel)");
      }
    }
    Shape out = {x[0], oc, kDynamic, kDynamic};
    for (size_t d = 0; d < 2; ++d) {
      const int64_t in = x[2 + d];
      const int64_t k = w[2 + d];
      const char* axis = d == 0 ? "height" : "width";
      int64_t effective = 0;  // dilation * (k - 1) + 1
      int64_t padded = 0;     // in + pad_begin + pad_end
      if (MulOverflows(dilations[d], k - 1, &effective) ||
          AddOverflows(effective, 1, &effective)) {
        return Error("the dilated filter ", axis, " overflows int64");
      }
      if (in == kDynamic) continue;
      if (AddOverflows(in, pads[2 * d], &padded) ||
          AddOverflows(padded, pads[2 * d + 1], &padded)) {
        return Error("the padded input ", axis, " overflows int64");
      }
      if (padded < effective) {
        return Error("the padded input ", axis, " ", padded, " (", in, " + pads ", pads[2 * d],
                     ", ", pads[2 * d + 1], ") is smaller than the dilated filter ", axis, " ",
                     effective, "; the output ", axis, " must be >= 1");
      }
      out[2 + d] = (padded - effective) / strides[d] + 1;
    }
    QSDK_RETURN_IF_ERROR(CheckFusedResidual(out));
    return SetCheckedOutput(std::move(out));
  }

  Status InferFullyConnected() {
    QSDK_RETURN_IF_ERROR(RequireWeightConstant(1, "weight"));
    if (HasInput(2)) QSDK_RETURN_IF_ERROR(RequireWeightConstant(2, "bias"));
    QSDK_RETURN_IF_ERROR(CheckFusedActivation());
    const Shape& x = InShape(0);
    if (x.size() < 2) {
      return Error(InputName(0), " has shape ", ShapeToString(x),
                   "; a fully connected input needs rank >= 2 [N, K, ...]");
    }
    QSDK_RETURN_IF_ERROR(RequireRank(1, 2, "a fully connected weight needs rank 2 [OC, K]"));
    const Shape& w = InShape(1);
    bool overflow = false;
    const int64_t k = ProductOrDynamic(x, 1, x.size(), &overflow);
    if (k != kDynamic && k != w[1]) {
      return Error(InputName(0), " has shape ", ShapeToString(x), " (K = ", k, ") but ",
                   InputName(1), " has shape ", ShapeToString(w), " (K = ", w[1],
                   "); the weight needs [OC, K]");
    }
    if (HasInput(2)) {
      const Shape& b = InShape(2);
      if (b.size() != 1 || b[0] != w[0]) {
        return Error(InputName(2), " has shape ", ShapeToString(b), "; a bias needs shape [",
                     w[0], "] (one value per output)");
      }
    }
    QSDK_RETURN_IF_ERROR(CheckFusedResidual({x[0], w[0]}));
    return SetCheckedOutput({x[0], w[0]});
  }

  Status InferMatMul() {
    int64_t transpose_a = 0;
    int64_t transpose_b = 0;
    QSDK_RETURN_IF_ERROR(GetBool(attr::kTransposeA, &transpose_a));
    QSDK_RETURN_IF_ERROR(GetBool(attr::kTransposeB, &transpose_b));
    QSDK_RETURN_IF_ERROR(CheckFusedActivation());
    for (size_t i = 0; i < 2; ++i) {
      if (InShape(i).size() < 2) {
        return Error(InputName(i), " has shape ", ShapeToString(InShape(i)),
                     "; a matrix product operand needs rank >= 2 (rank 1 is not supported)");
      }
    }
    const Shape& a = InShape(0);
    const Shape& b = InShape(1);
    const size_t ra = a.size();
    const size_t rb = b.size();
    const int64_t m = transpose_a ? a[ra - 1] : a[ra - 2];
    const int64_t ka = transpose_a ? a[ra - 2] : a[ra - 1];
    const int64_t kb = transpose_b ? b[rb - 1] : b[rb - 2];
    const int64_t n = transpose_b ? b[rb - 2] : b[rb - 1];
    if (ka != kDynamic && kb != kDynamic && ka != kb) {
      return Error(InputName(0), " has shape ", ShapeToString(a), " and ", InputName(1),
                   " has shape ", ShapeToString(b), " (transpose_a = ", transpose_a,
                   ", transpose_b = ", transpose_b, "); the inner dimensions ", ka, " and ", kb,
                   " must match");
    }
    Shape batch;
    size_t bad_axis = 0;
    const Shape batch_a(a.begin(), a.end() - 2);
    const Shape batch_b(b.begin(), b.end() - 2);
    if (!Broadcast(batch_a, batch_b, &batch, &bad_axis)) {
      return Error("the batch dimensions ", ShapeToString(batch_a), " of ", InputName(0),
                   " and ", ShapeToString(batch_b), " of ", InputName(1),
                   " do not broadcast (batch axis ", bad_axis, ")");
    }
    Shape out = batch;
    out.push_back(m);
    out.push_back(n);
    if (HasInput(2)) {
      const Shape& bias = InShape(2);
      Shape merged;
      // The bias must broadcast *to* the output: it may not add or grow dimensions.
      bool ok = bias.size() <= out.size() && Broadcast(out, bias, &merged, &bad_axis);
      if (ok) {
        for (size_t i = 0; i < out.size(); ++i) {
          if (out[i] != kDynamic && merged[i] != out[i]) ok = false;
        }
      }
      if (!ok) {
        return Error(InputName(2), " has shape ", ShapeToString(bias),
                     "; a bias must broadcast to the output shape ", ShapeToString(out));
      }
    }
    return SetCheckedOutput(std::move(out));
  }

  Status InferActivation() {
    QSDK_RETURN_IF_ERROR(CheckActivation(attr::kActivation, attr::kAlpha, attr::kBeta, false));
    SetOutput(InShape(0));
    return Status::Ok();
  }

  Status InferPool() {
    int64_t mode = 0;
    QSDK_RETURN_IF_ERROR(GetInt(attr::kPoolMode, &mode));
    if (mode < 1 || mode > kMaxPoolMode) {
      return Error("attribute 'pool_mode' = ", mode, "; it must be a PoolMode in [1, ",
                   kMaxPoolMode, "]");
    }
    QSDK_RETURN_IF_ERROR(RequireRank(0, 4, "a pooling input needs rank 4 [N, C, H, W]"));
    const Shape& x = InShape(0);
    const auto pool_mode = static_cast<PoolMode>(mode);
    if (pool_mode == PoolMode::kGlobalAverage || pool_mode == PoolMode::kGlobalMax) {
      SetOutput({x[0], x[1], 1, 1});
      return Status::Ok();
    }
    Shape kernel, strides, pads;
    int64_t count_include_pad = 0;
    int64_t ceil_mode = 0;
    QSDK_RETURN_IF_ERROR(GetInts(attr::kKernel, 2, 1, "each kernel extent must be >= 1", &kernel));
    QSDK_RETURN_IF_ERROR(GetInts(attr::kStrides, 2, 1, "each stride must be >= 1", &strides));
    QSDK_RETURN_IF_ERROR(GetInts(attr::kPads, 4, 0, "each pad must be >= 0", &pads));
    QSDK_RETURN_IF_ERROR(GetBool(attr::kCountIncludePad, &count_include_pad));
    QSDK_RETURN_IF_ERROR(GetBool(attr::kCeilMode, &ceil_mode));
    for (size_t i = 0; i < 4; ++i) {
      // A window made only of padding has no input element (max undefined, average 0/0).
      if (pads[i] >= kernel[i / 2]) {
        return Error("attribute 'pads' = ", ShapeToString(pads), " with 'kernel' = ",
                     ShapeToString(kernel), "; each pad must be smaller than its kernel extent");
      }
    }
    Shape out = {x[0], x[1], kDynamic, kDynamic};
    for (size_t d = 0; d < 2; ++d) {
      const int64_t in = x[2 + d];
      if (in == kDynamic) continue;
      const char* axis = d == 0 ? "height" : "width";
      // Pads are below the kernel extent (checked above), so this cannot overflow unless
      // the kernel itself is near int64 max.
      int64_t padded = 0;
      if (AddOverflows(in, pads[2 * d], &padded) ||
          AddOverflows(padded, pads[2 * d + 1], &padded)) {
        return Error("the padded input ", axis, " overflows int64");
      }
      if (padded < kernel[d]) {
        return Error("the padded input ", axis, " ", padded, " (", in, " + pads ", pads[2 * d],
                     ", ", pads[2 * d + 1], ") is smaller than the kernel ", axis, " ", kernel[d],
                     "; the output ", axis, " must be >= 1");
      }
      const int64_t span = padded - kernel[d];
      int64_t extent = span / strides[d] + 1;
      if (ceil_mode && span % strides[d] != 0) {
        ++extent;
        // ONNX / PyTorch: drop a last window that starts in the end padding.
        // in + pad_begin cannot overflow: padded (which adds pad_end too) did not.
        int64_t start = 0;
        if (MulOverflows(extent - 1, strides[d], &start) || start >= in + pads[2 * d]) {
          --extent;
        }
      }
      out[2 + d] = extent;
    }
    return SetCheckedOutput(std::move(out));
  }

  Status InferElementwise() {
    int64_t op = 0;
    QSDK_RETURN_IF_ERROR(GetInt(attr::kElementwiseOp, &op));
    if (op < 1 || op > kMaxElementwiseOp) {
      return Error("attribute 'elementwise_op' = ", op, "; it must be an ElementwiseOp in [1, ",
                   kMaxElementwiseOp, "]");
    }
    Shape out;
    size_t bad_axis = 0;
    if (!Broadcast(InShape(0), InShape(1), &out, &bad_axis)) {
      return Error(InputName(0), " has shape ", ShapeToString(InShape(0)), " and ",
                   InputName(1), " has shape ", ShapeToString(InShape(1)),
                   "; they do not broadcast (output axis ", bad_axis,
                   ": extents must be equal or 1)");
    }
    return SetCheckedOutput(std::move(out));
  }

  Status InferConcat() {
    const Shape& first = InShape(0);
    int64_t axis = 0;
    QSDK_RETURN_IF_ERROR(GetAxis(static_cast<int64_t>(first.size()), &axis));
    Shape out = first;
    for (size_t i = 1; i < node_.inputs.size(); ++i) {
      const Shape& s = InShape(i);
      if (s.size() != first.size()) {
        return Error(InputName(i), " has shape ", ShapeToString(s), " but ", InputName(0),
                     " has shape ", ShapeToString(first), "; all inputs need the same rank");
      }
      for (size_t d = 0; d < s.size(); ++d) {
        if (static_cast<int64_t>(d) == axis) {
          if (out[d] == kDynamic || s[d] == kDynamic) {
            out[d] = kDynamic;
          } else if (AddOverflows(out[d], s[d], &out[d])) {
            return Error("the concatenated extent on axis ", axis, " overflows int64");
          }
          continue;
        }
        if (out[d] != kDynamic && s[d] != kDynamic && out[d] != s[d]) {
          return Error(InputName(i), " has shape ", ShapeToString(s), " but ", InputName(0),
                       " has shape ", ShapeToString(first), "; extents must match except on ",
                       "axis ", axis, " (they differ on axis ", d, ")");
        }
        // A dynamic extent next to a known one must equal it at run time.
        if (out[d] == kDynamic) out[d] = s[d];
      }
    }
    return SetCheckedOutput(std::move(out));
  }

  Status InferBatchNorm() {
    static const char* const kRoles[] = {"", "mean", "variance", "scale", "bias"};
    for (size_t i = 1; i < 5; ++i) QSDK_RETURN_IF_ERROR(RequireConstant(i, kRoles[i]));
    double epsilon = 0.0;
    QSDK_RETURN_IF_ERROR(GetFloat(attr::kEpsilon, &epsilon));
    if (!(epsilon > 0.0)) return Error("attribute 'epsilon' = ", epsilon, "; it must be > 0");
    const Shape& x = InShape(0);
    if (x.size() < 2) {
      return Error(InputName(0), " has shape ", ShapeToString(x),
                   "; batch normalization needs rank >= 2 [N, C, ...]");
    }
    const int64_t c = x[1];
    for (size_t i = 1; i < 5; ++i) {
      const Shape& p = InShape(i);
      if (p.size() != 1 || (c != kDynamic && p[0] != c)) {
        return Error(InputName(i), " (", kRoles[i], ") has shape ", ShapeToString(p),
                     "; it needs shape [C] with C = ", c, " (dim 1 of ", InputName(0), ")");
      }
      if (p[0] != InShape(1)[0]) {
        return Error(InputName(i), " (", kRoles[i], ") has shape ", ShapeToString(p), " but ",
                     InputName(1), " has shape ", ShapeToString(InShape(1)),
                     "; all parameters need one value per channel");
      }
    }
    // Channel count is known from the parameters even if the input's is dynamic.
    Shape out = x;
    out[1] = InShape(1)[0];
    SetOutput(std::move(out));
    return Status::Ok();
  }

  Status InferSoftmax() {
    const Shape& x = InShape(0);
    if (x.empty()) {
      return Error(InputName(0), " is a scalar; softmax needs rank >= 1");
    }
    int64_t axis = 0;
    QSDK_RETURN_IF_ERROR(GetAxis(static_cast<int64_t>(x.size()), &axis));
    SetOutput(x);
    return Status::Ok();
  }

  Status InferReshape() {
    const AttrValue* v = FindAttr(attr::kShape);
    if (v == nullptr) return Error("attribute 'shape' is missing");
    const auto* requested_ptr = std::get_if<std::vector<int64_t>>(v);
    if (requested_ptr == nullptr) return Error("attribute 'shape' is not a list of integers");
    const Shape& requested = *requested_ptr;
    const Shape& x = InShape(0);
    const std::string shape_str = ShapeToString(requested);

    int64_t infer_index = -1;
    Shape out(requested.size(), kDynamic);
    for (size_t i = 0; i < requested.size(); ++i) {
      const int64_t r = requested[i];
      if (r == -1) {
        if (infer_index >= 0) {
          return Error("attribute 'shape' = ", shape_str, "; at most one extent may be -1");
        }
        infer_index = static_cast<int64_t>(i);
      } else if (r == 0) {
        if (i >= x.size()) {
          return Error("attribute 'shape' = ", shape_str, ": extent ", i,
                       " is 0 (copy the input extent) but ", InputName(0), " has shape ",
                       ShapeToString(x), " with only ", x.size(), " dims");
        }
        out[i] = x[i];
      } else if (r < 0) {
        return Error("attribute 'shape' = ", shape_str,
                     "; each extent must be >= 1, 0 (copy) or -1 (infer)");
      } else {
        out[i] = r;
      }
    }

    // Dynamic input extents copied by a `0` to the same index cancel out of the element
    // count equation; any other dynamic input extent makes the count unknowable now.
    bool all_dynamic_copied = true;
    int64_t in_rest = 1;  // product of the input extents not copied through a dynamic 0
    for (size_t i = 0; i < x.size(); ++i) {
      const bool copied_dynamic = x[i] == kDynamic && i < requested.size() && requested[i] == 0;
      if (copied_dynamic) continue;
      if (x[i] == kDynamic) {
        all_dynamic_copied = false;
        continue;
      }
      if (MulOverflows(in_rest, x[i], &in_rest)) {
        return Error(InputName(0), " has an element count that overflows int64");
      }
    }
    int64_t out_rest = 1;  // product of the known output extents except dynamic copies
    for (size_t i = 0; i < out.size(); ++i) {
      if (static_cast<int64_t>(i) == infer_index) continue;
      if (out[i] == kDynamic) continue;  // a dynamic copy, cancelled above
      if (MulOverflows(out_rest, out[i], &out_rest)) {
        return Error("attribute 'shape' = ", shape_str, " has an element count that overflows ",
                     "int64");
      }
    }
    if (all_dynamic_copied) {
      if (infer_index >= 0) {
        if (in_rest % out_rest != 0) {
          return Error("attribute 'shape' = ", shape_str, " cannot hold the elements of ",
                       InputName(0), " of shape ", ShapeToString(x), ": ", in_rest,
                       " is not divisible by ", out_rest);
        }
        out[infer_index] = in_rest / out_rest;
      } else if (in_rest != out_rest) {
        return Error("attribute 'shape' = ", shape_str, " gives ", ShapeToString(out),
                     " but ", InputName(0), " has shape ", ShapeToString(x),
                     "; reshape must preserve the element count");
      }
    }
    // Otherwise a -1 stays dynamic (inferred at run time, when the runtime re-runs this
    // inference with concrete shapes) and the count is checked then.
    return SetCheckedOutput(std::move(out));
  }

  Status InferFlatten() {
    const Shape& x = InShape(0);
    int64_t axis = 0;
    QSDK_RETURN_IF_ERROR(GetInt(attr::kAxis, &axis));
    if (axis < 0 || axis > static_cast<int64_t>(x.size())) {
      return Error("attribute 'axis' = ", axis, "; it must be in [0, ", x.size(), "] for ",
                   InputName(0), " of shape ", ShapeToString(x));
    }
    bool overflow = false;
    const int64_t outer = ProductOrDynamic(x, 0, static_cast<size_t>(axis), &overflow);
    const int64_t inner = ProductOrDynamic(x, static_cast<size_t>(axis), x.size(), &overflow);
    return SetCheckedOutput({outer, inner});
  }

  Status InferTranspose() {
    const Shape& x = InShape(0);
    const AttrValue* v = FindAttr(attr::kPerm);
    if (v == nullptr) return Error("attribute 'perm' is missing");
    const auto* perm = std::get_if<std::vector<int64_t>>(v);
    if (perm == nullptr) return Error("attribute 'perm' is not a list of integers");
    if (perm->size() != x.size()) {
      return Error("attribute 'perm' = ", ShapeToString(*perm), " has ", perm->size(),
                   " entries but ", InputName(0), " has shape ", ShapeToString(x),
                   "; it must be a permutation of 0..", static_cast<int64_t>(x.size()) - 1);
    }
    std::vector<bool> seen(x.size(), false);
    Shape out(x.size());
    for (size_t i = 0; i < perm->size(); ++i) {
      const int64_t p = (*perm)[i];
      if (p < 0 || p >= static_cast<int64_t>(x.size()) || seen[p]) {
        return Error("attribute 'perm' = ", ShapeToString(*perm),
                     "; it must be a permutation of 0..", static_cast<int64_t>(x.size()) - 1,
                     " (each index exactly once)");
      }
      seen[p] = true;
      out[i] = x[p];
    }
    SetOutput(std::move(out));
    return Status::Ok();
  }

  Graph& graph_;
  NodeId id_;
  const Node& node_;
};

}  // namespace

Status CheckQuantParams(const Tensor& tensor, const std::string& what) {
  const QuantParams& q = tensor.quant;
  if (q.zero_points.size() != q.scales.size()) {
    return InvalidArgument(what, " has ", q.scales.size(), " quantization scales but ",
                           q.zero_points.size(), " zero points; they must match");
  }
  if (q.axis < -1 || q.axis >= static_cast<int64_t>(tensor.shape.size())) {
    return InvalidArgument(what, " has quantization axis ", q.axis,
                           "; it must be -1 (per tensor) or in [0, ", tensor.shape.size(), ")");
  }
  if (q.axis < 0 && q.scales.size() != 1) {
    return InvalidArgument(what, " is quantized per tensor but has ", q.scales.size(), " scales");
  }
  if (q.axis >= 0) {
    const int64_t extent = tensor.shape[static_cast<size_t>(q.axis)];
    if (extent != kDynamic && static_cast<uint64_t>(extent) != q.scales.size()) {
      return InvalidArgument(what, " is quantized along axis ", q.axis, " of extent ", extent,
                             " but has ", q.scales.size(), " scales");
    }
  }
  int64_t lo = 0, hi = 0;
  switch (tensor.dtype) {
    case DataType::INT8: lo = -128; hi = 127; break;
    case DataType::UINT8: lo = 0; hi = 255; break;
    case DataType::INT16: lo = -32768; hi = 32767; break;
    case DataType::INT32: lo = 0; hi = 0; break;  // biases: zero point 0
    default:
      return InvalidArgument(what, " has quantization parameters but type ",
                             DataTypeName(tensor.dtype),
                             "; only INT8, UINT8, INT16 and INT32 tensors are quantized");
  }
  for (size_t k = 0; k < q.scales.size(); ++k) {
    if (!std::isfinite(q.scales[k]) || !(q.scales[k] > 0.0f)) {
      return InvalidArgument(what, " has scale[", k, "] = ", FloatText(q.scales[k]),
                             "; a scale must be finite and > 0");
    }
    if (q.zero_points[k] < lo || q.zero_points[k] > hi) {
      return InvalidArgument(what, " has zero_point[", k, "] = ", q.zero_points[k], "; for ",
                             DataTypeName(tensor.dtype), " it must be in [", lo, ", ", hi, "]");
    }
  }
  return Status::Ok();
}

Status InferNodeShapes(Graph* graph, NodeId id) {
  if (id < 0 || id >= static_cast<NodeId>(graph->nodes.size())) {
    return InvalidArgument("shape inference: node #", id, " does not exist (",
                           graph->nodes.size(), " nodes)");
  }
  return NodeInference(graph, id).Run();
}

Status InferShapes(Graph* graph) {
  std::vector<NodeId> order;
  QSDK_RETURN_IF_ERROR(graph->TopologicalOrder(&order));
  for (NodeId id : order) QSDK_RETURN_IF_ERROR(InferNodeShapes(graph, id));
  return Status::Ok();
}

}  // namespace qsdk::graph
