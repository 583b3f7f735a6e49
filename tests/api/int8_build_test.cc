// INT8 builds through the public API: precision assignment, per-node control, the build
// report, and the statuses for requests that cannot be honoured. Ranges are set by hand
// (ITensor::SetDynamicRange / custom_ranges) so these tests do not depend on calibration.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "qsdk/calibration.h"
#include "qsdk/qsdk.h"
#include "small_net.h"

namespace qsdk {
namespace {

using test::Build;
using test::Find;
using test::MakeNet;
using test::RunModel;
using test::RandomConst;
using test::SmallNet;

const char* kInt8 = R"({"precision_config": {"precision_mode": "qint8_mixed_float32"}})";

TEST(Int8BuildTest, ConvsRunInt8AndAgreeWithFp32) {
  SmallNet s = MakeNet();
  std::unique_ptr<IModel> int8, fp32;
  Status st = Build(*s.net, kInt8, &int8);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(Build(*s.net, "{}", &fp32).ok());
  const BuildReport& report = int8->GetBuildReport();
  EXPECT_EQ(report.precision_mode, "qint8_mixed_float32");
  for (const char* name : {"conv1", "conv2", "conv3", "concat", "fc"}) {
    const NodeReport* node = Find(report, name);
    ASSERT_NE(node, nullptr) << name;
    EXPECT_EQ(node->precision, "INT8") << name << ": " << node->reason;
    EXPECT_NE(node->kernel.find("int8"), std::string::npos) << name << " kernel " << node->kernel;
  }
  // Softmax has no INT8 kernel; the classifier writes FLOAT32 for it.
  EXPECT_EQ(Find(report, "softmax")->precision, "FLOAT32");
  EXPECT_EQ(Find(report, "fc")->outputs[0].granted, DataType::FLOAT32);
  // ReLU outputs are non-negative: UINT8.
  EXPECT_EQ(Find(report, "conv1")->outputs[0].granted, DataType::QUINT8);
  EXPECT_NE(Find(report, "conv1")->inputs[1].quantization.find("per-channel"), std::string::npos);
  // One scale for a concat's inputs.
  const NodeReport* concat = Find(report, "concat");
  ASSERT_EQ(concat->inputs.size(), 2u);
  EXPECT_EQ(concat->inputs[0].quantization, concat->inputs[1].quantization);
  EXPECT_EQ(concat->inputs[0].quantization, concat->outputs[0].quantization);
  // Between two INT8 convs the data stays INT8: no Dequantize/Quantize pair in between.
  int quantize_nodes = 0;
  for (const NodeReport& n : report.nodes) quantize_nodes += n.type == NodeType::kQuantize;
  EXPECT_EQ(quantize_nodes, 1) << "only the network input is quantized";

  const std::vector<float> a = RunModel(*int8, 3, 4), b = RunModel(*fp32, 3, 4);
  ASSERT_EQ(a.size(), b.size());
  // Probabilities: INT8 with 8-bit activations and per-channel weights stays within a few
  // hundredths of FP32 on this 5-layer net.
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 0.05f) << i;
}

TEST(Int8BuildTest, ReportSurvivesSerialization) {
  SmallNet s = MakeNet();
  std::unique_ptr<IModel> model, loaded;
  ASSERT_TRUE(Build(*s.net, kInt8, &model).ok());
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(model->SerializeToMemory(&bytes).ok());
  ASSERT_TRUE(DeserializeModelFromMemory(bytes.data(), bytes.size(), &loaded).ok());
  EXPECT_EQ(loaded->GetBuildReport().ToJson(), model->GetBuildReport().ToJson());
  EXPECT_EQ(RunModel(*loaded, 9, 2), RunModel(*model, 9, 2));
}

TEST(Int8BuildTest, MissingRangeFailsStrictAndFallsBackWithPrefer) {
  SmallNet s = MakeNet(/*with_ranges=*/false);
  std::unique_ptr<IModel> model;
  Status st = Build(*s.net, kInt8, &model);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("'x'"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("SetDynamicRange"), std::string::npos) << st.message();
  st = Build(*s.net,
             R"({"precision_config": {"precision_mode": "qint8_mixed_float32",
                                      "precision_policy": "prefer"}})",
             &model);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const NodeReport* conv1 = Find(model->GetBuildReport(), "conv1");
  EXPECT_EQ(conv1->precision, "FLOAT32");
  EXPECT_TRUE(conv1->fell_back);
  EXPECT_NE(conv1->reason.find("no range"), std::string::npos) << conv1->reason;
}

TEST(Int8BuildTest, PerNodeRequestsOverrideTheMode) {
  SmallNet s = MakeNet();
  ASSERT_TRUE(s.conv2->SetPrecision(0, DataType::FLOAT32).ok());
  ASSERT_TRUE(s.conv1->SetOutputType(0, DataType::FLOAT32).ok());
  std::unique_ptr<IModel> model;
  Status st = Build(*s.net, kInt8, &model);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const BuildReport& report = model->GetBuildReport();
  EXPECT_EQ(Find(report, "conv2")->precision, "FLOAT32");
  EXPECT_NE(Find(report, "conv2")->reason.find("FLOAT32 requested"), std::string::npos);
  EXPECT_EQ(Find(report, "conv2")->inputs[0].requested, DataType::FLOAT32);
  // conv1 computes INT8 but writes FLOAT32, as requested.
  EXPECT_EQ(Find(report, "conv1")->precision, "INT8");
  EXPECT_EQ(Find(report, "conv1")->outputs[0].granted, DataType::FLOAT32);
  EXPECT_EQ(Find(report, "conv1")->outputs[0].requested, DataType::FLOAT32);
  // In force_float32 mode, a QINT8 request still makes that node INT8.
  SmallNet t = MakeNet();
  ASSERT_TRUE(t.conv1->SetPrecision(0, DataType::QINT8).ok());
  ASSERT_TRUE(Build(*t.net, "{}", &model).ok());
  EXPECT_EQ(Find(model->GetBuildReport(), "conv1")->precision, "INT8");
  EXPECT_EQ(Find(model->GetBuildReport(), "conv1")->inputs[0].granted, DataType::QINT8);
  EXPECT_EQ(Find(model->GetBuildReport(), "conv2")->precision, "FLOAT32");
}

TEST(Int8BuildTest, UnhonourableRequestsFailNamingTheNode) {
  SmallNet s = MakeNet();
  ASSERT_TRUE(s.softmax->SetPrecision(0, DataType::QINT8).ok());
  std::unique_ptr<IModel> model;
  Status st = Build(*s.net, kInt8, &model);
  EXPECT_EQ(st.code(), StatusCode::kUnimplemented);
  EXPECT_NE(st.message().find("softmax"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("QINT8"), std::string::npos) << st.message();
  st = Build(*s.net,
             R"({"precision_config": {"precision_mode": "qint8_mixed_float32",
                                      "precision_policy": "prefer"}})",
             &model);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(Find(model->GetBuildReport(), "softmax")->fell_back);
  SmallNet t = MakeNet();
  // A raw integer type is not a precision a node computes in.
  ASSERT_TRUE(t.conv1->SetPrecision(0, DataType::INT32).ok());
  st = Build(*t.net, kInt8, &model);
  EXPECT_EQ(st.code(), StatusCode::kUnimplemented);
  EXPECT_NE(st.message().find("INT32"), std::string::npos) << st.message();
}

TEST(Int8BuildTest, CustomNodeRulesAndRanges) {
  SmallNet s = MakeNet();
  std::unique_ptr<IModel> model;
  Status st = Build(*s.net, R"({"precision_config": {
      "precision_mode": "qint8_mixed_float32",
      "custom_nodes": [{"op_type": "Conv", "exclude": true},
                       {"name": "conv1", "precision": "QINT8"}]}})",
                    &model);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const BuildReport& report = model->GetBuildReport();
  EXPECT_EQ(Find(report, "conv1")->precision, "INT8");  // later rule wins for conv1
  EXPECT_EQ(Find(report, "conv2")->precision, "FLOAT32");
  EXPECT_EQ(Find(report, "conv3")->precision, "FLOAT32");
  st = Build(*s.net, R"({"precision_config": {"custom_nodes": [{"name": "nope", "exclude": true}]}})",
             &model);
  EXPECT_NE(st.message().find("/precision_config/custom_nodes/0"), std::string::npos)
      << st.message();
  st = Build(*s.net, R"({"precision_config": {"custom_ranges": {"ghost": {"min": 0, "max": 1}}}})",
             &model);
  EXPECT_NE(st.message().find("ghost"), std::string::npos) << st.message();
}

TEST(Int8BuildTest, ConstantOperandIsQuantizedAtBuildTime) {
  // relu(conv(x)) + c, with the add requested in QUINT8: the constant becomes a UINT8
  // constant, no Quantize node runs on it.
  std::mt19937 rng(3);
  auto net = CreateINetwork();
  ITensor* x = net->AddInput(DataType::FLOAT32, Dims{1, 4, 6, 6});
  ASSERT_TRUE(x->SetDynamicRange(-3.0f, 3.0f).ok());
  IConvNode* conv = net->AddIConvNode(x, RandomConst(net.get(), &rng, Dims{4, 4, 3, 3}, 0.3f),
                                      nullptr);
  ITensor* r = net->AddIActivationNode(conv->GetOutput(0), ActivationType::kRelu)->GetOutput(0);
  ASSERT_TRUE(r->SetDynamicRange(0.0f, 6.0f).ok());
  std::vector<float> c(4 * 4 * 4);
  for (size_t i = 0; i < c.size(); ++i) c[i] = 0.05f * static_cast<float>(i);
  ITensor* constant = net->AddIConstNode(DataType::FLOAT32, Dims{1, 4, 4, 4}, c.data())->GetOutput(0);
  IElementwiseNode* add = net->AddIElementwiseNode(r, constant, ElementwiseOp::kAdd);
  ASSERT_TRUE(add->SetNodeName("add").ok());
  ASSERT_TRUE(add->SetPrecision(0, DataType::QUINT8).ok());
  ASSERT_TRUE(add->SetPrecision(1, DataType::QUINT8).ok());
  ASSERT_TRUE(net->MarkOutput(add->GetOutput(0)).ok());
  std::unique_ptr<IModel> model;
  Status st = Build(*net, kInt8, &model);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const NodeReport* node = Find(model->GetBuildReport(), "add");
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->precision, "INT8");
  EXPECT_EQ(node->inputs[1].granted, DataType::UINT8);  // a quantized constant
  for (const NodeReport& n : model->GetBuildReport().nodes) {
    if (n.type == NodeType::kQuantize) {
      EXPECT_EQ(n.inputs[0].tensor, x->GetTensorName());
    }
  }
  std::unique_ptr<IEngine> engine;
  ASSERT_TRUE(model->CreateIEngine(&engine).ok());
}

TEST(Int8BuildTest, CalibrationOptionsComeFromTheConfig) {
  auto config = CreateIBuilderConfig();
  ASSERT_TRUE(config->ParseFromString(R"({"calibration": {"algorithm": "percentile",
      "percentile": 99.9, "histogram_bins": 1024, "max_samples": 7}})").ok());
  CalibrationOptions options;
  ASSERT_TRUE(CalibrationOptionsFromConfig(*config, &options).ok());
  EXPECT_EQ(options.algorithm, CalibrationAlgorithm::kPercentile);
  EXPECT_DOUBLE_EQ(options.percentile, 99.9);
  EXPECT_EQ(options.histogram_bins, 1024);
  EXPECT_EQ(options.max_samples, 7);
  EXPECT_FALSE(CalibrationOptionsFromConfig(*config, nullptr).ok());
}

TEST(Int8BuildTest, SetDynamicRangeValidates) {
  auto net = CreateINetwork();
  ITensor* x = net->AddInput(DataType::FLOAT32, Dims{1, 3, 4, 4});
  EXPECT_EQ(x->SetDynamicRange(2.0f, 1.0f).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(x->SetDynamicRange(NAN, 1.0f).ok());
  EXPECT_FALSE(x->SetDynamicRange(0.0f, INFINITY).ok());
  EXPECT_FALSE(x->SetDynamicRange({0, 0}, {1, 1}, 1).ok());  // axis 1 has 3 channels
  EXPECT_FALSE(x->SetDynamicRange({0, 0, 0}, {1, 1, 1}, 4).ok());
  ASSERT_TRUE(x->SetDynamicRange({0, -1, 0}, {1, 1, 2}, 1).ok());
  std::vector<float> lo, hi;
  int64_t axis = -2;
  ASSERT_TRUE(x->GetDynamicRange(&lo, &hi, &axis));
  EXPECT_EQ(axis, 1);
  EXPECT_EQ(hi, (std::vector<float>{1, 1, 2}));
  x->ClearDynamicRange();
  EXPECT_FALSE(x->GetDynamicRange(&lo, &hi, &axis));
}

}  // namespace
}  // namespace qsdk
