#include "onnx/tensor_data.h"

#include <cstring>
#include <limits>

#include "common/status_macros.h"
#include "onnx/external_data.h"

namespace qsdk::onnx {

// ONNX stores raw_data little-endian; the importer copies it as is.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "qsdk targets little-endian x86");

std::string OnnxTypeName(int32_t onnx_type) {
  if (::onnx::TensorProto_DataType_IsValid(onnx_type)) {
    return ::onnx::TensorProto_DataType_Name(static_cast<::onnx::TensorProto_DataType>(onnx_type));
  }
  return StrCat("type ", onnx_type);
}

size_t OnnxTypeSize(int32_t onnx_type) {
  switch (onnx_type) {
    case kOnnxFloat:
      return 4;
    case kOnnxInt64:
      return 8;
    case kOnnxInt32:
      return 4;
    case kOnnxInt16:
      return 2;
    case kOnnxInt8:
    case kOnnxUint8:
    case kOnnxBool:
      return 1;
    default:
      return 0;
  }
}

std::string DimsToString(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) s += ",";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

bool CheckedElementCount(const std::vector<int64_t>& dims, int64_t* count) {
  int64_t c = 1;
  for (int64_t d : dims) {
    if (d < 0 || __builtin_mul_overflow(c, d, &c)) return false;
  }
  *count = c;
  return true;
}

// --- HostTensor --------------------------------------------------------------------------

HostTensor HostTensor::FromBytes(int32_t onnx_type, std::vector<int64_t> dims,
                                 std::vector<uint8_t> bytes) {
  HostTensor t;
  t.type_ = onnx_type;
  t.dims_ = std::move(dims);
  CheckedElementCount(t.dims_, &t.count_);
  t.bytes_ = std::move(bytes);
  return t;
}

HostTensor HostTensor::FromFloats(std::vector<int64_t> dims, const std::vector<float>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(float));
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return FromBytes(kOnnxFloat, std::move(dims), std::move(bytes));
}

HostTensor HostTensor::FromInts(int32_t onnx_type, std::vector<int64_t> dims,
                                const std::vector<int64_t>& values) {
  const size_t size = OnnxTypeSize(onnx_type);
  std::vector<uint8_t> bytes(values.size() * size);
  for (size_t i = 0; i < values.size(); ++i) {
    uint8_t* p = bytes.data() + i * size;
    switch (onnx_type) {
      case kOnnxInt64:
        std::memcpy(p, &values[i], 8);
        break;
      case kOnnxInt32: {
        const auto v = static_cast<int32_t>(values[i]);
        std::memcpy(p, &v, 4);
        break;
      }
      case kOnnxInt16: {
        const auto v = static_cast<int16_t>(values[i]);
        std::memcpy(p, &v, 2);
        break;
      }
      case kOnnxInt8: {
        const auto v = static_cast<int8_t>(values[i]);
        std::memcpy(p, &v, 1);
        break;
      }
      default:
        *p = static_cast<uint8_t>(values[i]);
        break;  // UINT8, BOOL
    }
  }
  return FromBytes(onnx_type, std::move(dims), std::move(bytes));
}

int64_t HostTensor::IntAt(int64_t i) const {
  const uint8_t* p = bytes_.data() + static_cast<size_t>(i) * OnnxTypeSize(type_);
  switch (type_) {
    case kOnnxInt64: {
      int64_t v;
      std::memcpy(&v, p, 8);
      return v;
    }
    case kOnnxInt32: {
      int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case kOnnxInt16: {
      int16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case kOnnxInt8:
      return static_cast<int8_t>(*p);
    case kOnnxUint8:
    case kOnnxBool:
      return *p;
    default:
      return static_cast<int64_t>(floats()[i]);
  }
}

double HostTensor::ValueAt(int64_t i) const {
  if (is_float()) return floats()[i];
  return static_cast<double>(IntAt(i));
}

std::vector<float> HostTensor::ToFloats() const {
  std::vector<float> out(static_cast<size_t>(count_));
  if (is_float()) {
    if (count_ > 0) std::memcpy(out.data(), bytes_.data(), out.size() * sizeof(float));
    return out;
  }
  for (int64_t i = 0; i < count_; ++i) out[i] = static_cast<float>(IntAt(i));
  return out;
}

std::vector<int64_t> HostTensor::ToInts() const {
  std::vector<int64_t> out(static_cast<size_t>(count_));
  for (int64_t i = 0; i < count_; ++i) out[i] = IntAt(i);
  return out;
}

HostTensor HostTensor::Reshaped(std::vector<int64_t> dims) const {
  HostTensor t = *this;
  t.dims_ = std::move(dims);
  return t;
}

// --- Decoding ----------------------------------------------------------------------------

namespace {

// Which typed field holds the data of each type (the ONNX rule), for messages.
const char* TypedFieldOf(int32_t type) {
  switch (type) {
    case kOnnxFloat:
      return "float_data";
    case kOnnxInt64:
      return "int64_data";
    default:
      return "int32_data";
  }
}

// The typed fields that hold values, with their names; the one matching `type` is used,
// any other must be empty.
Status CheckTypedFields(const ::onnx::TensorProto& p, const std::string& what, int32_t type,
                        int64_t* typed_count) {
  struct Field {
    const char* name;
    int size;
  };
  const Field fields[] = {
      {"float_data", p.float_data_size()},   {"int32_data", p.int32_data_size()},
      {"int64_data", p.int64_data_size()},   {"double_data", p.double_data_size()},
      {"uint64_data", p.uint64_data_size()}, {"string_data", p.string_data_size()}};
  const std::string expected = TypedFieldOf(type);
  *typed_count = 0;
  for (const Field& f : fields) {
    if (f.size == 0) continue;
    if (expected != f.name) {
      return InvalidArgument(what, " has element type ", OnnxTypeName(type), " but holds ", f.size,
                             " values in '", f.name, "'; a ", OnnxTypeName(type),
                             " tensor stores its data in '", expected, "' or 'raw_data'");
    }
    *typed_count = f.size;
  }
  return Status::Ok();
}

}  // namespace

Status DecodeTensor(const ::onnx::TensorProto& p, const std::string& what,
                    const std::string& model_dir, HostTensor* out) {
  const int32_t type = p.data_type();
  const size_t elem = OnnxTypeSize(type);
  if (elem == 0) {
    return Unimplemented(what, " has element type ", OnnxTypeName(type),
                         "; qsdk reads FLOAT, INT64, INT32, INT16, INT8, UINT8 and BOOL tensors");
  }
  if (p.has_segment()) {
    return Unimplemented(what, " is a segment of a larger tensor; segmented tensors are not ",
                         "supported");
  }
  std::vector<int64_t> dims(p.dims().begin(), p.dims().end());
  int64_t count = 0;
  if (!CheckedElementCount(dims, &count)) {
    return InvalidArgument(what, " has dims ", DimsToString(dims),
                           "; each must be >= 0 and the element count must fit int64");
  }
  if (static_cast<uint64_t>(count) > std::numeric_limits<size_t>::max() / 8) {
    return InvalidArgument(what, " has dims ", DimsToString(dims), ": too many elements");
  }
  const size_t expected_bytes = static_cast<size_t>(count) * elem;

  int64_t typed_count = 0;
  QSDK_RETURN_IF_ERROR(CheckTypedFields(p, what, type, &typed_count));
  const bool external = p.data_location() == ::onnx::TensorProto_DataLocation_EXTERNAL;
  if (p.has_data_location() &&
      !::onnx::TensorProto_DataLocation_IsValid(static_cast<int>(p.data_location()))) {
    return InvalidArgument(what, " has data_location ", static_cast<int>(p.data_location()),
                           "; it must be DEFAULT (0) or EXTERNAL (1)");
  }
  if (!external && p.external_data_size() > 0) {
    return InvalidArgument(what, " has external_data entries but data_location is not ",
                           "EXTERNAL");
  }

  std::vector<uint8_t> bytes;
  if (external) {
    if (p.has_raw_data() || typed_count > 0) {
      return InvalidArgument(what, " has data_location EXTERNAL but also holds data in the ",
                             "file ('", p.has_raw_data() ? "raw_data" : TypedFieldOf(type),
                             "'); external tensors keep their data outside only");
    }
    QSDK_RETURN_IF_ERROR(ReadExternalData(p, what, model_dir, expected_bytes, &bytes));
  } else if (p.has_raw_data()) {
    if (typed_count > 0) {
      return InvalidArgument(what, " holds data both in 'raw_data' (", p.raw_data().size(),
                             " bytes) and in '", TypedFieldOf(type), "' (", typed_count,
                             " values); a tensor uses exactly one of them");
    }
    if (p.raw_data().size() != expected_bytes) {
      return DataLoss(what, " has shape ", DimsToString(dims), " and type ", OnnxTypeName(type),
                      ", which need ", expected_bytes, " bytes, but 'raw_data' holds ",
                      p.raw_data().size());
    }
    bytes.assign(p.raw_data().begin(), p.raw_data().end());
  } else {
    if (typed_count != count) {
      return DataLoss(what, " has shape ", DimsToString(dims), " (", count, " elements) but '",
                      TypedFieldOf(type), "' holds ", typed_count, " values");
    }
    if (type == kOnnxFloat) {
      std::vector<float> values(p.float_data().begin(), p.float_data().end());
      *out = HostTensor::FromFloats(std::move(dims), values);
      return Status::Ok();
    }
    std::vector<int64_t> values;
    values.reserve(static_cast<size_t>(count));
    if (type == kOnnxInt64) {
      values.assign(p.int64_data().begin(), p.int64_data().end());
    } else {
      values.assign(p.int32_data().begin(), p.int32_data().end());
    }
    int64_t lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
    if (type == kOnnxInt16) lo = -32768, hi = 32767;
    if (type == kOnnxInt8) lo = -128, hi = 127;
    if (type == kOnnxUint8) lo = 0, hi = 255;
    if (type == kOnnxBool) lo = 0, hi = 1;
    if (type != kOnnxInt64) {
      for (size_t i = 0; i < values.size(); ++i) {
        if (values[i] < lo || values[i] > hi) {
          return InvalidArgument(what, " element ", i, " = ", values[i], " is outside the range [",
                                 lo, ", ", hi, "] of ", OnnxTypeName(type));
        }
      }
    }
    *out = HostTensor::FromInts(type, std::move(dims), values);
    return Status::Ok();
  }
  if (type == kOnnxBool) {
    for (size_t i = 0; i < bytes.size(); ++i) {
      if (bytes[i] > 1) {
        return InvalidArgument(what, " BOOL element ", i, " = ", static_cast<int>(bytes[i]),
                               "; it must be 0 or 1");
      }
    }
  }
  *out = HostTensor::FromBytes(type, std::move(dims), std::move(bytes));
  return Status::Ok();
}

}  // namespace qsdk::onnx
