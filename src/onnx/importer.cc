#include "onnx/importer.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

#include "common/status_macros.h"
#include "onnx/ops.h"

namespace qsdk::onnx {

namespace {

// The network's error after a failed Add* call, prefixed with `what`.
Status NetworkError(INetwork* network, const std::string& what) {
  const Status s = network->GetLastError();
  if (s.ok()) return InternalError(what, ": the network rejected a node without saying why");
  return Status(s.code(), StrCat(what, ": ", s.message()));
}

Status Prefixed(const Status& s, const std::string& what) {
  if (s.ok()) return s;
  return Status(s.code(), StrCat(what, ": ", s.message()));
}

std::string TypeCaseName(const ::onnx::TypeProto& type) {
  switch (type.value_case()) {
    case ::onnx::TypeProto::kTensorType:
      return "a tensor";
    case ::onnx::TypeProto::kSequenceType:
      return "a sequence";
    case ::onnx::TypeProto::kMapType:
      return "a map";
    case ::onnx::TypeProto::kOptionalType:
      return "an optional";
    case ::onnx::TypeProto::kSparseTensorType:
      return "a sparse tensor";
    default:
      return "a value without a type";
  }
}

}  // namespace

// --- ImportContext ------------------------------------------------------------------------

Status ImportContext::Define(const std::string& name, Value value) {
  if (!values_.emplace(name, std::move(value)).second) {
    return InternalError("ONNX import: value '", name, "' is defined twice");
  }
  return Status::Ok();
}

const Value* ImportContext::Find(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

Status ImportContext::Input(const OnnxNode& node, size_t i, const char* role,
                            const Value** value) const {
  if (!node.HasInput(i)) {
    return InvalidArgument(node.describe, ": input ", i, " (", role,
                           ") is missing; it is required");
  }
  *value = Find(node.InputName(i));
  if (*value == nullptr) {
    return InvalidArgument(node.describe, ": input ", i, " '", node.InputName(i), "' (", role,
                           ") is not defined: its producer did not define it");
  }
  return Status::Ok();
}

bool ImportContext::IsConstantInput(const OnnxNode& node, size_t i) const {
  if (!node.HasInput(i)) return false;
  const Value* v = Find(node.InputName(i));
  return v != nullptr && v->constant != nullptr;
}

Status ImportContext::TensorInput(const OnnxNode& node, size_t i, const char* role,
                                  ITensor** tensor) {
  const Value* value = nullptr;
  QSDK_RETURN_IF_ERROR(Input(node, i, role, &value));
  return ToTensor(node, node.InputName(i), role, tensor);
}

Status ImportContext::ToTensor(const OnnxNode& node, const std::string& name, const char* role,
                               ITensor** tensor) {
  const Value* value = Find(name);
  if (value == nullptr) {
    return InvalidArgument(node.describe, ": input '", name, "' (", role, ") is not defined");
  }
  if (value->quantized != nullptr) {
    const QuantizedActivation& q = *value->quantized;
    return Unimplemented(node.describe, ": input '", name, "' (", role, ") is the ",
                         OnnxTypeName(q.type), " output of ", q.producer,
                         "; qsdk ops compute on real values, so a quantized tensor may only be "
                         "read by a DequantizeLinear (or Identity / Cast to its own type)");
  }
  if (value->tensor != nullptr) {
    *tensor = value->tensor;
    return Status::Ok();
  }
  auto cached = materialized_.find(name);
  if (cached != materialized_.end()) {
    *tensor = cached->second;
    return Status::Ok();
  }
  if (value->dequantized != nullptr) {
    // Quantized weights stay explicit: an integer Const read by a Dequantize node.
    // The DequantizeLinear's own node name when it is still free (the first reader), and
    // the value's name (reserved for it, and materialized once).
    const DequantizedConstant& dq = *value->dequantized;
    const std::string node_name = network_->FindNodeByName(dq.node_name) == nullptr
                                      ? dq.node_name
                                      : UniqueNodeName(dq.node_name);
    QSDK_RETURN_IF_ERROR(AddDequantized(node, dq, node_name, name, tensor));
    materialized_[name] = *tensor;
    return Status::Ok();
  }
  const HostTensor& c = *value->constant;
  if (!c.is_float()) {
    return Unimplemented(node.describe, ": input '", name, "' (", role, ") is a constant of ",
                         "type ", OnnxTypeName(c.type()), "; qsdk computes in FLOAT32 and ",
                         "reads only FLOAT tensors here");
  }
  IConstNode* k =
      network_->AddIConstNode(DataType::FLOAT32, Dims(c.dims()), c.count() ? c.floats() : nullptr);
  if (k == nullptr) return NetworkError(network_, StrCat(node.describe, ": constant '", name, "'"));
  QSDK_RETURN_IF_ERROR(k->SetNodeName(UniqueNodeName(name)));
  // The value's own name: ONNX value names are reserved for their values, and a constant
  // is materialized once.
  QSDK_RETURN_IF_ERROR(k->GetOutput(0)->SetTensorName(name));
  materialized_[name] = k->GetOutput(0);
  *tensor = k->GetOutput(0);
  return Status::Ok();
}

namespace {

DataType NetworkIntegerType(int32_t onnx_type) {
  switch (onnx_type) {
    case kOnnxInt8: return DataType::INT8;
    case kOnnxUint8: return DataType::UINT8;
    case kOnnxInt16: return DataType::INT16;
    case kOnnxInt32: return DataType::INT32;
    default: return DataType::INVALID;
  }
}

}  // namespace

Status ImportContext::AddDequantized(const OnnxNode& node, const DequantizedConstant& dq,
                                     const std::string& node_name,
                                     const std::string& tensor_name, ITensor** tensor) {
  const HostTensor& q = *dq.data;
  const DataType type = NetworkIntegerType(q.type());
  if (type == DataType::INVALID) {
    return InternalError(node.describe, ": dequantized constant '", dq.data_name, "' is ",
                         OnnxTypeName(q.type()));
  }
  // HostTensor holds the integers in their native little-endian layout, as qsdk does.
  IConstNode* k = network_->AddIConstNode(type, Dims(q.dims()),
                                          q.count() ? q.bytes().data() : nullptr);
  if (k == nullptr) {
    return NetworkError(network_, StrCat(node.describe, ": constant '", dq.data_name, "'"));
  }
  QSDK_RETURN_IF_ERROR(Prefixed(k->SetNodeName(UniqueNodeName(dq.data_name)), node.describe));
  // The integer value is materialized only here (integer constants never become network
  // tensors otherwise), under its ONNX name the first time; another Dequantize of it gets
  // its own copy (a tensor has one set of quantization parameters).
  const std::string data_name = network_->FindTensorByName(dq.data_name) == nullptr
                                    ? dq.data_name
                                    : UniqueTensorName(dq.data_name);
  QSDK_RETURN_IF_ERROR(Prefixed(k->GetOutput(0)->SetTensorName(data_name), node.describe));
  IDequantizeNode* d =
      network_->AddIDequantizeNode(k->GetOutput(0), dq.scales, dq.zero_points, dq.axis);
  if (d == nullptr) return NetworkError(network_, node.describe);
  QSDK_RETURN_IF_ERROR(Prefixed(d->SetNodeName(node_name), node.describe));
  QSDK_RETURN_IF_ERROR(Prefixed(d->GetOutput(0)->SetTensorName(tensor_name), node.describe));
  *tensor = d->GetOutput(0);
  return Status::Ok();
}

Status ImportContext::ConstantInput(const OnnxNode& node, size_t i, const char* role,
                                    std::shared_ptr<const HostTensor>* constant) const {
  const Value* value = nullptr;
  QSDK_RETURN_IF_ERROR(Input(node, i, role, &value));
  if (value->constant == nullptr) {
    return Unimplemented(node.describe, ": input ", i, " '", node.InputName(i), "' (", role,
                         ") is computed at run time; qsdk needs it to be a constant (an ",
                         "initializer, a Constant node, or computed from them)");
  }
  *constant = value->constant;
  return Status::Ok();
}

Status ImportContext::SetOutput(const OnnxNode& node, size_t i, ITensor* tensor) {
  if (!node.HasOutput(i)) return Status::Ok();
  const std::string& name = node.OutputName(i);
  QSDK_RETURN_IF_ERROR(Prefixed(tensor->SetTensorName(name), node.describe));
  Value v;
  v.tensor = tensor;
  return Define(name, std::move(v));
}

Status ImportContext::SetConstantOutput(const OnnxNode& node, size_t i, HostTensor value) {
  if (!node.HasOutput(i)) return Status::Ok();
  Value v;
  v.constant = std::make_shared<const HostTensor>(std::move(value));
  return Define(node.OutputName(i), std::move(v));
}

Status ImportContext::SetQuantizedOutput(const OnnxNode& node, size_t i, ITensor* tensor,
                                         std::shared_ptr<const QuantizedActivation> quantization) {
  if (!node.HasOutput(i)) return Status::Ok();
  const std::string& name = node.OutputName(i);
  QSDK_RETURN_IF_ERROR(Prefixed(tensor->SetTensorName(name), node.describe));
  Value v;
  v.tensor = tensor;
  v.quantized = std::move(quantization);
  return Define(name, std::move(v));
}

Status ImportContext::SetDequantizedOutput(const OnnxNode& node, size_t i, HostTensor value,
                                           std::shared_ptr<const DequantizedConstant> dq) {
  if (!node.HasOutput(i)) return Status::Ok();
  Value v;
  v.constant = std::make_shared<const HostTensor>(std::move(value));
  v.dequantized = std::move(dq);
  return Define(node.OutputName(i), std::move(v));
}

Status ImportContext::SetAliasOutput(const OnnxNode& node, size_t i, const Value& value) {
  if (!node.HasOutput(i)) return Status::Ok();
  return Define(node.OutputName(i), value);
}

Status ImportContext::RejectOutputsFrom(const OnnxNode& node, size_t i, const char* what) const {
  for (size_t j = i; j < static_cast<size_t>(node.proto->output_size()); ++j) {
    if (node.HasOutput(j)) {
      return Unimplemented(node.describe, ": output ", j, " '", node.OutputName(j), "' (", what,
                           ") is not supported; only output 0 is computed");
    }
  }
  return Status::Ok();
}

Status ImportContext::Added(const OnnxNode& node, INode* added, const std::string& role,
                            ITensor** output) {
  if (added == nullptr) return NetworkError(network_, node.describe);
  const std::string node_name = role.empty() ? node.name : UniqueNodeName(node.name + "/" + role);
  QSDK_RETURN_IF_ERROR(Prefixed(added->SetNodeName(node_name), node.describe));
  ITensor* out = added->GetOutput(0);
  QSDK_RETURN_IF_ERROR(Prefixed(
      out->SetTensorName(UniqueTensorName(node.name + "/" + (role.empty() ? "output" : role))),
      node.describe));
  if (output != nullptr) *output = out;
  return Status::Ok();
}

Status ImportContext::AddConstant(const OnnxNode& node, const std::string& role,
                                  const HostTensor& value, ITensor** tensor) {
  if (!value.is_float()) {
    return InternalError(node.describe, ": constant '", role, "' is not FLOAT");
  }
  IConstNode* k = network_->AddIConstNode(DataType::FLOAT32, Dims(value.dims()),
                                          value.count() ? value.floats() : nullptr);
  if (k == nullptr) return NetworkError(network_, StrCat(node.describe, ": constant ", role));
  const std::string base = node.name + "/" + role;
  QSDK_RETURN_IF_ERROR(Prefixed(k->SetNodeName(UniqueNodeName(base)), node.describe));
  QSDK_RETURN_IF_ERROR(
      Prefixed(k->GetOutput(0)->SetTensorName(UniqueTensorName(base)), node.describe));
  *tensor = k->GetOutput(0);
  return Status::Ok();
}

Status ImportContext::AddReshape(const OnnxNode& node, const std::string& role, ITensor* input,
                                 const std::vector<int64_t>& shape, ITensor** output) {
  return Added(node, network_->AddIReshapeNode(input, Dims(shape)), role, output);
}

std::string ImportContext::UniqueNodeName(const std::string& base) const {
  std::string name = base;
  for (int k = 1; onnx_nodes_->count(name) || network_->FindNodeByName(name) != nullptr; ++k) {
    name = StrCat(base, "_", k);
  }
  return name;
}

std::string ImportContext::UniqueTensorName(const std::string& base) const {
  std::string name = base;
  for (int k = 1; onnx_values_->count(name) || network_->FindTensorByName(name) != nullptr; ++k) {
    name = StrCat(base, "_", k);
  }
  return name;
}

// --- PrepareModel ---------------------------------------------------------------------------

namespace {

// Unique network names for the ONNX nodes: a node keeps its name unless an earlier node
// has it (then "_1", "_2", ... is appended, skipping names other nodes carry); a node
// without a name gets "<op_type>_<position>".
std::vector<std::string> NameNodes(const ::onnx::GraphProto& graph) {
  std::set<std::string> given;
  for (const ::onnx::NodeProto& n : graph.node()) {
    if (!n.name().empty()) given.insert(n.name());
  }
  std::set<std::string> used;
  std::vector<std::string> names;
  for (int i = 0; i < graph.node_size(); ++i) {
    const ::onnx::NodeProto& n = graph.node(i);
    const std::string base =
        n.name().empty() ? StrCat(n.op_type().empty() ? "node" : n.op_type(), "_", i) : n.name();
    std::string name = base;
    // A generated or suffixed name must not take a name that another node carries.
    for (int k = 1; used.count(name) || (name != n.name() && given.count(name)); ++k) {
      name = StrCat(base, "_", k);
    }
    used.insert(name);
    names.push_back(name);
  }
  return names;
}

std::string Describe(const std::string& name, const ::onnx::NodeProto& n) {
  if (IsDefaultDomain(n.domain())) return StrCat("node '", name, "' (", n.op_type(), ")");
  return StrCat("node '", name, "' (", n.domain(), ".", n.op_type(), ")");
}

}  // namespace

Status PrepareModel(const ::onnx::ModelProto& model, const ModelInfo& info,
                    const std::string& model_dir, PreparedModel* prepared) {
  *prepared = PreparedModel();
  prepared->model = &model;
  prepared->info = info;
  prepared->model_dir = model_dir;
  const ::onnx::GraphProto& graph = model.graph();

  // Initializers.
  for (int i = 0; i < graph.initializer_size(); ++i) {
    const ::onnx::TensorProto& t = graph.initializer(i);
    if (t.name().empty()) return InvalidArgument("ONNX graph: initializer #", i, " has no name");
    if (prepared->initializers.count(t.name())) {
      return InvalidArgument("ONNX graph: initializer '", t.name(), "' is given twice");
    }
    HostTensor value;
    QSDK_RETURN_IF_ERROR(
        DecodeTensor(t, StrCat("initializer '", t.name(), "'"), model_dir, &value));
    prepared->initializers[t.name()] = std::make_shared<const HostTensor>(std::move(value));
    prepared->value_names.insert(t.name());
  }

  // Graph inputs (an input that is also an initializer is that constant).
  std::set<std::string> defined;
  for (const auto& [name, value] : prepared->initializers) defined.insert(name);
  std::set<std::string> inputs;
  for (int i = 0; i < graph.input_size(); ++i) {
    const std::string& name = graph.input(i).name();
    if (name.empty()) return InvalidArgument("ONNX graph: input #", i, " has no name");
    if (!inputs.insert(name).second) {
      return InvalidArgument("ONNX graph: input '", name, "' is listed twice");
    }
    defined.insert(name);
    prepared->value_names.insert(name);
  }

  // Node names; every output defined once; every input defined before use.
  prepared->node_names = NameNodes(graph);
  prepared->node_name_set.insert(prepared->node_names.begin(), prepared->node_names.end());
  std::unordered_map<std::string, int> producer;
  for (int i = 0; i < graph.node_size(); ++i) {
    const ::onnx::NodeProto& n = graph.node(i);
    for (const std::string& out : n.output()) {
      if (out.empty()) continue;
      const std::string what = Describe(prepared->node_names[i], n);
      if (defined.count(out)) {
        return InvalidArgument(what, ": output '", out, "' is also a graph input or an ",
                               "initializer; each value is defined once");
      }
      auto [it, inserted] = producer.emplace(out, i);
      if (!inserted) {
        return InvalidArgument(what, ": output '", out, "' is also produced by ",
                               Describe(prepared->node_names[it->second], graph.node(it->second)),
                               "; each value is defined once");
      }
      prepared->value_names.insert(out);
    }
  }
  for (int i = 0; i < graph.node_size(); ++i) {
    const ::onnx::NodeProto& n = graph.node(i);
    const std::string what = Describe(prepared->node_names[i], n);
    for (int k = 0; k < n.input_size(); ++k) {
      const std::string& in = n.input(k);
      if (in.empty() || defined.count(in)) continue;
      auto it = producer.find(in);
      if (it == producer.end()) {
        return InvalidArgument(what, ": input ", k, " '", in, "' is missing: it is not a graph ",
                               "input, an initializer or the output of any node");
      }
      return InvalidArgument(what, ": input ", k, " '", in, "' is produced by ",
                             Describe(prepared->node_names[it->second], graph.node(it->second)),
                             ", which comes later; ONNX requires nodes in topological order");
    }
    for (const std::string& out : n.output()) {
      if (!out.empty()) defined.insert(out);
    }
  }
  std::set<std::string> outputs;
  for (int i = 0; i < graph.output_size(); ++i) {
    const std::string& name = graph.output(i).name();
    if (name.empty()) return InvalidArgument("ONNX graph: output #", i, " has no name");
    if (!outputs.insert(name).second) {
      return InvalidArgument("ONNX graph: output '", name, "' is listed twice");
    }
    if (!defined.count(name)) {
      return InvalidArgument("ONNX graph: output '", name, "' is missing: no node, input or ",
                             "initializer defines it");
    }
  }
  if (graph.output_size() == 0) return InvalidArgument("ONNX graph: it has no outputs");

  // Patterns, with the constants known before import: initializers and Constant nodes
  // holding a tensor.
  std::unordered_map<std::string, HostTensor> constant_nodes;
  for (const ::onnx::NodeProto& n : graph.node()) {
    if (n.op_type() != "Constant" || !IsDefaultDomain(n.domain()) || n.output_size() != 1) {
      continue;
    }
    for (const ::onnx::AttributeProto& a : n.attribute()) {
      HostTensor value;
      if (a.name() == "value" && a.type() == ::onnx::AttributeProto_AttributeType_TENSOR &&
          DecodeTensor(a.t(), "", "", &value).ok()) {
        constant_nodes[n.output(0)] = std::move(value);
      } else if (a.name() == "value_float" &&
                 a.type() == ::onnx::AttributeProto_AttributeType_FLOAT) {
        constant_nodes[n.output(0)] = HostTensor::FromFloats({}, {a.f()});
      }
    }
  }
  const ConstantLookup lookup = [&](const std::string& name) -> const HostTensor* {
    auto init = prepared->initializers.find(name);
    if (init != prepared->initializers.end()) return init->second.get();
    auto node = constant_nodes.find(name);
    return node == constant_nodes.end() ? nullptr : &node->second;
  };
  FindPatterns(graph, lookup, &prepared->patterns);

  // Unsupported ops, all in one message.
  std::vector<std::string> unsupported;
  for (int i = 0; i < graph.node_size(); ++i) {
    if (prepared->patterns.match_of_node[i] >= 0) continue;
    const ::onnx::NodeProto& n = graph.node(i);
    const bool supported = IsDefaultDomain(n.domain()) && FindOpImporter(n.op_type()) != nullptr;
    if (supported) continue;
    const std::string op =
        IsDefaultDomain(n.domain()) ? n.op_type() : StrCat(n.domain(), ".", n.op_type());
    unsupported.push_back(StrCat("'", prepared->node_names[i], "' (", op, ")"));
  }
  if (!unsupported.empty()) {
    std::string list;
    for (const std::string& u : unsupported) list += (list.empty() ? "" : ", ") + u;
    std::string ops;
    for (const std::string& op : SupportedOps()) ops += (ops.empty() ? "" : ", ") + op;
    return Unimplemented(
        "ONNX model: ", unsupported.size(),
        unsupported.size() == 1 ? " node uses an unsupported op: " : " nodes use unsupported ops: ",
        list, ". Supported ops of the default domain: ", ops,
        " (and the Gelu and HardSwish patterns of docs/onnx_support.md)");
  }
  return Status::Ok();
}

// --- ImportModel -------------------------------------------------------------------------------

namespace {

Status AddGraphInput(ImportContext* ctx, const ::onnx::ValueInfoProto& input) {
  const std::string what = StrCat("ONNX graph input '", input.name(), "'");
  const ::onnx::TypeProto& type = input.type();
  if (type.value_case() != ::onnx::TypeProto::kTensorType) {
    return Unimplemented(what, " is ", TypeCaseName(type), "; qsdk network inputs are tensors");
  }
  const ::onnx::TypeProto_Tensor& tensor = type.tensor_type();
  if (tensor.elem_type() != kOnnxFloat) {
    return Unimplemented(what, " has element type ", OnnxTypeName(tensor.elem_type()),
                         "; qsdk network inputs are FLOAT");
  }
  if (!tensor.has_shape()) {
    return Unimplemented(what, " has no shape; qsdk needs at least its rank (unknown extents ",
                         "may be dim_param)");
  }
  std::vector<int64_t> dims;
  for (const ::onnx::TensorShapeProto_Dimension& d : tensor.shape().dim()) {
    // dim_param, an unset dimension, 0 or a negative value: known only at run time.
    dims.push_back(d.has_dim_value() && d.dim_value() > 0 ? d.dim_value() : -1);
  }
  ITensor* t = ctx->network()->AddInput(DataType::FLOAT32, Dims(dims));
  if (t == nullptr) return NetworkError(ctx->network(), what);
  QSDK_RETURN_IF_ERROR(Prefixed(t->SetTensorName(input.name()), what));
  Value v;
  v.tensor = t;
  return ctx->Define(input.name(), std::move(v));
}

Status MarkGraphOutput(ImportContext* ctx, const ::onnx::ValueInfoProto& output) {
  const std::string& name = output.name();
  const std::string what = StrCat("ONNX graph output '", name, "'");
  if (output.type().value_case() == ::onnx::TypeProto::kTensorType) {
    const int32_t elem = output.type().tensor_type().elem_type();
    if (elem != 0 && elem != kOnnxFloat) {
      return Unimplemented(what, " has element type ", OnnxTypeName(elem),
                           "; qsdk network outputs are FLOAT");
    }
  } else if (output.type().value_case() != ::onnx::TypeProto::VALUE_NOT_SET) {
    return Unimplemented(what, " is ", TypeCaseName(output.type()),
                         "; qsdk network outputs are tensors");
  }
  const Value* value = ctx->Find(name);
  if (value == nullptr) return InternalError(what, " was not defined by the import");
  if (value->constant != nullptr) {
    return Unimplemented(what, " is a constant (computed from initializers only); qsdk network ",
                         "outputs are computed from the inputs");
  }
  if (value->quantized != nullptr) {
    return Unimplemented(what, " is the ", OnnxTypeName(value->quantized->type), " output of ",
                         value->quantized->producer, "; qsdk network outputs are FLOAT");
  }
  ITensor* tensor = value->tensor;
  INetwork* network = ctx->network();
  if (tensor->GetTensorName() == name && !tensor->IsNetworkInput() && !tensor->IsNetworkOutput()) {
    return Prefixed(network->MarkOutput(tensor), what);
  }
  // The output is another value under a new name (Identity, Dropout, a Cast), a
  // network input or an output already: a copy (a Reshape that keeps every extent) gives
  // it a tensor of its own with the ONNX name.
  const std::vector<int64_t> keep(static_cast<size_t>(tensor->GetDimension().GetDimsNum()), 0);
  IReshapeNode* copy = network->AddIReshapeNode(tensor, Dims(keep));
  if (copy == nullptr) return NetworkError(network, what);
  QSDK_RETURN_IF_ERROR(Prefixed(copy->SetNodeName(ctx->UniqueNodeName(name + "/copy")), what));
  const std::string tensor_name =
      network->FindTensorByName(name) == nullptr ? name : ctx->UniqueTensorName(name);
  QSDK_RETURN_IF_ERROR(Prefixed(copy->GetOutput(0)->SetTensorName(tensor_name), what));
  return Prefixed(network->MarkOutput(copy->GetOutput(0)), what);
}

}  // namespace

Status ImportModel(const PreparedModel& prepared, INetwork* network) {
  const ::onnx::GraphProto& graph = prepared.model->graph();
  ImportContext ctx(network, prepared.info.opset, prepared.model_dir, &prepared.value_names,
                    &prepared.node_name_set);
  for (const ::onnx::ValueInfoProto& input : graph.input()) {
    if (prepared.initializers.count(input.name())) continue;
    QSDK_RETURN_IF_ERROR(AddGraphInput(&ctx, input));
  }
  for (const auto& [name, value] : prepared.initializers) {
    Value v;
    v.constant = value;
    QSDK_RETURN_IF_ERROR(ctx.Define(name, std::move(v)));
  }
  for (int i = 0; i < graph.node_size(); ++i) {
    const ::onnx::NodeProto& proto = graph.node(i);
    OnnxNode node;
    node.proto = &proto;
    node.index = i;
    node.name = prepared.node_names[i];
    node.describe = Describe(node.name, proto);
    const int match = prepared.patterns.match_of_node[i];
    if (match >= 0) {
      const PatternMatch& m = prepared.patterns.matches[match];
      if (m.anchor == i) QSDK_RETURN_IF_ERROR(ImportPatternActivation(ctx, node, m));
      continue;
    }
    QSDK_RETURN_IF_ERROR(node.attrs.Init(proto, node.describe));
    const OpImporter importer = FindOpImporter(proto.op_type());
    if (importer == nullptr) return InternalError(node.describe, ": no importer");
    QSDK_RETURN_IF_ERROR(importer(ctx, node));
    for (const std::string& out : proto.output()) {
      if (!out.empty() && ctx.Find(out) == nullptr) {
        return InternalError(node.describe, ": output '", out, "' was not defined");
      }
    }
  }
  for (const ::onnx::ValueInfoProto& output : graph.output()) {
    QSDK_RETURN_IF_ERROR(MarkGraphOutput(&ctx, output));
  }
  return Status::Ok();
}

}  // namespace qsdk::onnx
