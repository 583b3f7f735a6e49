// How ONNX nodes map onto qsdk nodes: names, dynamic batch, Gemm's forms, Softmax before
// and after opset 13, Clip's two forms, the Gelu / HardSwish patterns, constant folding
// (Transpose / Reshape of constants; DequantizeLinear of weights stays explicit), Identity
// outputs and 1-D convolutions. Results are checked against plain loops written here.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "onnx/onnx_test_util.h"

namespace qsdk::onnx_test {
namespace {

std::vector<float> RandomValues(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Compares with a tolerance relative to the magnitude of `want` (FP32 kernels reorder
// sums: a few ulps of the largest partial sum).
void ExpectClose(const std::vector<float>& got, const std::vector<float>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], tol * std::max(1.0, std::fabs(static_cast<double>(want[i]))))
        << "element " << i;
  }
}

// Parses `m`, builds FP32, runs it on `inputs`; returns output 0.
std::vector<float> ParseAndRun(const ModelBuilder& m, const std::vector<Tensor>& inputs,
                               std::unique_ptr<INetwork>* network_out = nullptr) {
  std::unique_ptr<INetwork> network;
  const Status parsed = Parse(m.model(), &network);
  EXPECT_TRUE(parsed.ok()) << parsed.ToString();
  if (!parsed.ok()) return {};
  std::vector<Tensor> out;
  const Status run = BuildAndRun(*network, "{}", inputs, &out);
  EXPECT_TRUE(run.ok()) << run.ToString();
  if (network_out != nullptr) *network_out = std::move(network);
  if (!run.ok() || out.empty()) return {};
  return Values(out[0]);
}

// Plain NCHW convolution, zero padding {top, left} = {ph, pw} (symmetric), stride s.
std::vector<float> NaiveConv(const std::vector<float>& x, int64_t n, int64_t c, int64_t h,
                             int64_t w, const std::vector<float>& k, int64_t oc, int64_t kh,
                             int64_t kw, const std::vector<float>& bias, int64_t ph, int64_t pw,
                             int64_t s, int64_t* oh_out, int64_t* ow_out) {
  const int64_t oh = (h + 2 * ph - kh) / s + 1, ow = (w + 2 * pw - kw) / s + 1;
  std::vector<float> y(static_cast<size_t>(n * oc * oh * ow));
  for (int64_t b = 0; b < n; ++b)
    for (int64_t o = 0; o < oc; ++o)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double acc = bias.empty() ? 0.0 : bias[o];
          for (int64_t ci = 0; ci < c; ++ci)
            for (int64_t u = 0; u < kh; ++u)
              for (int64_t v = 0; v < kw; ++v) {
                const int64_t yy = i * s + u - ph, xx = j * s + v - pw;
                if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                acc += x[((b * c + ci) * h + yy) * w + xx] * k[((o * c + ci) * kh + u) * kw + v];
              }
          y[((b * oc + o) * oh + i) * ow + j] = static_cast<float>(acc);
        }
  *oh_out = oh;
  *ow_out = ow;
  return y;
}

TEST(OnnxOpsTest, NamesAreKeptAndTheBatchStaysDynamic) {
  ModelBuilder m(13);
  m.Input("x", {-1, 2, 5, 5}).Output("logits");
  const std::vector<float> w = RandomValues(4 * 2 * 3 * 3, 1, 0.5f);
  const std::vector<float> b = RandomValues(4, 2, 0.1f);
  const std::vector<float> fc = RandomValues(3 * 100, 3, 0.2f);
  m.Floats("conv1.weight", {4, 2, 3, 3}, w).Floats("conv1.bias", {4}, b);
  m.Floats("fc.weight", {3, 100}, fc);
  SetAttr(m.Node("Conv", {"x", "conv1.weight", "conv1.bias"}, {"c1"}, "conv1"), "pads",
          std::vector<int64_t>{1, 1, 1, 1});
  m.Node("Relu", {"c1"}, {"r1"});  // no name
  m.Node("Flatten", {"r1"}, {"f"}, "flatten");
  SetAttr(m.Node("Gemm", {"f", "fc.weight"}, {"logits"}, "fc"), "transB", int64_t{1});

  std::unique_ptr<INetwork> network;
  ASSERT_TRUE(Parse(m.model(), &network).ok());
  ASSERT_EQ(network->GetInputs().size(), 1u);
  EXPECT_EQ(network->GetInputs()[0]->GetTensorName(), "x");
  EXPECT_EQ(network->GetInputs()[0]->GetDimension(), (Dims{-1, 2, 5, 5}));
  ASSERT_NE(network->FindNodeByName("conv1"), nullptr);
  EXPECT_EQ(network->FindNodeByName("conv1")->GetNodeType(), NodeType::kConv);
  ASSERT_NE(network->FindNodeByName("Relu_1"), nullptr);  // generated: op type, position
  EXPECT_EQ(network->FindNodeByName("Relu_1")->GetNodeType(), NodeType::kActivation);
  ASSERT_NE(network->FindNodeByName("fc"), nullptr);
  EXPECT_EQ(network->FindNodeByName("fc")->GetNodeType(), NodeType::kFullyConnected);
  for (const char* t : {"c1", "r1", "f", "logits", "conv1.weight", "conv1.bias", "fc.weight"}) {
    EXPECT_NE(network->FindTensorByName(t), nullptr) << t;
  }
  EXPECT_EQ(network->FindTensorByName("logits")->GetDimension(), (Dims{-1, 3}));
  ASSERT_EQ(network->GetOutputs().size(), 1u);
  EXPECT_EQ(network->GetOutputs()[0]->GetTensorName(), "logits");

  for (int64_t batch : {2, 3}) {
    const Tensor x = RandomTensor(Dims{batch, 2, 5, 5}, 10 + static_cast<uint32_t>(batch), "x");
    std::vector<Tensor> out;
    ASSERT_TRUE(BuildAndRun(*network, "{}", {x}, &out).ok());
    int64_t oh = 0, ow = 0;
    std::vector<float> y = NaiveConv(Values(x), batch, 2, 5, 5, w, 4, 3, 3, b, 1, 1, 1, &oh, &ow);
    for (float& v : y) v = std::max(v, 0.0f);
    std::vector<float> want(static_cast<size_t>(batch * 3), 0.0f);
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t o = 0; o < 3; ++o)
        for (int64_t k = 0; k < 100; ++k) want[n * 3 + o] += y[n * 100 + k] * fc[o * 100 + k];
    ASSERT_EQ(out[0].GetDimension(), (Dims{batch, 3}));
    ExpectClose(Values(out[0]), want, 1e-4);
  }
}

TEST(OnnxOpsTest, DuplicateNodeNamesGetSuffixes) {
  ModelBuilder m(13);
  m.Input("x", {4}).Output("y");
  m.Node("Relu", {"x"}, {"a"}, "same");
  m.Node("Sigmoid", {"a"}, {"b"}, "same");
  m.Node("Tanh", {"b"}, {"y"}, "same_1");  // the suffix skips this node's own name
  std::unique_ptr<INetwork> network;
  ASSERT_TRUE(Parse(m.model(), &network).ok());
  const auto type_of = [&](const char* name) {
    auto* node = static_cast<IActivationNode*>(network->FindNodeByName(name));
    return node == nullptr ? ActivationType::kNone : node->GetActivationType();
  };
  EXPECT_EQ(type_of("same"), ActivationType::kRelu);
  EXPECT_EQ(type_of("same_2"), ActivationType::kSigmoid);
  EXPECT_EQ(type_of("same_1"), ActivationType::kTanh);
}

// --- Gemm -------------------------------------------------------------------------------

struct GemmCase {
  const char* name;
  bool trans_a, trans_b;
  float alpha, beta;
  enum class C { kNone, kVector, kRow, kMatrix, kScalar, kRuntime } c;
  bool b_constant;
  NodeType expected;  // the node computing the product
};

class GemmTest : public ::testing::TestWithParam<GemmCase> {};

TEST_P(GemmTest, MatchesPlainLoops) {
  const GemmCase& p = GetParam();
  const int64_t M = 3, K = 5, N = 4;
  const std::vector<float> a = RandomValues(M * K, 21), b = RandomValues(K * N, 22);
  std::vector<int64_t> c_dims;
  switch (p.c) {
    case GemmCase::C::kVector:
      c_dims = {N};
      break;
    case GemmCase::C::kRow:
      c_dims = {1, N};
      break;
    case GemmCase::C::kMatrix:
    case GemmCase::C::kRuntime:
      c_dims = {M, N};
      break;
    case GemmCase::C::kScalar:
      c_dims = {};
      break;
    case GemmCase::C::kNone:
      break;
  }
  int64_t c_count = 1;
  for (int64_t d : c_dims) c_count *= d;
  const std::vector<float> c = RandomValues(static_cast<size_t>(c_count), 23);

  // Stored operands: A [M, K] or [K, M], B [K, N] or [N, K].
  std::vector<float> a_stored(a.size()), b_stored(b.size());
  for (int64_t i = 0; i < M; ++i)
    for (int64_t k = 0; k < K; ++k) a_stored[p.trans_a ? k * M + i : i * K + k] = a[i * K + k];
  for (int64_t k = 0; k < K; ++k)
    for (int64_t j = 0; j < N; ++j) b_stored[p.trans_b ? j * K + k : k * N + j] = b[k * N + j];

  ModelBuilder m(13);
  m.Input("a", p.trans_a ? std::vector<int64_t>{K, M} : std::vector<int64_t>{M, K}).Output("y");
  std::vector<Tensor> inputs = {Tensor::Allocate(
      DataType::FLOAT32, Dims(p.trans_a ? std::vector<int64_t>{K, M} : std::vector<int64_t>{M, K}),
      "a")};
  std::copy(a_stored.begin(), a_stored.end(), inputs[0].Data<float>());
  const std::vector<int64_t> b_dims =
      p.trans_b ? std::vector<int64_t>{N, K} : std::vector<int64_t>{K, N};
  if (p.b_constant) {
    m.Floats("b", b_dims, b_stored);
  } else {
    m.Input("b", b_dims);
    inputs.push_back(Tensor::Allocate(DataType::FLOAT32, Dims(b_dims), "b"));
    std::copy(b_stored.begin(), b_stored.end(), inputs.back().Data<float>());
  }
  std::vector<std::string> gemm_inputs = {"a", "b"};
  if (p.c == GemmCase::C::kRuntime) {
    m.Input("c", c_dims);
    inputs.push_back(Tensor::Allocate(DataType::FLOAT32, Dims(c_dims), "c"));
    std::copy(c.begin(), c.end(), inputs.back().Data<float>());
    gemm_inputs.push_back("c");
  } else if (p.c != GemmCase::C::kNone) {
    m.Floats("c", c_dims, c);
    gemm_inputs.push_back("c");
  }
  ::onnx::NodeProto* gemm = m.Node("Gemm", gemm_inputs, {"y"}, "gemm");
  SetAttr(gemm, "transA", int64_t{p.trans_a});
  SetAttr(gemm, "transB", int64_t{p.trans_b});
  SetAttr(gemm, "alpha", p.alpha);
  SetAttr(gemm, "beta", p.beta);

  std::vector<float> want(static_cast<size_t>(M * N));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += a[i * K + k] * b[k * N + j];
      double cv = 0;
      if (p.c == GemmCase::C::kVector || p.c == GemmCase::C::kRow) cv = c[j];
      if (p.c == GemmCase::C::kMatrix || p.c == GemmCase::C::kRuntime) cv = c[i * N + j];
      if (p.c == GemmCase::C::kScalar) cv = c[0];
      want[i * N + j] = static_cast<float>(p.alpha * acc + p.beta * cv);
    }
  std::unique_ptr<INetwork> network;
  const std::vector<float> got = ParseAndRun(m, inputs, &network);
  ExpectClose(got, want, 1e-4);
  ASSERT_NE(network, nullptr);
  ASSERT_NE(network->FindNodeByName("gemm"), nullptr);
  EXPECT_EQ(network->FindNodeByName("gemm")->GetNodeType(), p.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Forms, GemmTest,
    ::testing::Values(GemmCase{"FcPlain", false, false, 1.0f, 1.0f, GemmCase::C::kNone, true,
                               NodeType::kFullyConnected},
                      GemmCase{"FcTransBVectorBias", false, true, 1.0f, 1.0f, GemmCase::C::kVector,
                               true, NodeType::kFullyConnected},
                      GemmCase{"FcAllAttributesRowBias", true, true, 0.25f, 0.35f,
                               GemmCase::C::kRow, true, NodeType::kFullyConnected},
                      GemmCase{"FcScalarBias", false, false, 2.0f, 0.5f, GemmCase::C::kScalar, true,
                               NodeType::kFullyConnected},
                      GemmCase{"ConstMatrixBiasIsMatMul", true, false, 1.5f, -1.0f,
                               GemmCase::C::kMatrix, true, NodeType::kMatMul},
                      GemmCase{"FcRuntimeC", false, true, 1.0f, 2.0f, GemmCase::C::kRuntime, true,
                               NodeType::kFullyConnected},
                      GemmCase{"MatMulRuntimeB", true, true, 0.5f, 1.0f, GemmCase::C::kVector,
                               false, NodeType::kMatMul},
                      GemmCase{"MatMulRuntimeBAndC", false, false, 1.0f, 0.5f,
                               GemmCase::C::kRuntime, false, NodeType::kMatMul},
                      GemmCase{"BetaZeroIgnoresC", false, false, 1.0f, 0.0f, GemmCase::C::kMatrix,
                               true, NodeType::kFullyConnected}),
    [](const ::testing::TestParamInfo<GemmCase>& info) { return std::string(info.param.name); });

// --- Softmax ---------------------------------------------------------------------------

// Softmax of `x` [2, 3, 4] over axes [from, 3) taken together (flattened) for each index
// of the axes before `from`, or over axis `from` alone when `single`.
std::vector<float> NaiveSoftmax(const std::vector<float>& x, int from, bool single) {
  const int64_t dims[3] = {2, 3, 4};
  std::vector<float> y(x.size());
  if (!single) {
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < 3; ++d) (d < from ? outer : inner) *= dims[d];
    for (int64_t o = 0; o < outer; ++o) {
      double max = -1e30, sum = 0;
      for (int64_t i = 0; i < inner; ++i) max = std::max<double>(max, x[o * inner + i]);
      for (int64_t i = 0; i < inner; ++i) sum += std::exp(x[o * inner + i] - max);
      for (int64_t i = 0; i < inner; ++i)
        y[o * inner + i] = static_cast<float>(std::exp(x[o * inner + i] - max) / sum);
    }
    return y;
  }
  // Axis 1 only.
  for (int64_t a = 0; a < 2; ++a)
    for (int64_t c = 0; c < 4; ++c) {
      double max = -1e30, sum = 0;
      for (int64_t b = 0; b < 3; ++b) max = std::max<double>(max, x[(a * 3 + b) * 4 + c]);
      for (int64_t b = 0; b < 3; ++b) sum += std::exp(x[(a * 3 + b) * 4 + c] - max);
      for (int64_t b = 0; b < 3; ++b)
        y[(a * 3 + b) * 4 + c] = static_cast<float>(std::exp(x[(a * 3 + b) * 4 + c] - max) / sum);
    }
  return y;
}

TEST(OnnxOpsTest, SoftmaxBeforeOpset13FlattensFromTheAxis) {
  const Tensor x = RandomTensor(Dims{2, 3, 4}, 31, "x");
  for (int64_t opset : {11, 13}) {
    ModelBuilder m(opset);
    m.Input("x", {2, 3, 4}).Output("y");
    SetAttr(m.Node("Softmax", {"x"}, {"y"}, "sm"), "axis", int64_t{1});
    const std::vector<float> got = ParseAndRun(m, {x});
    // Probabilities in [0, 1]: absolute tolerance of a few float ulps of exp / sum.
    ExpectClose(got, NaiveSoftmax(Values(x), 1, /*single=*/opset >= 13), 1e-5);
  }
  // The two semantics really differ on this input (so the check above means something).
  const std::vector<float> a = NaiveSoftmax(Values(x), 1, false),
                           b = NaiveSoftmax(Values(x), 1, true);
  EXPECT_GT(std::fabs(a[0] - b[0]), 1e-3);
  // Opset 11 default axis (1) with a dynamic batch: flattened, reshaped back to [-1, 3, 4].
  ModelBuilder dynamic(11);
  dynamic.Input("x", {-1, 3, 4}).Output("y");
  dynamic.Node("Softmax", {"x"}, {"y"}, "sm");
  std::unique_ptr<INetwork> network;
  ExpectClose(ParseAndRun(dynamic, {x}, &network), NaiveSoftmax(Values(x), 1, false), 1e-5);
  EXPECT_EQ(network->FindTensorByName("y")->GetDimension(), (Dims{-1, 3, 4}));
}

// --- Activations -------------------------------------------------------------------------

TEST(OnnxOpsTest, ClipBoundsAsInputsOrAttributes) {
  const Tensor x = RandomTensor(Dims{16}, 41, "x");
  std::vector<float> want = Values(x);
  for (float& v : want) v = std::min(0.5f, std::max(-0.25f, v));
  ModelBuilder inputs(13);
  inputs.Input("x", {16}).Output("y").Floats("lo", {}, {-0.25f}).Floats("hi", {}, {0.5f});
  inputs.Node("Clip", {"x", "lo", "hi"}, {"y"}, "clip");
  ExpectClose(ParseAndRun(inputs, {x}), want, 0.0);  // clipping is exact
  ModelBuilder attributes(11);                       // the form before opset 11, accepted too
  attributes.Input("x", {16}).Output("y");
  ::onnx::NodeProto* clip = attributes.Node("Clip", {"x"}, {"y"}, "clip");
  SetAttr(clip, "min", -0.25f);
  SetAttr(clip, "max", 0.5f);
  ExpectClose(ParseAndRun(attributes, {x}), want, 0.0);
  // Clip(0, 6) is ReLU6, Clip(0) is ReLU.
  ModelBuilder relu6(13);
  relu6.Input("x", {16}).Output("y").Floats("lo", {}, {0.0f}).Floats("hi", {}, {6.0f});
  relu6.Node("Clip", {"x", "lo", "hi"}, {"y"}, "clip");
  std::unique_ptr<INetwork> network;
  ASSERT_TRUE(Parse(relu6.model(), &network).ok());
  EXPECT_EQ(static_cast<IActivationNode*>(network->FindNodeByName("clip"))->GetActivationType(),
            ActivationType::kRelu6);
  ModelBuilder relu(13);
  relu.Input("x", {16}).Output("y").Floats("lo", {}, {0.0f});
  relu.Node("Clip", {"x", "lo"}, {"y"}, "clip");
  ASSERT_TRUE(Parse(relu.model(), &network).ok());
  EXPECT_EQ(static_cast<IActivationNode*>(network->FindNodeByName("clip"))->GetActivationType(),
            ActivationType::kRelu);
}

// The three orders in which exporters write Gelu.
enum class GeluForm { kDivThenXaHalf, kMulThenAHalfX, kHalfXThenA };

ModelBuilder GeluModel(GeluForm form) {
  ModelBuilder m(13);
  m.Input("x", {2, 8}).Output("y");
  ::onnx::NodeProto* k = m.Node("Constant", {}, {"one"}, "k_one");
  SetAttr(k, "value", FloatTensor("", {}, {1.0f}));
  m.Floats("half", {1}, {0.5f});
  if (form == GeluForm::kDivThenXaHalf) {
    m.Floats("sqrt2", {}, {1.4142135f});
    m.Node("Div", {"x", "sqrt2"}, {"u"});
  } else {
    m.Floats("inv_sqrt2", {}, {0.70710678f});
    m.Node("Mul", {"inv_sqrt2", "x"}, {"u"});
  }
  m.Node("Erf", {"u"}, {"e"});
  m.Node("Add", {"one", "e"}, {"a"});
  switch (form) {
    case GeluForm::kDivThenXaHalf:
      m.Node("Mul", {"x", "a"}, {"xa"});
      m.Node("Mul", {"xa", "half"}, {"y"}, "gelu_end");
      break;
    case GeluForm::kMulThenAHalfX:
      m.Node("Mul", {"a", "half"}, {"ah"});
      m.Node("Mul", {"ah", "x"}, {"y"}, "gelu_end");
      break;
    case GeluForm::kHalfXThenA:
      m.Node("Mul", {"half", "x"}, {"hx"});
      m.Node("Mul", {"hx", "a"}, {"y"}, "gelu_end");
      break;
  }
  return m;
}

TEST(OnnxOpsTest, GeluPatternsBecomeOneActivation) {
  const Tensor x = RandomTensor(Dims{2, 8}, 51, "x");
  std::vector<float> want = Values(x);
  for (float& v : want) v = static_cast<float>(0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))));
  for (GeluForm form :
       {GeluForm::kDivThenXaHalf, GeluForm::kMulThenAHalfX, GeluForm::kHalfXThenA}) {
    std::unique_ptr<INetwork> network;
    // erf in FP32 kernels: within 1e-5 of the double-precision formula for |x| < 4.
    ExpectClose(ParseAndRun(GeluModel(form), {x}, &network), want, 1e-5);
    ASSERT_NE(network, nullptr);
    EXPECT_EQ(CountNodes(*network, NodeType::kActivation), 1);
    EXPECT_EQ(CountNodes(*network, NodeType::kElementwise), 0);
    auto* act = static_cast<IActivationNode*>(network->FindNodeByName("gelu_end"));
    ASSERT_NE(act, nullptr);
    EXPECT_EQ(act->GetActivationType(), ActivationType::kGelu);
  }
  // When an intermediate value is also an output, the pattern does not apply and Erf is
  // an unsupported op.
  ModelBuilder leaky = GeluModel(GeluForm::kDivThenXaHalf);
  leaky.Output("e");
  std::unique_ptr<INetwork> network;
  const Status s = Parse(leaky.model(), &network);
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("(Erf)"), std::string::npos) << s.message();
  // A wrong constant (not 1/sqrt(2)) breaks the pattern too.
  ModelBuilder wrong = GeluModel(GeluForm::kMulThenAHalfX);
  for (auto& init : *wrong.graph()->mutable_initializer()) {
    if (init.name() == "inv_sqrt2") init = FloatTensor("inv_sqrt2", {}, {0.7f});
  }
  EXPECT_EQ(Parse(wrong.model(), &network).code(), StatusCode::kUnimplemented);
}

TEST(OnnxOpsTest, HardSwishWrittenOutIsOneActivation) {
  ModelBuilder m(14);
  m.Input("x", {12}).Output("y");
  ::onnx::NodeProto* hs = m.Node("HardSigmoid", {"x"}, {"h"});
  SetAttr(hs, "alpha", 1.0f / 6.0f);
  SetAttr(hs, "beta", 0.5f);
  m.Node("Mul", {"x", "h"}, {"y"}, "hswish");
  const Tensor x = RandomTensor(Dims{12}, 61, "x");
  std::vector<float> want = Values(x);
  for (float& v : want) v = v * std::min(std::max(v + 3.0f, 0.0f), 6.0f) / 6.0f;
  std::unique_ptr<INetwork> network;
  ExpectClose(ParseAndRun(m, {x}, &network), want, 1e-6);
  ASSERT_NE(network, nullptr);
  EXPECT_EQ(static_cast<IActivationNode*>(network->FindNodeByName("hswish"))->GetActivationType(),
            ActivationType::kHardSwish);
  // ONNX's default alpha (0.2) is not HardSwish.
  hs->mutable_attribute(0)->set_f(0.2f);
  EXPECT_EQ(Parse(m.model(), &network).code(), StatusCode::kUnimplemented);
}

// --- Constants -----------------------------------------------------------------------------

TEST(OnnxOpsTest, DequantizedWeightsBecomeExplicitDequantizeNodes) {
  // Conv 1x1 with weights DQ(int8 per output channel) and bias DQ(int32); on x = 1 each
  // output channel is the sum of its dequantized weights plus its bias.
  ModelBuilder m(13);
  m.Input("x", {1, 3, 2, 2}).Output("y");
  m.Ints("wq", TensorProto_DataType_INT8, {2, 3, 1, 1}, {10, -20, 30, 127, -128, 5});
  m.Floats("ws", {2}, {0.5f, 0.25f});
  m.Ints("wz", TensorProto_DataType_INT8, {2}, {0, 1});
  m.Ints("bq", TensorProto_DataType_INT32, {2}, {100, -40});
  m.Floats("bs", {2}, {0.01f, 0.1f});
  ::onnx::NodeProto* dq = m.Node("DequantizeLinear", {"wq", "ws", "wz"}, {"w"}, "dq_w");
  SetAttr(dq, "axis", int64_t{0});
  SetAttr(m.Node("DequantizeLinear", {"bq", "bs"}, {"b"}, "dq_b"), "axis", int64_t{0});
  m.Node("Conv", {"x", "w", "b"}, {"y"}, "conv");
  Tensor x = Tensor::Allocate(DataType::FLOAT32, Dims{1, 3, 2, 2}, "x");
  for (int64_t i = 0; i < 12; ++i) x.Data<float>()[i] = 1.0f;
  std::unique_ptr<INetwork> network;
  const std::vector<float> y = ParseAndRun(m, {x}, &network);
  const float c0 = 0.5f * (10 - 20 + 30) + 0.01f * 100;
  const float c1 = 0.25f * ((127 - 1) + (-128 - 1) + (5 - 1)) + 0.1f * -40;
  ExpectClose(y, {c0, c0, c0, c0, c1, c1, c1, c1}, 1e-6);
  // The weights and the bias are the explicit dequantization of their integers (the
  // builder folds or materializes them).
  ASSERT_NE(network, nullptr);
  EXPECT_EQ(CountNodes(*network, NodeType::kDequantize), 2);
  const ITensor* w = network->FindTensorByName("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->GetDataType(), DataType::FLOAT32);
  ASSERT_NE(w->GetProducer(), nullptr);
  EXPECT_EQ(w->GetProducer()->GetNodeType(), NodeType::kDequantize);
  EXPECT_EQ(w->GetProducer()->GetNodeName(), "dq_w");
  EXPECT_EQ(network->FindTensorByName("wq")->GetDataType(), DataType::INT8);
  EXPECT_EQ(network->FindTensorByName("bq")->GetDataType(), DataType::INT32);
}

TEST(OnnxOpsTest, ComputationsOnConstantsAreFolded) {
  // y = MatMul(x, Transpose(Reshape(k, Constant shape))) + (c1 * c2): no Transpose,
  // Reshape or multiplication reaches the network.
  ModelBuilder m(13);
  m.Input("x", {2, 3}).Output("y");
  const std::vector<float> k = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};  // 4 x 3 once reshaped
  m.Floats("k", {12}, k);
  SetAttr(m.Node("Constant", {}, {"shape"}, "shape_const"), "value",
          IntTensor("", TensorProto_DataType_INT64, {2}, {4, -1}));
  m.Node("Reshape", {"k", "shape"}, {"k43"});
  m.Node("Transpose", {"k43"}, {"k34"});
  m.Floats("c1", {4}, {1, 2, 3, 4}).Floats("c2", {1}, {0.5f});
  m.Node("Mul", {"c1", "c2"}, {"c"});
  m.Node("MatMul", {"x", "k34"}, {"p"}, "matmul");
  m.Node("Add", {"p", "c"}, {"y"}, "add");
  const Tensor x = RandomTensor(Dims{2, 3}, 71, "x");
  std::unique_ptr<INetwork> network;
  const std::vector<float> got = ParseAndRun(m, {x}, &network);
  std::vector<float> want(8);
  const std::vector<float> xv = Values(x);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j) {
      double acc = 0.5 * (j + 1);
      for (int t = 0; t < 3; ++t) acc += xv[i * 3 + t] * k[j * 3 + t];
      want[i * 4 + j] = static_cast<float>(acc);
    }
  ExpectClose(got, want, 1e-5);
  ASSERT_NE(network, nullptr);
  EXPECT_EQ(CountNodes(*network, NodeType::kTranspose), 0);
  EXPECT_EQ(CountNodes(*network, NodeType::kReshape), 0);
  EXPECT_EQ(CountNodes(*network, NodeType::kElementwise), 1);  // the Add of p and c
}

TEST(OnnxOpsTest, IdentityAndDropoutOutputsGetTheirOwnTensor) {
  ModelBuilder m(13);
  m.Input("x", {2, 2}).Output("y").Output("z");
  m.Node("Identity", {"x"}, {"y"}, "id");
  m.Node("Relu", {"x"}, {"r"}, "relu");
  m.Node("Dropout", {"r"}, {"z"}, "drop");
  std::unique_ptr<INetwork> network;
  ASSERT_TRUE(Parse(m.model(), &network).ok());
  ASSERT_EQ(network->GetOutputs().size(), 2u);
  EXPECT_EQ(network->GetOutputs()[0]->GetTensorName(), "y");
  EXPECT_EQ(network->GetOutputs()[1]->GetTensorName(), "z");
  const Tensor x = RandomTensor(Dims{2, 2}, 81, "x");
  std::vector<Tensor> out;
  ASSERT_TRUE(BuildAndRun(*network, "{}", {x}, &out).ok());
  EXPECT_EQ(Values(out[0]), Values(x));  // a copy: exact
  std::vector<float> relu = Values(x);
  for (float& v : relu) v = std::max(v, 0.0f);
  EXPECT_EQ(Values(out[1]), relu);
}

TEST(OnnxOpsTest, OneDimensionalConvolutionIsLiftedTo2d) {
  ModelBuilder m(13);
  m.Input("x", {1, 2, 9}).Output("y");
  const std::vector<float> w = RandomValues(3 * 2 * 3, 91, 0.5f);
  m.Floats("w", {3, 2, 3}, w);
  ::onnx::NodeProto* conv = m.Node("Conv", {"x", "w"}, {"y"}, "conv1d");
  SetAttr(conv, "pads", std::vector<int64_t>{1, 1});
  SetAttr(conv, "strides", std::vector<int64_t>{2});
  const Tensor x = RandomTensor(Dims{1, 2, 9}, 92, "x");
  int64_t oh = 0, ow = 0;
  // The same convolution as 2-D with height 1 and no vertical padding.
  std::vector<float> want = NaiveConv(Values(x), 1, 2, 1, 9, w, 3, 1, 3, {}, 0, 1, 2, &oh, &ow);
  ASSERT_EQ(ow, 5);
  std::unique_ptr<INetwork> network;
  ExpectClose(ParseAndRun(m, {x}, &network), want, 1e-5);
  EXPECT_EQ(network->FindTensorByName("y")->GetDimension(), (Dims{1, 3, 5}));
}

TEST(OnnxOpsTest, BatchNormalizationKeepsEpsilon) {
  ModelBuilder m(15);
  m.Input("x", {1, 2, 1, 3}).Output("y");
  m.Floats("s", {2}, {1.0f, 2.0f}).Floats("b", {2}, {0.5f, -0.5f});
  m.Floats("mean", {2}, {0.1f, -0.2f}).Floats("var", {2}, {0.0f, 1.0f});
  SetAttr(m.Node("BatchNormalization", {"x", "s", "b", "mean", "var"}, {"y"}, "bn"), "epsilon",
          0.25f);
  const Tensor x = RandomTensor(Dims{1, 2, 1, 3}, 101, "x");
  std::vector<float> want = Values(x);
  const float scale[2] = {1.0f, 2.0f}, bias[2] = {0.5f, -0.5f}, mean[2] = {0.1f, -0.2f},
              var[2] = {0.0f, 1.0f};
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 3; ++i) {
      float& v = want[c * 3 + i];
      v = scale[c] * (v - mean[c]) / std::sqrt(var[c] + 0.25f) + bias[c];
    }
  std::unique_ptr<INetwork> network;
  ExpectClose(ParseAndRun(m, {x}, &network), want, 1e-5);
  EXPECT_FLOAT_EQ(static_cast<IBatchNormNode*>(network->FindNodeByName("bn"))->GetEpsilon(), 0.25f);
}

}  // namespace
}  // namespace qsdk::onnx_test
