// The conformance suite of the ONNX importer: ONNX's own node tests (Debian's
// libonnx-testdata, QSDK_ONNX_TESTDATA_DIR) for every op the importer supports, each
// parsed, built FP32 and run on its test_data_set_0 inputs, the outputs compared with
// the expected ones.
//
// A node test feeds every operand as a graph input, including those qsdk needs as
// constants (Conv weights, Reshape's shape, Clip's bounds, BatchNormalization's
// parameters). So a test with several inputs is run in two forms: as given, and with
// inputs 1.. turned into initializers holding the test's data (the form real models
// have, which also exercises the importer's constant paths, e.g. Gemm -> FullyConnected)
// with input 0 fed at run time. A test passes when at least one form is accepted and
// every accepted form matches; it is unsupported when the parser rejects every form with
// kUnimplemented / kVersionMismatch; anything else is a failure.
#pragma once

#include <string>
#include <vector>

namespace qsdk::onnx_test {

struct ConformanceResult {
  enum class Outcome { kPassed, kUnsupported, kFailed };
  std::string test;
  Outcome outcome = Outcome::kFailed;
  std::vector<std::string> passed_forms;  // "as given", "inputs 1.. as initializers"
  std::vector<std::string> rejections;    // per rejected form: "<form>: <parser message>"
  std::string detail;                     // why unsupported / failed
};

// Relative and absolute tolerance of the comparison |got - want| <= atol + rtol * |want|:
// ONNX's backend-test default rtol, and an atol for results near 0 where FP32 kernels
// (oneDNN's blocked reductions, vectorized exp / erf) round differently from numpy.
inline constexpr double kRtol = 1e-3;
inline constexpr double kAtol = 1e-5;

// The node tests of the supported ops found in the test data folder, sorted (selected by
// name prefix, see conformance.cc).
std::vector<std::string> ConformanceTests();

// Runs one node test.
ConformanceResult RunConformanceTest(const std::string& test);

// The folder holding the node tests.
std::string ConformanceDataDir();

}  // namespace qsdk::onnx_test
