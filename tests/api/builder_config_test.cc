// IBuilderConfig: strict JSON with the JSON path in every error.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "builder/build_options.h"
#include "qsdk/builder_config.h"

namespace qsdk {
namespace {

using builder::BuilderConfigImpl;
using builder::BuildOptions;
using nlohmann::json;

// Parses `text` into `config`, failing the test with the status message if it is rejected.
void ExpectOk(BuilderConfigImpl* config, const std::string& text) {
  Status s = config->ParseFromString(text);
  ASSERT_TRUE(s.ok()) << s.message();
}

// Expects `text` to be rejected with `code`, a message containing `path` and `detail`,
// and the configuration left exactly as it was.
void ExpectRejected(const std::string& text, const std::string& path, const std::string& detail,
                    StatusCode code = StatusCode::kInvalidArgument) {
  BuilderConfigImpl config;
  const std::string before = config.ToJson();
  Status s = config.ParseFromString(text);
  EXPECT_EQ(s.code(), code) << text << "\n" << s.message();
  EXPECT_NE(s.message().find("builder config " + path + ":"), std::string::npos)
      << "path " << path << " not in: " << s.message();
  EXPECT_NE(s.message().find(detail), std::string::npos)
      << "'" << detail << "' not in: " << s.message();
  EXPECT_EQ(config.ToJson(), before) << text;
}

TEST(BuilderConfigTest, DefaultsAreComplete) {
  auto config = CreateIBuilderConfig();
  const json doc = json::parse(config->ToJson());
  const json expected = json::parse(R"({
    "precision_config": {
      "precision_mode": "force_float32",
      "precision_policy": "strict",
      "activation_scheme": "symmetric",
      "weight_granularity": "per_channel",
      "keep_output_float": true,
      "dynamic_quantization": false,
      "custom_nodes": [],
      "custom_ranges": {}
    },
    "calibration": {
      "algorithm": "percentile",
      "percentile": 99.99,
      "histogram_bins": 2048,
      "max_samples": -1
    },
    "graph_optimization": {
      "constant_folding": true,
      "batchnorm_folding": true,
      "activation_fusion": true,
      "residual_fusion": true,
      "dead_node_removal": true
    }
  })");
  EXPECT_EQ(doc, expected) << doc.dump(2);
}

TEST(BuilderConfigTest, DefaultOptionsMatchDocumentedDefaults) {
  const BuilderConfigImpl config;
  const BuildOptions& o = config.options();
  EXPECT_EQ(o.precision_mode, builder::PrecisionMode::kForceFloat32);
  EXPECT_EQ(o.precision_policy, builder::PrecisionPolicy::kStrict);
  EXPECT_EQ(o.activation_scheme, builder::ActivationScheme::kSymmetric);
  EXPECT_EQ(o.weight_granularity, builder::WeightGranularity::kPerChannel);
  EXPECT_TRUE(o.keep_output_float);
  EXPECT_TRUE(o.custom_nodes.empty());
  EXPECT_TRUE(o.custom_ranges.empty());
  EXPECT_EQ(o.calibration_algorithm, CalibrationAlgorithm::kPercentile);
  EXPECT_EQ(o.calibration_percentile, 99.99);  // exact: the same double literal
  EXPECT_EQ(o.histogram_bins, 2048);
  EXPECT_EQ(o.max_samples, -1);
  EXPECT_TRUE(o.residual_fusion);
}

TEST(BuilderConfigTest, ParsesEveryKey) {
  BuilderConfigImpl config;
  Status s = config.ParseFromString(R"({
    "precision_config": {
      "precision_mode": "qint8_mixed_float32",
      "precision_policy": "prefer",
      "activation_scheme": "asymmetric",
      "weight_granularity": "per_tensor",
      "keep_output_float": false,
      "custom_nodes": [
        {"op_type": "Conv", "precision": "QINT8", "output_type": "QUINT8"},
        {"name": "fc_last", "exclude": true},
        {"op_type": "FullyConnected", "output_type": "FLOAT32"}
      ],
      "custom_ranges": {
        "data": {"min": -1.0, "max": 2.5},
        "conv1/out": {"min": [-1, -2], "max": [1, 2], "axis": 1}
      }
    },
    "calibration": {"algorithm": "percentile", "percentile": 99.9, "histogram_bins": 128,
                    "max_samples": 500},
    "graph_optimization": {"residual_fusion": false}
  })");
  ASSERT_TRUE(s.ok()) << s.message();
  const BuildOptions& o = config.options();
  EXPECT_EQ(o.precision_mode, builder::PrecisionMode::kQint8MixedFloat32);
  EXPECT_EQ(o.precision_policy, builder::PrecisionPolicy::kPrefer);
  EXPECT_EQ(o.activation_scheme, builder::ActivationScheme::kAsymmetric);
  EXPECT_EQ(o.weight_granularity, builder::WeightGranularity::kPerTensor);
  EXPECT_FALSE(o.keep_output_float);

  ASSERT_EQ(o.custom_nodes.size(), 3u);
  EXPECT_TRUE(o.custom_nodes[0].name.empty());
  EXPECT_EQ(o.custom_nodes[0].op_type, NodeType::kConv);
  EXPECT_EQ(o.custom_nodes[0].precision, DataType::QINT8);
  EXPECT_EQ(o.custom_nodes[0].output_type, DataType::QUINT8);
  EXPECT_FALSE(o.custom_nodes[0].exclude);
  EXPECT_EQ(o.custom_nodes[1].name, "fc_last");
  EXPECT_EQ(o.custom_nodes[1].op_type, NodeType::kInvalid);
  EXPECT_EQ(o.custom_nodes[1].precision, DataType::INVALID);
  EXPECT_TRUE(o.custom_nodes[1].exclude);
  EXPECT_EQ(o.custom_nodes[2].op_type, NodeType::kFullyConnected);
  EXPECT_EQ(o.custom_nodes[2].precision, DataType::INVALID);
  EXPECT_EQ(o.custom_nodes[2].output_type, DataType::FLOAT32);
  EXPECT_TRUE(o.custom_nodes[0].Matches("any", NodeType::kConv));
  EXPECT_FALSE(o.custom_nodes[0].Matches("any", NodeType::kPool));
  EXPECT_TRUE(o.custom_nodes[1].Matches("fc_last", NodeType::kFullyConnected));
  EXPECT_FALSE(o.custom_nodes[1].Matches("fc_first", NodeType::kFullyConnected));

  ASSERT_EQ(o.custom_ranges.size(), 2u);
  const builder::CustomRange& data = o.custom_ranges.at("data");
  EXPECT_EQ(data.axis, -1);
  EXPECT_EQ(data.min, std::vector<float>{-1.0f});  // exact: both are representable
  EXPECT_EQ(data.max, std::vector<float>{2.5f});
  const builder::CustomRange& conv = o.custom_ranges.at("conv1/out");
  EXPECT_EQ(conv.axis, 1);
  EXPECT_EQ(conv.min, (std::vector<float>{-1.0f, -2.0f}));
  EXPECT_EQ(conv.max, (std::vector<float>{1.0f, 2.0f}));

  EXPECT_EQ(o.calibration_algorithm, CalibrationAlgorithm::kPercentile);
  EXPECT_EQ(o.calibration_percentile, 99.9);
  EXPECT_EQ(o.histogram_bins, 128);
  EXPECT_EQ(o.max_samples, 500);
  EXPECT_FALSE(o.residual_fusion);
  EXPECT_TRUE(o.activation_fusion);  // not given: default kept
}

TEST(BuilderConfigTest, ToJsonRoundTrips) {
  BuilderConfigImpl config;
  ASSERT_NO_FATAL_FAILURE(ExpectOk(&config, R"({
    "precision_config": {
      "precision_mode": "qint8_mixed_float32",
      "custom_nodes": [{"name": "a~b/c", "precision": "QUINT8"}, {"op_type": "Pool",
                        "exclude": true}],
      "custom_ranges": {"x": {"min": -0.1, "max": 0.3},
                        "y": {"min": [0.1, -7], "max": [0.2, 1e-3], "axis": 0}}
    },
    "calibration": {"algorithm": "mse", "max_samples": 1}
  })"));
  const std::string printed = config.ToJson();
  const json doc = json::parse(printed);
  // Floats print as the shortest decimal that reads back as the same float, not as the
  // float's exact double expansion (0.1f would otherwise print 0.10000000149011612).
  EXPECT_EQ(doc["precision_config"]["custom_ranges"]["x"]["min"].dump(), "-0.1");
  EXPECT_EQ(doc["precision_config"]["custom_ranges"]["y"]["max"].dump(), "[0.2,0.001]");
  EXPECT_EQ(doc["precision_config"]["custom_nodes"][1],
            json::parse(R"({"op_type": "Pool", "exclude": true})"));

  BuilderConfigImpl copy;
  Status s = copy.ParseFromString(printed);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(copy.ToJson(), printed);
  EXPECT_EQ(copy.options().custom_nodes, config.options().custom_nodes);
  EXPECT_EQ(copy.options().custom_ranges, config.options().custom_ranges);  // exact floats
}

TEST(BuilderConfigTest, ParsesAndLayers) {
  auto config = CreateIBuilderConfig();
  ASSERT_TRUE(config->ParseFromString(
                        R"({"precision_config": {"precision_mode": "force_float32"}})")
                  .ok());
  ASSERT_TRUE(
      config->ParseFromString(R"({"graph_optimization": {"activation_fusion": false}})").ok());
  auto doc = json::parse(config->ToJson());
  EXPECT_EQ(doc["graph_optimization"]["activation_fusion"], false);
  EXPECT_EQ(doc["graph_optimization"]["constant_folding"], true);
}

TEST(BuilderConfigTest, LayersKeyByKeyAndReplacesCollections) {
  BuilderConfigImpl config;
  ASSERT_NO_FATAL_FAILURE(ExpectOk(&config, R"({
    "precision_config": {"precision_mode": "qint8_mixed_float32",
                         "custom_nodes": [{"name": "a", "exclude": true},
                                          {"name": "b", "exclude": true}],
                         "custom_ranges": {"t1": {"min": 0, "max": 1}}},
    "calibration": {"algorithm": "minmax"}
  })"));
  // A second layer changes only what it names; a collection it gives replaces the old one.
  ASSERT_NO_FATAL_FAILURE(ExpectOk(&config, R"({
    "precision_config": {"precision_policy": "prefer",
                         "custom_nodes": [{"op_type": "MatMul", "precision": "QINT8"}]},
    "calibration": {"histogram_bins": 4096}
  })"));
  const BuildOptions& o = config.options();
  EXPECT_EQ(o.precision_mode, builder::PrecisionMode::kQint8MixedFloat32);
  EXPECT_EQ(o.precision_policy, builder::PrecisionPolicy::kPrefer);
  ASSERT_EQ(o.custom_nodes.size(), 1u);
  EXPECT_EQ(o.custom_nodes[0].op_type, NodeType::kMatMul);
  ASSERT_EQ(o.custom_ranges.size(), 1u);  // not given in the second layer: kept
  EXPECT_EQ(o.calibration_algorithm, CalibrationAlgorithm::kMinMax);
  EXPECT_EQ(o.histogram_bins, 4096);
  // Empty collections clear them.
  ASSERT_NO_FATAL_FAILURE(
      ExpectOk(&config, R"({"precision_config": {"custom_nodes": [], "custom_ranges": {}}})"));
  EXPECT_TRUE(config.options().custom_nodes.empty());
  EXPECT_TRUE(config.options().custom_ranges.empty());
  EXPECT_EQ(config.options().precision_mode, builder::PrecisionMode::kQint8MixedFloat32);
}

TEST(BuilderConfigTest, UnknownKeyNamesItsPath) {
  auto config = CreateIBuilderConfig();
  Status s = config->ParseFromString(R"({"precision_config": {"precison_mode": "x"}})");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("/precision_config/precison_mode"), std::string::npos)
      << s.message();
  s = config->ParseFromString(R"({"bogus": 1})");
  EXPECT_NE(s.message().find("/bogus"), std::string::npos) << s.message();
  ExpectRejected(R"({"calibration": {"bins": 256}})", "/calibration/bins", "histogram_bins");
  ExpectRejected(R"({"graph_optimization": {"residual": true}})", "/graph_optimization/residual",
                 "residual_fusion");
  ExpectRejected(R"({"precision_config": {"custom_nodes": [{"name": "a", "exclude": true},
                                                          {"name": "b", "dtype": "QINT8"}]}})",
                 "/precision_config/custom_nodes/1/dtype", "unknown key");
  // A tensor name with '/' and '~' is escaped in the pointer (RFC 6901).
  ExpectRejected(R"({"precision_config": {"custom_ranges": {"a/b~c": {"min": 0, "max": 1,
                                                                      "step": 2}}}})",
                 "/precision_config/custom_ranges/a~1b~0c/step", "unknown key");
}

TEST(BuilderConfigTest, BadValuesAreRejectedAndLeaveConfigUnchanged) {
  auto config = CreateIBuilderConfig();
  const std::string before = config->ToJson();
  Status s = config->ParseFromString(R"({"precision_config": {"precision_mode": "int3"}})");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("int3"), std::string::npos);
  EXPECT_NE(s.message().find("force_float32"), std::string::npos);  // lists the valid ones
  s = config->ParseFromString(R"({"precision_config": {"precision_mode": 3}})");
  EXPECT_NE(s.message().find("expected a string"), std::string::npos) << s.message();
  s = config->ParseFromString(
      R"({"graph_optimization": {"constant_folding": false, "dead_node_removal": "yes"}})");
  EXPECT_NE(s.message().find("/graph_optimization/dead_node_removal"), std::string::npos);
  EXPECT_EQ(config->ToJson(), before);  // all-or-nothing: constant_folding not applied
  s = config->ParseFromString(R"({"precision_config": [1, 2]})");
  EXPECT_NE(s.message().find("/precision_config"), std::string::npos);
  s = config->ParseFromString("{not json");
  EXPECT_NE(s.message().find("not valid JSON"), std::string::npos);
  EXPECT_EQ(config->ToJson(), before);
}

TEST(BuilderConfigTest, BadEnumAndScalarValuesNameTheirPath) {
  ExpectRejected(R"({"precision_config": {"precision_policy": "lenient"}})",
                 "/precision_config/precision_policy", "'lenient' is not one of: strict, prefer");
  ExpectRejected(R"({"precision_config": {"activation_scheme": "Symmetric"}})",
                 "/precision_config/activation_scheme", "symmetric, asymmetric");
  ExpectRejected(R"({"precision_config": {"weight_granularity": 1}})",
                 "/precision_config/weight_granularity", "expected a string");
  ExpectRejected(R"({"precision_config": {"keep_output_float": 1}})",
                 "/precision_config/keep_output_float", "expected true or false");
  ExpectRejected(R"({"calibration": {"algorithm": "kl"}})", "/calibration/algorithm",
                 "minmax, entropy, percentile, mse");
  ExpectRejected(R"({"calibration": []})", "/calibration", "expected an object");
  ExpectRejected(R"({"graph_optimization": {"residual_fusion": null}})",
                 "/graph_optimization/residual_fusion", "expected true or false");
}

TEST(BuilderConfigTest, CalibrationNumbersAreRangeChecked) {
  for (const char* bad : {"0", "-5", "100.001", "\"99\""}) {
    ExpectRejected(std::string(R"({"calibration": {"percentile": )") + bad + "}}",
                   "/calibration/percentile", bad[0] == '"' ? "expected a number" : "(0, 100]");
  }
  for (const char* bad : {"127", "65537", "-1"}) {
    ExpectRejected(std::string(R"({"calibration": {"histogram_bins": )") + bad + "}}",
                   "/calibration/histogram_bins", "[128, 8192]");
  }
  ExpectRejected(R"({"calibration": {"histogram_bins": 2048.0}})", "/calibration/histogram_bins",
                 "expected an integer");
  ExpectRejected(R"({"calibration": {"max_samples": 0}})", "/calibration/max_samples",
                 "use -1 for every sample");
  ExpectRejected(R"({"calibration": {"max_samples": -2}})", "/calibration/max_samples",
                 "out of range");
  ExpectRejected(R"({"calibration": {"max_samples": 18446744073709551615}})",
                 "/calibration/max_samples", "out of range");
  ExpectRejected(R"({"calibration": {"max_samples": 1.5}})", "/calibration/max_samples",
                 "expected an integer");
  // The bounds themselves are accepted.
  BuilderConfigImpl config;
  Status s = config.ParseFromString(
      R"({"calibration": {"percentile": 100, "histogram_bins": 8192, "max_samples": 1}})");
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(config.options().calibration_percentile, 100.0);
  EXPECT_EQ(config.options().histogram_bins, 8192);
  s = config.ParseFromString(R"({"calibration": {"percentile": 1e-6, "histogram_bins": 128}})");
  ASSERT_TRUE(s.ok()) << s.message();
}

TEST(BuilderConfigTest, CustomNodeRulesAreValidated) {
  const std::string prefix = R"({"precision_config": {"custom_nodes": [)";
  const std::string ok = R"({"name": "a", "exclude": true}, {"op_type": "Conv", "precision": )"
                         R"("QINT8"}, )";
  ExpectRejected(prefix + ok + R"({"precision": "QINT8"}]}})",
                 "/precision_config/custom_nodes/2", "neither 'name' nor 'op_type'");
  ExpectRejected(prefix + ok + R"({"name": "x", "op_type": "Conv", "exclude": true}]}})",
                 "/precision_config/custom_nodes/2", "both 'name' and 'op_type'");
  ExpectRejected(prefix + R"({"op_type": "Convolution", "exclude": true}]}})",
                 "/precision_config/custom_nodes/0/op_type",
                 "'Convolution' is not a node type name; valid names: Const, Conv, "
                 "FullyConnected");
  ExpectRejected(prefix + R"({"op_type": "conv", "exclude": true}]}})",
                 "/precision_config/custom_nodes/0/op_type", "not a node type name");
  ExpectRejected(prefix + R"({"name": "a", "precision": "qint8"}]}})",
                 "/precision_config/custom_nodes/0/precision",
                 "'qint8' is not a data type name; valid names: FLOAT32, ");
  ExpectRejected(prefix + R"({"name": "a", "output_type": "INVALID"}]}})",
                 "/precision_config/custom_nodes/0/output_type", "QINT8, QUINT8, QINT16");
  ExpectRejected(prefix + R"({"name": "a", "precision": 8}]}})",
                 "/precision_config/custom_nodes/0/precision", "expected a string");
  ExpectRejected(prefix + R"({"name": "", "exclude": true}]}})",
                 "/precision_config/custom_nodes/0/name", "cannot be empty");
  ExpectRejected(prefix + R"({"name": "a", "exclude": "yes"}]}})",
                 "/precision_config/custom_nodes/0/exclude", "expected true or false");
  ExpectRejected(prefix + R"({"name": "a", "exclude": true, "precision": "QINT8"}]}})",
                 "/precision_config/custom_nodes/0/exclude", "cannot be combined");
  ExpectRejected(prefix + R"({"name": "a"}]}})", "/precision_config/custom_nodes/0",
                 "the rule sets nothing");
  ExpectRejected(prefix + R"({"name": "a", "exclude": false}]}})",
                 "/precision_config/custom_nodes/0", "the rule sets nothing");
  ExpectRejected(prefix + R"("conv1"]}})", "/precision_config/custom_nodes/0",
                 "expected an object");
  ExpectRejected(R"({"precision_config": {"custom_nodes": {"name": "a"}}})",
                 "/precision_config/custom_nodes", "expected an array");
}

TEST(BuilderConfigTest, CustomRangesAreValidated) {
  const std::string prefix = R"({"precision_config": {"custom_ranges": {"t": )";
  const std::string path = "/precision_config/custom_ranges/t";
  ExpectRejected(prefix + R"({"min": 2, "max": 1}}}})", path, "min 2 > max 1");
  ExpectRejected(prefix + R"({"min": 1}}}})", path, "missing required key 'max'");
  ExpectRejected(prefix + R"({"min": "0", "max": 1}}}})", path, "both be numbers");
  ExpectRejected(prefix + R"({"min": 0, "max": [1], "axis": 0}}}})", path, "both be numbers");
  ExpectRejected(prefix + R"({"min": -1e39, "max": 1}}}})", path + "/min",
                 "not a finite float32");
  ExpectRejected(prefix + R"({"min": 0, "max": 1, "axis": 0}}}})", path + "/axis",
                 "per-axis form");
  ExpectRejected(prefix + R"({"min": [0, 1], "max": [1, 2]}}}})", path,
                 "missing required key 'axis'");
  ExpectRejected(prefix + R"({"min": [], "max": [], "axis": 0}}}})", path + "/min",
                 "at least one value");
  ExpectRejected(prefix + R"({"min": [0, 1], "max": [1], "axis": 0}}}})", path,
                 "'min' has 2 values and 'max' 1");
  ExpectRejected(prefix + R"({"min": [0, 3], "max": [1, 2], "axis": 0}}}})", path + "/min/1",
                 "min 3 > max 2");
  ExpectRejected(prefix + R"({"min": [0, null], "max": [1, 2], "axis": 0}}}})", path + "/min/1",
                 "expected a number");
  ExpectRejected(prefix + R"({"min": [0], "max": [1], "axis": -1}}}})", path + "/axis",
                 "out of range");
  ExpectRejected(prefix + R"({"min": [0], "max": [1], "axis": 1.0}}}})", path + "/axis",
                 "expected an integer");
  ExpectRejected(prefix + R"(5}}})", path, "expected an object");
  ExpectRejected(R"({"precision_config": {"custom_ranges": {"": {"min": 0, "max": 1}}}})",
                 "/precision_config/custom_ranges/", "tensor name cannot be empty");
  ExpectRejected(R"({"precision_config": {"custom_ranges": [1]}})",
                 "/precision_config/custom_ranges", "expected an object");
  // min == max is a valid (degenerate) range.
  BuilderConfigImpl config;
  Status s = config.ParseFromString(prefix + R"({"min": 0.5, "max": 0.5}}}})");
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST(BuilderConfigTest, AllOrNothingAcrossSections) {
  BuilderConfigImpl config;
  ASSERT_NO_FATAL_FAILURE(ExpectOk(&config, R"({"precision_config": {"custom_nodes": [
      {"name": "keep", "exclude": true}]}})"));
  const std::string before = config.ToJson();
  // Everything before the error is valid and would change the config; none of it may stick.
  Status s = config.ParseFromString(R"({
    "precision_config": {"precision_mode": "qint8_mixed_float32",
                         "custom_nodes": [{"op_type": "Conv", "precision": "QINT8"}],
                         "custom_ranges": {"x": {"min": 0, "max": 1}}},
    "calibration": {"algorithm": "minmax"},
    "graph_optimization": {"residual_fusion": false, "dead_node_removal": 0}
  })");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("/graph_optimization/dead_node_removal"), std::string::npos)
      << s.message();
  EXPECT_EQ(config.ToJson(), before);
  ASSERT_EQ(config.options().custom_nodes.size(), 1u);
  EXPECT_EQ(config.options().custom_nodes[0].name, "keep");
}

TEST(BuilderConfigTest, Qint8MixedFloat32IsSupported) {
  auto config = CreateIBuilderConfig();
  Status s = config->ParseFromString(
      R"({"precision_config": {"precision_mode": "qint8_mixed_float32"}})");
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(json::parse(config->ToJson())["precision_config"]["precision_mode"],
            "qint8_mixed_float32");
}

TEST(BuilderConfigTest, EveryPrecisionModeParsesAndRoundTrips) {
  EXPECT_EQ(builder::KnownPrecisionModes(), builder::SupportedPrecisionModes());
  EXPECT_EQ(builder::KnownPrecisionModes().size(), 8u);
  for (const std::string& mode : builder::KnownPrecisionModes()) {
    auto config = CreateIBuilderConfig();
    Status s = config->ParseFromString(R"({"precision_config": {"precision_mode": ")" + mode +
                                       R"("}})");
    ASSERT_TRUE(s.ok()) << mode << ": " << s.message();
    EXPECT_EQ(json::parse(config->ToJson())["precision_config"]["precision_mode"], mode);
  }
  ExpectRejected(R"({"precision_config": {"precision_mode": "qint4_mixed_float32"}})",
                 "/precision_config/precision_mode", "is not a precision mode",
                 StatusCode::kInvalidArgument);
}

TEST(BuilderConfigTest, DynamicQuantizationGlobalAndPerRule) {
  auto config = CreateIBuilderConfig();
  Status s = config->ParseFromString(R"({"precision_config": {"dynamic_quantization": true,
      "custom_nodes": [{"op_type": "MatMul", "dynamic_quantization": false}]}})");
  ASSERT_TRUE(s.ok()) << s.message();
  const json j = json::parse(config->ToJson());
  EXPECT_EQ(j["precision_config"]["dynamic_quantization"], true);
  EXPECT_EQ(j["precision_config"]["custom_nodes"][0]["dynamic_quantization"], false);
  ExpectRejected(R"({"precision_config": {"dynamic_quantization": 1}})",
                 "/precision_config/dynamic_quantization", "expected true or false",
                 StatusCode::kInvalidArgument);
}

TEST(BuilderConfigTest, ParseNameHelpers) {
  DataType type = DataType::INVALID;
  ASSERT_TRUE(builder::ParseDataTypeName("QUINT8", &type).ok());
  EXPECT_EQ(type, DataType::QUINT8);
  // Every valid type's name parses back to it.
  for (int32_t v = 1; v <= kDataTypeCount; ++v) {
    const DataType t = static_cast<DataType>(v);
    DataType parsed = DataType::INVALID;
    ASSERT_TRUE(builder::ParseDataTypeName(DataTypeName(t), &parsed).ok()) << v;
    EXPECT_EQ(parsed, t);
  }
  Status s = builder::ParseDataTypeName("INVALID", &type);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(type, DataType::QUINT8);  // unchanged on failure
  EXPECT_NE(s.message().find("FLOAT32, FLOAT16, BFLOAT16"), std::string::npos) << s.message();

  NodeType node = NodeType::kInvalid;
  ASSERT_TRUE(builder::ParseNodeTypeName("FullyConnected", &node).ok());
  EXPECT_EQ(node, NodeType::kFullyConnected);
  for (int32_t v = 1; v < 64; ++v) {  // well past the last row of the op table
    const NodeType t = static_cast<NodeType>(v);
    if (!IsValidNodeType(t)) continue;
    NodeType parsed = NodeType::kInvalid;
    ASSERT_TRUE(builder::ParseNodeTypeName(NodeTypeName(t), &parsed).ok()) << v;
    EXPECT_EQ(parsed, t);
  }
  s = builder::ParseNodeTypeName("Invalid", &node);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(node, NodeType::kFullyConnected);
  EXPECT_NE(s.message().find("Conv, FullyConnected, MatMul"), std::string::npos) << s.message();
}

TEST(BuilderConfigTest, ParseFromFile) {
  auto config = CreateIBuilderConfig();
  Status missing = config->ParseFromFile("/nonexistent/qsdk.json");
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("/nonexistent/qsdk.json"), std::string::npos);
  const std::string path = ::testing::TempDir() + "/qsdk_config_test.json";
  {
    std::ofstream f(path);
    f << R"({"graph_optimization": {"batchnorm_folding": false}})";
  }
  ASSERT_TRUE(config->ParseFromFile(path).ok());
  EXPECT_EQ(json::parse(config->ToJson())["graph_optimization"]["batchnorm_folding"], false);
  {
    std::ofstream f(path);
    f << R"({"graph_optimization": 7})";
  }
  Status bad = config->ParseFromFile(path);
  EXPECT_NE(bad.message().find(path), std::string::npos);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace qsdk
