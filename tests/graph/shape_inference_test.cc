// Shape inference and legality rules of every op (src/graph/shape_inference.cc).
#include "graph/shape_inference.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "graph/graph_test_util.h"

namespace qsdk::graph {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using Shape = std::vector<int64_t>;
using namespace ::qsdk::graph::testing;  // NOLINT(build/namespaces)

class ShapeInferenceTest : public ::testing::Test {
 protected:
  TensorId Input(const std::string& name, Shape shape) { return AddInput(&g_, name, shape); }
  TensorId Const(const std::string& name, Shape shape) {
    return AddRandomConst(&g_, name, shape, &rng_);
  }
  // Adds the node and infers its shapes.
  Status Add(NodeType type, const std::string& name, std::vector<TensorId> inputs,
             AttrMap attrs = {}) {
    last_ = AddOp(&g_, type, name, std::move(inputs), std::move(attrs));
    return InferNodeShapes(&g_, last_);
  }
  const Shape& OutShape() const { return g_.tensors[Out(g_, last_)].shape; }

  // Infers and expects success with output `expected`.
  void ExpectShape(NodeType type, std::vector<TensorId> inputs, AttrMap attrs,
                   const Shape& expected) {
    const Status s = Add(type, "n", std::move(inputs), std::move(attrs));
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(OutShape(), expected);
    EXPECT_EQ(g_.tensors[Out(g_, last_)].dtype, DataType::FLOAT32);
  }

  Graph g_;
  NodeId last_ = kNoNode;
  std::mt19937 rng_{1234};
};

#define EXPECT_INVALID(status, ...)                                          \
  do {                                                                       \
    const ::qsdk::Status s_ = (status);                                      \
    EXPECT_EQ(s_.code(), ::qsdk::StatusCode::kInvalidArgument) << s_.ToString(); \
    EXPECT_THAT(s_.message(), AllOf(__VA_ARGS__));                           \
  } while (0)

// ---------------------------------------------------------------------------- Const

TEST_F(ShapeInferenceTest, ConstIsAccepted) {
  const TensorId c = Const("c", {2, 3});
  EXPECT_TRUE(InferNodeShapes(&g_, g_.tensors[c].producer).ok());
  EXPECT_EQ(g_.tensors[c].shape, (Shape{2, 3}));
}

TEST_F(ShapeInferenceTest, ConstWithWrongByteCountIsRejected) {
  const float v[5] = {};
  const TensorId c = g_.AddConstant("c", DataType::FLOAT32, {2, 3}, v, sizeof(v));
  EXPECT_INVALID(InferNodeShapes(&g_, g_.tensors[c].producer), HasSubstr("node 'c' (Const)"),
                 HasSubstr("20 bytes"), HasSubstr("6 elements"));
}

TEST_F(ShapeInferenceTest, ConstWithoutDataIsRejected) {
  const NodeId n = AddOp(&g_, NodeType::kConst, "c", {});
  EXPECT_INVALID(InferNodeShapes(&g_, n), HasSubstr("has no data"));
}

TEST_F(ShapeInferenceTest, ConstWithDynamicShapeIsRejected) {
  const float v[3] = {};
  const TensorId c = g_.AddConstant("c", DataType::FLOAT32, {-1, 3}, v, sizeof(v));
  EXPECT_INVALID(InferNodeShapes(&g_, g_.tensors[c].producer), HasSubstr("fully defined"));
}

TEST_F(ShapeInferenceTest, ConstOfOtherTypeIsRejected) {
  // An integer constant may wait for the parameters a Dequantize gives it (explicit
  // quantization), and FLOAT16 / BFLOAT16 constants are float storage.
  const int32_t v[2] = {1, 2};
  const TensorId c = g_.AddConstant("ci", DataType::INT32, {2}, v, sizeof(v));
  EXPECT_TRUE(InferNodeShapes(&g_, g_.tensors[c].producer).ok());
  const uint16_t h[2] = {1, 2};
  const TensorId f = g_.AddConstant("ch", DataType::FLOAT16, {2}, h, sizeof(h));
  EXPECT_TRUE(InferNodeShapes(&g_, g_.tensors[f].producer).ok());
  // A precision name is not a storage type: rejected naming the allowed ones.
  const uint8_t q[2] = {1, 2};
  const TensorId p = g_.AddConstant("cq", DataType::QINT8, {2}, q, sizeof(q));
  EXPECT_INVALID(InferNodeShapes(&g_, g_.tensors[p].producer), HasSubstr("'cq'"),
                 HasSubstr("QINT8"), HasSubstr("FLOAT32"));
  // With valid parameters an INT32 bias constant is accepted; a zero scale is not.
  g_.tensors[c].quant.scales = {0.5f};
  g_.tensors[c].quant.zero_points = {0};
  EXPECT_TRUE(InferNodeShapes(&g_, g_.tensors[c].producer).ok());
  g_.tensors[c].quant.scales = {0.0f};
  EXPECT_INVALID(InferNodeShapes(&g_, g_.tensors[c].producer), HasSubstr("scale[0] = 0"),
                 HasSubstr("finite and > 0"));
}

// ---------------------------------------------------------------------------- Common

TEST_F(ShapeInferenceTest, NonFloatInputIsRejectedNamingTensorAndType) {
  const TensorId x = Input("x", {1, 4});
  g_.tensors[x].dtype = DataType::INT8;
  EXPECT_INVALID(Add(NodeType::kActivation, "act", {x}, ActivationAttrs(ActivationType::kRelu)),
                 HasSubstr("node 'act' (Activation)"), HasSubstr("input 0 'x'"),
                 HasSubstr("INT8"), HasSubstr("FLOAT32"));
}

TEST_F(ShapeInferenceTest, WrongInputCountIsRejected) {
  const TensorId x = Input("x", {1, 4});
  EXPECT_INVALID(Add(NodeType::kActivation, "act", {x, x}, ActivationAttrs(ActivationType::kRelu)),
                 HasSubstr("2 input slots"), HasSubstr("exactly 1"));
  EXPECT_INVALID(Add(NodeType::kElementwise, "add", {x}, ElementwiseAttrs(ElementwiseOp::kAdd)),
                 HasSubstr("exactly 2"));
  EXPECT_INVALID(Add(NodeType::kConcat, "cat", {}, AxisAttrs(0)), HasSubstr("at least 1"));
  EXPECT_INVALID(Add(NodeType::kBatchNorm, "bn", {x, x}, BatchNormAttrs()),
                 HasSubstr("exactly 5"));
  EXPECT_INVALID(Add(NodeType::kConv, "conv", {x}, ConvAttrs()), HasSubstr("2 to 3"));
}

TEST_F(ShapeInferenceTest, MissingRequiredInputIsRejected) {
  const TensorId x = Input("x", {1, 4});
  EXPECT_INVALID(Add(NodeType::kElementwise, "add", {x, kNoTensor},
                     ElementwiseAttrs(ElementwiseOp::kAdd)),
                 HasSubstr("input 1 is missing"));
  const TensorId w = Const("w", {2, 4});
  EXPECT_INVALID(Add(NodeType::kFullyConnected, "fc", {kNoTensor, w}, FcAttrs()),
                 HasSubstr("input 0 is missing"));
}

TEST_F(ShapeInferenceTest, OutOfRangeIdsAreRejected) {
  const TensorId x = Input("x", {1, 4});
  EXPECT_INVALID(Add(NodeType::kActivation, "act", {42}, ActivationAttrs(ActivationType::kRelu)),
                 HasSubstr("tensor #42"));
  NodeId n = AddOp(&g_, NodeType::kActivation, "act2", {x}, ActivationAttrs(ActivationType::kRelu));
  g_.nodes[n].outputs = {99};
  EXPECT_INVALID(InferNodeShapes(&g_, n), HasSubstr("output 0 refers to tensor #99"));
  EXPECT_FALSE(InferNodeShapes(&g_, 1000).ok());
  EXPECT_FALSE(InferNodeShapes(&g_, -1).ok());
}

TEST_F(ShapeInferenceTest, NodeReadingItsOwnOutputIsRejected) {
  const TensorId x = Input("x", {2});
  const NodeId n = AddOp(&g_, NodeType::kElementwise, "add", {x, x},
                         ElementwiseAttrs(ElementwiseOp::kAdd));
  g_.nodes[n].inputs[1] = Out(g_, n);
  EXPECT_INVALID(InferNodeShapes(&g_, n), HasSubstr("is also its input 1"));
}

TEST_F(ShapeInferenceTest, OutputHoldingDataIsRejectedForComputeNodes) {
  const TensorId x = Input("x", {2});
  const NodeId n = AddOp(&g_, NodeType::kActivation, "act", {x},
                         ActivationAttrs(ActivationType::kRelu));
  const float v[2] = {1.0f, 2.0f};
  g_.tensors[Out(g_, n)].data = std::make_shared<const AlignedBuffer>(v, sizeof(v));
  EXPECT_INVALID(InferNodeShapes(&g_, n), HasSubstr("only a Const node may produce a constant"));
}

TEST_F(ShapeInferenceTest, BadExtentsAreRejected) {
  const TensorId x = Input("x", {1, 0, 3});
  EXPECT_INVALID(Add(NodeType::kActivation, "act", {x}, ActivationAttrs(ActivationType::kRelu)),
                 HasSubstr("[1,0,3]"), HasSubstr(">= 1 or -1"));
  const TensorId y = Input("y", {-2});
  EXPECT_INVALID(Add(NodeType::kActivation, "act", {y}, ActivationAttrs(ActivationType::kRelu)),
                 HasSubstr("[-2]"));
  const int64_t big = int64_t{1} << 40;
  const TensorId z = Input("z", {big, big});
  EXPECT_INVALID(Add(NodeType::kActivation, "act", {z}, ActivationAttrs(ActivationType::kRelu)),
                 HasSubstr("overflows int64"));
  // Overflow is detected even next to a dynamic extent.
  const TensorId zd = Input("zd", {-1, big, big});
  EXPECT_INVALID(Add(NodeType::kActivation, "act", {zd}, ActivationAttrs(ActivationType::kRelu)),
                 HasSubstr("overflows int64"));
}

TEST_F(ShapeInferenceTest, MultipleOutputsAreRejected) {
  const TensorId x = Input("x", {2});
  const NodeId n = AddOp(&g_, NodeType::kActivation, "act", {x},
                         ActivationAttrs(ActivationType::kRelu));
  Tensor extra;
  extra.name = "extra";
  const TensorId e = g_.AddTensor(extra);
  g_.nodes[n].outputs.push_back(e);
  EXPECT_INVALID(InferNodeShapes(&g_, n), HasSubstr("2 outputs"));
}

TEST_F(ShapeInferenceTest, WrongAttributeTypeIsRejected) {
  const TensorId x = Input("x", {2, 3});
  AttrMap a = AxisAttrs(0);
  a.SetFloat(attr::kAxis, 1.0);
  EXPECT_INVALID(Add(NodeType::kSoftmax, "sm", {x}, a), HasSubstr("'axis' is not an integer"));
}

// ---------------------------------------------------------------------------- Conv

TEST_F(ShapeInferenceTest, ConvBasic) {
  const TensorId x = Input("x", {2, 3, 32, 32});
  const TensorId w = Const("w", {8, 3, 3, 3});
  const TensorId b = Const("b", {8});
  ExpectShape(NodeType::kConv, {x, w, b}, ConvAttrs({1, 1}, {1, 1, 1, 1}), {2, 8, 32, 32});
}

TEST_F(ShapeInferenceTest, ConvStridesPadsDilationsAsymmetric) {
  const TensorId x = Input("x", {1, 4, 17, 20});
  const TensorId w = Const("w", {6, 4, 3, 5});
  // H: (17 + 0 + 1 - (2*2+1)) / 2 + 1 = 13/2 + 1 = 7; W: (20 + 2 + 3 - (1*4+1)) / 3 + 1 = 7.
  ExpectShape(NodeType::kConv, {x, w, kNoTensor}, ConvAttrs({2, 3}, {0, 1, 2, 3}, {2, 1}),
              {1, 6, 7, 7});
}

TEST_F(ShapeInferenceTest, ConvGroupedAndDepthwise) {
  const TensorId x = Input("x", {1, 8, 10, 10});
  const TensorId w = Const("w", {12, 2, 3, 3});
  ExpectShape(NodeType::kConv, {x, w}, ConvAttrs({1, 1}, {0, 0, 0, 0}, {1, 1}, 4),
              {1, 12, 8, 8});
  const TensorId wd = Const("wd", {8, 1, 3, 3});
  ExpectShape(NodeType::kConv, {x, wd}, ConvAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 8),
              {1, 8, 10, 10});
}

TEST_F(ShapeInferenceTest, ConvDynamicBatchAndSpatial) {
  const TensorId x = Input("x", {-1, 3, 16, 16});
  const TensorId w = Const("w", {4, 3, 3, 3});
  ExpectShape(NodeType::kConv, {x, w}, ConvAttrs(), {-1, 4, 14, 14});
  const TensorId y = Input("y", {-1, 3, -1, 16});
  ExpectShape(NodeType::kConv, {y, w}, ConvAttrs(), {-1, 4, -1, 14});
}

TEST_F(ShapeInferenceTest, ConvFilterRankMessage) {
  const TensorId x = Input("x", {1, 3, 8, 8});
  const TensorId w = Const("w", {8, 3, 3});
  EXPECT_INVALID(Add(NodeType::kConv, "c1", {x, w}, ConvAttrs()),
                 HasSubstr("node 'c1' (Conv): input 1 'w' has shape [8,3,3]; a filter needs "
                           "rank 4 [OC, C/group, KH, KW]"));
}

TEST_F(ShapeInferenceTest, ConvInvalidCases) {
  const TensorId x = Input("x", {1, 6, 8, 8});
  const TensorId w = Const("w", {8, 6, 3, 3});
  const TensorId x3 = Input("x3", {1, 6, 8});
  EXPECT_INVALID(Add(NodeType::kConv, "c", {x3, w}, ConvAttrs()), HasSubstr("rank 4 [N, C, H, W]"));
  // Channel mismatch.
  const TensorId w5 = Const("w5", {8, 5, 3, 3});
  EXPECT_INVALID(Add(NodeType::kConv, "c", {x, w5}, ConvAttrs()), HasSubstr("input 1 'w5'"),
                 HasSubstr("dim 1 must be 6"));
  // Group does not divide C / OC.
  EXPECT_INVALID(Add(NodeType::kConv, "c", {x, w}, ConvAttrs({1, 1}, {0, 0, 0, 0}, {1, 1}, 4)),
                 HasSubstr("not divisible by group = 4"));
  const TensorId w7 = Const("w7", {7, 2, 3, 3});
  EXPECT_INVALID(Add(NodeType::kConv, "c", {x, w7}, ConvAttrs({1, 1}, {0, 0, 0, 0}, {1, 1}, 3)),
                 HasSubstr("7 output channels are not divisible by group = 3"));
  EXPECT_INVALID(Add(NodeType::kConv, "c", {x, w}, ConvAttrs({1, 1}, {0, 0, 0, 0}, {1, 1}, 0)),
                 HasSubstr("'group' = 0"));
  // Bias length.
  const TensorId b = Const("b", {7});
  EXPECT_INVALID(Add(NodeType::kConv, "c", {x, w, b}, ConvAttrs()), HasSubstr("input 2 'b'"),
                 HasSubstr("needs shape [8]"));
  // Attributes out of range.
  EXPECT_INVALID(Add(NodeType::kConv, "c", {x, w}, ConvAttrs({0, 1})),
                 HasSubstr("attribute 'strides' = [0,1]; each stride must be >= 1"));
  EXPECT_INVALID(Add(NodeType::kConv, "c", {x, w}, ConvAttrs({1, 1}, {0, -1, 0, 0})),
                 HasSubstr("each pad must be >= 0"));
  EXPECT_INVALID(Add(NodeType::kConv, "c", {x, w}, ConvAttrs({1, 1}, {0, 0, 0})),
                 HasSubstr("needs 4 values"));
  EXPECT_INVALID(Add(NodeType::kConv, "c", {x, w}, ConvAttrs({1, 1}, {0, 0, 0, 0}, {1, 0})),
                 HasSubstr("each dilation must be >= 1"));
  AttrMap missing = ConvAttrs();
  missing.Erase(attr::kDilations);
  EXPECT_INVALID(Add(NodeType::kConv, "c", {x, w}, missing),
                 HasSubstr("attribute 'dilations' is missing"));
  // Output extent < 1.
  const TensorId big = Const("big", {8, 6, 9, 3});
  EXPECT_INVALID(Add(NodeType::kConv, "c", {x, big}, ConvAttrs()),
                 HasSubstr("output height must be >= 1"));
  EXPECT_INVALID(Add(NodeType::kConv, "c", {x, w}, ConvAttrs({1, 1}, {0, 0, 0, 0}, {5, 1})),
                 HasSubstr("dilated filter height 11"));
  // Non-constant filter and bias.
  const TensorId wx = Input("wx", {8, 6, 3, 3});
  EXPECT_INVALID(Add(NodeType::kConv, "c", {x, wx}, ConvAttrs()),
                 HasSubstr("input 1 'wx' (filter) is not a constant"));
  const TensorId bx = Input("bx", {8});
  EXPECT_INVALID(Add(NodeType::kConv, "c", {x, w, bx}, ConvAttrs()),
                 HasSubstr("(bias) is not a constant"));
  // Hostile pads overflow.
  const int64_t huge = std::numeric_limits<int64_t>::max() - 2;
  EXPECT_INVALID(Add(NodeType::kConv, "c", {x, w}, ConvAttrs({1, 1}, {huge, huge, 0, 0})),
                 HasSubstr("overflows int64"));
}

TEST_F(ShapeInferenceTest, FusedActivationAttributes) {
  const TensorId x = Input("x", {1, 3, 4, 4});
  const TensorId w = Const("w", {2, 3, 1, 1});
  AttrMap a = ConvAttrs();
  a.SetInt(attr::kFusedActivation, kMaxActivationType + 1);
  EXPECT_INVALID(Add(NodeType::kConv, "c", {x, w}, a), HasSubstr("'fused_activation' = 9"));
  a.SetInt(attr::kFusedActivation, static_cast<int64_t>(ActivationType::kClip));
  a.SetFloat(attr::kFusedAlpha, 2.0);
  a.SetFloat(attr::kFusedBeta, 1.0);
  EXPECT_INVALID(Add(NodeType::kConv, "c", {x, w}, a), HasSubstr("Clip bounds"));
  a.SetFloat(attr::kFusedBeta, 3.0);
  EXPECT_TRUE(Add(NodeType::kConv, "c", {x, w}, a).ok());
  // Absent fused activation means none.
  AttrMap none = ConvAttrs();
  none.Erase(attr::kFusedActivation);
  EXPECT_TRUE(Add(NodeType::kConv, "c", {x, w}, none).ok());
}

// ---------------------------------------------------------------------------- FullyConnected

TEST_F(ShapeInferenceTest, FullyConnected) {
  const TensorId x = Input("x", {-1, 16});
  const TensorId w = Const("w", {10, 16});
  const TensorId b = Const("b", {10});
  ExpectShape(NodeType::kFullyConnected, {x, w, b}, FcAttrs(), {-1, 10});
  const TensorId x4 = Input("x4", {2, 4, 2, 2});
  ExpectShape(NodeType::kFullyConnected, {x4, w, kNoTensor}, FcAttrs(), {2, 10});
  ExpectShape(NodeType::kFullyConnected, {x4, w}, FcAttrs(), {2, 10});
}

TEST_F(ShapeInferenceTest, FullyConnectedInvalid) {
  const TensorId x = Input("x", {2, 16});
  const TensorId w = Const("w", {10, 15});
  EXPECT_INVALID(Add(NodeType::kFullyConnected, "fc", {x, w}, FcAttrs()),
                 HasSubstr("node 'fc' (FullyConnected)"), HasSubstr("K = 16"),
                 HasSubstr("K = 15"));
  const TensorId x1 = Input("x1", {16});
  const TensorId w16 = Const("w16", {10, 16});
  EXPECT_INVALID(Add(NodeType::kFullyConnected, "fc", {x1, w16}, FcAttrs()),
                 HasSubstr("rank >= 2"));
  const TensorId w3 = Const("w3", {10, 16, 1});
  EXPECT_INVALID(Add(NodeType::kFullyConnected, "fc", {x, w3}, FcAttrs()),
                 HasSubstr("rank 2 [OC, K]"));
  const TensorId b = Const("b", {11});
  EXPECT_INVALID(Add(NodeType::kFullyConnected, "fc", {x, w16, b}, FcAttrs()),
                 HasSubstr("needs shape [10]"));
  const TensorId wx = Input("wx", {10, 16});
  EXPECT_INVALID(Add(NodeType::kFullyConnected, "fc", {x, wx}, FcAttrs()),
                 HasSubstr("(weight) is not a constant"));
}

// ---------------------------------------------------------------------------- MatMul

TEST_F(ShapeInferenceTest, MatMulShapes) {
  const TensorId a = Input("a", {2, 3, 4});
  const TensorId b = Input("b", {4, 5});
  ExpectShape(NodeType::kMatMul, {a, b}, MatMulAttrs(), {2, 3, 5});
  const TensorId bt = Input("bt", {5, 4});
  ExpectShape(NodeType::kMatMul, {a, bt}, MatMulAttrs(false, true), {2, 3, 5});
  const TensorId at = Input("at", {2, 4, 3});
  ExpectShape(NodeType::kMatMul, {at, bt}, MatMulAttrs(true, true), {2, 3, 5});
  // Batch broadcasting.
  const TensorId a4 = Input("a4", {7, 1, 3, 4});
  const TensorId b4 = Input("b4", {6, 4, 5});
  ExpectShape(NodeType::kMatMul, {a4, b4}, MatMulAttrs(), {7, 6, 3, 5});
  // Dynamic batch.
  const TensorId ad = Input("ad", {-1, 3, 4});
  ExpectShape(NodeType::kMatMul, {ad, b}, MatMulAttrs(), {-1, 3, 5});
  // Bias broadcast to the output.
  const TensorId bias = Const("bias", {5});
  ExpectShape(NodeType::kMatMul, {a, b, bias}, MatMulAttrs(), {2, 3, 5});
  const TensorId bias2 = Const("bias2", {3, 1});
  ExpectShape(NodeType::kMatMul, {a, b, bias2}, MatMulAttrs(), {2, 3, 5});
}

TEST_F(ShapeInferenceTest, MatMulInvalid) {
  const TensorId a = Input("a", {3, 4});
  const TensorId b = Input("b", {5, 6});
  EXPECT_INVALID(Add(NodeType::kMatMul, "mm", {a, b}, MatMulAttrs()),
                 HasSubstr("node 'mm' (MatMul)"), HasSubstr("inner dimensions 4 and 5"));
  const TensorId v = Input("v", {4});
  EXPECT_INVALID(Add(NodeType::kMatMul, "mm", {a, v}, MatMulAttrs()),
                 HasSubstr("rank 1 is not supported"));
  const TensorId a3 = Input("a3", {2, 3, 4});
  const TensorId b3 = Input("b3", {3, 4, 5});
  EXPECT_INVALID(Add(NodeType::kMatMul, "mm", {a3, b3}, MatMulAttrs()),
                 HasSubstr("do not broadcast"));
  const TensorId bk = Input("bk", {4, 5});
  // A bias that would grow the output.
  const TensorId bias = Const("bias", {4, 3, 5});
  EXPECT_INVALID(Add(NodeType::kMatMul, "mm", {a, bk, bias}, MatMulAttrs()),
                 HasSubstr("must broadcast to the output shape [3,5]"));
  const TensorId bias6 = Const("bias6", {6});
  EXPECT_INVALID(Add(NodeType::kMatMul, "mm", {a, bk, bias6}, MatMulAttrs()),
                 HasSubstr("must broadcast to the output"));
  AttrMap t = MatMulAttrs();
  t.SetInt(attr::kTransposeA, 2);
  EXPECT_INVALID(Add(NodeType::kMatMul, "mm", {a, bk}, t), HasSubstr("'transpose_a' = 2"));
}

// ---------------------------------------------------------------------------- Activation

TEST_F(ShapeInferenceTest, ActivationKeepsShape) {
  const TensorId x = Input("x", {-1, 3, 5});
  for (int64_t t = 1; t <= kMaxActivationType; ++t) {
    const auto type = static_cast<ActivationType>(t);
    ExpectShape(NodeType::kActivation, {x}, ActivationAttrs(type, -1.0, 1.0), {-1, 3, 5});
  }
  const TensorId s = Input("s", {});
  ExpectShape(NodeType::kActivation, {s}, ActivationAttrs(ActivationType::kTanh), {});
}

TEST_F(ShapeInferenceTest, ActivationInvalid) {
  const TensorId x = Input("x", {2});
  EXPECT_INVALID(Add(NodeType::kActivation, "a", {x}, ActivationAttrs(ActivationType::kNone)),
                 HasSubstr("'activation' = 0"));
  EXPECT_INVALID(Add(NodeType::kActivation, "a", {x},
                     ActivationAttrs(static_cast<ActivationType>(kMaxActivationType + 1))),
                 HasSubstr("'activation' = 9"));
  EXPECT_INVALID(Add(NodeType::kActivation, "a", {x},
                     ActivationAttrs(ActivationType::kClip, 1.0, 0.0)),
                 HasSubstr("Clip bounds 'alpha' = 1 > 'beta' = 0"));
  AttrMap leaky = ActivationAttrs(ActivationType::kLeakyRelu);
  leaky.Erase(attr::kAlpha);
  EXPECT_INVALID(Add(NodeType::kActivation, "a", {x}, leaky),
                 HasSubstr("attribute 'alpha' is missing"));
  AttrMap nan = ActivationAttrs(ActivationType::kRelu);
  nan.SetFloat(attr::kAlpha, std::numeric_limits<double>::quiet_NaN());
  EXPECT_INVALID(Add(NodeType::kActivation, "a", {x}, nan), HasSubstr("must be finite"));
  AttrMap missing;
  EXPECT_INVALID(Add(NodeType::kActivation, "a", {x}, missing),
                 HasSubstr("attribute 'activation' is missing"));
}

// ---------------------------------------------------------------------------- Pool

TEST_F(ShapeInferenceTest, PoolShapes) {
  const TensorId x = Input("x", {-1, 3, 7, 7});
  ExpectShape(NodeType::kPool, {x}, PoolAttrs(PoolMode::kMax, {3, 3}, {2, 2}), {-1, 3, 3, 3});
  ExpectShape(NodeType::kPool, {x}, PoolAttrs(PoolMode::kAverage, {3, 3}, {2, 2}, {1, 1, 1, 1}),
              {-1, 3, 4, 4});
  // Ceil mode: (7 - 2) / 2 = 2.5 -> 3 + 1 = 4; last window starts at 6 < 7, kept.
  ExpectShape(NodeType::kPool, {x}, PoolAttrs(PoolMode::kMax, {2, 2}, {2, 2}, {0, 0, 0, 0}, false,
                                              true),
              {-1, 3, 4, 4});
  // Same without ceil mode: floor(2.5) + 1 = 3.
  ExpectShape(NodeType::kPool, {x}, PoolAttrs(PoolMode::kMax, {2, 2}, {2, 2}), {-1, 3, 3, 3});
  ExpectShape(NodeType::kPool, {x}, PoolAttrs(PoolMode::kGlobalAverage), {-1, 3, 1, 1});
  ExpectShape(NodeType::kPool, {x}, PoolAttrs(PoolMode::kGlobalMax), {-1, 3, 1, 1});
  const TensorId xd = Input("xd", {1, 3, -1, 9});
  ExpectShape(NodeType::kPool, {xd}, PoolAttrs(PoolMode::kMax, {3, 3}, {3, 3}), {1, 3, -1, 3});
}

TEST_F(ShapeInferenceTest, PoolCeilModeDropsWindowStartingInPadding) {
  // H = 5, kernel 2, stride 2, pads 1/1: (5 + 2 - 2) / 2 = 2.5 -> ceil 3 + 1 = 4 windows;
  // window 3 starts at 3 * 2 = 6 >= H + top = 6 (it lies entirely in the bottom padding),
  // so it is dropped: 3.
  const TensorId x = Input("x", {1, 1, 5, 5});
  ExpectShape(NodeType::kPool, {x},
              PoolAttrs(PoolMode::kMax, {2, 2}, {2, 2}, {1, 1, 1, 1}, false, true), {1, 1, 3, 3});
}

TEST_F(ShapeInferenceTest, PoolInvalid) {
  const TensorId x = Input("x", {1, 3, 4, 4});
  EXPECT_INVALID(Add(NodeType::kPool, "p", {x}, PoolAttrs(PoolMode::kMax, {2, 2}, {1, 1},
                                                           {2, 0, 0, 0})),
                 HasSubstr("node 'p' (Pool)"), HasSubstr("each pad must be smaller than its "
                                                         "kernel extent"));
  EXPECT_INVALID(Add(NodeType::kPool, "p", {x}, PoolAttrs(PoolMode::kMax, {5, 1})),
                 HasSubstr("output height must be >= 1"));
  EXPECT_INVALID(Add(NodeType::kPool, "p", {x}, PoolAttrs(PoolMode::kMax, {0, 1})),
                 HasSubstr("each kernel extent must be >= 1"));
  EXPECT_INVALID(Add(NodeType::kPool, "p", {x}, PoolAttrs(PoolMode::kMax, {1, 1}, {1, 0})),
                 HasSubstr("each stride must be >= 1"));
  EXPECT_INVALID(Add(NodeType::kPool, "p", {x}, PoolAttrs(static_cast<PoolMode>(0))),
                 HasSubstr("'pool_mode' = 0"));
  EXPECT_INVALID(Add(NodeType::kPool, "p", {x},
                     PoolAttrs(static_cast<PoolMode>(kMaxPoolMode + 1))),
                 HasSubstr("'pool_mode' = 5"));
  AttrMap bad_ceil = PoolAttrs(PoolMode::kAverage, {2, 2});
  bad_ceil.SetInt(attr::kCeilMode, 3);
  EXPECT_INVALID(Add(NodeType::kPool, "p", {x}, bad_ceil), HasSubstr("'ceil_mode' = 3"));
  const TensorId x3 = Input("x3", {1, 3, 4});
  EXPECT_INVALID(Add(NodeType::kPool, "p", {x3}, PoolAttrs(PoolMode::kGlobalMax)),
                 HasSubstr("rank 4"));
}

// ---------------------------------------------------------------------------- Elementwise

TEST_F(ShapeInferenceTest, ElementwiseBroadcasting) {
  const TensorId a = Input("a", {2, 3, 4});
  const TensorId b = Input("b", {4});
  ExpectShape(NodeType::kElementwise, {a, b}, ElementwiseAttrs(ElementwiseOp::kAdd), {2, 3, 4});
  const TensorId c = Input("c", {3, 1});
  ExpectShape(NodeType::kElementwise, {c, a}, ElementwiseAttrs(ElementwiseOp::kMul), {2, 3, 4});
  const TensorId d = Input("d", {-1, 3, 4});
  ExpectShape(NodeType::kElementwise, {d, b}, ElementwiseAttrs(ElementwiseOp::kSub), {-1, 3, 4});
  // A dynamic extent against a known extent > 1 takes the known one.
  ExpectShape(NodeType::kElementwise, {d, a}, ElementwiseAttrs(ElementwiseOp::kAdd), {2, 3, 4});
  const TensorId s = Input("s", {});
  ExpectShape(NodeType::kElementwise, {s, s}, ElementwiseAttrs(ElementwiseOp::kAdd), {});
}

TEST_F(ShapeInferenceTest, ElementwiseInvalid) {
  const TensorId a = Input("a", {2, 3});
  const TensorId b = Input("b", {4});
  EXPECT_INVALID(Add(NodeType::kElementwise, "e", {a, b}, ElementwiseAttrs(ElementwiseOp::kAdd)),
                 HasSubstr("node 'e' (Elementwise)"), HasSubstr("[2,3]"), HasSubstr("[4]"),
                 HasSubstr("do not broadcast"));
  EXPECT_INVALID(Add(NodeType::kElementwise, "e", {a, a},
                     ElementwiseAttrs(static_cast<ElementwiseOp>(kMaxElementwiseOp + 1))),
                 HasSubstr("'elementwise_op' = 4"));
}

// ---------------------------------------------------------------------------- Concat

TEST_F(ShapeInferenceTest, Concat) {
  const TensorId a = Input("a", {-1, 3, 4});
  const TensorId b = Input("b", {-1, 5, 4});
  ExpectShape(NodeType::kConcat, {a, b, a}, AxisAttrs(1), {-1, 11, 4});
  ExpectShape(NodeType::kConcat, {a}, AxisAttrs(2), {-1, 3, 4});
  ExpectShape(NodeType::kConcat, {a, a}, AxisAttrs(0), {-1, 3, 4});
  const TensorId c = Input("c", {2, 3, 4});
  ExpectShape(NodeType::kConcat, {c, c}, AxisAttrs(0), {4, 3, 4});
}

TEST_F(ShapeInferenceTest, ConcatInvalid) {
  const TensorId a = Input("a", {2, 3, 4});
  const TensorId b = Input("b", {2, 5, 5});
  EXPECT_INVALID(Add(NodeType::kConcat, "cat", {a, b}, AxisAttrs(1)),
                 HasSubstr("node 'cat' (Concat)"), HasSubstr("differ on axis 2"));
  const TensorId r = Input("r", {2, 3});
  EXPECT_INVALID(Add(NodeType::kConcat, "cat", {a, r}, AxisAttrs(0)), HasSubstr("same rank"));
  EXPECT_INVALID(Add(NodeType::kConcat, "cat", {a, a}, AxisAttrs(3)),
                 HasSubstr("'axis' = 3; it must be in [0, 3)"));
  EXPECT_INVALID(Add(NodeType::kConcat, "cat", {a, a}, AxisAttrs(-1)), HasSubstr("'axis' = -1"));
}

// ---------------------------------------------------------------------------- BatchNorm

TEST_F(ShapeInferenceTest, BatchNorm) {
  const TensorId x = Input("x", {-1, 4, 5, 5});
  std::vector<TensorId> in = {x};
  for (const char* n : {"mean", "var", "scale", "bias"}) in.push_back(Const(n, {4}));
  ExpectShape(NodeType::kBatchNorm, in, BatchNormAttrs(), {-1, 4, 5, 5});
  const TensorId x2 = Input("x2", {3, 4});
  in[0] = x2;
  ExpectShape(NodeType::kBatchNorm, in, BatchNormAttrs(), {3, 4});
}

TEST_F(ShapeInferenceTest, BatchNormInvalid) {
  const TensorId x = Input("x", {1, 4, 5, 5});
  const TensorId p4 = Const("p4", {4});
  const TensorId p3 = Const("p3", {3});
  EXPECT_INVALID(Add(NodeType::kBatchNorm, "bn", {x, p4, p4, p3, p4}, BatchNormAttrs()),
                 HasSubstr("node 'bn' (BatchNorm)"), HasSubstr("input 3 'p3' (scale)"),
                 HasSubstr("C = 4"));
  EXPECT_INVALID(Add(NodeType::kBatchNorm, "bn", {x, p4, p4, p4, p4}, BatchNormAttrs(0.0)),
                 HasSubstr("'epsilon' = 0; it must be > 0"));
  EXPECT_INVALID(Add(NodeType::kBatchNorm, "bn", {x, p4, p4, p4, p4}, BatchNormAttrs(-1.0)),
                 HasSubstr("must be > 0"));
  const TensorId m = Input("m", {4});
  EXPECT_INVALID(Add(NodeType::kBatchNorm, "bn", {x, m, p4, p4, p4}, BatchNormAttrs()),
                 HasSubstr("input 1 'm' (mean) is not a constant"));
  const TensorId x1 = Input("x1", {4});
  EXPECT_INVALID(Add(NodeType::kBatchNorm, "bn", {x1, p4, p4, p4, p4}, BatchNormAttrs()),
                 HasSubstr("rank >= 2"));
}

// ---------------------------------------------------------------------------- Softmax

TEST_F(ShapeInferenceTest, Softmax) {
  const TensorId x = Input("x", {-1, 10});
  ExpectShape(NodeType::kSoftmax, {x}, AxisAttrs(1), {-1, 10});
  EXPECT_INVALID(Add(NodeType::kSoftmax, "sm", {x}, AxisAttrs(2)),
                 HasSubstr("'axis' = 2; it must be in [0, 2)"));
  const TensorId s = Input("s", {});
  EXPECT_INVALID(Add(NodeType::kSoftmax, "sm", {s}, AxisAttrs(0)), HasSubstr("scalar"));
}

// ---------------------------------------------------------------------------- Reshape

TEST_F(ShapeInferenceTest, ReshapeStatic) {
  const TensorId x = Input("x", {2, 3, 4});
  ExpectShape(NodeType::kReshape, {x}, ReshapeAttrs({6, 4}), {6, 4});
  ExpectShape(NodeType::kReshape, {x}, ReshapeAttrs({0, -1}), {2, 12});
  ExpectShape(NodeType::kReshape, {x}, ReshapeAttrs({-1}), {24});
  ExpectShape(NodeType::kReshape, {x}, ReshapeAttrs({0, 0, 2, 2}), {2, 3, 2, 2});
  const TensorId one = Input("one", {1, 1});
  ExpectShape(NodeType::kReshape, {one}, ReshapeAttrs({}), {});
}

TEST_F(ShapeInferenceTest, ReshapeDynamic) {
  // The dynamic batch copied by 0 cancels out: -1 is inferred statically.
  const TensorId x = Input("x", {-1, 3, 4, 4});
  ExpectShape(NodeType::kReshape, {x}, ReshapeAttrs({0, -1}), {-1, 48});
  ExpectShape(NodeType::kReshape, {x}, ReshapeAttrs({0, 12, 4}), {-1, 12, 4});
  // The dynamic extent is not copied: -1 stays dynamic (inferred at run time).
  ExpectShape(NodeType::kReshape, {x}, ReshapeAttrs({-1, 16}), {-1, 16});
  // No -1 and the dynamic extent not copied: fixed output, checked at run time.
  ExpectShape(NodeType::kReshape, {x}, ReshapeAttrs({3, 16}), {3, 16});
}

TEST_F(ShapeInferenceTest, ReshapeInvalid) {
  const TensorId x = Input("x", {2, 3, 4});
  EXPECT_INVALID(Add(NodeType::kReshape, "r", {x}, ReshapeAttrs({5, 5})),
                 HasSubstr("node 'r' (Reshape)"), HasSubstr("preserve the element count"));
  EXPECT_INVALID(Add(NodeType::kReshape, "r", {x}, ReshapeAttrs({-1, -1})),
                 HasSubstr("at most one extent may be -1"));
  EXPECT_INVALID(Add(NodeType::kReshape, "r", {x}, ReshapeAttrs({5, -1})),
                 HasSubstr("24 is not divisible by 5"));
  EXPECT_INVALID(Add(NodeType::kReshape, "r", {x}, ReshapeAttrs({0, 0, 0, 0})),
                 HasSubstr("extent 3 is 0"));
  EXPECT_INVALID(Add(NodeType::kReshape, "r", {x}, ReshapeAttrs({-2, 12})),
                 HasSubstr("each extent must be >= 1, 0 (copy) or -1 (infer)"));
  const TensorId xd = Input("xd", {-1, 3, 4});
  EXPECT_INVALID(Add(NodeType::kReshape, "r", {xd}, ReshapeAttrs({0, 5})),
                 HasSubstr("preserve the element count"));
  EXPECT_INVALID(Add(NodeType::kReshape, "r", {x}, AttrMap{}),
                 HasSubstr("attribute 'shape' is missing"));
}

// ---------------------------------------------------------------------------- Flatten

TEST_F(ShapeInferenceTest, Flatten) {
  const TensorId x = Input("x", {2, 3, 4, 5});
  ExpectShape(NodeType::kFlatten, {x}, AxisAttrs(1), {2, 60});
  ExpectShape(NodeType::kFlatten, {x}, AxisAttrs(0), {1, 120});
  ExpectShape(NodeType::kFlatten, {x}, AxisAttrs(4), {120, 1});
  ExpectShape(NodeType::kFlatten, {x}, AxisAttrs(2), {6, 20});
  const TensorId xd = Input("xd", {-1, 3, 4});
  ExpectShape(NodeType::kFlatten, {xd}, AxisAttrs(1), {-1, 12});
  ExpectShape(NodeType::kFlatten, {xd}, AxisAttrs(0), {1, -1});
  EXPECT_INVALID(Add(NodeType::kFlatten, "f", {x}, AxisAttrs(5)),
                 HasSubstr("'axis' = 5; it must be in [0, 4]"));
}

// ---------------------------------------------------------------------------- Transpose

TEST_F(ShapeInferenceTest, Transpose) {
  const TensorId x = Input("x", {-1, 3, 4, 5});
  ExpectShape(NodeType::kTranspose, {x}, TransposeAttrs({0, 2, 3, 1}), {-1, 4, 5, 3});
  ExpectShape(NodeType::kTranspose, {x}, TransposeAttrs({3, 2, 1, 0}), {5, 4, 3, -1});
  EXPECT_INVALID(Add(NodeType::kTranspose, "t", {x}, TransposeAttrs({0, 1, 2})),
                 HasSubstr("node 't' (Transpose)"), HasSubstr("has 3 entries"));
  EXPECT_INVALID(Add(NodeType::kTranspose, "t", {x}, TransposeAttrs({0, 1, 1, 2})),
                 HasSubstr("permutation of 0..3"));
  EXPECT_INVALID(Add(NodeType::kTranspose, "t", {x}, TransposeAttrs({0, 1, 2, 4})),
                 HasSubstr("permutation of 0..3"));
}

// ---------------------------------------------------------------------------- InferShapes

TEST_F(ShapeInferenceTest, InferShapesPropagatesThroughAGraph) {
  const TensorId x = Input("x", {-1, 3, 8, 8});
  const TensorId w = Const("w", {4, 3, 3, 3});
  const NodeId conv = AddOp(&g_, NodeType::kConv, "conv", {x, w}, ConvAttrs({1, 1}, {1, 1, 1, 1}));
  const NodeId pool = AddOp(&g_, NodeType::kPool, "pool", {Out(g_, conv)},
                            PoolAttrs(PoolMode::kMax, {2, 2}, {2, 2}));
  const NodeId flat = AddOp(&g_, NodeType::kFlatten, "flat", {Out(g_, pool)}, AxisAttrs(1));
  const TensorId fw = Const("fw", {10, 64});
  const NodeId fc = AddOp(&g_, NodeType::kFullyConnected, "fc", {Out(g_, flat), fw}, FcAttrs());
  g_.outputs = {Out(g_, fc)};
  ASSERT_TRUE(InferShapes(&g_).ok());
  EXPECT_EQ(g_.tensors[Out(g_, pool)].shape, (Shape{-1, 4, 4, 4}));
  EXPECT_EQ(g_.tensors[Out(g_, fc)].shape, (Shape{-1, 10}));

  // Re-running with a concrete batch (as the runtime does) makes every shape concrete.
  g_.tensors[x].shape = {5, 3, 8, 8};
  ASSERT_TRUE(InferShapes(&g_).ok());
  EXPECT_EQ(g_.tensors[Out(g_, fc)].shape, (Shape{5, 10}));

  // A shape that no longer fits fails naming the node.
  g_.tensors[x].shape = {5, 3, 8, 10};
  EXPECT_INVALID(InferShapes(&g_), HasSubstr("node 'fc' (FullyConnected)"));
}

TEST_F(ShapeInferenceTest, InferShapesReportsCycle) {
  const TensorId x = Input("x", {2});
  const NodeId a =
      AddOp(&g_, NodeType::kActivation, "a", {x}, ActivationAttrs(ActivationType::kRelu));
  const NodeId b = AddOp(&g_, NodeType::kActivation, "b", {Out(g_, a)},
                         ActivationAttrs(ActivationType::kRelu));
  g_.nodes[a].inputs[0] = Out(g_, b);
  EXPECT_INVALID(InferShapes(&g_), HasSubstr("cycle"));
}

}  // namespace
}  // namespace qsdk::graph
