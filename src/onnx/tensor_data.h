// Constant tensors of an ONNX model as the importer holds them (initializers, Constant
// nodes, and values folded from them), and the decoding of TensorProto into them.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "qsdk/status.h"

namespace qsdk::onnx {

// ONNX element types (TensorProto.DataType values) the importer reads.
inline constexpr int32_t kOnnxFloat = ::onnx::TensorProto_DataType_FLOAT;
inline constexpr int32_t kOnnxUint8 = ::onnx::TensorProto_DataType_UINT8;
inline constexpr int32_t kOnnxInt8 = ::onnx::TensorProto_DataType_INT8;
inline constexpr int32_t kOnnxInt16 = ::onnx::TensorProto_DataType_INT16;
inline constexpr int32_t kOnnxInt32 = ::onnx::TensorProto_DataType_INT32;
inline constexpr int32_t kOnnxInt64 = ::onnx::TensorProto_DataType_INT64;
inline constexpr int32_t kOnnxBool = ::onnx::TensorProto_DataType_BOOL;

// "FLOAT", "INT64", ... for any TensorProto.DataType value; "type <n>" for unknown ones.
std::string OnnxTypeName(int32_t onnx_type);

// Bytes per element of a type the importer reads (kOnnx* above); 0 for any other type.
size_t OnnxTypeSize(int32_t onnx_type);

// A dense, row-major tensor held by the importer: one of the kOnnx* types, its shape, and
// its elements in their native (little-endian) representation. Extents may be 0.
class HostTensor {
 public:
  HostTensor() = default;
  // A FLOAT tensor of `dims` with `values` (values.size() must equal the element count).
  static HostTensor FromFloats(std::vector<int64_t> dims, const std::vector<float>& values);
  // An integer tensor of `onnx_type` (INT64, INT32, INT16, INT8, UINT8, BOOL) with `values`,
  // which the caller has checked to fit the type.
  static HostTensor FromInts(int32_t onnx_type, std::vector<int64_t> dims,
                             const std::vector<int64_t>& values);

  int32_t type() const { return type_; }
  const std::vector<int64_t>& dims() const { return dims_; }
  int64_t count() const { return count_; }
  bool is_float() const { return type_ == kOnnxFloat; }
  bool is_integer() const { return !is_float(); }
  // FLOAT only.
  const float* floats() const { return reinterpret_cast<const float*>(bytes_.data()); }
  // Element `i` of an integer (or bool) tensor, widened.
  int64_t IntAt(int64_t i) const;
  // Element `i` as a double, any type.
  double ValueAt(int64_t i) const;
  // All elements as floats (integers converted).
  std::vector<float> ToFloats() const;
  // All elements of an integer tensor, widened.
  std::vector<int64_t> ToInts() const;
  // The same data with another shape of the same element count.
  HostTensor Reshaped(std::vector<int64_t> dims) const;

  // Raw storage, count() * OnnxTypeSize(type()) bytes.
  const std::vector<uint8_t>& bytes() const { return bytes_; }

  // Takes `bytes` (already checked to hold count(dims) elements of `onnx_type`).
  static HostTensor FromBytes(int32_t onnx_type, std::vector<int64_t> dims,
                              std::vector<uint8_t> bytes);

 private:
  int32_t type_ = kOnnxFloat;
  std::vector<int64_t> dims_;
  int64_t count_ = 0;  // set by the factories
  std::vector<uint8_t> bytes_;
};

// "[2,3]".
std::string DimsToString(const std::vector<int64_t>& dims);

// Element count of `dims` (each >= 0); false on a negative extent or int64 overflow.
bool CheckedElementCount(const std::vector<int64_t>& dims, int64_t* count);

// Decodes `proto` into `out`. `what` names it in messages ("initializer 'w'", "attribute
// 'value' of node 'c' (Constant)"). Checks the element type (FLOAT, INT64, INT32, INT16,
// INT8, UINT8, BOOL), the dims, that the data is in raw_data or in the field of its type
// and not both, that its size matches the shape, and each integer's range for its type.
// External data is read from `model_dir` (see external_data.h); "" forbids it.
Status DecodeTensor(const ::onnx::TensorProto& proto, const std::string& what,
                    const std::string& model_dir, HostTensor* out);

}  // namespace qsdk::onnx
