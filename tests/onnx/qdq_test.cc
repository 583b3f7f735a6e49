// Quantized (QDQ) ONNX models: DequantizeLinear of weights folds into FLOAT constants,
// QuantizeLinear -> DequantizeLinear pairs on activations become ranges on the tensors,
// and the network then builds INT8 with the model's own ranges (no calibration).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "onnx/onnx_test_util.h"

namespace qsdk::onnx_test {
namespace {

using ::onnx::TensorProto_DataType_INT8;
using ::onnx::TensorProto_DataType_UINT8;

std::vector<int64_t> RandomInt8(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-127, 127);
  std::vector<int64_t> v(n);
  for (int64_t& x : v) x = dist(rng);
  return v;
}

// Adds x -> QuantizeLinear -> DequantizeLinear -> <x>_dq with scale `s` and zero point `z`
// of `type`; returns the name of the dequantized value.
std::string FakeQuant(ModelBuilder* m, const std::string& x, float s, int64_t z, int32_t type) {
  m->Floats(x + "_scale", {}, {s});
  m->Ints(x + "_zp", type, {}, {z});
  m->Node("QuantizeLinear", {x, x + "_scale", x + "_zp"}, {x + "_q"}, x + "_quant");
  m->Node("DequantizeLinear", {x + "_q", x + "_scale", x + "_zp"}, {x + "_dq"}, x + "_dequant");
  return x + "_dq";
}

// x [N, 3, 8, 8] -> QDQ -> Conv(DQ(int8 w, per channel), bias) -> Relu -> QDQ -> MaxPool
// -> QDQ -> GlobalAveragePool -> QDQ -> Flatten -> Gemm(DQ(int8 w)) -> logits: the
// layout of ONNX Runtime's QDQ format.
ModelBuilder QdqNet() {
  ModelBuilder m(13);
  m.Input("x", {-1, 3, 8, 8}).Output("logits");
  const std::string xq = FakeQuant(&m, "x", 0.03f, 0, TensorProto_DataType_INT8);
  m.Ints("conv_wq", TensorProto_DataType_INT8, {8, 3, 3, 3}, RandomInt8(8 * 27, 1));
  std::vector<float> conv_scales(8);
  for (int i = 0; i < 8; ++i) conv_scales[i] = 0.0005f * static_cast<float>(i + 1);
  m.Floats("conv_ws", {8}, conv_scales);
  m.Ints("conv_wz", TensorProto_DataType_INT8, {8}, std::vector<int64_t>(8, 0));
  SetAttr(m.Node("DequantizeLinear", {"conv_wq", "conv_ws", "conv_wz"}, {"conv_w"}, "conv_w_dq"),
          "axis", int64_t{0});
  m.Floats("conv_b", {8}, {0.1f, -0.1f, 0.05f, 0.0f, 0.2f, -0.05f, 0.1f, 0.0f});
  SetAttr(m.Node("Conv", {xq, "conv_w", "conv_b"}, {"conv"}, "conv"), "pads",
          std::vector<int64_t>{1, 1, 1, 1});
  m.Node("Relu", {"conv"}, {"relu"}, "relu");
  const std::string rq = FakeQuant(&m, "relu", 0.05f, 0, TensorProto_DataType_UINT8);
  ::onnx::NodeProto* pool = m.Node("MaxPool", {rq}, {"pool"}, "pool");
  SetAttr(pool, "kernel_shape", std::vector<int64_t>{2, 2});
  SetAttr(pool, "strides", std::vector<int64_t>{2, 2});
  const std::string pq = FakeQuant(&m, "pool", 0.05f, 0, TensorProto_DataType_UINT8);
  m.Node("GlobalAveragePool", {pq}, {"gap"}, "gap");
  const std::string gq = FakeQuant(&m, "gap", 0.02f, 0, TensorProto_DataType_UINT8);
  m.Node("Flatten", {gq}, {"flat"}, "flatten");
  m.Ints("fc_wq", TensorProto_DataType_INT8, {5, 8}, RandomInt8(40, 2));
  m.Floats("fc_ws", {}, {0.01f});
  m.Node("DequantizeLinear", {"fc_wq", "fc_ws"}, {"fc_w"}, "fc_w_dq");
  m.Floats("fc_b", {5}, {0.0f, 0.1f, -0.1f, 0.2f, 0.0f});
  SetAttr(m.Node("Gemm", {"flat", "fc_w", "fc_b"}, {"logits"}, "fc"), "transB", int64_t{1});
  return m;
}

// Inputs in [-3, 3]: inside x's range [-3.84, 3.81].
Tensor Input(int64_t batch) {
  Tensor x = Tensor::Allocate(DataType::FLOAT32, Dims{batch, 3, 8, 8}, "x");
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  for (int64_t i = 0; i < x.GetElementCount(); ++i) x.Data<float>()[i] = dist(rng);
  return x;
}

void ExpectRange(const INetwork& network, const std::string& tensor, float min, float max) {
  ITensor* t = network.FindTensorByName(tensor);
  ASSERT_NE(t, nullptr) << tensor;
  std::vector<float> lo, hi;
  int64_t axis = 0;
  ASSERT_TRUE(t->GetDynamicRange(&lo, &hi, &axis)) << tensor << " has no range";
  ASSERT_EQ(lo.size(), 1u);
  EXPECT_EQ(axis, -1);
  // The range is computed in float as scale * (q - zero_point): exact to the float.
  EXPECT_FLOAT_EQ(lo[0], min) << tensor;
  EXPECT_FLOAT_EQ(hi[0], max) << tensor;
}

TEST(OnnxQdqTest, PairsBecomeRangesAndTheModelBuildsInt8) {
  std::unique_ptr<INetwork> network;
  const Status parsed = Parse(QdqNet().model(), &network);
  ASSERT_TRUE(parsed.ok()) << parsed.ToString();
  // No Q/DQ node in the network: pairs are identities, weights FLOAT constants.
  EXPECT_EQ(CountNodes(*network, NodeType::kQuantize), 0);
  EXPECT_EQ(CountNodes(*network, NodeType::kDequantize), 0);
  EXPECT_EQ(CountNodes(*network, NodeType::kConv), 1);
  EXPECT_EQ(CountNodes(*network, NodeType::kFullyConnected), 1);
  // [s * (qmin - z), s * (qmax - z)] for each pair.
  ExpectRange(*network, "x", 0.03f * -128, 0.03f * 127);
  ExpectRange(*network, "relu", 0.0f, 0.05f * 255);
  ExpectRange(*network, "pool", 0.0f, 0.05f * 255);
  ExpectRange(*network, "gap", 0.0f, 0.02f * 255);
  // The conv reads x itself (the pair is the identity).
  EXPECT_EQ(network->FindNodeByName("conv")->GetInput(0)->GetTensorName(), "x");

  std::unique_ptr<IModel> int8, fp32;
  std::vector<Tensor> out8, out32;
  const Tensor x = Input(2);
  const Status built =
      BuildAndRun(*network, R"({"precision_config": {"precision_mode": "qint8_mixed_float32"}})",
                  {x}, &out8, &int8);
  ASSERT_TRUE(built.ok()) << built.ToString();
  ASSERT_TRUE(BuildAndRun(*network, "{}", {x}, &out32, &fp32).ok());
  const BuildReport& report = int8->GetBuildReport();
  bool conv_int8 = false, pool_int8 = false;
  for (const NodeReport& n : report.nodes) {
    if (n.name == "pool") pool_int8 = n.precision == "INT8";
    if (n.name != "conv") continue;
    conv_int8 = n.precision == "INT8";
    // The model's own quantization: ReLU's output keeps its scale 0.05 exactly (UINT8,
    // zero point 0); the input's range [-3.84, 3.81] is symmetric INT8, 3.84 / 127.
    ASSERT_EQ(n.outputs.size(), 1u);
    EXPECT_EQ(n.outputs[0].quantization, "scale=0.05 zero_point=0");
    ASSERT_GE(n.inputs.size(), 1u);
    EXPECT_EQ(n.inputs[0].quantization, "scale=0.0302362 zero_point=0");
  }
  EXPECT_TRUE(conv_int8);
  EXPECT_TRUE(pool_int8);
  // INT8 vs FP32 of the same network (the ranges cover this data, so nothing saturates):
  // activation steps of 0.02 to 0.05 and 8-bit weights leave the 5 logits (magnitudes up
  // to ~5) within 0.05 + 5% of the FP32 ones (observed: < 0.035).
  const std::vector<float> a = Values(out8[0]), b = Values(out32[0]);
  ASSERT_EQ(a.size(), 10u);
  ASSERT_EQ(b.size(), 10u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_NEAR(a[i], b[i], 0.05 + 0.05 * std::fabs(b[i])) << i;
  }
}

TEST(OnnxQdqTest, PerAxisPairOnAnActivationGivesAPerAxisRange) {
  ModelBuilder m(13);
  m.Input("x", {1, 2, 3}).Output("y");
  m.Floats("s", {2}, {0.1f, 0.2f});
  m.Ints("z", TensorProto_DataType_UINT8, {2}, {128, 0});
  SetAttr(m.Node("QuantizeLinear", {"x", "s", "z"}, {"q"}, "q"), "axis", int64_t{1});
  SetAttr(m.Node("DequantizeLinear", {"q", "s", "z"}, {"d"}, "dq"), "axis", int64_t{1});
  m.Node("Relu", {"d"}, {"y"}, "relu");
  std::unique_ptr<INetwork> network;
  ASSERT_TRUE(Parse(m.model(), &network).ok());
  std::vector<float> lo, hi;
  int64_t axis = -1;
  ASSERT_TRUE(network->FindTensorByName("x")->GetDynamicRange(&lo, &hi, &axis));
  EXPECT_EQ(axis, 1);
  ASSERT_EQ(lo.size(), 2u);
  EXPECT_FLOAT_EQ(lo[0], 0.1f * -128);
  EXPECT_FLOAT_EQ(hi[0], 0.1f * 127);
  EXPECT_FLOAT_EQ(lo[1], 0.0f);
  EXPECT_FLOAT_EQ(hi[1], 0.2f * 255);
}

TEST(OnnxQdqTest, UnsupportedQuantizedForms) {
  // A DequantizeLinear that does not undo its QuantizeLinear (requantization).
  ModelBuilder mismatch(13);
  mismatch.Input("x", {4}).Output("y");
  mismatch.Floats("s1", {}, {0.1f}).Floats("s2", {}, {0.2f});
  mismatch.Node("QuantizeLinear", {"x", "s1"}, {"q"}, "quant");
  mismatch.Node("DequantizeLinear", {"q", "s2"}, {"y"}, "dequant");
  std::unique_ptr<INetwork> network;
  Status s = Parse(mismatch.model(), &network);
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("node 'dequant' (DequantizeLinear)"), std::string::npos)
      << s.message();
  // A quantized value read by anything but a DequantizeLinear.
  ModelBuilder read(13);
  read.Input("x", {4}).Output("y");
  read.Floats("s", {}, {0.1f});
  read.Node("QuantizeLinear", {"x", "s"}, {"q"}, "quant");
  read.Node("Relu", {"q"}, {"y"}, "relu");
  s = Parse(read.model(), &network);
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("node 'relu' (Relu)"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("node 'quant' (QuantizeLinear)"), std::string::npos) << s.message();
  // Two pairs with different ranges on one tensor.
  ModelBuilder twice(13);
  twice.Input("x", {4}).Output("y").Output("z");
  twice.Floats("s1", {}, {0.1f}).Floats("s2", {}, {0.2f});
  twice.Node("QuantizeLinear", {"x", "s1"}, {"q1"});
  twice.Node("DequantizeLinear", {"q1", "s1"}, {"d1"});
  twice.Node("QuantizeLinear", {"x", "s2"}, {"q2"});
  twice.Node("DequantizeLinear", {"q2", "s2"}, {"d2"}, "second");
  twice.Node("Relu", {"d1"}, {"y"});
  twice.Node("Relu", {"d2"}, {"z"});
  s = Parse(twice.model(), &network);
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("'x'"), std::string::npos) << s.message();
}

TEST(OnnxQdqTest, FakeQuantizedConstantIsRounded) {
  // Q -> DQ of a FLOAT constant folds to the constant rounded to the grid (half to even).
  ModelBuilder m(13);
  m.Input("x", {4}).Output("y");
  m.Floats("k", {4}, {0.25f, 0.75f, -1.25f, 300.0f});
  m.Floats("s", {}, {0.5f});
  m.Ints("z", TensorProto_DataType_INT8, {}, {0});
  m.Node("QuantizeLinear", {"k", "s", "z"}, {"kq"});
  m.Node("DequantizeLinear", {"kq", "s", "z"}, {"kd"});
  m.Node("Add", {"x", "kd"}, {"y"}, "add");
  std::unique_ptr<INetwork> network;
  ASSERT_TRUE(Parse(m.model(), &network).ok());
  Tensor x = Tensor::Allocate(DataType::FLOAT32, Dims{4}, "x");
  std::vector<Tensor> out;
  ASSERT_TRUE(BuildAndRun(*network, "{}", {x}, &out).ok());
  // Scale 0.5 makes exact halves: 0.5 -> 0 and 1.5 -> 2 and -2.5 -> -2 (half to even);
  // 600 saturates to 127. Dequantized: q * 0.5, exact.
  const std::vector<float> y = Values(out[0]);
  ASSERT_EQ(y.size(), 4u);
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[1], 1.0f);
  EXPECT_EQ(y[2], -1.0f);
  EXPECT_EQ(y[3], 63.5f);
}

}  // namespace
}  // namespace qsdk::onnx_test
