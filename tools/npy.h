// NumPy .npy files: a careful reader and a writer (format: numpy.lib.format, versions
// 1.0, 2.0 and 3.0). Only C-order arrays of plain little-endian numeric dtypes are
// supported; anything else (Fortran order, big-endian, structured or object dtypes,
// shape / size mismatches, truncated or over-long files) is a status with a one-line
// message naming the file and what is wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qsdk/data_type.h"
#include "qsdk/status.h"

namespace qsdk::tools {

// The element types the reader and writer handle (numpy descr without byte order).
enum class NpyDType {
  kInvalid,
  kFloat16,  // f2
  kFloat32,  // f4
  kFloat64,  // f8
  kInt8,     // i1
  kUInt8,    // u1
  kInt16,    // i2
  kUInt16,   // u2
  kInt32,    // i4
  kUInt32,   // u4
  kInt64,    // i8
  kUInt64,   // u8
  kBool,     // b1
};

// The canonical descr written to files: "<f4", "|u1", "|b1", ...; "invalid" for kInvalid.
const char* NpyDescr(NpyDType dtype);
// The numpy name: "float32", "uint8", "bool", ...
const char* NpyDTypeName(NpyDType dtype);
// Bytes per element (0 for kInvalid).
size_t NpyItemSize(NpyDType dtype);
// True for the signed and unsigned integer dtypes (not bool).
bool NpyIsInteger(NpyDType dtype);

// The .npy dtype holding the storage of a qsdk element type: FLOAT32 -> f4, INT8 and
// QINT8 -> i1, UINT8 and QUINT8 -> u1, INT16 and QINT16 -> i2, INT32 -> i4,
// FLOAT16 -> f2; kInvalid for BFLOAT16 (numpy has no such dtype) and INVALID.
NpyDType NpyDTypeForDataType(DataType type);

// An array read from or to be written to a .npy file: dense, C order, little-endian.
struct NpyArray {
  NpyDType dtype = NpyDType::kInvalid;
  std::vector<int64_t> shape;  // () for a scalar
  std::vector<uint8_t> data;   // element count * item size bytes

  // Product of the extents (1 for a scalar).
  int64_t ElementCount() const;
  // "[2,1,28,28]".
  std::string ShapeString() const;
};

// Parses a complete .npy file held in memory; `name` (usually the path) prefixes every
// error message.
Status ParseNpy(const uint8_t* bytes, size_t size, const std::string& name, NpyArray* array);

// Reads and parses the .npy file at `path`. The data is read straight into the array,
// after the header has been validated against the file size.
Status ReadNpy(const std::string& path, NpyArray* array);

// Reads only the header of the .npy file at `path` (dtype and shape) and checks that the
// file is exactly as long as they say. array->data stays empty.
Status ReadNpyHeader(const std::string& path, NpyArray* array);

// Serializes an array (format 1.0, or 2.0 when the header needs more than 65535 bytes;
// the header is padded so that the data starts at a multiple of 64 bytes, as numpy does).
// Fails when data.size() does not match the shape and dtype.
Status SerializeNpy(const NpyArray& array, std::vector<uint8_t>* bytes);

// Writes `array` to `path` (replacing the file).
Status WriteNpy(const std::string& path, const NpyArray& array);

// Formats a shape as "[2,1,28,28]".
std::string FormatShape(const std::vector<int64_t>& shape);

}  // namespace qsdk::tools
