#include "calib/calibration_table.h"

#include <cmath>
#include <exception>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "calib/fingerprint.h"
#include "common/json_pointer.h"
#include "common/status_macros.h"

namespace qsdk {

const char* CalibrationAlgorithmName(CalibrationAlgorithm algorithm) {
  switch (algorithm) {
    case CalibrationAlgorithm::kMinMax: return "minmax";
    case CalibrationAlgorithm::kEntropy: return "entropy";
    case CalibrationAlgorithm::kPercentile: return "percentile";
    case CalibrationAlgorithm::kMse: return "mse";
  }
  return "invalid";
}

namespace calib {
namespace {

using nlohmann::json;

constexpr CalibrationAlgorithm kAlgorithms[] = {
    CalibrationAlgorithm::kMinMax, CalibrationAlgorithm::kEntropy,
    CalibrationAlgorithm::kPercentile, CalibrationAlgorithm::kMse};

// Validates one JSON document against the table schema; every message carries `source_`
// and the JSON path.
class TableParser {
 public:
  explicit TableParser(std::string source) : source_(std::move(source)) {}

  Status Parse(const json& root, CalibrationTable* table) {
    QSDK_RETURN_IF_ERROR(ExpectKeys(root, "", {"format", "version", "fingerprint", "algorithm",
                                               "samples", "tensors"}));
    std::string format;
    QSDK_RETURN_IF_ERROR(GetString(root, "", "format", &format));
    if (format != kTableFormat) {
      return Error("/format = \"", format, "\"; a calibration table has \"", kTableFormat, "\"");
    }
    int64_t version = 0;
    QSDK_RETURN_IF_ERROR(GetInt(root, "", "version", &version));
    if (version != kTableVersion) {
      return Status(StatusCode::kVersionMismatch,
                    StrCat(source_, ": /version = ", version, "; this qsdk reads version ",
                           kTableVersion));
    }
    CalibrationTable out;
    QSDK_RETURN_IF_ERROR(GetString(root, "", "fingerprint", &out.fingerprint));
    bool hex = out.fingerprint.size() == 16;
    for (char c : out.fingerprint) hex &= (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (!hex) {
      return Error("/fingerprint = \"", out.fingerprint,
                   "\"; a fingerprint is 16 lower-case hex digits");
    }
    std::string algorithm;
    QSDK_RETURN_IF_ERROR(GetString(root, "", "algorithm", &algorithm));
    if (!ParseAlgorithmName(algorithm, &out.algorithm)) {
      return Error("/algorithm = \"", algorithm,
                   "\"; known algorithms: \"minmax\", \"entropy\", \"percentile\", \"mse\"");
    }
    QSDK_RETURN_IF_ERROR(GetInt(root, "", "samples", &out.samples));
    if (out.samples < 1) return Error("/samples = ", out.samples, "; it must be >= 1");
    const json& tensors = root.at("tensors");
    if (!tensors.is_object()) {
      return Error("/tensors is ", tensors.type_name(), "; expected an object");
    }
    for (const auto& item : tensors.items()) {
      const std::string& name = item.key();
      const json& entry = item.value();
      const std::string path = "/tensors/" + JsonPointerToken(name);
      if (name.empty()) return Error(path, ": a tensor name must not be empty");
      graph::TensorRange range;
      QSDK_RETURN_IF_ERROR(ParseRange(entry, path, &range));
      out.tensors.emplace(name, std::move(range));
    }
    *table = std::move(out);
    return Status::Ok();
  }

 private:
  template <typename... Args>
  Status Error(const Args&... args) const {
    return DataLoss(source_, ": ", args...);
  }

  Status ExpectKeys(const json& object, const std::string& path,
                    const std::set<std::string>& keys) const {
    if (!object.is_object()) {
      return Error(path.empty() ? "the document" : path, " is ", object.type_name(),
                   "; expected an object");
    }
    for (const auto& item : object.items()) {
      if (keys.count(item.key()) == 0) {
        return Error(path, "/", JsonPointerToken(item.key()), " is not a key of a calibration table");
      }
    }
    for (const std::string& key : keys) {
      if (!object.contains(key)) return Error(path, "/", key, " is missing");
    }
    return Status::Ok();
  }

  Status GetString(const json& object, const std::string& path, const char* key,
                   std::string* out) const {
    const json& v = object.at(key);
    if (!v.is_string()) return Error(path, "/", key, " is ", v.type_name(), "; expected a string");
    *out = v.get<std::string>();
    return Status::Ok();
  }

  Status GetInt(const json& object, const std::string& path, const char* key,
                int64_t* out) const {
    const json& v = object.at(key);
    if (v.is_number_unsigned()) {
      const auto u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Error(path, "/", key, " = ", u, " is too large");
      }
      *out = static_cast<int64_t>(u);
      return Status::Ok();
    }
    if (!v.is_number_integer()) {
      return Error(path, "/", key, " is ", v.is_number() ? "a non-integer number" : v.type_name(),
                   "; expected an integer");
    }
    *out = v.get<int64_t>();
    return Status::Ok();
  }

  Status GetBounds(const json& object, const std::string& path, const char* key,
                   std::vector<float>* out) const {
    const json& v = object.at(key);
    const std::string where = path + "/" + key;
    if (!v.is_array()) return Error(where, " is ", v.type_name(), "; expected an array of numbers");
    if (v.empty()) return Error(where, " is empty; a range has at least one bound");
    out->clear();
    for (size_t k = 0; k < v.size(); ++k) {
      const json& x = v[k];
      if (!x.is_number()) {
        return Error(where, "/", k, " is ", x.type_name(), "; expected a number");
      }
      const auto d = x.get<double>();
      if (!std::isfinite(d) || std::fabs(d) > std::numeric_limits<float>::max()) {
        return Error(where, "/", k, " = ", d, "; a bound must be a finite float");
      }
      out->push_back(static_cast<float>(d));
    }
    return Status::Ok();
  }

  Status ParseRange(const json& entry, const std::string& path, graph::TensorRange* range) const {
    QSDK_RETURN_IF_ERROR(ExpectKeys(entry, path, {"min", "max", "axis"}));
    QSDK_RETURN_IF_ERROR(GetBounds(entry, path, "min", &range->min));
    QSDK_RETURN_IF_ERROR(GetBounds(entry, path, "max", &range->max));
    int64_t axis = 0;
    QSDK_RETURN_IF_ERROR(GetInt(entry, path, "axis", &axis));
    if (axis < -1 || axis > std::numeric_limits<int32_t>::max()) {
      return Error(path, "/axis = ", axis, "; it must be -1 (per tensor) or a dimension >= 0");
    }
    range->axis = static_cast<int32_t>(axis);
    if (range->min.size() != range->max.size()) {
      return Error(path, ": min has ", range->min.size(), " bounds and max has ",
                   range->max.size(), "; they must match");
    }
    if (axis == -1 && range->min.size() != 1) {
      return Error(path, ": axis -1 (per tensor) needs 1 bound, min and max have ",
                   range->min.size());
    }
    for (size_t k = 0; k < range->min.size(); ++k) {
      if (!(range->min[k] <= range->max[k])) {
        return Error(path, "/min/", k, " = ", range->min[k], " > ", path, "/max/", k, " = ",
                     range->max[k], "; min must be <= max");
      }
    }
    range->manual = false;
    return Status::Ok();
  }

  std::string source_;
};

}  // namespace

bool ParseAlgorithmName(const std::string& name, CalibrationAlgorithm* algorithm) {
  for (CalibrationAlgorithm a : kAlgorithms) {
    if (name == CalibrationAlgorithmName(a)) {
      *algorithm = a;
      return true;
    }
  }
  return false;
}

Status TableToJson(const CalibrationTable& table, std::string* out) {
  try {
    json tensors = json::object();
    for (const auto& [name, range] : table.tensors) {
      json entry;
      entry["min"] = json::array();
      entry["max"] = json::array();
      for (float v : range.min) entry["min"].push_back(static_cast<double>(v));
      for (float v : range.max) entry["max"].push_back(static_cast<double>(v));
      entry["axis"] = range.axis;
      tensors[name] = std::move(entry);
    }
    json root;
    root["format"] = kTableFormat;
    root["version"] = kTableVersion;
    root["fingerprint"] = table.fingerprint;
    root["algorithm"] = CalibrationAlgorithmName(table.algorithm);
    root["samples"] = table.samples;
    root["tensors"] = std::move(tensors);
    *out = root.dump(2) + "\n";
    return Status::Ok();
  } catch (const json::exception& e) {
    // dump() throws type_error 316 on a string that is not valid UTF-8.
    return InvalidArgument("calibration table: a tensor name cannot be written as JSON (",
                           e.what(), "); rename it to valid UTF-8");
  }
}

Status ParseTable(const std::string& text, const std::string& source, CalibrationTable* table) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    return DataLoss(source, " is not valid JSON: ", e.what());
  }
  try {
    return TableParser(source).Parse(root, table);
  } catch (const json::exception& e) {
    // The parser checks every type before reading; this guards what it could miss.
    return DataLoss(source, ": ", e.what());
  }
}

Status WriteTableFile(const CalibrationTable& table, const std::string& path) {
  std::string text;
  QSDK_RETURN_IF_ERROR(TableToJson(table, &text));
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) {
    return Status(StatusCode::kIoError,
                  StrCat("SaveTable: cannot open '", path, "' for writing"));
  }
  file.write(text.data(), static_cast<std::streamsize>(text.size()));
  file.close();
  if (!file) {
    return Status(StatusCode::kIoError, StrCat("SaveTable: writing '", path, "' failed"));
  }
  return Status::Ok();
}

Status ReadTableFile(const std::string& path, CalibrationTable* table) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return Status(StatusCode::kNotFound,
                  StrCat("LoadTable: cannot open calibration table '", path, "'"));
  }
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) {
    return Status(StatusCode::kIoError,
                  StrCat("LoadTable: reading calibration table '", path, "' failed"));
  }
  return ParseTable(text.str(), StrCat("calibration table '", path, "'"), table);
}

Status ApplyTableToGraph(const CalibrationTable& table, const std::string& source,
                         graph::Graph* graph) {
  const std::string fingerprint = NetworkFingerprint(*graph);
  if (fingerprint != table.fingerprint) {
    return InvalidArgument(source, " was made for network fingerprint ", table.fingerprint,
                           ", this network is ", fingerprint,
                           ": the network changed since calibration (re-run calibration)");
  }
  std::unordered_map<std::string, graph::TensorId> by_name;
  for (graph::TensorId t = 0; t < static_cast<graph::TensorId>(graph->tensors.size()); ++t) {
    by_name.emplace(graph->tensors[t].name, t);
  }
  std::vector<std::pair<graph::TensorId, const graph::TensorRange*>> updates;
  for (const auto& [name, range] : table.tensors) {
    const auto it = by_name.find(name);
    if (it == by_name.end()) {
      return InvalidArgument(source, ": tensor '", name, "' is not in the network");
    }
    const graph::Tensor& tensor = graph->tensors[it->second];
    if (tensor.is_constant()) {
      return InvalidArgument(source, ": tensor '", name,
                             "' is a constant; calibration ranges are for computed tensors");
    }
    if (range.axis >= 0) {
      const auto rank = static_cast<int64_t>(tensor.shape.size());
      if (range.axis >= rank) {
        return InvalidArgument(source, ": tensor '", name, "' has a range along axis ",
                               range.axis, " but only ", rank, " dims");
      }
      const int64_t extent = tensor.shape[static_cast<size_t>(range.axis)];
      if (extent != static_cast<int64_t>(range.min.size())) {
        return InvalidArgument(source, ": tensor '", name, "' has ", range.min.size(),
                               " bounds along axis ", range.axis, " of extent ", extent,
                               "; a per-axis range needs one per index of a fixed extent");
      }
    }
    updates.emplace_back(it->second, &range);
  }
  for (graph::Tensor& tensor : graph->tensors) {
    if (!tensor.is_constant() && !tensor.range.manual) tensor.range = graph::TensorRange();
  }
  for (const auto& [id, range] : updates) {
    graph::Tensor& tensor = graph->tensors[id];
    if (tensor.range.manual) continue;  // the user's range wins
    tensor.range = *range;
    tensor.range.manual = false;
  }
  return Status::Ok();
}

}  // namespace calib
}  // namespace qsdk
