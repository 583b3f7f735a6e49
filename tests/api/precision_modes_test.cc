// Every precision mode through the public API, per-node mixes of all precisions in one
// network, dynamic quantization selected by config, the BF16 ISA check, the FP16 engine
// size and explicit Quantize / Dequantize nodes' argument checks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "graph/network_impl.h"
#include "qsdk/qsdk.h"
#include "reference/reference.h"
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

// The context's activation memory: 0 before the first run; BF16 and INT8 tensors take
// 2 and 1 bytes per element against FP32's 4, so their arenas are smaller.
TEST(ActivationMemoryTest, ReducedPrecisionsNeedLessArena) {
  SmallNet s = MakeNet();
  auto arena = [&](const std::string& config) -> size_t {
    std::unique_ptr<IModel> model;
    EXPECT_TRUE(Build(*s.net, config, &model).ok());
    std::unique_ptr<IEngine> engine;
    EXPECT_TRUE(model->CreateIEngine(&engine).ok());
    std::unique_ptr<IContext> context;
    EXPECT_TRUE(engine->CreateIContext(&context).ok());
    EXPECT_EQ(context->GetActivationMemoryBytes(), 0u);
    Tensor in = Tensor::Allocate(DataType::FLOAT32, Dims{16, 4, 10, 10}, "x");
    std::vector<Tensor> out;
    EXPECT_TRUE(context->Execute({in}, &out).ok());
    return context->GetActivationMemoryBytes();
  };
  const size_t fp32 = arena("{}");
  const size_t int8 = arena(ModeConfig("qint8_mixed_float32"));
  EXPECT_GT(fp32, 0u);
  // The FP32 input and output and the boundary Quantize / Dequantize stay 4 bytes wide.
  EXPECT_LT(int8, fp32 * 3 / 4) << int8 << " vs " << fp32;
  if (Bf16Runs()) {
    const size_t bf16 = arena(ModeConfig("force_bfloat16"));
    EXPECT_LT(bf16, fp32 * 3 / 4) << bf16 << " vs " << fp32;
  }
}

// A network quantized by its own Quantize / Dequantize nodes (as quantization-aware
// training leaves it) builds without calibration: the conv folds into an INT8 kernel with
// exactly the given parameters, and the result is the Q/DQ network's meaning.
TEST(ExplicitQuantizationApiTest, QdqNetworkFoldsAndMatchesItsReference) {
  std::mt19937 rng(21);
  auto net = CreateINetwork();
  ITensor* x = net->AddInput(DataType::FLOAT32, Dims{-1, 3, 8, 8});
  ASSERT_TRUE(x->SetTensorName("x").ok());
  IQuantizeNode* qx = net->AddIQuantizeNode(x, DataType::UINT8, {0.02f}, {128});
  ASSERT_NE(qx, nullptr) << net->GetLastError().ToString();
  IDequantizeNode* dqx = net->AddIDequantizeNode(qx->GetOutput(0), {0.02f}, {128});
  ASSERT_NE(dqx, nullptr) << net->GetLastError().ToString();
  // INT8 weights [4, 3, 3, 3], per output channel.
  std::uniform_int_distribution<int> code(-127, 127);
  std::vector<int8_t> w(4 * 3 * 3 * 3);
  for (int8_t& v : w) v = static_cast<int8_t>(code(rng));
  IConstNode* wc = net->AddIConstNode(DataType::INT8, Dims{4, 3, 3, 3}, w.data());
  IDequantizeNode* dqw = net->AddIDequantizeNode(wc->GetOutput(0),
                                                 {0.004f, 0.003f, 0.005f, 0.002f}, {0, 0, 0, 0}, 0);
  ASSERT_NE(dqw, nullptr) << net->GetLastError().ToString();
  IConvNode* conv = net->AddIConvNode(dqx->GetOutput(0), dqw->GetOutput(0),
                                      RandomConst(net.get(), &rng, Dims{4}, 0.1f));
  ASSERT_NE(conv, nullptr) << net->GetLastError().ToString();
  ASSERT_TRUE(conv->SetPad(1, 1, 1, 1).ok());
  ASSERT_TRUE(conv->SetNodeName("conv").ok());
  IQuantizeNode* qy = net->AddIQuantizeNode(conv->GetOutput(0), DataType::INT8, {0.01f}, {0});
  ASSERT_NE(qy, nullptr);
  IDequantizeNode* dqy = net->AddIDequantizeNode(qy->GetOutput(0), {0.01f}, {0});
  ASSERT_NE(dqy, nullptr);
  ASSERT_TRUE(net->MarkOutput(dqy->GetOutput(0)).ok());

  std::unique_ptr<IModel> model;
  const Status st = Build(*net, "{}", &model);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const BuildReport& report = model->GetBuildReport();
  const NodeReport* c = Find(report, "conv");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->precision, "INT8_EXPLICIT") << c->reason;
  EXPECT_EQ(c->kernel, "onednn_conv_int8");
  ASSERT_EQ(c->outputs.size(), 1u);
  EXPECT_EQ(c->outputs[0].quantization, "scale=0.01 zero_point=0");
  bool folded_note = false;
  for (const std::string& note : report.notes) {
    folded_note = folded_note || note.find("Q/DQ folded") != std::string::npos;
  }
  EXPECT_TRUE(folded_note);

  Tensor in = Tensor::Allocate(DataType::FLOAT32, Dims{2, 3, 8, 8}, "x");
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (int64_t i = 0; i < in.GetElementCount(); ++i) in.Data<float>()[i] = dist(rng);
  std::unique_ptr<IEngine> engine;
  ASSERT_TRUE(model->CreateIEngine(&engine).ok());
  std::unique_ptr<IContext> context;
  ASSERT_TRUE(engine->CreateIContext(&context).ok());
  std::vector<Tensor> got, want;
  const Status run = context->Execute({in}, &got);
  ASSERT_TRUE(run.ok()) << run.ToString();
  // The specification: the network as written (Q/DQ nodes and a float conv).
  const auto& impl = static_cast<const graph::NetworkImpl&>(*net);
  ASSERT_TRUE(reference::RunGraph(impl.graph(), {in}, &want).ok());
  ASSERT_EQ(got[0].GetElementCount(), want[0].GetElementCount());
  // The folded kernel sums integers exactly; the reference sums dequantized floats in
  // double. Both then quantize to steps of 0.01: an element may land one step apart where
  // the exact value is within float rounding of a tie, never more.
  for (int64_t i = 0; i < got[0].GetElementCount(); ++i) {
    EXPECT_NEAR(got[0].Data<float>()[i], want[0].Data<float>()[i], 0.01f + 1e-6f) << i;
  }
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
