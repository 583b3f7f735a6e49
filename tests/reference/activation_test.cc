// Activation functions at hand-chosen points, including negative inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "reference/ops.h"
#include "reference_test_util.h"

namespace qsdk::reference {
namespace {

using namespace testing;  // NOLINT(build/namespaces)

// Expected values below have 8 significant digits (from the formulas in docs/ops.md); a
// float result of magnitude <= 7 is within 1e-6 of them.
constexpr float kTol = 1e-6f;

const std::vector<float> kPoints = {-2.0f, -0.5f, 0.0f, 1.0f, 7.0f};

void ExpectActivation(ActivationType type, float alpha, float beta,
                      const std::vector<float>& expected) {
  const Tensor x = MakeTensor({1, 5}, kPoints);
  Tensor y;
  const Status st = Activation(x, type, alpha, beta, &y);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ExpectTensorNear(y, {1, 5}, expected, kTol);
  // The element function agrees with the op.
  for (size_t i = 0; i < kPoints.size(); ++i) {
    EXPECT_NEAR(ApplyActivation(type, kPoints[i], alpha, beta), expected[i], kTol);
  }
}

TEST(ActivationTest, Relu) { ExpectActivation(ActivationType::kRelu, 0, 0, {0, 0, 0, 1, 7}); }

TEST(ActivationTest, Relu6) { ExpectActivation(ActivationType::kRelu6, 0, 0, {0, 0, 0, 1, 6}); }

TEST(ActivationTest, ClipUsesAlphaAndBetaAsBounds) {
  ExpectActivation(ActivationType::kClip, -1.0f, 2.0f, {-1, -0.5f, 0, 1, 2});
}

TEST(ActivationTest, Sigmoid) {
  // 1 / (1 + exp(-x)).
  ExpectActivation(ActivationType::kSigmoid, 0, 0,
                   {0.11920292f, 0.37754067f, 0.5f, 0.73105858f, 0.99908895f});
}

TEST(ActivationTest, Tanh) {
  ExpectActivation(ActivationType::kTanh, 0, 0,
                   {-0.96402758f, -0.46211716f, 0.0f, 0.76159416f, 0.99999834f});
}

TEST(ActivationTest, LeakyReluUsesAlphaAsSlope) {
  ExpectActivation(ActivationType::kLeakyRelu, 0.1f, 0, {-0.2f, -0.05f, 0, 1, 7});
}

TEST(ActivationTest, HardSwish) {
  // x * min(max(x + 3, 0), 6) / 6: -2*1/6, -0.5*2.5/6, 0, 1*4/6, 7*6/6.
  ExpectActivation(ActivationType::kHardSwish, 0, 0,
                   {-0.33333333f, -0.20833333f, 0.0f, 0.66666667f, 7.0f});
  // Below -3 the gate is 0.
  EXPECT_EQ(ApplyActivation(ActivationType::kHardSwish, -4.0f, 0, 0), 0.0f);
}

TEST(ActivationTest, Gelu) {
  // 0.5 * x * (1 + erf(x / sqrt(2))) = x * Phi(x): Phi(-2) = 0.02275013,
  // Phi(-0.5) = 0.30853754, Phi(1) = 0.84134475, Phi(7) = 1 - 1.3e-12.
  ExpectActivation(ActivationType::kGelu, 0, 0,
                   {-0.04550026f, -0.15426877f, 0.0f, 0.84134475f, 7.0f});
}

TEST(ActivationTest, NoneIsIdentityForFusedUse) {
  for (float x : kPoints) EXPECT_EQ(ApplyActivation(ActivationType::kNone, x, 0, 0), x);
}

TEST(ActivationTest, SigmoidSaturatesWithoutNan) {
  EXPECT_EQ(ApplyActivation(ActivationType::kSigmoid, -1000.0f, 0, 0), 0.0f);
  EXPECT_EQ(ApplyActivation(ActivationType::kSigmoid, 1000.0f, 0, 0), 1.0f);
}

TEST(ActivationTest, RejectsNoneInvalidTypeAndBadClip) {
  const Tensor x = MakeTensor({2}, {1, 2});
  Tensor y;
  EXPECT_FALSE(Activation(x, ActivationType::kNone, 0, 0, &y).ok());
  EXPECT_FALSE(Activation(x, static_cast<ActivationType>(99), 0, 0, &y).ok());
  const Status st = Activation(x, ActivationType::kClip, 3.0f, 1.0f, &y);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("alpha must be <= beta"), std::string::npos) << st.message();
}

TEST(ActivationTest, RejectsNonFloatInput) {
  int32_t data[2] = {1, 2};
  const Tensor x = Tensor::Wrap(DataType::INT32, Dims({2}), data);
  Tensor y;
  const Status st = Activation(x, ActivationType::kRelu, 0, 0, &y);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("INT32"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace qsdk::reference
