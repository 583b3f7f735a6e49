/// @file data_type.h
/// @brief Element types of tensors and precisions of nodes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "qsdk/export.h"

namespace qsdk {

/// @brief Element type of a tensor, or the precision requested for a node's input/output.
///
/// The numeric values are stable: they are stored in engine files.
/// The Q* types are quantized precisions: the storage is the matching integer type and
/// the value is `real = scale * (q - zero_point)` (see docs/quantization.md).
enum class DataType : int32_t {
  INVALID = 0,   ///< Unset: for a precision request it means "decided by the builder".
  FLOAT32 = 1,   ///< IEEE 754 binary32.
  FLOAT16 = 2,   ///< IEEE 754 binary16.
  BFLOAT16 = 3,  ///< bfloat16 (upper 16 bits of binary32).
  INT8 = 4,      ///< Signed 8-bit integer.
  UINT8 = 5,     ///< Unsigned 8-bit integer.
  INT16 = 6,     ///< Signed 16-bit integer.
  INT32 = 7,     ///< Signed 32-bit integer.
  QINT8 = 8,     ///< Quantized, int8 storage.
  QUINT8 = 9,    ///< Quantized, uint8 storage.
  QINT16 = 10,   ///< Quantized, int16 storage.
};

/// @brief Number of defined values above INVALID; valid values are 1..kDataTypeCount.
constexpr int32_t kDataTypeCount = 10;

/// @brief Stable upper-case name ("FLOAT32", ...); "INVALID" for unknown values.
QSDK_API const char* DataTypeName(DataType type);

/// @brief Bytes per element; 0 for INVALID or unknown values.
QSDK_API size_t DataTypeSize(DataType type);

/// @brief True for 1..kDataTypeCount.
QSDK_API bool IsValidDataType(DataType type);

}  // namespace qsdk
