// Quantized (QDQ) ONNX models: QuantizeLinear / DequantizeLinear become explicit Quantize /
// Dequantize nodes with exactly the model's parameters (per tensor, per axis; INT8, UINT8,
// INT16), DequantizeLinear of constants an integer Const read by a Dequantize, and the
// builder folds them into quantized kernels (no calibration). Malformed parameters are
// rejected naming the node, the value and the rule. The PyTorch-exported model is in
// qdq_pytorch_test.cc.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "graph/network_impl.h"
#include "onnx/onnx_test_util.h"
#include "reference/reference.h"

namespace qsdk::onnx_test {
namespace {

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

const graph::Graph& GraphOf(const INetwork& network) {
  return dynamic_cast<const graph::NetworkImpl&>(network).graph();
}

// The producer of tensor `name`, which must be a node of `type`.
const INode* ProducerOf(const INetwork& network, const std::string& name, NodeType type) {
  const ITensor* t = network.FindTensorByName(name);
  EXPECT_NE(t, nullptr) << name;
  if (t == nullptr) return nullptr;
  const INode* p = t->GetProducer();
  EXPECT_NE(p, nullptr) << name;
  if (p == nullptr) return nullptr;
  EXPECT_EQ(p->GetNodeType(), type) << name;
  return p->GetNodeType() == type ? p : nullptr;
}

TEST(OnnxQdqTest, PairsBecomeExplicitQuantizeAndDequantizeNodes) {
  std::unique_ptr<INetwork> network;
  const Status parsed = Parse(QdqNet().model(), &network);
  ASSERT_TRUE(parsed.ok()) << parsed.ToString();
  // 4 activation pairs, and the weights of the conv and the FC.
  EXPECT_EQ(CountNodes(*network, NodeType::kQuantize), 4);
  EXPECT_EQ(CountNodes(*network, NodeType::kDequantize), 6);
  // The conv reads the dequantized x, and the dequantization of its INT8 weights.
  const INode* conv = network->FindNodeByName("conv");
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->GetInput(0)->GetTensorName(), "x_dq");
  EXPECT_EQ(conv->GetInput(1)->GetTensorName(), "conv_w");
  // The pair on x: INT8 (the zero point's type), scale 0.03, zero point 0, per tensor.
  const auto* xq =
      static_cast<const IQuantizeNode*>(ProducerOf(*network, "x_q", NodeType::kQuantize));
  ASSERT_NE(xq, nullptr);
  EXPECT_EQ(xq->GetNodeName(), "x_quant");
  EXPECT_EQ(xq->GetQuantizedType(), DataType::INT8);
  EXPECT_EQ(xq->GetScales(), std::vector<float>{0.03f});
  EXPECT_EQ(xq->GetZeroPoints(), std::vector<int32_t>{0});
  EXPECT_EQ(xq->GetAxis(), -1);
  EXPECT_EQ(network->FindTensorByName("x_q")->GetDataType(), DataType::INT8);
  const auto* rq =
      static_cast<const IQuantizeNode*>(ProducerOf(*network, "relu_q", NodeType::kQuantize));
  ASSERT_NE(rq, nullptr);
  EXPECT_EQ(rq->GetQuantizedType(), DataType::UINT8);
  // The weights: the INT8 initializer as a constant, its parameters on the Dequantize.
  const auto* wdq =
      static_cast<const IDequantizeNode*>(ProducerOf(*network, "conv_w", NodeType::kDequantize));
  ASSERT_NE(wdq, nullptr);
  EXPECT_EQ(wdq->GetNodeName(), "conv_w_dq");
  EXPECT_EQ(wdq->GetAxis(), 0);
  ASSERT_EQ(wdq->GetScales().size(), 8u);
  EXPECT_EQ(wdq->GetScales()[7], 0.0005f * 8);
  EXPECT_EQ(wdq->GetZeroPoints(), std::vector<int32_t>(8, 0));
  const ITensor* wq = wdq->GetInput(0);
  EXPECT_EQ(wq->GetTensorName(), "conv_wq");
  EXPECT_EQ(wq->GetDataType(), DataType::INT8);
  EXPECT_EQ(wq->GetProducer()->GetNodeType(), NodeType::kConst);
  const graph::Tensor& wt = GraphOf(*network).tensors[GraphOf(*network).FindTensor("conv_wq")];
  const std::vector<int64_t> expected = RandomInt8(8 * 27, 1);
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(wt.data->As<int8_t>()[i], expected[i]) << i;
  }
}

TEST(OnnxQdqTest, QdqNetBuildsWithItsOwnQuantizationAndMatchesTheReference) {
  std::unique_ptr<INetwork> network;
  ASSERT_TRUE(Parse(QdqNet().model(), &network).ok());
  const Tensor x = Input(2);
  // The reference interpreter on the network as imported (Quantize / Dequantize nodes,
  // FP32 ops on dequantized weights): what the model means.
  std::vector<Tensor> want;
  const Status ref = reference::RunGraph(GraphOf(*network), {x}, &want);
  ASSERT_TRUE(ref.ok()) << ref.ToString();
  // Default build: no precision mode and no calibration; the Q/DQ pairs fold.
  std::unique_ptr<IModel> model;
  std::vector<Tensor> got;
  const Status built = BuildAndRun(*network, "{}", {x}, &got, &model);
  ASSERT_TRUE(built.ok()) << built.ToString();
  for (const NodeReport& n : model->GetBuildReport().nodes) {
    if (n.name == "conv" || n.name == "pool" || n.name == "fc") {
      EXPECT_EQ(n.precision, "INT8_EXPLICIT") << n.name;
    }
  }
  // Integer accumulation vs float sums of dequantized products: each quantized activation
  // may round a value within float rounding of a tie the other way (1 code); through the
  // global average (steps 0.02) and the FC (|w| <= 1.27), a code of gap moves a logit by
  // at most 0.0254; the logits are FLOAT32 (no output rounding).
  const std::vector<float> a = Values(got[0]), b = Values(want[0]);
  ASSERT_EQ(a.size(), 10u);
  ASSERT_EQ(b.size(), 10u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 0.03) << i;
}

TEST(OnnxQdqTest, PerAxisQuantizationOfAnActivation) {
  ModelBuilder m(13);
  m.Input("x", {1, 2, 3}).Output("y");
  m.Floats("s", {2}, {0.1f, 0.2f});
  m.Ints("z", TensorProto_DataType_UINT8, {2}, {128, 0});
  SetAttr(m.Node("QuantizeLinear", {"x", "s", "z"}, {"q"}, "q"), "axis", int64_t{1});
  SetAttr(m.Node("DequantizeLinear", {"q", "s", "z"}, {"d"}, "dq"), "axis", int64_t{1});
  m.Node("Relu", {"d"}, {"y"}, "relu");
  std::unique_ptr<INetwork> network;
  ASSERT_TRUE(Parse(m.model(), &network).ok());
  const auto* q = static_cast<const IQuantizeNode*>(network->FindNodeByName("q"));
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->GetAxis(), 1);
  EXPECT_EQ(q->GetScales(), (std::vector<float>{0.1f, 0.2f}));
  EXPECT_EQ(q->GetZeroPoints(), (std::vector<int32_t>{128, 0}));
  const auto* dq = static_cast<const IDequantizeNode*>(network->FindNodeByName("dq"));
  ASSERT_NE(dq, nullptr);
  EXPECT_EQ(dq->GetAxis(), 1);
  // Per-axis activations stay Quantize / Dequantize kernels. Channel 0: scale 0.1, z 128
  // (range [-12.8, 12.7]); channel 1: scale 0.2, z 0 (range [0, 51]): -1 saturates to 0.
  Tensor x = Tensor::Allocate(DataType::FLOAT32, Dims{1, 2, 3}, "x");
  const std::vector<float> in = {-0.26f, 0.34f, 20.0f, -1.0f, 0.5f, 0.29f};
  for (size_t i = 0; i < in.size(); ++i) x.Data<float>()[i] = in[i];
  std::vector<Tensor> out;
  const Status s = BuildAndRun(*network, "{}", {x}, &out);
  ASSERT_TRUE(s.ok()) << s.ToString();
  // relu(s * (q - z)): -0.26 -> code 125 -> -0.3 -> 0; 0.34 -> 131 -> 0.3; 20 -> 255 ->
  // 12.7; -1 -> 0 -> 0; 0.5 -> 2 (2.5 rounds to even) -> 0.4; 0.29 -> 1 -> 0.2.
  const std::vector<float> y = Values(out[0]);
  const std::vector<float> want = {0.0f, 0.1f * 3, 0.1f * 127, 0.0f, 0.2f * 2, 0.2f * 1};
  ASSERT_EQ(y.size(), want.size());
  for (size_t i = 0; i < y.size(); ++i) EXPECT_FLOAT_EQ(y[i], want[i]) << i;
}

TEST(OnnxQdqTest, Int16QuantizationFromAnInt16ZeroPoint) {
  ModelBuilder m(13);
  m.Input("x", {2, 4}).Output("y");
  m.Floats("s", {}, {0.001f});
  m.Ints("z", TensorProto_DataType_INT16, {}, {-1000});
  m.Node("QuantizeLinear", {"x", "s", "z"}, {"q"}, "quant");
  m.Node("DequantizeLinear", {"q", "s", "z"}, {"y"}, "dequant");
  std::unique_ptr<INetwork> network;
  const Status s = Parse(m.model(), &network);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const auto* q = static_cast<const IQuantizeNode*>(network->FindNodeByName("quant"));
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->GetQuantizedType(), DataType::INT16);
  EXPECT_EQ(q->GetZeroPoints(), std::vector<int32_t>{-1000});
  EXPECT_EQ(network->FindTensorByName("q")->GetDataType(), DataType::INT16);
}

TEST(OnnxQdqTest, DequantizedWeightsOfGemmAreTransposedWithTheirAxis) {
  // Gemm with transB = 0: the FC weight is B^T. The INT8 data is transposed and the
  // per-axis axis (1: B's columns, the output features) becomes 0; the INT32 bias [1, 3]
  // keeps its integers, as [3].
  ModelBuilder m(13);
  m.Input("x", {2, 4}).Output("y");
  m.Ints("bq", TensorProto_DataType_INT8, {4, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  m.Floats("bs", {3}, {0.1f, 0.2f, 0.3f});
  m.Ints("bz", TensorProto_DataType_INT8, {3}, {0, 0, 0});
  SetAttr(m.Node("DequantizeLinear", {"bq", "bs", "bz"}, {"b"}, "b_dq"), "axis", int64_t{1});
  m.Ints("cq", TensorProto_DataType_INT32, {1, 3}, {100, 200, -300});
  m.Floats("cs", {}, {0.01f});
  m.Node("DequantizeLinear", {"cq", "cs"}, {"c"}, "c_dq");
  m.Node("Gemm", {"x", "b", "c"}, {"y"}, "gemm");
  std::unique_ptr<INetwork> network;
  const Status s = Parse(m.model(), &network);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const INode* fc = network->FindNodeByName("gemm");
  ASSERT_NE(fc, nullptr);
  ASSERT_EQ(fc->GetNodeType(), NodeType::kFullyConnected);
  const INode* w = fc->GetInput(1)->GetProducer();
  ASSERT_EQ(w->GetNodeType(), NodeType::kDequantize);
  EXPECT_EQ(static_cast<const IDequantizeNode*>(w)->GetAxis(), 0);
  EXPECT_EQ(static_cast<const IDequantizeNode*>(w)->GetScales(),
            (std::vector<float>{0.1f, 0.2f, 0.3f}));
  EXPECT_EQ(w->GetInput(0)->GetDimension(), (Dims{3, 4}));
  const graph::Graph& g = GraphOf(*network);
  const graph::Tensor& wq = g.tensors[g.FindTensor(w->GetInput(0)->GetTensorName())];
  const std::vector<int8_t> transposed = {1, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 12};
  for (size_t i = 0; i < transposed.size(); ++i) EXPECT_EQ(wq.data->As<int8_t>()[i], transposed[i]);
  const INode* bias = fc->GetInput(2)->GetProducer();
  ASSERT_EQ(bias->GetNodeType(), NodeType::kDequantize);
  EXPECT_EQ(bias->GetInput(0)->GetDataType(), DataType::INT32);
  EXPECT_EQ(bias->GetInput(0)->GetDimension(), (Dims{3}));
  EXPECT_EQ(static_cast<const IDequantizeNode*>(bias)->GetAxis(), -1);
}

TEST(OnnxQdqTest, PyTorchCastsAndConstantOfShapeZeroPoints) {
  // PyTorch's export: Cast(to UINT8) after a QuantizeLinear (the identity), and an INT32
  // zero point made by Cast(ConstantOfShape(INT64 shape)).
  ModelBuilder m(13);
  m.Input("x", {1, 2, 2, 2}).Output("y");
  m.Floats("s", {}, {0.02f});
  m.Ints("z", TensorProto_DataType_UINT8, {}, {10});
  m.Node("QuantizeLinear", {"x", "s", "z"}, {"q"}, "quant");
  SetAttr(m.Node("Cast", {"q"}, {"qc"}, "cast"), "to", int64_t{TensorProto_DataType_UINT8});
  m.Node("DequantizeLinear", {"qc", "s", "z"}, {"d"}, "dequant");
  m.Ints("shape", TensorProto_DataType_INT64, {1}, {2});
  SetAttr(m.Node("ConstantOfShape", {"shape"}, {"zeros64"}, "zeros"), "value",
          IntTensor("", TensorProto_DataType_INT64, {1}, {0}));
  SetAttr(m.Node("Cast", {"zeros64"}, {"zeros32"}, "cast_zp"), "to",
          int64_t{TensorProto_DataType_INT32});
  m.Ints("bq", TensorProto_DataType_INT32, {2}, {50, -50});
  m.Floats("bs", {2}, {0.001f, 0.002f});
  SetAttr(m.Node("DequantizeLinear", {"bq", "bs", "zeros32"}, {"b"}, "b_dq"), "axis",
          int64_t{0});
  m.Floats("w", {2, 2, 1, 1}, {1, 0, 0, 1});
  m.Node("Conv", {"d", "w", "b"}, {"y"}, "conv");
  std::unique_ptr<INetwork> network;
  const Status s = Parse(m.model(), &network);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(network->FindNodeByName("conv")->GetInput(0)->GetTensorName(), "d");
  const INode* b = network->FindNodeByName("conv")->GetInput(2)->GetProducer();
  ASSERT_EQ(b->GetNodeType(), NodeType::kDequantize);
  EXPECT_EQ(static_cast<const IDequantizeNode*>(b)->GetZeroPoints(),
            (std::vector<int32_t>{0, 0}));
  // A Cast of a computed tensor to another type is not supported.
  ModelBuilder other(13);
  other.Input("x", {2}).Output("y");
  SetAttr(other.Node("Cast", {"x"}, {"y"}, "to_int"), "to", int64_t{TensorProto_DataType_INT32});
  const Status rejected = Parse(other.model(), &network);
  EXPECT_EQ(rejected.code(), StatusCode::kUnimplemented);
  EXPECT_NE(rejected.message().find("node 'to_int' (Cast)"), std::string::npos)
      << rejected.message();
}

// Parses `m` and expects kInvalidArgument with every one of `parts` in the message.
void ExpectInvalid(const ModelBuilder& m, const std::vector<std::string>& parts) {
  std::unique_ptr<INetwork> network;
  const Status s = Parse(m.model(), &network);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  for (const std::string& part : parts) {
    EXPECT_NE(s.message().find(part), std::string::npos) << s.message() << "\nmissing: " << part;
  }
}

// x [2, 3] -> QuantizeLinear(scale, zero point) -> DequantizeLinear -> y; the node "bad"
// is the QuantizeLinear (or the DequantizeLinear of a constant when `on_constant`).
ModelBuilder OnePair(const std::vector<int64_t>& scale_dims, const std::vector<float>& scales,
                     const std::vector<int64_t>& zero_points, int32_t zp_type, int64_t axis,
                     int64_t opset = 13) {
  ModelBuilder m(opset);
  m.Input("x", {2, 3}).Output("y");
  m.Floats("s", scale_dims, scales);
  std::vector<int64_t> zp_dims = scale_dims;
  if (!zp_dims.empty()) zp_dims[0] = static_cast<int64_t>(zero_points.size());
  m.Ints("z", zp_type, zp_dims, zero_points);
  ::onnx::NodeProto* q = m.Node("QuantizeLinear", {"x", "s", "z"}, {"q"}, "bad");
  ::onnx::NodeProto* dq = m.Node("DequantizeLinear", {"q", "s", "z"}, {"y"}, "dequant");
  if (axis != -100) {
    SetAttr(q, "axis", axis);
    SetAttr(dq, "axis", axis);
  }
  return m;
}

TEST(OnnxQdqTest, MalformedParametersAreRejected) {
  const int32_t u8 = TensorProto_DataType_UINT8;
  // Scales must be finite and > 0.
  ExpectInvalid(OnePair({}, {0.0f}, {0}, u8, -100),
                {"node 'bad' (QuantizeLinear)", "scale[0] = 0", "finite and > 0"});
  ExpectInvalid(OnePair({}, {-0.5f}, {0}, u8, -100), {"node 'bad'", "scale[0] = -0.5"});
  ExpectInvalid(OnePair({2}, {0.1f, std::nanf("")}, {0, 0}, u8, 1),
                {"node 'bad'", "scale[1] = nan", "finite and > 0"});
  ExpectInvalid(OnePair({}, {INFINITY}, {0}, u8, -100), {"node 'bad'", "scale[0] = inf"});
  // One zero point per scale.
  ExpectInvalid(OnePair({3}, {0.1f, 0.2f, 0.3f}, {0, 0}, u8, 1),
                {"node 'bad'", "one zero point per scale"});
  // The axis within the rank, with one scale per index.
  ExpectInvalid(OnePair({3}, {0.1f, 0.2f, 0.3f}, {0, 0, 0}, u8, 5),
                {"node 'bad'", "'axis' = 5 is out of range"});
  ExpectInvalid(OnePair({3}, {0.1f, 0.2f, 0.3f}, {0, 0, 0}, u8, 0),
                {"node 'bad'", "3 scales along axis 0", "one per index (2)"});
  // Per axis needs opset 13.
  ExpectInvalid(OnePair({3}, {0.1f, 0.2f, 0.3f}, {0, 0, 0}, u8, -100, 11),
                {"node 'bad'", "per-axis quantization needs opset 13"});
  // QuantizeLinear produces 8- or 16-bit integers.
  ExpectInvalid(OnePair({}, {0.1f}, {0}, TensorProto_DataType_INT32, -100),
                {"node 'bad'", "INT32", "INT8, UINT8 or INT16"});
  // A zero point outside its type's range (an INT8 zero point stored as int32_data).
  ModelBuilder range(13);
  range.Input("x", {2}).Output("y");
  range.Floats("s", {}, {0.1f});
  ::onnx::TensorProto* z = range.graph()->add_initializer();
  z->set_name("z");
  z->set_data_type(TensorProto_DataType_INT8);
  z->add_int32_data(200);
  range.Node("QuantizeLinear", {"x", "s", "z"}, {"q"}, "bad");
  range.Node("DequantizeLinear", {"q", "s", "z"}, {"y"});
  ExpectInvalid(range, {"'z'", "200", "[-128, 127]"});
  // DequantizeLinear of a constant: the zero point's type is the data's; an INT32 bias
  // has zero point 0.
  ModelBuilder mixed(13);
  mixed.Input("x", {3}).Output("y");
  mixed.Ints("wq", TensorProto_DataType_INT8, {3}, {1, 2, 3});
  mixed.Floats("s", {}, {0.1f});
  mixed.Ints("z", u8, {}, {200});
  mixed.Node("DequantizeLinear", {"wq", "s", "z"}, {"w"}, "bad");
  mixed.Node("Add", {"x", "w"}, {"y"});
  ExpectInvalid(mixed, {"node 'bad' (DequantizeLinear)", "x is INT8 but the zero point is UINT8"});
  ModelBuilder bias(13);
  bias.Input("x", {3}).Output("y");
  bias.Ints("bq", TensorProto_DataType_INT32, {3}, {1, 2, 3});
  bias.Floats("s", {}, {0.1f});
  bias.Ints("z", TensorProto_DataType_INT32, {}, {4});
  bias.Node("DequantizeLinear", {"bq", "s", "z"}, {"b"}, "bad");
  bias.Node("Add", {"x", "b"}, {"y"});
  ExpectInvalid(bias, {"node 'bad'", "zero_point[0] = 4", "zero point 0"});
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
  EXPECT_NE(s.message().find("node 'quant' (QuantizeLinear)"), std::string::npos) << s.message();
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
}

TEST(OnnxQdqTest, TwoQuantizationsOfOneTensorAreTwoNodes) {
  ModelBuilder twice(13);
  twice.Input("x", {4}).Output("y").Output("z");
  twice.Floats("s1", {}, {0.1f}).Floats("s2", {}, {0.2f});
  twice.Node("QuantizeLinear", {"x", "s1"}, {"q1"}, "first");
  twice.Node("DequantizeLinear", {"q1", "s1"}, {"d1"});
  twice.Node("QuantizeLinear", {"x", "s2"}, {"q2"}, "second");
  twice.Node("DequantizeLinear", {"q2", "s2"}, {"d2"});
  twice.Node("Relu", {"d1"}, {"y"});
  twice.Node("Relu", {"d2"}, {"z"});
  std::unique_ptr<INetwork> network;
  const Status s = Parse(twice.model(), &network);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(static_cast<const IQuantizeNode*>(network->FindNodeByName("first"))->GetScales(),
            std::vector<float>{0.1f});
  EXPECT_EQ(static_cast<const IQuantizeNode*>(network->FindNodeByName("second"))->GetScales(),
            std::vector<float>{0.2f});
}

TEST(OnnxQdqTest, FakeQuantizedConstantIsRounded) {
  // Q of a FLOAT constant folds at import into the INT8 constant (round half to even, then
  // saturate), which the DequantizeLinear reads.
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
  EXPECT_EQ(CountNodes(*network, NodeType::kQuantize), 0);
  const ITensor* kq = network->FindTensorByName("kq");
  ASSERT_NE(kq, nullptr);
  EXPECT_EQ(kq->GetDataType(), DataType::INT8);
  const graph::Graph& g = GraphOf(*network);
  const graph::Tensor& codes = g.tensors[g.FindTensor("kq")];
  // 0.5 -> 0 and 1.5 -> 2 and -2.5 -> -2 (half to even); 600 saturates to 127.
  const std::vector<int8_t> want_codes = {0, 2, -2, 127};
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(codes.data->As<int8_t>()[i], want_codes[i]) << i;
  Tensor x = Tensor::Allocate(DataType::FLOAT32, Dims{4}, "x");
  std::vector<Tensor> out;
  const Status built = BuildAndRun(*network, "{}", {x}, &out);
  ASSERT_TRUE(built.ok()) << built.ToString();
  // Dequantized: q * 0.5, exact.
  const std::vector<float> y = Values(out[0]);
  ASSERT_EQ(y.size(), 4u);
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[1], 1.0f);
  EXPECT_EQ(y[2], -1.0f);
  EXPECT_EQ(y[3], 63.5f);
}

}  // namespace
}  // namespace qsdk::onnx_test
