// Every precision mode through the public API, per-node mixes of all precisions in one
// network, dynamic quantization selected by config, the BF16 ISA check, the FP16 engine
// size and explicit Quantize / Dequantize nodes' argument checks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "qsdk/qsdk.h"
#include "runtime/engine.h"
#include "small_net.h"

namespace qsdk {
namespace {

using test::Build;
using test::Find;
using test::MakeNet;
using test::RandomConst;
using test::RunModel;
using test::SmallNet;

std::string ModeConfig(const std::string& mode, const std::string& extra = "") {
  return "{\"precision_config\": {\"precision_mode\": \"" + mode + "\"" + extra + "}}";
}

float MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float d = 0.0f;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
  return d;
}

bool Bf16Runs() {
  std::string reason;
  return runtime::CpuRunsBf16(&reason);
}

struct ModeCase {
  const char* mode;
  const char* conv_precision;     // what conv1 computes in
  const char* softmax_precision;  // a node without an integer kernel: the float part
  // Softmax outputs are probabilities in [0, 1]. FP16 storage rounds every stored tensor to
  // 11 significant bits, BF16 to 8, INT8 / INT16 quantize activations with the generous
  // hand-set ranges of MakeNet (8 / 255 per step for INT8): the bounds are several times
  // the worst error seen, and far below the 1e-1 a wrong kernel gives.
  float tolerance;
};

class PrecisionModeTest : public ::testing::TestWithParam<ModeCase> {};

TEST_P(PrecisionModeTest, BuildsRunsAndAgreesWithFp32) {
  const ModeCase& c = GetParam();
  const bool needs_bf16 = std::string(c.mode).find("bfloat16") != std::string::npos;
  if (needs_bf16 && !Bf16Runs()) GTEST_SKIP() << "no AVX512_BF16 here (see the ISA tests)";
  SmallNet s = MakeNet();
  std::unique_ptr<IModel> model, fp32;
  Status st = Build(*s.net, ModeConfig(c.mode), &model);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(Build(*s.net, "{}", &fp32).ok());
  const BuildReport& report = model->GetBuildReport();
  EXPECT_EQ(report.precision_mode, c.mode);
  const NodeReport* conv1 = Find(report, "conv1");
  ASSERT_NE(conv1, nullptr);
  EXPECT_EQ(conv1->precision, c.conv_precision) << conv1->reason;
  const NodeReport* softmax = Find(report, "softmax");
  ASSERT_NE(softmax, nullptr);
  EXPECT_EQ(softmax->precision, c.softmax_precision) << softmax->reason;
  const std::vector<float> got = RunModel(*model, 11, 3);
  const std::vector<float> want = RunModel(*fp32, 11, 3);
  EXPECT_LE(MaxAbsDiff(got, want), c.tolerance);
  // The engine round-trips through its file and gives the same bytes of output.
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(model->SerializeToMemory(&bytes).ok());
  std::unique_ptr<IModel> loaded;
  ASSERT_TRUE(DeserializeModelFromMemory(bytes.data(), bytes.size(), &loaded).ok());
  EXPECT_EQ(RunModel(*loaded, 11, 3), got);
}

INSTANTIATE_TEST_SUITE_P(
    AllModes, PrecisionModeTest,
    ::testing::Values(ModeCase{"force_float32", "FLOAT32", "FLOAT32", 1e-6f},
                      ModeCase{"force_float16", "FLOAT16", "FLOAT16", 5e-3f},
                      ModeCase{"force_bfloat16", "BFLOAT16", "BFLOAT16", 3e-2f},
                      ModeCase{"qint8_mixed_float32", "INT8", "FLOAT32", 5e-2f},
                      ModeCase{"qint8_mixed_float16", "INT8", "FLOAT16", 5e-2f},
                      ModeCase{"qint8_mixed_bfloat16", "INT8", "BFLOAT16", 6e-2f},
                      ModeCase{"qint16_mixed_float32", "INT16", "FLOAT32", 5e-3f},
                      ModeCase{"qint16_mixed_float16", "INT16", "FLOAT16", 5e-3f}),
    [](const ::testing::TestParamInfo<ModeCase>& info) { return std::string(info.param.mode); });

// One network mixing precisions per node: conv1 QINT8 writing FLOAT16, conv2 QINT16,
// conv3 BFLOAT16, the max pool BFLOAT16 reading the FLOAT16 / BFLOAT16 concat, the fc
// FLOAT16, in an otherwise FP32 build.
TEST(PrecisionMixTest, EveryPrecisionInOneNetwork) {
  if (!Bf16Runs()) GTEST_SKIP() << "no AVX512_BF16 here";
  SmallNet s = MakeNet();
  ASSERT_TRUE(s.conv1->SetPrecision(0, DataType::QINT8).ok());
  ASSERT_TRUE(s.conv1->SetOutputType(0, DataType::FLOAT16).ok());
  ASSERT_TRUE(s.conv2->SetPrecision(0, DataType::QINT16).ok());
  INode* conv3 = s.net->FindNodeByName("conv3");
  ASSERT_NE(conv3, nullptr);
  ASSERT_TRUE(conv3->SetPrecision(0, DataType::BFLOAT16).ok());
  ASSERT_TRUE(s.pool->SetPrecision(0, DataType::BFLOAT16).ok());
  ASSERT_TRUE(s.fc->SetPrecision(0, DataType::FLOAT16).ok());
  std::unique_ptr<IModel> model, fp32;
  Status st = Build(*s.net, "{}", &model);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(Build(*s.net, "{}", &fp32).ok());
  const BuildReport& report = model->GetBuildReport();
  const std::map<std::string, std::string> expected = {{"conv1", "INT8"},
                                                       {"conv2", "INT16"},
                                                       {"conv3", "BFLOAT16"},
                                                       {"pool", "BFLOAT16"},
                                                       {"fc", "FLOAT16"},
                                                       {"softmax", "FLOAT32"}};
  for (const auto& [name, precision] : expected) {
    const NodeReport* node = Find(report, name);
    ASSERT_NE(node, nullptr) << name;
    EXPECT_EQ(node->precision, precision) << name << ": " << node->reason;
  }
  // conv1 stores its output as FLOAT16: a Cast follows it.
  bool cast_to_f16 = false;
  for (const NodeReport& node : report.nodes) {
    if (node.type == NodeType::kCast && node.precision == "FLOAT16") cast_to_f16 = true;
  }
  EXPECT_TRUE(cast_to_f16);
  // BF16 (8 significant bits) bounds the error; see ModeCase for the reasoning.
  EXPECT_LE(MaxAbsDiff(RunModel(*model, 3, 2), RunModel(*fp32, 3, 2)), 6e-2f);
}

TEST(PrecisionMixTest, ImpossibleRequestsNameTheNode) {
  SmallNet s = MakeNet();
  ASSERT_TRUE(s.softmax->SetPrecision(0, DataType::QINT16).ok());
  std::unique_ptr<IModel> model;
  Status st = Build(*s.net, "{}", &model);
  EXPECT_EQ(st.code(), StatusCode::kUnimplemented);
  EXPECT_NE(st.message().find("softmax"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("QINT16"), std::string::npos) << st.message();
  // Policy prefer: FLOAT32 instead, said in the report.
  st = Build(*s.net, R"({"precision_config": {"precision_policy": "prefer"}})", &model);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const NodeReport* softmax = Find(model->GetBuildReport(), "softmax");
  ASSERT_NE(softmax, nullptr);
  EXPECT_TRUE(softmax->fell_back);
  EXPECT_EQ(softmax->precision, "FLOAT32");
}

// Dynamic quantization of the fc, selected per node; the convs need no range for it.
TEST(DynamicQuantizationTest, SelectedPerNodeAndGlobally) {
  SmallNet s = MakeNet(/*with_ranges=*/false);
  std::unique_ptr<IModel> model, fp32;
  Status st = Build(
      *s.net,
      R"({"precision_config": {"custom_nodes": [{"name": "fc", "dynamic_quantization": true}]}})",
      &model);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(Build(*s.net, "{}", &fp32).ok());
  const NodeReport* fc = Find(model->GetBuildReport(), "fc");
  ASSERT_NE(fc, nullptr);
  EXPECT_EQ(fc->precision, "INT8_DYNAMIC") << fc->reason;
  // The fc's input is quantized to 8 bits per batch: errors of a few 1e-3 in probability.
  EXPECT_LE(MaxAbsDiff(RunModel(*model, 5, 4), RunModel(*fp32, 5, 4)), 3e-2f);
  // Globally in a qint8 mode: the fc is dynamic, the convs (ranges set) static.
  SmallNet ranged = MakeNet();
  st = Build(*ranged.net, ModeConfig("qint8_mixed_float32", R"(, "dynamic_quantization": true)"),
             &model);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Find(model->GetBuildReport(), "fc")->precision, "INT8_DYNAMIC");
  EXPECT_EQ(Find(model->GetBuildReport(), "conv1")->precision, "INT8");
}

// Run under DNNL_MAX_CPU_ISA=AVX512_CORE_VNNI by ctest (api_bf16_isa_test) as well as
// normally: without AVX512_BF16 a BF16 build fails naming the ISA (strict) or falls back
// to FLOAT32 (prefer).
TEST(Bf16IsaTest, MissingIsaFailsOrFallsBackAsThePolicySays) {
  SmallNet s = MakeNet();
  std::unique_ptr<IModel> model;
  const Status strict = Build(*s.net, ModeConfig("force_bfloat16"), &model);
  const Status prefer =
      Build(*s.net, ModeConfig("force_bfloat16", R"(, "precision_policy": "prefer")"), &model);
  ASSERT_TRUE(prefer.ok()) << prefer.ToString();
  const NodeReport* conv1 = Find(model->GetBuildReport(), "conv1");
  ASSERT_NE(conv1, nullptr);
  if (Bf16Runs()) {
    EXPECT_TRUE(strict.ok()) << strict.ToString();
    EXPECT_EQ(conv1->precision, "BFLOAT16");
  } else {
    EXPECT_EQ(strict.code(), StatusCode::kUnimplemented);
    EXPECT_NE(strict.message().find("AVX512_BF16"), std::string::npos) << strict.message();
    EXPECT_EQ(conv1->precision, "FLOAT32");
    EXPECT_TRUE(conv1->fell_back);
    EXPECT_NE(conv1->reason.find("AVX512_BF16"), std::string::npos) << conv1->reason;
  }
}

// FP16 stores weights in 2 bytes: the engine file of a weight-dominated network is about
// half the FP32 one.
TEST(Float16Test, EngineFileIsAboutHalf) {
  std::mt19937 rng(9);
  auto net = CreateINetwork();
  ITensor* x = net->AddInput(DataType::FLOAT32, Dims{-1, 512});
  IFullyConnectedNode* fc1 =
      net->AddIFullyConnectedNode(x, RandomConst(net.get(), &rng, Dims{512, 512}, 0.05f),
                                  RandomConst(net.get(), &rng, Dims{512}, 0.05f));
  IFullyConnectedNode* fc2 = net->AddIFullyConnectedNode(
      fc1->GetOutput(0), RandomConst(net.get(), &rng, Dims{256, 512}, 0.05f), nullptr);
  ASSERT_TRUE(net->MarkOutput(fc2->GetOutput(0)).ok());
  std::unique_ptr<IModel> f16, f32;
  ASSERT_TRUE(Build(*net, ModeConfig("force_float16"), &f16).ok());
  ASSERT_TRUE(Build(*net, "{}", &f32).ok());
  std::vector<uint8_t> b16, b32;
  ASSERT_TRUE(f16->SerializeToMemory(&b16).ok());
  ASSERT_TRUE(f32->SerializeToMemory(&b32).ok());
  const double ratio = static_cast<double>(b16.size()) / static_cast<double>(b32.size());
  // 1.5 MB of FP32 weights against a few kB of metadata: 0.5 plus a little.
  EXPECT_LT(ratio, 0.55) << b16.size() << " vs " << b32.size();
  EXPECT_GT(ratio, 0.45);
}

TEST(ExplicitQuantizationApiTest, BadParametersAreRefusedWithTheValue) {
  auto net = CreateINetwork();
  ITensor* x = net->AddInput(DataType::FLOAT32, Dims{1, 3, 4, 4});
  struct Bad {
    DataType type;
    std::vector<float> scales;
    std::vector<int32_t> zero_points;
    int64_t axis;
    const char* expected;  // part of the message
  };
  const Bad cases[] = {
      {DataType::INT8, {0.0f}, {0}, -1, "scale[0] = 0"},
      {DataType::INT8, {-0.5f}, {0}, -1, "scale[0] = -0.5"},
      {DataType::INT8, {NAN}, {0}, -1, "finite"},
      {DataType::INT8, {0.1f}, {200}, -1, "zero_point[0] = 200"},
      {DataType::UINT8, {0.1f}, {-1}, -1, "zero_point[0] = -1"},
      {DataType::INT16, {0.1f}, {40000}, -1, "zero_point[0] = 40000"},
      {DataType::INT8, {0.1f, 0.2f, 0.3f}, {0, 0, 0}, 4, "axis 4 is out of range"},
      {DataType::INT8, {0.1f, 0.2f}, {0, 0}, 1, "2 scales"},
      {DataType::INT8, {0.1f, 0.2f}, {0}, 1, "zero points"},
      {DataType::FLOAT32, {0.1f}, {0}, -1, "not a quantized type"},
  };
  for (const Bad& c : cases) {
    EXPECT_EQ(net->AddIQuantizeNode(x, c.type, c.scales, c.zero_points, c.axis), nullptr);
    const Status st = net->GetLastError();
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(st.message().find(c.expected), std::string::npos)
        << "expected '" << c.expected << "' in: " << st.message();
  }
  IQuantizeNode* q = net->AddIQuantizeNode(x, DataType::QUINT8, {0.1f, 0.2f, 0.3f}, {1, 2, 3}, 1);
  ASSERT_NE(q, nullptr) << net->GetLastError().ToString();
  EXPECT_EQ(q->GetQuantizedType(), DataType::UINT8);
  EXPECT_EQ(q->GetAxis(), 1);
  // A Dequantize must agree with the parameters its input already has.
  EXPECT_EQ(net->AddIDequantizeNode(q->GetOutput(0), {0.1f}, {0}), nullptr);
  EXPECT_NE(net->GetLastError().message().find("one set of quantization parameters"),
            std::string::npos);
  IDequantizeNode* dq =
      net->AddIDequantizeNode(q->GetOutput(0), {0.1f, 0.2f, 0.3f}, {1, 2, 3}, 1);
  ASSERT_NE(dq, nullptr) << net->GetLastError().ToString();
  EXPECT_EQ(dq->GetScales(), (std::vector<float>{0.1f, 0.2f, 0.3f}));
  // A float tensor cannot be dequantized.
  EXPECT_EQ(net->AddIDequantizeNode(x, {0.1f}, {0}), nullptr);
  EXPECT_NE(net->GetLastError().message().find("FLOAT32"), std::string::npos);
}

}  // namespace
}  // namespace qsdk
