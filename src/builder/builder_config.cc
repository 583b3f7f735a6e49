#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "builder/build_options.h"
#include "common/status_macros.h"

namespace qsdk {

std::unique_ptr<IBuilderConfig> CreateIBuilderConfig() {
  return std::make_unique<builder::BuilderConfigImpl>();
}

namespace builder {
namespace {

using nlohmann::json;

const char* JsonTypeName(const json& value) { return value.type_name(); }

std::string Join(const std::vector<std::string>& items) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + items[i];
  return s;
}

// Rejects keys of `object` (at JSON pointer `path`) not in `allowed`.
Status CheckKeys(const json& object, const std::string& path,
                 const std::vector<std::string>& allowed) {
  if (!object.is_object()) {
    return InvalidArgument("builder config ", path.empty() ? "/" : path,
                           ": expected an object, got ", JsonTypeName(object));
  }
  for (const auto& item : object.items()) {
    bool known = false;
    for (const std::string& key : allowed) known = known || key == item.key();
    if (!known) {
      return InvalidArgument("builder config ", path, "/", item.key(),
                             ": unknown key; allowed keys here: ", Join(allowed));
    }
  }
  return Status::Ok();
}

Status ReadBool(const json& object, const std::string& path, const char* key, bool* out) {
  if (!object.contains(key)) return Status::Ok();
  const json& value = object.at(key);
  if (!value.is_boolean()) {
    return InvalidArgument("builder config ", path, "/", key, ": expected true or false, got ",
                           JsonTypeName(value), " ", value.dump());
  }
  *out = value.get<bool>();
  return Status::Ok();
}

Status Apply(const json& doc, BuildOptions* options) {
  QSDK_RETURN_IF_ERROR(CheckKeys(doc, "", {"precision_config", "graph_optimization"}));
  if (doc.contains("precision_config")) {
    const json& pc = doc.at("precision_config");
    QSDK_RETURN_IF_ERROR(CheckKeys(pc, "/precision_config", {"precision_mode"}));
    if (pc.contains("precision_mode")) {
      const json& mode = pc.at("precision_mode");
      if (!mode.is_string()) {
        return InvalidArgument("builder config /precision_config/precision_mode: expected a "
                               "string, got ", JsonTypeName(mode), " ", mode.dump());
      }
      const std::string name = mode.get<std::string>();
      bool known = false, supported = false;
      for (const auto& m : KnownPrecisionModes()) known = known || m == name;
      for (const auto& m : SupportedPrecisionModes()) supported = supported || m == name;
      if (!known) {
        return InvalidArgument("builder config /precision_config/precision_mode: '", name,
                               "' is not a precision mode; valid modes: ",
                               Join(KnownPrecisionModes()));
      }
      if (!supported) {
        return Unimplemented("builder config /precision_config/precision_mode: '", name,
                             "' is not yet supported by this qsdk version; supported: ",
                             Join(SupportedPrecisionModes()));
      }
      options->precision_mode = name;
    }
  }
  if (doc.contains("graph_optimization")) {
    const json& go = doc.at("graph_optimization");
    const std::string path = "/graph_optimization";
    QSDK_RETURN_IF_ERROR(CheckKeys(go, path, {"constant_folding", "batchnorm_folding",
                                              "activation_fusion", "dead_node_removal"}));
    QSDK_RETURN_IF_ERROR(ReadBool(go, path, "constant_folding", &options->constant_folding));
    QSDK_RETURN_IF_ERROR(ReadBool(go, path, "batchnorm_folding", &options->batchnorm_folding));
    QSDK_RETURN_IF_ERROR(ReadBool(go, path, "activation_fusion", &options->activation_fusion));
    QSDK_RETURN_IF_ERROR(ReadBool(go, path, "dead_node_removal", &options->dead_node_removal));
  }
  return Status::Ok();
}

}  // namespace

const std::vector<std::string>& KnownPrecisionModes() {
  static const std::vector<std::string> modes = {
      "force_float32",        "force_float16",        "force_bfloat16",
      "qint8_mixed_float32",  "qint8_mixed_float16",  "qint8_mixed_bfloat16",
      "qint16_mixed_float32", "qint16_mixed_float16"};
  return modes;
}

const std::vector<std::string>& SupportedPrecisionModes() {
  static const std::vector<std::string> modes = {"force_float32"};
  return modes;
}

Status BuilderConfigImpl::ParseFromString(const std::string& text) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    // nlohmann's message carries the byte position of the error.
    return InvalidArgument("builder config: not valid JSON: ", e.what());
  }
  BuildOptions updated = options_;  // all-or-nothing: apply to a copy
  try {
    QSDK_RETURN_IF_ERROR(Apply(doc, &updated));
  } catch (const std::exception& e) {
    return InvalidArgument("builder config: ", e.what());
  }
  options_ = updated;
  return Status::Ok();
}

Status BuilderConfigImpl::ParseFromFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return Status(StatusCode::kNotFound,
                  StrCat("builder config file '", path, "' cannot be opened for reading"));
  }
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) {
    return Status(StatusCode::kIoError, StrCat("builder config file '", path, "': read error"));
  }
  Status status = ParseFromString(text.str());
  if (!status.ok()) return Status(status.code(), StrCat(path, ": ", status.message()));
  return status;
}

std::string BuilderConfigImpl::ToJson() const {
  json doc = {
      {"precision_config", {{"precision_mode", options_.precision_mode}}},
      {"graph_optimization",
       {{"constant_folding", options_.constant_folding},
        {"batchnorm_folding", options_.batchnorm_folding},
        {"activation_fusion", options_.activation_fusion},
        {"dead_node_removal", options_.dead_node_removal}}}};
  return doc.dump(2);
}

}  // namespace builder
}  // namespace qsdk
