#include "qsdk/build_report.h"

#include <nlohmann/json.hpp>

#include "common/status_macros.h"

namespace qsdk {
namespace {

using nlohmann::json;

const char* TypeName(DataType t) { return t == DataType::INVALID ? "" : DataTypeName(t); }

bool ParseType(const std::string& name, DataType* out) {
  if (name.empty()) {
    *out = DataType::INVALID;
    return true;
  }
  for (int32_t v = 1; v <= kDataTypeCount; ++v) {
    if (name == DataTypeName(static_cast<DataType>(v))) {
      *out = static_cast<DataType>(v);
      return true;
    }
  }
  return false;
}

json TensorToJson(const TensorPrecisionReport& t) {
  return {{"tensor", t.tensor},
          {"requested", TypeName(t.requested)},
          {"granted", TypeName(t.granted)},
          {"quantization", t.quantization}};
}

// Reads `key` of `object` as T, failing with the JSON path.
template <typename T>
Status Get(const json& object, const std::string& path, const char* key, T* out) {
  if (!object.is_object() || !object.contains(key)) {
    return DataLoss("build report ", path, ": missing key '", key, "'");
  }
  try {
    *out = object.at(key).get<T>();
  } catch (const json::exception&) {
    return DataLoss("build report ", path, "/", key, ": wrong type (", object.at(key).type_name(),
                    ")");
  }
  return Status::Ok();
}

Status TensorFromJson(const json& j, const std::string& path, TensorPrecisionReport* t) {
  std::string requested, granted;
  QSDK_RETURN_IF_ERROR(Get(j, path, "tensor", &t->tensor));
  QSDK_RETURN_IF_ERROR(Get(j, path, "requested", &requested));
  QSDK_RETURN_IF_ERROR(Get(j, path, "granted", &granted));
  QSDK_RETURN_IF_ERROR(Get(j, path, "quantization", &t->quantization));
  if (!ParseType(requested, &t->requested) || !ParseType(granted, &t->granted)) {
    return DataLoss("build report ", path, ": unknown data type name");
  }
  return Status::Ok();
}

}  // namespace

std::string BuildReport::ToJson() const {
  json nodes_json = json::array();
  for (const NodeReport& n : nodes) {
    json inputs = json::array(), outputs = json::array();
    for (const auto& t : n.inputs) inputs.push_back(TensorToJson(t));
    for (const auto& t : n.outputs) outputs.push_back(TensorToJson(t));
    nodes_json.push_back({{"name", n.name},
                          {"type", NodeTypeName(n.type)},
                          {"precision", n.precision},
                          {"reason", n.reason},
                          {"fell_back", n.fell_back},
                          {"inserted", n.inserted},
                          {"kernel", n.kernel},
                          {"fused", n.fused},
                          {"inputs", inputs},
                          {"outputs", outputs}});
  }
  json reorders_json = json::array();
  for (const ReorderReport& r : reorders) {
    reorders_json.push_back(
        {{"tensor", r.tensor}, {"consumer", r.consumer}, {"from", r.from}, {"to", r.to}});
  }
  return json{{"precision_mode", precision_mode},
              {"precision_policy", precision_policy},
              {"nodes", nodes_json},
              {"reorders", reorders_json},
              {"notes", notes}}
      .dump(2);
}

Status BuildReport::FromJson(const std::string& text, BuildReport* report) {
  if (report == nullptr) return InvalidArgument("BuildReport::FromJson: report is null");
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    return DataLoss("build report: not valid JSON: ", e.what());
  }
  BuildReport r;
  QSDK_RETURN_IF_ERROR(Get(doc, "", "precision_mode", &r.precision_mode));
  QSDK_RETURN_IF_ERROR(Get(doc, "", "precision_policy", &r.precision_policy));
  json nodes, reorders;
  QSDK_RETURN_IF_ERROR(Get(doc, "", "nodes", &nodes));
  QSDK_RETURN_IF_ERROR(Get(doc, "", "reorders", &reorders));
  if (!nodes.is_array() || !reorders.is_array()) {
    return DataLoss("build report: /nodes and /reorders must be arrays");
  }
  // /notes: absent in reports of format-1 engines (before explicit quantization).
  if (doc.is_object() && doc.contains("notes")) {
    const json& notes = doc.at("notes");
    if (!notes.is_array()) return DataLoss("build report: /notes must be an array");
    for (size_t i = 0; i < notes.size(); ++i) {
      if (!notes[i].is_string()) return DataLoss("build report: /notes/", i, " must be a string");
      r.notes.push_back(notes[i].get<std::string>());
    }
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    const std::string path = StrCat("/nodes/", i);
    const json& j = nodes[i];
    NodeReport n;
    std::string type;
    QSDK_RETURN_IF_ERROR(Get(j, path, "name", &n.name));
    QSDK_RETURN_IF_ERROR(Get(j, path, "type", &type));
    QSDK_RETURN_IF_ERROR(Get(j, path, "precision", &n.precision));
    QSDK_RETURN_IF_ERROR(Get(j, path, "reason", &n.reason));
    QSDK_RETURN_IF_ERROR(Get(j, path, "fell_back", &n.fell_back));
    QSDK_RETURN_IF_ERROR(Get(j, path, "inserted", &n.inserted));
    QSDK_RETURN_IF_ERROR(Get(j, path, "kernel", &n.kernel));
    QSDK_RETURN_IF_ERROR(Get(j, path, "fused", &n.fused));
    bool known = false;
    for (int32_t v = 1; v < 64 && !known; ++v) {
      if (IsValidNodeType(static_cast<NodeType>(v)) && type == NodeTypeName(static_cast<NodeType>(v))) {
        n.type = static_cast<NodeType>(v);
        known = true;
      }
    }
    if (!known) return DataLoss("build report ", path, "/type: unknown node type '", type, "'");
    json inputs, outputs;
    QSDK_RETURN_IF_ERROR(Get(j, path, "inputs", &inputs));
    QSDK_RETURN_IF_ERROR(Get(j, path, "outputs", &outputs));
    if (!inputs.is_array() || !outputs.is_array()) {
      return DataLoss("build report ", path, ": inputs and outputs must be arrays");
    }
    for (size_t k = 0; k < inputs.size(); ++k) {
      TensorPrecisionReport t;
      QSDK_RETURN_IF_ERROR(TensorFromJson(inputs[k], StrCat(path, "/inputs/", k), &t));
      n.inputs.push_back(std::move(t));
    }
    for (size_t k = 0; k < outputs.size(); ++k) {
      TensorPrecisionReport t;
      QSDK_RETURN_IF_ERROR(TensorFromJson(outputs[k], StrCat(path, "/outputs/", k), &t));
      n.outputs.push_back(std::move(t));
    }
    r.nodes.push_back(std::move(n));
  }
  for (size_t i = 0; i < reorders.size(); ++i) {
    const std::string path = StrCat("/reorders/", i);
    ReorderReport o;
    QSDK_RETURN_IF_ERROR(Get(reorders[i], path, "tensor", &o.tensor));
    QSDK_RETURN_IF_ERROR(Get(reorders[i], path, "consumer", &o.consumer));
    QSDK_RETURN_IF_ERROR(Get(reorders[i], path, "from", &o.from));
    QSDK_RETURN_IF_ERROR(Get(reorders[i], path, "to", &o.to));
    r.reorders.push_back(std::move(o));
  }
  *report = std::move(r);
  return Status::Ok();
}

}  // namespace qsdk
