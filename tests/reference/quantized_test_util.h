// Helpers for the quantized reference tests (and the runtime's INT16 tests): integer
// tensors, parameters, operands.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "graph/graph.h"
#include "graph/graph_test_util.h"
#include "qsdk/tensor.h"
#include "reference/quantized_ops.h"

namespace qsdk::reference::testing {

// Quantization parameters (PerTensor, PerAxis) and the other graph test helpers.
using namespace ::qsdk::graph::testing;  // NOLINT(build/namespaces)

// A tensor of `dtype` (INT8 / UINT8 / INT16 / INT32 / FLOAT32) holding `values` converted.
template <typename V>
Tensor MakeTyped(DataType dtype, const std::vector<int64_t>& shape, const std::vector<V>& values) {
  Tensor t = Tensor::Allocate(dtype, Dims(shape));
  EXPECT_EQ(static_cast<size_t>(t.GetElementCount()), values.size()) << "test data size";
  for (size_t i = 0; i < values.size() && i < static_cast<size_t>(t.GetElementCount()); ++i) {
    switch (dtype) {
      case DataType::INT8:
        t.Data<int8_t>()[i] = static_cast<int8_t>(values[i]);
        break;
      case DataType::UINT8:
        t.Data<uint8_t>()[i] = static_cast<uint8_t>(values[i]);
        break;
      case DataType::INT16:
        t.Data<int16_t>()[i] = static_cast<int16_t>(values[i]);
        break;
      case DataType::INT32:
        t.Data<int32_t>()[i] = static_cast<int32_t>(values[i]);
        break;
      default:
        t.Data<float>()[i] = static_cast<float>(values[i]);
        break;
    }
  }
  return t;
}

// A tensor of integer type `dtype` (INT8, UINT8, INT32) holding `values`.
inline Tensor MakeInt(DataType dtype, const std::vector<int64_t>& shape,
                      const std::vector<int32_t>& values) {
  EXPECT_TRUE(dtype == DataType::INT8 || dtype == DataType::UINT8 || dtype == DataType::INT32)
      << "MakeInt: not an integer type";
  Tensor t = MakeTyped(dtype, shape, values);
  EXPECT_FALSE(t.empty());
  return t;
}

// The values of an INT8 / UINT8 / INT32 tensor as int32.
inline std::vector<int32_t> IntValues(const Tensor& t) {
  std::vector<int32_t> v;
  for (int64_t i = 0; i < t.GetElementCount(); ++i) {
    switch (t.GetDataType()) {
      case DataType::INT8: v.push_back(t.Data<int8_t>()[i]); break;
      case DataType::UINT8: v.push_back(t.Data<uint8_t>()[i]); break;
      case DataType::INT32: v.push_back(t.Data<int32_t>()[i]); break;
      default: ADD_FAILURE() << "IntValues: not an integer tensor"; return v;
    }
  }
  return v;
}

inline QuantizedOperand Q(const Tensor& t, graph::QuantParams quant = {}) {
  QuantizedOperand op;
  op.tensor = &t;
  op.quant = std::move(quant);
  return op;
}

inline QuantizedOutputSpec OutFloat() { return QuantizedOutputSpec(); }

inline QuantizedOutputSpec Out(DataType dtype, float scale, int32_t zero_point = 0) {
  QuantizedOutputSpec spec;
  spec.dtype = dtype;
  spec.quant = PerTensor(scale, zero_point);
  return spec;
}

// Expects an integer tensor of `dtype` and `shape` holding exactly `expected`.
inline void ExpectInts(const Tensor& actual, DataType dtype, const std::vector<int64_t>& shape,
                       const std::vector<int32_t>& expected) {
  ASSERT_EQ(actual.GetDataType(), dtype);
  ASSERT_EQ(actual.GetDimension().GetDims(), shape);
  EXPECT_EQ(IntValues(actual), expected);
}

}  // namespace qsdk::reference::testing
