// IBuilderConfig: a strict JSON parser into BuildOptions (schema: docs/precision_config.md).
//
// Every error names the JSON pointer of the offending value. A document is applied to a
// copy of the options, which replaces them only when the whole document is valid.
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "builder/build_options.h"
#include "common/json_pointer.h"
#include "common/status_macros.h"

namespace qsdk {

std::unique_ptr<IBuilderConfig> CreateIBuilderConfig() {
  return std::make_unique<builder::BuilderConfigImpl>();
}

namespace builder {
namespace {

using nlohmann::json;

template <typename E>
struct EnumName {
  const char* name;
  E value;
};

// The JSON spelling of each enum value; parsing and printing both use these tables.
constexpr EnumName<PrecisionMode> kPrecisionModes[] = {
    {"force_float32", PrecisionMode::kForceFloat32},
    {"force_float16", PrecisionMode::kForceFloat16},
    {"force_bfloat16", PrecisionMode::kForceBFloat16},
    {"qint8_mixed_float32", PrecisionMode::kQint8MixedFloat32},
    {"qint8_mixed_float16", PrecisionMode::kQint8MixedFloat16},
    {"qint8_mixed_bfloat16", PrecisionMode::kQint8MixedBFloat16},
    {"qint16_mixed_float32", PrecisionMode::kQint16MixedFloat32},
    {"qint16_mixed_float16", PrecisionMode::kQint16MixedFloat16}};
constexpr EnumName<PrecisionPolicy> kPrecisionPolicies[] = {
    {"strict", PrecisionPolicy::kStrict}, {"prefer", PrecisionPolicy::kPrefer}};
constexpr EnumName<ActivationScheme> kActivationSchemes[] = {
    {"symmetric", ActivationScheme::kSymmetric}, {"asymmetric", ActivationScheme::kAsymmetric}};
constexpr EnumName<WeightGranularity> kWeightGranularities[] = {
    {"per_channel", WeightGranularity::kPerChannel},
    {"per_tensor", WeightGranularity::kPerTensor}};
constexpr EnumName<CalibrationAlgorithm> kCalibrationAlgorithms[] = {
    {"minmax", CalibrationAlgorithm::kMinMax},
    {"entropy", CalibrationAlgorithm::kEntropy},
    {"percentile", CalibrationAlgorithm::kPercentile},
    {"mse", CalibrationAlgorithm::kMse}};

template <typename E, size_t N>
const char* NameOf(const EnumName<E> (&table)[N], E value) {
  for (const auto& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return "invalid";
}

template <typename E, size_t N>
std::vector<std::string> NamesOf(const EnumName<E> (&table)[N]) {
  std::vector<std::string> names;
  for (const auto& entry : table) names.emplace_back(entry.name);
  return names;
}

std::string Join(const std::vector<std::string>& items) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + items[i];
  return s;
}

// "<type> <value>" for messages, cut short so that a huge value does not flood them.
std::string Shown(const json& value) {
  constexpr size_t kMaxChars = 60;
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > kMaxChars) text = text.substr(0, kMaxChars) + "...";
  return StrCat(value.type_name(), " ", text);
}

// `path` extended by one key, escaped as RFC 6901 requires.
std::string Child(const std::string& path, const std::string& key) {
  return path + "/" + JsonPointerToken(key);
}

std::string Child(const std::string& path, size_t index) {
  return StrCat(path, "/", index);
}

template <typename... Args>
Status Invalid(const std::string& path, const Args&... args) {
  return InvalidArgument("builder config ", path.empty() ? "/" : path, ": ", args...);
}

// Rejects keys of `object` (at JSON pointer `path`) not in `allowed`.
Status CheckKeys(const json& object, const std::string& path,
                 const std::vector<std::string>& allowed) {
  if (!object.is_object()) return Invalid(path, "expected an object, got ", Shown(object));
  for (const auto& item : object.items()) {
    bool known = false;
    for (const std::string& key : allowed) known = known || key == item.key();
    if (!known) {
      return Invalid(Child(path, item.key()), "unknown key; allowed keys here: ", Join(allowed));
    }
  }
  return Status::Ok();
}

Status ReadBool(const json& object, const std::string& path, const char* key, bool* out) {
  if (!object.contains(key)) return Status::Ok();
  const json& value = object.at(key);
  if (!value.is_boolean()) {
    return Invalid(Child(path, key), "expected true or false, got ", Shown(value));
  }
  *out = value.get<bool>();
  return Status::Ok();
}

Status ReadString(const json& value, const std::string& path, std::string* out) {
  if (!value.is_string()) return Invalid(path, "expected a string, got ", Shown(value));
  *out = value.get<std::string>();
  return Status::Ok();
}

template <typename E, size_t N>
Status ReadEnum(const json& object, const std::string& path, const char* key,
                const EnumName<E> (&table)[N], E* out) {
  if (!object.contains(key)) return Status::Ok();
  const std::string value_path = Child(path, key);
  std::string name;
  QSDK_RETURN_IF_ERROR(ReadString(object.at(key), value_path, &name));
  for (const auto& entry : table) {
    if (name == entry.name) {
      *out = entry.value;
      return Status::Ok();
    }
  }
  return Invalid(value_path, "'", name, "' is not one of: ", Join(NamesOf(table)));
}

// An integer in [lo, hi]. JSON numbers written with a fraction or exponent ("2048.0",
// "2e3") are rejected: a count is an integer, and accepting them would hide typos.
Status ReadInteger(const json& value, const std::string& path, int64_t lo, int64_t hi,
                   int64_t* out) {
  if (!value.is_number_integer()) {
    return Invalid(path, "expected an integer, got ", Shown(value));
  }
  // nlohmann stores non-negative integers as uint64; reading one above INT64_MAX as int64
  // would wrap around, so compare in the unsigned domain first.
  if (value.is_number_unsigned() &&
      value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Invalid(path, "value ", value.dump(), " is out of range; must be in [", lo, ", ", hi,
                   "]");
  }
  const int64_t v = value.get<int64_t>();
  if (v < lo || v > hi) {
    return Invalid(path, "value ", v, " is out of range; must be in [", lo, ", ", hi, "]");
  }
  *out = v;
  return Status::Ok();
}

// A JSON number that is a finite float32 (the precision ranges are stored in).
Status ReadFloat(const json& value, const std::string& path, float* out) {
  if (!value.is_number()) return Invalid(path, "expected a number, got ", Shown(value));
  const double d = value.get<double>();
  // The cast below is undefined behaviour for values beyond the float range, so test first.
  if (!std::isfinite(d) || std::fabs(d) > static_cast<double>(FLT_MAX)) {
    return Invalid(path, "value ", value.dump(), " is not a finite float32 (|x| <= ", FLT_MAX,
                   ")");
  }
  *out = static_cast<float>(d);
  return Status::Ok();
}

Status ReadPrecisionMode(const json& value, const std::string& path, PrecisionMode* out) {
  std::string name;
  QSDK_RETURN_IF_ERROR(ReadString(value, path, &name));
  for (const auto& entry : kPrecisionModes) {
    if (name == entry.name) {
      *out = entry.value;
      return Status::Ok();
    }
  }
  for (const auto& known : KnownPrecisionModes()) {
    if (name == known) {
      // A reserved mode is refused, never silently replaced by one that would build.
      return Unimplemented("builder config ", path, ": '", name,
                           "' is not yet supported by this qsdk version; supported: ",
                           Join(SupportedPrecisionModes()));
    }
  }
  return Invalid(path, "'", name,
                 "' is not a precision mode; valid modes: ", Join(KnownPrecisionModes()));
}

Status ReadDataType(const json& value, const std::string& path, DataType* out) {
  std::string name;
  QSDK_RETURN_IF_ERROR(ReadString(value, path, &name));
  Status status = ParseDataTypeName(name, out);
  if (!status.ok()) return Invalid(path, status.message());
  return Status::Ok();
}

Status ReadCustomNodeRule(const json& entry, const std::string& path, CustomNodeRule* rule) {
  QSDK_RETURN_IF_ERROR(
      CheckKeys(entry, path, {"name", "op_type", "precision", "output_type", "exclude",
                              "dynamic_quantization"}));
  const bool has_name = entry.contains("name");
  const bool has_op_type = entry.contains("op_type");
  if (has_name == has_op_type) {
    return Invalid(path, "the rule gives ", has_name ? "both" : "neither", " 'name' ",
                   has_name ? "and" : "nor", " 'op_type'; it must match nodes by exactly one");
  }
  if (has_name) {
    const std::string name_path = Child(path, "name");
    QSDK_RETURN_IF_ERROR(ReadString(entry.at("name"), name_path, &rule->name));
    if (rule->name.empty()) return Invalid(name_path, "a node name cannot be empty");
  } else {
    const std::string type_path = Child(path, "op_type");
    std::string type_name;
    QSDK_RETURN_IF_ERROR(ReadString(entry.at("op_type"), type_path, &type_name));
    Status status = ParseNodeTypeName(type_name, &rule->op_type);
    if (!status.ok()) return Invalid(type_path, status.message());
  }
  if (entry.contains("precision")) {
    QSDK_RETURN_IF_ERROR(
        ReadDataType(entry.at("precision"), Child(path, "precision"), &rule->precision));
  }
  if (entry.contains("output_type")) {
    QSDK_RETURN_IF_ERROR(
        ReadDataType(entry.at("output_type"), Child(path, "output_type"), &rule->output_type));
  }
  QSDK_RETURN_IF_ERROR(ReadBool(entry, path, "exclude", &rule->exclude));
  if (entry.contains("dynamic_quantization")) {
    bool dynamic = false;
    QSDK_RETURN_IF_ERROR(ReadBool(entry, path, "dynamic_quantization", &dynamic));
    rule->dynamic_quantization = dynamic ? 1 : 0;
  }
  if (rule->exclude &&
      (rule->precision != DataType::INVALID || rule->output_type != DataType::INVALID)) {
    return Invalid(Child(path, "exclude"),
                   "'exclude': true keeps the node FLOAT32 and cannot be combined with "
                   "'precision' or 'output_type'");
  }
  if (!rule->exclude && rule->precision == DataType::INVALID &&
      rule->output_type == DataType::INVALID && rule->dynamic_quantization < 0) {
    // Such a rule would change nothing; it is almost certainly a mistake.
    return Invalid(path, "the rule sets nothing; give 'precision', 'output_type', "
                         "'dynamic_quantization' or 'exclude': true");
  }
  return Status::Ok();
}

Status ReadCustomNodes(const json& value, const std::string& path,
                       std::vector<CustomNodeRule>* rules) {
  if (!value.is_array()) return Invalid(path, "expected an array, got ", Shown(value));
  std::vector<CustomNodeRule> parsed;
  parsed.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    CustomNodeRule rule;
    QSDK_RETURN_IF_ERROR(ReadCustomNodeRule(value[i], Child(path, i), &rule));
    parsed.push_back(std::move(rule));
  }
  *rules = std::move(parsed);
  return Status::Ok();
}

Status ReadFloatArray(const json& value, const std::string& path, std::vector<float>* out) {
  out->resize(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    QSDK_RETURN_IF_ERROR(ReadFloat(value[i], Child(path, i), &(*out)[i]));
  }
  return Status::Ok();
}

Status ReadCustomRange(const json& entry, const std::string& path, CustomRange* range) {
  QSDK_RETURN_IF_ERROR(CheckKeys(entry, path, {"min", "max", "axis"}));
  for (const char* key : {"min", "max"}) {
    if (!entry.contains(key)) return Invalid(path, "missing required key '", key, "'");
  }
  const json& min = entry.at("min");
  const json& max = entry.at("max");
  const std::string min_path = Child(path, "min");
  const std::string max_path = Child(path, "max");
  if (min.is_number() && max.is_number()) {
    if (entry.contains("axis")) {
      return Invalid(Child(path, "axis"),
                     "'axis' belongs to the per-axis form, where 'min' and 'max' are arrays");
    }
    range->min.resize(1);
    range->max.resize(1);
    range->axis = -1;
    QSDK_RETURN_IF_ERROR(ReadFloat(min, min_path, &range->min[0]));
    QSDK_RETURN_IF_ERROR(ReadFloat(max, max_path, &range->max[0]));
    if (range->min[0] > range->max[0]) {
      return Invalid(path, "min ", range->min[0], " > max ", range->max[0],
                     "; a range needs min <= max");
    }
    return Status::Ok();
  }
  if (min.is_array() && max.is_array()) {
    if (min.empty()) return Invalid(min_path, "the per-axis form needs at least one value");
    if (min.size() != max.size()) {
      return Invalid(path, "'min' has ", min.size(), " values and 'max' ", max.size(),
                     "; the per-axis form needs one min and one max per index of the axis");
    }
    if (!entry.contains("axis")) {
      return Invalid(path, "missing required key 'axis' (the per-axis form has arrays)");
    }
    int64_t axis = 0;
    QSDK_RETURN_IF_ERROR(ReadInteger(entry.at("axis"), Child(path, "axis"), 0,
                                     std::numeric_limits<int32_t>::max(), &axis));
    range->axis = static_cast<int32_t>(axis);
    QSDK_RETURN_IF_ERROR(ReadFloatArray(min, min_path, &range->min));
    QSDK_RETURN_IF_ERROR(ReadFloatArray(max, max_path, &range->max));
    for (size_t i = 0; i < range->min.size(); ++i) {
      if (range->min[i] > range->max[i]) {
        return Invalid(Child(min_path, i), "min ", range->min[i], " > max ", range->max[i],
                       " (", Child(max_path, i), "); a range needs min <= max");
      }
    }
    return Status::Ok();
  }
  return Invalid(path, "'min' and 'max' must both be numbers (per-tensor range) or both "
                       "arrays (per-axis range), got ",
                 min.type_name(), " and ", max.type_name());
}

Status ReadCustomRanges(const json& value, const std::string& path,
                        std::map<std::string, CustomRange>* ranges) {
  if (!value.is_object()) return Invalid(path, "expected an object, got ", Shown(value));
  std::map<std::string, CustomRange> parsed;
  for (const auto& item : value.items()) {
    const std::string entry_path = Child(path, item.key());
    if (item.key().empty()) return Invalid(entry_path, "a tensor name cannot be empty");
    QSDK_RETURN_IF_ERROR(ReadCustomRange(item.value(), entry_path, &parsed[item.key()]));
  }
  *ranges = std::move(parsed);
  return Status::Ok();
}

Status ApplyPrecisionConfig(const json& pc, BuildOptions* options) {
  const std::string path = "/precision_config";
  QSDK_RETURN_IF_ERROR(CheckKeys(pc, path,
                                 {"precision_mode", "precision_policy", "activation_scheme",
                                  "weight_granularity", "keep_output_float",
                                  "dynamic_quantization", "custom_nodes", "custom_ranges"}));
  if (pc.contains("precision_mode")) {
    QSDK_RETURN_IF_ERROR(ReadPrecisionMode(pc.at("precision_mode"),
                                           Child(path, "precision_mode"),
                                           &options->precision_mode));
  }
  QSDK_RETURN_IF_ERROR(ReadEnum(pc, path, "precision_policy", kPrecisionPolicies,
                                &options->precision_policy));
  QSDK_RETURN_IF_ERROR(ReadEnum(pc, path, "activation_scheme", kActivationSchemes,
                                &options->activation_scheme));
  QSDK_RETURN_IF_ERROR(ReadEnum(pc, path, "weight_granularity", kWeightGranularities,
                                &options->weight_granularity));
  QSDK_RETURN_IF_ERROR(ReadBool(pc, path, "keep_output_float", &options->keep_output_float));
  QSDK_RETURN_IF_ERROR(
      ReadBool(pc, path, "dynamic_quantization", &options->dynamic_quantization));
  // The two collections are values: a document that gives one replaces it whole (so that
  // a later layer can also clear it with [] / {}); they are not merged with earlier layers.
  if (pc.contains("custom_nodes")) {
    QSDK_RETURN_IF_ERROR(
        ReadCustomNodes(pc.at("custom_nodes"), Child(path, "custom_nodes"),
                        &options->custom_nodes));
  }
  if (pc.contains("custom_ranges")) {
    QSDK_RETURN_IF_ERROR(ReadCustomRanges(pc.at("custom_ranges"), Child(path, "custom_ranges"),
                                          &options->custom_ranges));
  }
  return Status::Ok();
}

Status ApplyCalibration(const json& cal, BuildOptions* options) {
  const std::string path = "/calibration";
  QSDK_RETURN_IF_ERROR(
      CheckKeys(cal, path, {"algorithm", "percentile", "histogram_bins", "max_samples"}));
  QSDK_RETURN_IF_ERROR(ReadEnum(cal, path, "algorithm", kCalibrationAlgorithms,
                                &options->calibration_algorithm));
  if (cal.contains("percentile")) {
    const json& value = cal.at("percentile");
    const std::string value_path = Child(path, "percentile");
    if (!value.is_number()) {
      return Invalid(value_path, "expected a number, got ", Shown(value));
    }
    const double p = value.get<double>();
    if (!(p > 0.0 && p <= 100.0)) {
      return Invalid(value_path, "value ", value.dump(), " is out of range; must be in (0, 100]");
    }
    options->calibration_percentile = p;
  }
  if (cal.contains("histogram_bins")) {
    int64_t bins = 0;
    QSDK_RETURN_IF_ERROR(
        ReadInteger(cal.at("histogram_bins"), Child(path, "histogram_bins"), 128, 8192, &bins));
    options->histogram_bins = static_cast<int32_t>(bins);
  }
  if (cal.contains("max_samples")) {
    const std::string value_path = Child(path, "max_samples");
    int64_t samples = 0;
    QSDK_RETURN_IF_ERROR(ReadInteger(cal.at("max_samples"), value_path, -1,
                                     std::numeric_limits<int64_t>::max(), &samples));
    if (samples == 0) {
      return Invalid(value_path, "value 0 is not allowed; use -1 for every sample, or >= 1");
    }
    options->max_samples = samples;
  }
  return Status::Ok();
}

Status ApplyGraphOptimization(const json& go, BuildOptions* options) {
  const std::string path = "/graph_optimization";
  QSDK_RETURN_IF_ERROR(CheckKeys(go, path,
                                 {"constant_folding", "batchnorm_folding", "activation_fusion",
                                  "residual_fusion", "dead_node_removal"}));
  QSDK_RETURN_IF_ERROR(ReadBool(go, path, "constant_folding", &options->constant_folding));
  QSDK_RETURN_IF_ERROR(ReadBool(go, path, "batchnorm_folding", &options->batchnorm_folding));
  QSDK_RETURN_IF_ERROR(ReadBool(go, path, "activation_fusion", &options->activation_fusion));
  QSDK_RETURN_IF_ERROR(ReadBool(go, path, "residual_fusion", &options->residual_fusion));
  QSDK_RETURN_IF_ERROR(ReadBool(go, path, "dead_node_removal", &options->dead_node_removal));
  return Status::Ok();
}

Status Apply(const json& doc, BuildOptions* options) {
  QSDK_RETURN_IF_ERROR(
      CheckKeys(doc, "", {"precision_config", "calibration", "graph_optimization"}));
  if (doc.contains("precision_config")) {
    QSDK_RETURN_IF_ERROR(ApplyPrecisionConfig(doc.at("precision_config"), options));
  }
  if (doc.contains("calibration")) {
    QSDK_RETURN_IF_ERROR(ApplyCalibration(doc.at("calibration"), options));
  }
  if (doc.contains("graph_optimization")) {
    QSDK_RETURN_IF_ERROR(ApplyGraphOptimization(doc.at("graph_optimization"), options));
  }
  return Status::Ok();
}

// The shortest decimal that reads back as exactly `f`, as a JSON number: a user's 0.1f is
// printed "0.1", not "0.10000000149011612", and parsing ToJson's output restores the
// same float.
json FloatToJson(float f) {
  char text[32];
  for (int digits = 6; digits <= 9; ++digits) {  // 9 significant digits always round-trip
    std::snprintf(text, sizeof(text), "%.*g", digits, static_cast<double>(f));
    if (std::strtof(text, nullptr) == f) break;
  }
  return std::strtod(text, nullptr);
}

json FloatsToJson(const std::vector<float>& values) {
  json array = json::array();
  for (float v : values) array.push_back(FloatToJson(v));
  return array;
}

json RuleToJson(const CustomNodeRule& rule) {
  json entry = json::object();
  if (rule.name.empty()) {
    entry["op_type"] = NodeTypeName(rule.op_type);
  } else {
    entry["name"] = rule.name;
  }
  if (rule.precision != DataType::INVALID) entry["precision"] = DataTypeName(rule.precision);
  if (rule.output_type != DataType::INVALID) {
    entry["output_type"] = DataTypeName(rule.output_type);
  }
  if (rule.exclude) entry["exclude"] = true;
  if (rule.dynamic_quantization >= 0) entry["dynamic_quantization"] = rule.dynamic_quantization == 1;
  return entry;
}

json RangeToJson(const CustomRange& range) {
  // The parser only makes one-element per-tensor ranges; the size test keeps ToJson from
  // throwing on a hand-made BuildOptions.
  if (range.axis < 0 && range.min.size() == 1 && range.max.size() == 1) {
    return {{"min", FloatToJson(range.min[0])}, {"max", FloatToJson(range.max[0])}};
  }
  return {{"min", FloatsToJson(range.min)}, {"max", FloatsToJson(range.max)},
          {"axis", range.axis}};
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
  static const std::vector<std::string> modes = NamesOf(kPrecisionModes);
  return modes;
}

const char* PrecisionModeName(PrecisionMode mode) { return NameOf(kPrecisionModes, mode); }
const char* PrecisionPolicyName(PrecisionPolicy policy) {
  return NameOf(kPrecisionPolicies, policy);
}
const char* ActivationSchemeName(ActivationScheme scheme) {
  return NameOf(kActivationSchemes, scheme);
}
const char* WeightGranularityName(WeightGranularity granularity) {
  return NameOf(kWeightGranularities, granularity);
}
const char* CalibrationAlgorithmConfigName(CalibrationAlgorithm algorithm) {
  return NameOf(kCalibrationAlgorithms, algorithm);
}

Status ParseDataTypeName(const std::string& name, DataType* type) {
  std::vector<std::string> valid;
  for (int32_t v = 1; v <= kDataTypeCount; ++v) {
    const DataType candidate = static_cast<DataType>(v);
    if (name == DataTypeName(candidate)) {
      *type = candidate;
      return Status::Ok();
    }
    valid.emplace_back(DataTypeName(candidate));
  }
  return InvalidArgument("'", name, "' is not a data type name; valid names: ", Join(valid));
}

Status ParseNodeTypeName(const std::string& name, NodeType* type) {
  // Driven by the op table, so a new row is accepted here without touching this file.
  static const std::vector<std::pair<std::string, NodeType>> kTable = {
#define QSDK_NODE_TYPE(enumerator, id, type_name) {type_name, NodeType::enumerator},
#include "qsdk/node_types.def"
  };
  std::vector<std::string> valid;
  for (const auto& [row_name, row_type] : kTable) {
    if (name == row_name) {
      *type = row_type;
      return Status::Ok();
    }
    valid.push_back(row_name);
  }
  return InvalidArgument("'", name, "' is not a node type name; valid names: ", Join(valid));
}

Status BuilderConfigImpl::ParseFromString(const std::string& text) {
  try {
    json doc;
    try {
      doc = json::parse(text);
    } catch (const json::exception& e) {
      // nlohmann's message carries the byte position of the error.
      return InvalidArgument("builder config: not valid JSON: ", e.what());
    }
    BuildOptions updated = options_;  // all-or-nothing: apply to a copy
    QSDK_RETURN_IF_ERROR(Apply(doc, &updated));
    options_ = std::move(updated);
    return Status::Ok();
  } catch (const std::exception& e) {
    // Only bad_alloc (or a nlohmann error on a path the checks above missed) reaches here.
    return InvalidArgument("builder config: ", e.what());
  }
}

Status BuilderConfigImpl::ParseFromFile(const std::string& path) {
  std::string text;
  try {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
      return Status(StatusCode::kNotFound,
                    StrCat("builder config file '", path, "' cannot be opened for reading"));
    }
    std::ostringstream stream;
    stream << file.rdbuf();
    if (file.bad()) {
      return Status(StatusCode::kIoError,
                    StrCat("builder config file '", path, "': read error"));
    }
    text = stream.str();
  } catch (const std::exception& e) {
    return Status(StatusCode::kIoError, StrCat("builder config file '", path, "': ", e.what()));
  }
  Status status = ParseFromString(text);
  if (!status.ok()) return Status(status.code(), StrCat(path, ": ", status.message()));
  return status;
}

std::string BuilderConfigImpl::ToJson() const {
  json rules = json::array();
  for (const CustomNodeRule& rule : options_.custom_nodes) rules.push_back(RuleToJson(rule));
  json ranges = json::object();
  for (const auto& [tensor, range] : options_.custom_ranges) ranges[tensor] = RangeToJson(range);
  json doc = {
      {"precision_config",
       {{"precision_mode", PrecisionModeName(options_.precision_mode)},
        {"precision_policy", PrecisionPolicyName(options_.precision_policy)},
        {"activation_scheme", ActivationSchemeName(options_.activation_scheme)},
        {"weight_granularity", WeightGranularityName(options_.weight_granularity)},
        {"keep_output_float", options_.keep_output_float},
        {"dynamic_quantization", options_.dynamic_quantization},
        {"custom_nodes", std::move(rules)},
        {"custom_ranges", std::move(ranges)}}},
      {"calibration",
       {{"algorithm", CalibrationAlgorithmConfigName(options_.calibration_algorithm)},
        {"percentile", options_.calibration_percentile},
        {"histogram_bins", options_.histogram_bins},
        {"max_samples", options_.max_samples}}},
      {"graph_optimization",
       {{"constant_folding", options_.constant_folding},
        {"batchnorm_folding", options_.batchnorm_folding},
        {"activation_fusion", options_.activation_fusion},
        {"residual_fusion", options_.residual_fusion},
        {"dead_node_removal", options_.dead_node_removal}}}};
  // Names come from parsed JSON and are valid UTF-8; `replace` only guards against a
  // type_error escaping should that ever change.
  return doc.dump(2, ' ', false, json::error_handler_t::replace);
}

}  // namespace builder
}  // namespace qsdk
