// The parsed form of IBuilderConfig (schema: docs/precision_config.md).
//
// Everything here has been validated by the parser: enums hold one of their values, every
// custom node rule names exactly one of a node name / op type, every custom range is
// finite with min <= max. What needs a network (that a rule's node name exists, that a
// range's axis and length fit its tensor) is checked by the builder.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "qsdk/builder_config.h"
#include "qsdk/calibration.h"
#include "qsdk/data_type.h"
#include "qsdk/node_type.h"
#include "qsdk/status.h"

namespace qsdk::builder {

// The global precision modes (docs/precision_config.md). "qintN_mixed_X": the nodes with
// an INTN kernel compute INTN (from calibrated or user ranges), the others in X.
enum class PrecisionMode {
  kForceFloat32,         // "force_float32": every node computes in FP32.
  kForceFloat16,         // "force_float16": FP16 storage, FP32 compute (no FP16 kernels).
  kForceBFloat16,        // "force_bfloat16": BF16 where a BF16 kernel exists, else FP32.
  kQint8MixedFloat32,    // "qint8_mixed_float32"
  kQint8MixedFloat16,    // "qint8_mixed_float16"
  kQint8MixedBFloat16,   // "qint8_mixed_bfloat16"
  kQint16MixedFloat32,   // "qint16_mixed_float32": Conv / FullyConnected / MatMul INT16.
  kQint16MixedFloat16,   // "qint16_mixed_float16"
};

// What the builder does with a precision request no kernel can honour.
enum class PrecisionPolicy {
  kStrict,  // "strict": the build fails, naming the node.
  kPrefer,  // "prefer": the nearest supported precision is used; the build report says so.
};

// How activations (non-constant tensors) whose range has negative values are quantized;
// a non-negative range is QUINT8 with zero point 0 in both schemes.
enum class ActivationScheme {
  kSymmetric,   // "symmetric": QINT8, zero point 0, range [-a, a], a = max(|min|, |max|).
  kAsymmetric,  // "asymmetric": QUINT8, zero point chosen so that [min, max] spans [0, 255].
};

// How constant weights of quantized nodes are quantized (always symmetric QINT8).
enum class WeightGranularity {
  kPerChannel,  // "per_channel": one scale per output channel.
  kPerTensor,   // "per_tensor": one scale for the whole weight tensor.
};

// One entry of /precision_config/custom_nodes. It matches a node by name (when `name` is
// not empty) or else by type (`op_type`). Unset fields (INVALID, false) leave the decision
// to earlier rules or the mode; rules are applied in order, field by field, later wins.
// `exclude` is equivalent to precision FLOAT32 and output_type FLOAT32, and the parser
// rejects it together with either of them.
struct CustomNodeRule {
  std::string name;                        // Node name; empty when matching by type.
  NodeType op_type = NodeType::kInvalid;   // kInvalid when matching by name.
  DataType precision = DataType::INVALID;  // For every data input; INVALID = not given.
  DataType output_type = DataType::INVALID;  // INVALID = not given.
  bool exclude = false;                    // True: keep the node FLOAT32.
  // "dynamic_quantization": true / false for a FullyConnected / MatMul (absent = the
  // global setting): INT8 weights, activation parameters computed per batch at run time.
  int8_t dynamic_quantization = -1;  // -1 = not given, 0 = false, 1 = true

  bool Matches(const std::string& node_name, NodeType node_type) const {
    return name.empty() ? node_type == op_type : node_name == name;
  }
  bool operator==(const CustomNodeRule& o) const {
    return name == o.name && op_type == o.op_type && precision == o.precision &&
           output_type == o.output_type && exclude == o.exclude &&
           dynamic_quantization == o.dynamic_quantization;
  }
};

// One entry of /precision_config/custom_ranges: the range of real values of a tensor.
// Per-tensor: axis -1, one element each. Per-axis: one element per index of `axis`
// (lengths equal and non-zero). Same layout as graph::TensorRange.
struct CustomRange {
  std::vector<float> min;
  std::vector<float> max;
  int32_t axis = -1;

  bool operator==(const CustomRange& o) const {
    return min == o.min && max == o.max && axis == o.axis;
  }
};

struct BuildOptions {
  // /precision_config
  PrecisionMode precision_mode = PrecisionMode::kForceFloat32;
  PrecisionPolicy precision_policy = PrecisionPolicy::kStrict;
  ActivationScheme activation_scheme = ActivationScheme::kSymmetric;
  WeightGranularity weight_granularity = WeightGranularity::kPerChannel;
  // Network outputs and the nodes producing them stay FLOAT32.
  bool keep_output_float = true;
  // In the qint8 modes, FullyConnected / MatMul nodes with constant weights are quantized
  // dynamically (activation parameters per batch at run time, no range needed).
  bool dynamic_quantization = false;
  std::vector<CustomNodeRule> custom_nodes;
  // Keyed by tensor name; std::map so that ToJson and iteration are deterministic.
  std::map<std::string, CustomRange> custom_ranges;

  // /calibration (qsdk::CalibrationAlgorithm, the calibrator's own enum)
  // Percentile by default: on the bundled Fashion-MNIST ResNet, entropy calibration clips
  // post-ReLU tensors to ~1/5 of their range and costs ~11 points of top-1, while the
  // 99.99th percentile stays within 0.1 point of FP32 (docs/calibration.md).
  CalibrationAlgorithm calibration_algorithm = CalibrationAlgorithm::kPercentile;
  double calibration_percentile = 99.99;  // in (0, 100]
  int32_t histogram_bins = 2048;          // in [128, 8192] (the calibrator's limit)
  int64_t max_samples = -1;               // -1 = every sample, else >= 1

  // /graph_optimization
  bool constant_folding = true;
  bool batchnorm_folding = true;
  bool activation_fusion = true;
  bool residual_fusion = true;
  bool dead_node_removal = true;
};

// Every precision mode name qsdk knows, in documentation order.
const std::vector<std::string>& KnownPrecisionModes();
// The modes this version can build, in the order of PrecisionMode.
const std::vector<std::string>& SupportedPrecisionModes();

// The JSON spelling of each enum value ("force_float32", "strict", ...).
const char* PrecisionModeName(PrecisionMode mode);
const char* PrecisionPolicyName(PrecisionPolicy policy);
const char* ActivationSchemeName(ActivationScheme scheme);
const char* WeightGranularityName(WeightGranularity granularity);
// The config spells kMinMax "minmax"; calibration tables (qsdk::CalibrationAlgorithmName)
// spell it "min_max". Hence a distinct name: an overload of qsdk::CalibrationAlgorithmName
// here would make unqualified calls ambiguous (argument-dependent lookup finds both).
const char* CalibrationAlgorithmConfigName(CalibrationAlgorithm algorithm);

// Inverse of DataTypeName for the valid types ("FLOAT32", "QINT8", ...; exact, upper
// case). An unknown name (including "INVALID") gives kInvalidArgument listing the valid
// names; *type is then unchanged.
Status ParseDataTypeName(const std::string& name, DataType* type);
// Inverse of NodeTypeName for the rows of node_types.def ("Conv", "FullyConnected", ...;
// exact case). An unknown name gives kInvalidArgument listing the valid names; *type is
// then unchanged.
Status ParseNodeTypeName(const std::string& name, NodeType* type);

class BuilderConfigImpl final : public IBuilderConfig {
 public:
  Status ParseFromString(const std::string& json) override;
  Status ParseFromFile(const std::string& path) override;
  std::string ToJson() const override;

  const BuildOptions& options() const { return options_; }

 private:
  BuildOptions options_;
};

}  // namespace qsdk::builder
