#include "idx_dataset.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>

#include "file_util.h"
#include "status_util.h"

namespace qsdk::tools {
namespace {

constexpr uint8_t kUnsignedByte = 0x08;
constexpr int kMaxDims = 8;
// Data is read in chunks and the buffer grows with what is actually there, so a header
// claiming a huge size cannot make the reader allocate it up front.
constexpr size_t kChunk = size_t{1} << 20;

Status Malformed(const std::string& name, const std::string& what) {
  return Status(StatusCode::kDataLoss, "IDX file '" + name + "': " + what);
}

std::string Hex(unsigned value, int digits) {
  char text[16];
  std::snprintf(text, sizeof(text), "0x%0*X", digits, value);
  return text;
}

const char* IdxTypeName(uint8_t code) {
  switch (code) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "short";
    case 0x0C:
      return "int";
    case 0x0D:
      return "float";
    case 0x0E:
      return "double";
    default:
      return nullptr;
  }
}

// Where the bytes come from: memory, or a (possibly gzip-compressed) file.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `size` bytes; *got < size only at the end of the data.
  virtual Status Read(uint8_t* data, size_t size, size_t* got) = 0;
};

class MemorySource : public ByteSource {
 public:
  MemorySource(const uint8_t* bytes, size_t size) : bytes_(bytes), size_(size) {}
  Status Read(uint8_t* data, size_t size, size_t* got) override {
    *got = std::min(size, size_ - pos_);
    if (*got > 0) std::memcpy(data, bytes_ + pos_, *got);
    pos_ += *got;
    return Status::Ok();
  }

 private:
  const uint8_t* bytes_;
  size_t size_;
  size_t pos_ = 0;
};

// zlib's gz* functions read gzip streams and, transparently, uncompressed files.
class GzSource : public ByteSource {
 public:
  GzSource(gzFile file, std::string name) : file_(file), name_(std::move(name)) {}
  ~GzSource() override { gzclose(file_); }
  Status Read(uint8_t* data, size_t size, size_t* got) override {
    *got = 0;
    while (*got < size) {
      const unsigned want = static_cast<unsigned>(std::min(size - *got, kChunk));
      const int n = gzread(file_, data + *got, want);
      if (n < 0) {
        int code = 0;
        const char* message = gzerror(file_, &code);
        return Malformed(name_, std::string("cannot decompress: ") +
                                    (message != nullptr ? message : "zlib error"));
      }
      if (n == 0) break;
      *got += static_cast<size_t>(n);
    }
    return Status::Ok();
  }

 private:
  gzFile file_;
  std::string name_;
};

Status ParseIdxSource(ByteSource* source, const std::string& name, IdxArray* array) {
  uint8_t magic[4];
  size_t got = 0;
  QSDK_TOOL_RETURN_IF_ERROR(source->Read(magic, sizeof(magic), &got));
  if (got < sizeof(magic)) {
    return Malformed(
        name, "truncated: " + std::to_string(got) + " bytes, shorter than the 4-byte IDX magic");
  }
  const unsigned magic_value = (unsigned{magic[0]} << 24) | (unsigned{magic[1]} << 16) |
                               (unsigned{magic[2]} << 8) | magic[3];
  if (magic[0] != 0 || magic[1] != 0) {
    return Malformed(name, "not an IDX file (magic " + Hex(magic_value, 8) +
                               "; an IDX file starts with two zero bytes)");
  }
  if (magic[2] != kUnsignedByte) {
    const char* type = IdxTypeName(magic[2]);
    if (type == nullptr) {
      return Malformed(name, "unknown IDX element type " + Hex(magic[2], 2) + " (magic " +
                                 Hex(magic_value, 8) + ")");
    }
    return Status(StatusCode::kUnimplemented,
                  "IDX file '" + name + "': element type " + Hex(magic[2], 2) + " (" + type +
                      ") is not supported; only unsigned byte (0x08) is");
  }
  const int rank = magic[3];
  if (rank < 1 || rank > kMaxDims) {
    return Malformed(name, "magic " + Hex(magic_value, 8) + " gives " + std::to_string(rank) +
                               " dimensions; expected 1 to " + std::to_string(kMaxDims));
  }
  std::vector<uint8_t> dim_bytes(static_cast<size_t>(rank) * 4);
  QSDK_TOOL_RETURN_IF_ERROR(source->Read(dim_bytes.data(), dim_bytes.size(), &got));
  if (got < dim_bytes.size()) {
    return Malformed(name, "truncated inside the " + std::to_string(rank) + " dimensions");
  }
  IdxArray result;
  uint64_t count = 1;
  for (int i = 0; i < rank; ++i) {
    const uint8_t* d = &dim_bytes[static_cast<size_t>(i) * 4];
    const uint64_t extent =
        (uint64_t{d[0]} << 24) | (uint64_t{d[1]} << 16) | (uint64_t{d[2]} << 8) | d[3];
    result.dims.push_back(static_cast<int64_t>(extent));
    if (__builtin_mul_overflow(count, extent, &count) ||
        count > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Malformed(name, "dimensions have too many elements");
    }
  }
  const std::string dims_text = [&] {
    std::string s = "[";
    for (size_t i = 0; i < result.dims.size(); ++i) {
      s += (i > 0 ? "," : "") + std::to_string(result.dims[i]);
    }
    return s + "]";
  }();
  size_t have = 0;
  while (have < count) {
    const size_t step = static_cast<size_t>(std::min<uint64_t>(count - have, kChunk));
    result.data.resize(have + step);
    QSDK_TOOL_RETURN_IF_ERROR(source->Read(result.data.data() + have, step, &got));
    have += got;
    if (got < step) break;
  }
  if (have < count) {
    return Malformed(name, "truncated: the dimensions " + dims_text + " need " +
                               std::to_string(count) + " data bytes, the file has " +
                               std::to_string(have));
  }
  uint8_t extra = 0;
  QSDK_TOOL_RETURN_IF_ERROR(source->Read(&extra, 1, &got));
  if (got != 0) {
    return Malformed(name, "unexpected bytes after the " + std::to_string(count) +
                               " data bytes of dimensions " + dims_text);
  }
  *array = std::move(result);
  return Status::Ok();
}

}  // namespace

int64_t IdxArray::ItemSize() const {
  int64_t size = 1;
  for (size_t i = 1; i < dims.size(); ++i) size *= dims[i];
  return size;
}

Status ParseIdx(const uint8_t* bytes, size_t size, const std::string& name, IdxArray* array) {
  MemorySource source(bytes, size);
  return ParseIdxSource(&source, name, array);
}

Status ReadIdx(const std::string& path, IdxArray* array) {
  // stat first: gzopen's own failure would not say whether the file is missing.
  uint64_t size = 0;
  QSDK_TOOL_RETURN_IF_ERROR(FileSize(path, &size, "IDX file"));
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    return Status(StatusCode::kIoError, "cannot open IDX file '" + path + "'");
  }
  GzSource source(file, path);
  try {
    return ParseIdxSource(&source, path, array);
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted,
                  "IDX file '" + path + "': out of memory reading its data");
  }
}

Status ReadFashionMnistTest(const std::string& dir, IdxArray* images, IdxArray* labels) {
  auto find = [&](const std::string& stem, std::string* path) -> Status {
    for (const std::string& candidate : {dir + "/" + stem + ".gz", dir + "/" + stem}) {
      uint64_t size = 0;
      if (FileSize(candidate, &size).ok()) {
        *path = candidate;
        return Status::Ok();
      }
    }
    return Status(StatusCode::kNotFound, "Fashion-MNIST: neither '" + dir + "/" + stem +
                                             ".gz' nor '" + dir + "/" + stem + "' exists");
  };
  std::string images_path, labels_path;
  QSDK_TOOL_RETURN_IF_ERROR(find("t10k-images-idx3-ubyte", &images_path));
  QSDK_TOOL_RETURN_IF_ERROR(find("t10k-labels-idx1-ubyte", &labels_path));
  IdxArray x, y;
  QSDK_TOOL_RETURN_IF_ERROR(ReadIdx(images_path, &x));
  QSDK_TOOL_RETURN_IF_ERROR(ReadIdx(labels_path, &y));
  if (x.dims.size() != 3) {
    return Malformed(images_path, "images must have 3 dimensions [N,H,W], it has " +
                                      std::to_string(x.dims.size()));
  }
  if (y.dims.size() != 1) {
    return Malformed(labels_path,
                     "labels must have 1 dimension [N], it has " + std::to_string(y.dims.size()));
  }
  if (x.Count() != y.Count()) {
    return Status(StatusCode::kDataLoss,
                  "Fashion-MNIST: " + std::to_string(x.Count()) + " images in '" + images_path +
                      "' but " + std::to_string(y.Count()) + " labels in '" + labels_path + "'");
  }
  for (size_t i = 0; i < y.data.size(); ++i) {
    if (y.data[i] > 9) {
      return Malformed(labels_path, "label " + std::to_string(i) + " is " +
                                        std::to_string(y.data[i]) +
                                        "; Fashion-MNIST labels are 0 to 9");
    }
  }
  *images = std::move(x);
  *labels = std::move(y);
  return Status::Ok();
}

}  // namespace qsdk::tools
