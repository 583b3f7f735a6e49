// Helpers for the reference kernel tests: building FLOAT32 tensors from values and
// comparing results.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

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

}  // namespace qsdk::reference::testing
