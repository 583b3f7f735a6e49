#include "qsdk/data_type.h"

namespace qsdk {

const char* DataTypeName(DataType type) {
  switch (type) {
    case DataType::FLOAT32: return "FLOAT32";
    case DataType::FLOAT16: return "FLOAT16";
    case DataType::BFLOAT16: return "BFLOAT16";
    case DataType::INT8: return "INT8";
    case DataType::UINT8: return "UINT8";
    case DataType::INT16: return "INT16";
    case DataType::INT32: return "INT32";
    case DataType::QINT8: return "QINT8";
    case DataType::QUINT8: return "QUINT8";
    case DataType::QINT16: return "QINT16";
    case DataType::INVALID: break;
  }
  return "INVALID";
}

size_t DataTypeSize(DataType type) {
  switch (type) {
    case DataType::FLOAT32:
    case DataType::INT32: return 4;
    case DataType::FLOAT16:
    case DataType::BFLOAT16:
    case DataType::INT16:
    case DataType::QINT16: return 2;
    case DataType::INT8:
    case DataType::UINT8:
    case DataType::QINT8:
    case DataType::QUINT8: return 1;
    case DataType::INVALID: break;
  }
  return 0;
}

bool IsValidDataType(DataType type) {
  const auto v = static_cast<int32_t>(type);
  return v >= 1 && v <= kDataTypeCount;
}

}  // namespace qsdk
