// ONNX's node tests for the supported ops (conformance.h): each one must pass (parsed,
// built FP32, run, outputs within rtol 1e-3 / atol 1e-5 of ONNX's expected outputs),
// except the ones listed below, which use a feature qsdk does not support and must be
// rejected by the parser with kUnimplemented / kVersionMismatch and a message. A test
// that changes category fails, so both regressions and new support are noticed (then
// update this list and the table in docs/onnx_support.md).
#include "onnx/conformance.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

namespace qsdk::onnx_test {
namespace {

const std::set<std::string>& ExpectedUnsupported() {
  static const std::set<std::string> tests = {
      // Integer, sequence and optional graph inputs / outputs (qsdk networks are FLOAT).
      "test_add_uint8",
      "test_sub_uint8",
      "test_mul_uint8",
      "test_maxpool_2d_uint8",
      "test_clip_default_int8_inbounds",
      "test_clip_default_int8_max",
      "test_clip_default_int8_min",
      "test_dequantizelinear",
      "test_dequantizelinear_axis",
      "test_quantizelinear",
      "test_quantizelinear_axis",
      "test_identity_opt",
      "test_identity_sequence",
      // 3-D pooling, pooling with dilations, MaxPool's Indices output.
      "test_averagepool_3d_default",
      "test_maxpool_3d_default",
      "test_maxpool_2d_dilations",
      "test_maxpool_with_argmax_2d_precomputed_pads",
      "test_maxpool_with_argmax_2d_precomputed_strides",
      // Training-mode BatchNormalization and Dropout's mask output.
      "test_batchnorm_epsilon_training_mode",
      "test_batchnorm_example_training_mode",
      "test_dropout_default_mask",
      "test_dropout_default_mask_ratio",
      // A graph output that is a constant; an empty tensor (allowzero).
      "test_constant",
      "test_reshape_allowzero_reordered",
      // Opset 1 models (outside 11..17).
      "test_globalaveragepool",
      "test_globalaveragepool_precomputed",
      "test_globalmaxpool",
      "test_globalmaxpool_precomputed",
      // Erf outside the Gelu pattern; softmax written out with ReduceMax, Exp, ReduceSum, Div.
      "test_erf",
      "test_softmax_axis_0_expanded",
      "test_softmax_axis_1_expanded",
      "test_softmax_axis_2_expanded",
      "test_softmax_default_axis_expanded",
      "test_softmax_example_expanded",
      "test_softmax_large_number_expanded",
      "test_softmax_negative_axis_expanded",
  };
  return tests;
}

TEST(OnnxConformanceSetupTest, TestDataIsInstalled) {
  ASSERT_TRUE(std::filesystem::is_directory(ConformanceDataDir()))
      << ConformanceDataDir() << " is missing: install libonnx-testdata (scripts/install_deps.sh)";
  const std::vector<std::string> tests = ConformanceTests();
  // 155 node tests of the supported ops in ONNX 1.12's test data.
  EXPECT_GE(tests.size(), 150u);
  for (const std::string& name : ExpectedUnsupported()) {
    EXPECT_TRUE(std::find(tests.begin(), tests.end(), name) != tests.end())
        << name << " is listed as unsupported but is not in the test data";
  }
}

class OnnxConformanceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(OnnxConformanceTest, MatchesOnnx) {
  const ConformanceResult r = RunConformanceTest(GetParam());
  if (ExpectedUnsupported().count(GetParam())) {
    EXPECT_EQ(r.outcome, ConformanceResult::Outcome::kUnsupported)
        << GetParam() << " was expected to be rejected as unsupported; " << r.detail;
    EXPECT_FALSE(r.detail.empty());
  } else {
    EXPECT_EQ(r.outcome, ConformanceResult::Outcome::kPassed) << GetParam() << ": " << r.detail;
  }
}

INSTANTIATE_TEST_SUITE_P(Node, OnnxConformanceTest, ::testing::ValuesIn(ConformanceTests()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });
// Without the test data there are no instances; TestDataIsInstalled reports it.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(OnnxConformanceTest);

}  // namespace
}  // namespace qsdk::onnx_test
