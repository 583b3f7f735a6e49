// Helpers for the INT8 runtime tests: quantization parameters for test data, the
// comparison rule of docs/quantization.md, and the CPU condition under which oneDNN's int8
// arithmetic is exact.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "qsdk/data_type.h"
#include "qsdk/tensor.h"

namespace qsdk::runtime::testing {

// True when oneDNN's effective ISA has VNNI (AVX512-VNNI, AVX-VNNI or newer). Without it
// oneDNN's int8 convolutions sum pairs of u8 * s8 products in saturating 16-bit lanes
// (vpmaddubsw) and halve the weights of s8 sources, so they do not compute the contract's
// exact integer sums and comparing them with the reference is meaningless.
bool CpuHasVnni();

// Skips the current test (with the reason) when the CPU lacks VNNI.
#define QSDK_REQUIRE_VNNI()                                                               \
  do {                                                                                    \
    if (!::qsdk::runtime::testing::CpuHasVnni()) {                                        \
      GTEST_SKIP() << "oneDNN's int8 kernels are exact only with VNNI (see int8_test_util.h)"; \
    }                                                                                     \
  } while (0)

// A quantized type with per-tensor parameters.
struct QuantType {
  DataType dtype = DataType::UINT8;
  graph::QuantParams params;
};

// Parameters covering the real range [lo, hi] (lo <= hi): UINT8 (z = 0 when lo >= 0, else
// asymmetric with z = round(-lo / s)) or INT8 symmetric (z = 0) as the contract chooses
// them; a degenerate range gets s = 1.
QuantType ParamsForRange(DataType dtype, float lo, float hi);

// Min and max of a FLOAT32 tensor.
void RangeOf(const Tensor& t, float* lo, float* hi);

// FLOAT32 values real = s * (q - z) of an INT8 / UINT8 tensor with per-tensor `params`.
Tensor Dequantized(const Tensor& q, const graph::QuantParams& params);

// The comparison rule (docs/quantization.md) between a runtime output and the reference's:
//   quantized: |diff| <= 1 LSB everywhere, and with `exact` no difference at all, else at
//     most 1% of the elements differ (values within float rounding of a .5 tie may round
//     either way: oneDNN may contract a * b + c into one FMA; at least 1 element is
//     always allowed);
//   FLOAT32: with `exact`, bit-identical; else |diff| <= rel * max|reference| + 1e-6.
// Adds gtest failures labelled `label`.
void ExpectInt8Match(const Tensor& actual, const Tensor& expected, bool exact,
                     const std::string& label, double rel = 1e-5);

}  // namespace qsdk::runtime::testing
