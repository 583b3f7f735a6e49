#include "npy.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <sstream>

#include "file_util.h"
#include "status_util.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the .npy reader and writer assume a little-endian host");

namespace qsdk::tools {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
// Data starts at a multiple of this (numpy >= 1.14 writes 64; older files used 16, so
// the reader accepts any alignment).
constexpr size_t kDataAlignment = 64;

struct DTypeInfo {
  NpyDType dtype;
  char kind;
  size_t size;
  const char* descr;
  const char* name;
};

constexpr DTypeInfo kDTypes[] = {
    {NpyDType::kFloat16, 'f', 2, "<f2", "float16"}, {NpyDType::kFloat32, 'f', 4, "<f4", "float32"},
    {NpyDType::kFloat64, 'f', 8, "<f8", "float64"}, {NpyDType::kInt8, 'i', 1, "|i1", "int8"},
    {NpyDType::kUInt8, 'u', 1, "|u1", "uint8"},     {NpyDType::kInt16, 'i', 2, "<i2", "int16"},
    {NpyDType::kUInt16, 'u', 2, "<u2", "uint16"},   {NpyDType::kInt32, 'i', 4, "<i4", "int32"},
    {NpyDType::kUInt32, 'u', 4, "<u4", "uint32"},   {NpyDType::kInt64, 'i', 8, "<i8", "int64"},
    {NpyDType::kUInt64, 'u', 8, "<u8", "uint64"},   {NpyDType::kBool, 'b', 1, "|b1", "bool"},
};

const DTypeInfo* Info(NpyDType dtype) {
  for (const DTypeInfo& info : kDTypes) {
    if (info.dtype == dtype) return &info;
  }
  return nullptr;
}

std::string SupportedDescrs() {
  std::string out;
  for (const DTypeInfo& info : kDTypes) {
    if (!out.empty()) out += ", ";
    out += info.descr;
  }
  return out;
}

Status Malformed(const std::string& name, const std::string& what) {
  return Status(StatusCode::kDataLoss, ".npy file '" + name + "': " + what);
}

Status Unsupported(const std::string& name, const std::string& what) {
  return Status(StatusCode::kUnimplemented, ".npy file '" + name + "': " + what);
}

// Maps a descr ("<f4", "|u1", "f4", ">i2") to a dtype.
Status ParseDescr(const std::string& descr, const std::string& name, NpyDType* dtype) {
  std::string body = descr;
  char order = '=';
  if (!body.empty() && (body[0] == '<' || body[0] == '>' || body[0] == '|' || body[0] == '=')) {
    order = body[0];
    body = body.substr(1);
  }
  for (const DTypeInfo& info : kDTypes) {
    if (body.size() == 2 && body[0] == info.kind && body[1] == static_cast<char>('0' + info.size)) {
      if (order == '>' && info.size > 1) {
        return Unsupported(name, "big-endian dtype '" + descr +
                                     "' is not supported; convert with a.astype('<" + body + "')");
      }
      *dtype = info.dtype;
      return Status::Ok();
    }
  }
  return Unsupported(
      name, "dtype '" + descr + "' is not supported (supported: " + SupportedDescrs() + ")");
}

// A parsed value of the header dictionary: a string, a boolean or a tuple of integers.
struct HeaderValue {
  enum Kind { kString, kBool, kTuple } kind = kString;
  std::string text;
  bool boolean = false;
  std::vector<int64_t> ints;
};

// Parses the Python dict literal of a .npy header, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// Only the value forms numpy writes are accepted; anything else is named in the error.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& name) : s_(text), name_(name) {}

  Status Parse(std::map<std::string, HeaderValue>* entries) {
    SkipSpace();
    if (!Consume('{')) return Error("expected '{' at the start of the header");
    SkipSpace();
    while (!Consume('}')) {
      std::string key;
      if (!Peek('\'') && !Peek('"')) return Error("expected a quoted key or '}'");
      QSDK_TOOL_RETURN_IF_ERROR(ParseString(&key));
      SkipSpace();
      if (!Consume(':')) return Error("expected ':' after key '" + key + "'");
      SkipSpace();
      HeaderValue value;
      QSDK_TOOL_RETURN_IF_ERROR(ParseValue(key, &value));
      if (entries->count(key) != 0) return Error("key '" + key + "' appears twice");
      (*entries)[key] = value;
      SkipSpace();
      if (Consume(',')) {
        SkipSpace();
      } else if (!Peek('}')) {
        return Error("expected ',' or '}' after the value of '" + key + "'");
      }
    }
    SkipSpace();
    if (pos_ != s_.size()) return Error("unexpected text after the closing '}'");
    return Status::Ok();
  }

 private:
  Status Error(const std::string& what) const {
    return Malformed(
        name_, "malformed header: " + what + " (at header offset " + std::to_string(pos_) + ")");
  }
  void SkipSpace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool Consume(char c) {
    if (!Peek(c)) return false;
    ++pos_;
    return true;
  }
  bool ConsumeWord(const char* word) {
    const size_t n = std::strlen(word);
    if (s_.compare(pos_, n, word) != 0) return false;
    pos_ += n;
    return true;
  }

  Status ParseString(std::string* out) {
    const char quote = s_[pos_++];
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      // numpy never writes escapes in the keys or descrs it accepts.
      if (s_[pos_] == '\\') return Error("escape sequences are not supported in strings");
      ++pos_;
    }
    if (pos_ >= s_.size()) return Error("unterminated string");
    *out = s_.substr(start, pos_ - start);
    ++pos_;
    return Status::Ok();
  }

  Status ParseInt(int64_t* out) {
    const size_t start = pos_;
    int64_t value = 0;
    if (Peek('-')) return Error("negative extent in 'shape'");
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      const int digit = s_[pos_] - '0';
      if (value > (std::numeric_limits<int64_t>::max() - digit) / 10) {
        return Error("extent in 'shape' does not fit in 64 bits");
      }
      value = value * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) return Error("expected an integer in 'shape'");
    Consume('L');  // Python 2 long literal, found in old files
    *out = value;
    return Status::Ok();
  }

  Status ParseValue(const std::string& key, HeaderValue* value) {
    if (Peek('\'') || Peek('"')) {
      value->kind = HeaderValue::kString;
      return ParseString(&value->text);
    }
    if (ConsumeWord("True")) {
      value->kind = HeaderValue::kBool;
      value->boolean = true;
      return Status::Ok();
    }
    if (ConsumeWord("False")) {
      value->kind = HeaderValue::kBool;
      value->boolean = false;
      return Status::Ok();
    }
    if (Consume('(')) {
      value->kind = HeaderValue::kTuple;
      SkipSpace();
      while (!Consume(')')) {
        int64_t v = 0;
        QSDK_TOOL_RETURN_IF_ERROR(ParseInt(&v));
        value->ints.push_back(v);
        SkipSpace();
        if (Consume(',')) {
          SkipSpace();
        } else if (!Peek(')')) {
          return Error("expected ',' or ')' in 'shape'");
        }
      }
      return Status::Ok();
    }
    if (Peek('[') && key == "descr") {
      return Unsupported(name_, "structured dtypes (a list 'descr') are not supported");
    }
    return Error("unsupported value for key '" + key + "'");
  }

  const std::string& s_;
  const std::string& name_;
  size_t pos_ = 0;
};

// Reads the fixed prefix: magic, version, header length. `available` bytes are at `bytes`.
// On success *header_offset / *header_size locate the header text.
Status ParsePrefix(const uint8_t* bytes, size_t available, uint64_t file_size,
                   const std::string& name, size_t* header_offset, size_t* header_size) {
  // `available` is min(file size, prefix bytes read); compare what there is of the magic.
  if (std::memcmp(bytes, kMagic, std::min(kMagicSize, available)) != 0) {
    return Malformed(name, "not a .npy file (it does not start with \\x93NUMPY)");
  }
  if (file_size < kMagicSize + 2) {
    return Malformed(name, "truncated: " + std::to_string(file_size) +
                               " bytes, shorter than the .npy magic and version");
  }
  const int major = bytes[6], minor = bytes[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0) {
    return Unsupported(name, "format version " + std::to_string(major) + "." +
                                 std::to_string(minor) +
                                 " is not supported (1.0, 2.0 and 3.0 are)");
  }
  const size_t length_bytes = major == 1 ? 2 : 4;
  *header_offset = kMagicSize + 2 + length_bytes;
  if (file_size < *header_offset || available < *header_offset) {
    return Malformed(name, "truncated inside the header length field");
  }
  uint64_t length = 0;
  for (size_t i = 0; i < length_bytes; ++i) {
    length |= static_cast<uint64_t>(bytes[8 + i]) << (8 * i);
  }
  if (length > file_size - *header_offset) {
    return Malformed(name, "truncated: the header length is " + std::to_string(length) +
                               " bytes but only " + std::to_string(file_size - *header_offset) +
                               " follow");
  }
  *header_size = static_cast<size_t>(length);
  return Status::Ok();
}

// Parses the header text and fills dtype and shape; *data_bytes gets the expected size.
Status ParseHeaderText(const std::string& text, const std::string& name, NpyArray* array,
                       uint64_t* data_bytes) {
  std::map<std::string, HeaderValue> entries;
  QSDK_TOOL_RETURN_IF_ERROR(HeaderParser(text, name).Parse(&entries));
  for (const auto& [key, value] : entries) {
    if (key != "descr" && key != "fortran_order" && key != "shape") {
      return Malformed(name, "malformed header: unexpected key '" + key +
                                 "' (expected 'descr', 'fortran_order', 'shape')");
    }
  }
  for (const char* key : {"descr", "fortran_order", "shape"}) {
    if (entries.count(key) == 0) {
      return Malformed(name, std::string("malformed header: missing key '") + key + "'");
    }
  }
  const HeaderValue& descr = entries["descr"];
  const HeaderValue& fortran = entries["fortran_order"];
  const HeaderValue& shape = entries["shape"];
  if (descr.kind != HeaderValue::kString) {
    return Malformed(name, "malformed header: 'descr' is not a string");
  }
  if (fortran.kind != HeaderValue::kBool) {
    return Malformed(name, "malformed header: 'fortran_order' is not True or False");
  }
  if (shape.kind != HeaderValue::kTuple) {
    return Malformed(name, "malformed header: 'shape' is not a tuple");
  }
  NpyDType dtype = NpyDType::kInvalid;
  QSDK_TOOL_RETURN_IF_ERROR(ParseDescr(descr.text, name, &dtype));
  if (fortran.boolean) {
    return Unsupported(name,
                       "Fortran-order arrays are not supported; save a C-order copy "
                       "(np.ascontiguousarray(a))");
  }
  uint64_t count = 1;
  for (int64_t extent : shape.ints) {
    if (__builtin_mul_overflow(count, static_cast<uint64_t>(extent), &count)) {
      return Malformed(name, "shape " + FormatShape(shape.ints) + " has too many elements");
    }
  }
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(count, static_cast<uint64_t>(NpyItemSize(dtype)), &bytes) ||
      count > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Malformed(name, "shape " + FormatShape(shape.ints) + " has too many elements");
  }
  array->dtype = dtype;
  array->shape = shape.ints;
  *data_bytes = bytes;
  return Status::Ok();
}

Status CheckDataSize(const NpyArray& array, const std::string& name, uint64_t expected,
                     uint64_t actual) {
  if (actual == expected) return Status::Ok();
  const std::string described = "shape " + FormatShape(array.shape) + " " +
                                NpyDTypeName(array.dtype) + " = " + std::to_string(expected) +
                                " data bytes";
  if (actual < expected) {
    return Malformed(name, "truncated: the header says " + described + ", the file has " +
                               std::to_string(actual));
  }
  return Malformed(name, std::to_string(actual - expected) +
                             " unexpected bytes after the data (the header says " + described +
                             ")");
}

Status ReadNpyImpl(const std::string& path, bool with_data, NpyArray* array) {
  UniqueFile file;
  uint64_t file_size = 0;
  QSDK_TOOL_RETURN_IF_ERROR(OpenForRead(path, ".npy file", &file, &file_size));
  uint8_t prefix[12] = {};
  const size_t prefix_size = static_cast<size_t>(std::min<uint64_t>(file_size, sizeof(prefix)));
  QSDK_TOOL_RETURN_IF_ERROR(ReadExact(file.get(), prefix, prefix_size, ".npy file", path));
  size_t header_offset = 0, header_size = 0;
  QSDK_TOOL_RETURN_IF_ERROR(
      ParsePrefix(prefix, prefix_size, file_size, path, &header_offset, &header_size));
  std::string text(header_size, '\0');
  // The prefix read may have consumed the first bytes of the header (version 1.0).
  const size_t already = prefix_size - header_offset;
  std::memcpy(text.data(), prefix + header_offset, std::min(already, header_size));
  if (header_size > already) {
    QSDK_TOOL_RETURN_IF_ERROR(
        ReadExact(file.get(), text.data() + already, header_size - already, ".npy file", path));
  }
  NpyArray result;
  uint64_t data_bytes = 0;
  QSDK_TOOL_RETURN_IF_ERROR(ParseHeaderText(text, path, &result, &data_bytes));
  const uint64_t data_offset = header_offset + header_size;
  QSDK_TOOL_RETURN_IF_ERROR(CheckDataSize(result, path, data_bytes, file_size - data_offset));
  if (with_data) {
    try {
      result.data.resize(static_cast<size_t>(data_bytes));
    } catch (const std::exception&) {
      return Status(StatusCode::kResourceExhausted, ".npy file '" + path + "': cannot allocate " +
                                                        std::to_string(data_bytes) +
                                                        " bytes for its data");
    }
    // Bytes of the data already read along with the prefix (only for tiny headers).
    size_t done = 0;
    if (prefix_size > data_offset) {
      done = std::min<size_t>(prefix_size - data_offset, data_bytes);
      std::memcpy(result.data.data(), prefix + data_offset, done);
    }
    QSDK_TOOL_RETURN_IF_ERROR(
        ReadExact(file.get(), result.data.data() + done, data_bytes - done, ".npy file", path));
  }
  *array = std::move(result);
  return Status::Ok();
}

}  // namespace

const char* NpyDescr(NpyDType dtype) {
  const DTypeInfo* info = Info(dtype);
  return info == nullptr ? "invalid" : info->descr;
}

const char* NpyDTypeName(NpyDType dtype) {
  const DTypeInfo* info = Info(dtype);
  return info == nullptr ? "invalid" : info->name;
}

size_t NpyItemSize(NpyDType dtype) {
  const DTypeInfo* info = Info(dtype);
  return info == nullptr ? 0 : info->size;
}

bool NpyIsInteger(NpyDType dtype) {
  const DTypeInfo* info = Info(dtype);
  return info != nullptr && (info->kind == 'i' || info->kind == 'u');
}

NpyDType NpyDTypeForDataType(DataType type) {
  switch (type) {
    case DataType::FLOAT32:
      return NpyDType::kFloat32;
    case DataType::FLOAT16:
      return NpyDType::kFloat16;
    case DataType::INT8:
    case DataType::QINT8:
      return NpyDType::kInt8;
    case DataType::UINT8:
    case DataType::QUINT8:
      return NpyDType::kUInt8;
    case DataType::INT16:
    case DataType::QINT16:
      return NpyDType::kInt16;
    case DataType::INT32:
      return NpyDType::kInt32;
    default:
      return NpyDType::kInvalid;
  }
}

int64_t NpyArray::ElementCount() const {
  int64_t count = 1;
  for (int64_t extent : shape) count *= extent;
  return count;
}

std::string NpyArray::ShapeString() const { return FormatShape(shape); }

std::string FormatShape(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ",";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

Status ParseNpy(const uint8_t* bytes, size_t size, const std::string& name, NpyArray* array) {
  size_t header_offset = 0, header_size = 0;
  QSDK_TOOL_RETURN_IF_ERROR(ParsePrefix(bytes, size, size, name, &header_offset, &header_size));
  const std::string text(reinterpret_cast<const char*>(bytes) + header_offset, header_size);
  NpyArray result;
  uint64_t data_bytes = 0;
  QSDK_TOOL_RETURN_IF_ERROR(ParseHeaderText(text, name, &result, &data_bytes));
  const size_t data_offset = header_offset + header_size;
  QSDK_TOOL_RETURN_IF_ERROR(CheckDataSize(result, name, data_bytes, size - data_offset));
  result.data.assign(bytes + data_offset, bytes + size);
  *array = std::move(result);
  return Status::Ok();
}

Status ReadNpy(const std::string& path, NpyArray* array) {
  return ReadNpyImpl(path, /*with_data=*/true, array);
}

Status ReadNpyHeader(const std::string& path, NpyArray* array) {
  return ReadNpyImpl(path, /*with_data=*/false, array);
}

Status SerializeNpy(const NpyArray& array, std::vector<uint8_t>* bytes) {
  const size_t item = NpyItemSize(array.dtype);
  if (item == 0) return InvalidArgumentStatus("SerializeNpy: invalid dtype");
  uint64_t count = 1;
  for (int64_t extent : array.shape) {
    if (extent < 0 || __builtin_mul_overflow(count, static_cast<uint64_t>(extent), &count)) {
      return InvalidArgumentStatus("SerializeNpy: invalid shape " + FormatShape(array.shape));
    }
  }
  if (count * item != array.data.size()) {
    return InvalidArgumentStatus("SerializeNpy: " + std::to_string(array.data.size()) +
                                 " data bytes for shape " + FormatShape(array.shape) + " " +
                                 NpyDTypeName(array.dtype) + " (needs " +
                                 std::to_string(count * item) + ")");
  }
  std::ostringstream header;
  header << "{'descr': '" << NpyDescr(array.dtype) << "', 'fortran_order': False, 'shape': (";
  // Python's tuple repr: "()", "(5,)", "(2, 3)".
  for (size_t i = 0; i < array.shape.size(); ++i) {
    if (i > 0) header << ", ";
    header << array.shape[i];
  }
  header << (array.shape.size() == 1 ? ",), }" : "), }");
  std::string text = header.str();
  // Version 1.0 stores the header length in 16 bits; longer headers need 2.0.
  const bool v2 = text.size() + 1 + kMagicSize + 4 > 65535;
  const size_t prefix = kMagicSize + 2 + (v2 ? 4 : 2);
  const size_t padded =
      (prefix + text.size() + 1 + kDataAlignment - 1) / kDataAlignment * kDataAlignment;
  text.append(padded - prefix - text.size() - 1, ' ');
  text.push_back('\n');
  bytes->clear();
  bytes->reserve(padded + array.data.size());
  bytes->insert(bytes->end(), kMagic, kMagic + kMagicSize);
  bytes->push_back(v2 ? 2 : 1);
  bytes->push_back(0);
  const uint64_t length = text.size();
  for (size_t i = 0; i < (v2 ? 4u : 2u); ++i) {
    bytes->push_back(static_cast<uint8_t>(length >> (8 * i)));
  }
  bytes->insert(bytes->end(), text.begin(), text.end());
  bytes->insert(bytes->end(), array.data.begin(), array.data.end());
  return Status::Ok();
}

Status WriteNpy(const std::string& path, const NpyArray& array) {
  std::vector<uint8_t> bytes;
  QSDK_TOOL_RETURN_IF_ERROR(SerializeNpy(array, &bytes));
  return WriteFile(path, bytes.data(), bytes.size());
}

}  // namespace qsdk::tools
