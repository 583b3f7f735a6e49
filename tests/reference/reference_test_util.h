// Helpers for the reference kernel tests (and the runtime tests that compare float
// results): building FLOAT32 tensors from values, float bit patterns and comparing results.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "common/status_macros.h"
#include "qsdk/tensor.h"

namespace qsdk::reference::testing {

// A FLOAT32 tensor of `shape` holding `values` (row-major).
inline Tensor MakeTensor(const std::vector<int64_t>& shape, const std::vector<float>& values,
                         const std::string& name = "") {
  Tensor t = Tensor::Allocate(DataType::FLOAT32, Dims(shape), name);
  EXPECT_FALSE(t.empty());
  EXPECT_EQ(static_cast<size_t>(t.GetElementCount()), values.size()) << "test data size";
  if (!t.empty() && static_cast<size_t>(t.GetElementCount()) == values.size()) {
    std::memcpy(t.GetData(), values.data(), values.size() * sizeof(float));
  }
  return t;
}

// A FLOAT32 tensor of `shape` holding 0, 1, 2, ... (or start, start + 1, ...).
inline Tensor Iota(const std::vector<int64_t>& shape, float start = 0.0f) {
  std::vector<float> values(static_cast<size_t>(Dims(shape).GetElementCount()));
  for (size_t i = 0; i < values.size(); ++i) values[i] = start + static_cast<float>(i);
  return MakeTensor(shape, values);
}

inline std::vector<float> Values(const Tensor& t) {
  if (t.empty() || t.GetDataType() != DataType::FLOAT32 || t.GetElementCount() < 0) return {};
  const float* p = t.Data<float>();
  return std::vector<float>(p, p + t.GetElementCount());
}

// Checks shape, type and every value of `actual` within `tolerance` (absolute).
inline void ExpectTensorNear(const Tensor& actual, const std::vector<int64_t>& shape,
                             const std::vector<float>& expected, float tolerance) {
  ASSERT_EQ(actual.GetDataType(), DataType::FLOAT32);
  ASSERT_EQ(actual.GetDimension().GetDims(), shape);
  const std::vector<float> values = Values(actual);
  ASSERT_EQ(values.size(), expected.size());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_NEAR(values[i], expected[i], tolerance) << "element " << i;
  }
}

// The bit pattern of `value`, and the float of a bit pattern.
inline uint32_t FloatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

inline float BitsToFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

// Compares `actual` with `expected` element by element: element i is within when both are
// NaN, or neither is and |actual[i] - expected[i]| <= tolerance(actual[i], expected[i]) (a
// double). "" when every element is within; else, for EXPECT_EQ(..., ""), how many are
// not, under `rule` (the tolerance in words), and the worst one.
template <typename Tolerance>
std::string CompareWithin(const std::vector<float>& actual, const std::vector<float>& expected,
                          Tolerance tolerance, const std::string& rule) {
  if (actual.size() != expected.size()) {
    return StrCat("size mismatch: ", actual.size(), " values vs ", expected.size(), " expected");
  }
  size_t violations = 0, worst = 0;
  double worst_excess = -1.0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double a = actual[i], e = expected[i];
    const double excess = std::isnan(a) != std::isnan(e) ? INFINITY
                          : std::isnan(a)                ? -1.0
                                                         : std::fabs(a - e) - tolerance(a, e);
    if (excess > 0) {
      ++violations;
      if (excess > worst_excess) {
        worst_excess = excess;
        worst = i;
      }
    }
  }
  if (violations == 0) return "";
  std::ostringstream out;
  out.precision(9);
  out << violations << " of " << actual.size() << " values out of tolerance (" << rule
      << "); worst at index " << worst << ": got " << actual[worst] << ", expected "
      << expected[worst];
  return out.str();
}

}  // namespace qsdk::reference::testing
