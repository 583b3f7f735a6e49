// Little-endian byte encoding for the engine file: an appending writer and a
// bounds-checked reader. Every reader call checks the remaining bytes first and fails
// with kDataLoss naming the field and its position; nothing is read past the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/status_macros.h"
#include "qsdk/status.h"

namespace qsdk::engine_file {

// Loads / stores of little-endian integers at raw pointers (no bounds checks: callers
// check the range first).
inline uint32_t LoadU32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}
inline uint64_t LoadU64(const uint8_t* p) {
  return static_cast<uint64_t>(LoadU32(p)) | static_cast<uint64_t>(LoadU32(p + 4)) << 32;
}
inline void StoreU32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void StoreU64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

class ByteWriter {
 public:
  void U8(uint8_t v) { bytes_.push_back(v); }
  void U32(uint32_t v) {
    uint8_t b[4];
    StoreU32(b, v);
    bytes_.insert(bytes_.end(), b, b + 4);
  }
  void I32(int32_t v) { U32(static_cast<uint32_t>(v)); }
  void U64(uint64_t v) {
    uint8_t b[8];
    StoreU64(b, v);
    bytes_.insert(bytes_.end(), b, b + 8);
  }
  void I64(int64_t v) { U64(static_cast<uint64_t>(v)); }
  // IEEE 754 binary64 bit pattern, so every value (including NaN payloads and -0.0)
  // round-trips exactly.
  void F64(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    U64(bits);
  }
  // IEEE 754 binary32 bit pattern (quantization scales, ranges).
  void F32(float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    U32(bits);
  }
  // uint32 byte length, then the bytes (no terminator). The caller bounds the length.
  void Str(const std::string& s) {
    U32(static_cast<uint32_t>(s.size()));
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }

  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

class ByteReader {
 public:
  // `where` names the byte range in messages, e.g. "metadata section".
  ByteReader(const uint8_t* data, size_t size, std::string where)
      : data_(data), size_(size), where_(std::move(where)) {}

  size_t position() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  bool AtEnd() const { return pos_ == size_; }

  Status U8(uint8_t* v, const std::string& what) {
    QSDK_RETURN_IF_ERROR(Need(1, what));
    *v = data_[pos_++];
    return Status::Ok();
  }
  Status U32(uint32_t* v, const std::string& what) {
    QSDK_RETURN_IF_ERROR(Need(4, what));
    *v = LoadU32(data_ + pos_);
    pos_ += 4;
    return Status::Ok();
  }
  Status I32(int32_t* v, const std::string& what) {
    uint32_t u = 0;
    QSDK_RETURN_IF_ERROR(U32(&u, what));
    *v = static_cast<int32_t>(u);
    return Status::Ok();
  }
  Status U64(uint64_t* v, const std::string& what) {
    QSDK_RETURN_IF_ERROR(Need(8, what));
    *v = LoadU64(data_ + pos_);
    pos_ += 8;
    return Status::Ok();
  }
  Status I64(int64_t* v, const std::string& what) {
    uint64_t u = 0;
    QSDK_RETURN_IF_ERROR(U64(&u, what));
    *v = static_cast<int64_t>(u);
    return Status::Ok();
  }
  Status F64(double* v, const std::string& what) {
    uint64_t bits = 0;
    QSDK_RETURN_IF_ERROR(U64(&bits, what));
    std::memcpy(v, &bits, sizeof(bits));
    return Status::Ok();
  }
  Status F32(float* v, const std::string& what) {
    uint32_t bits = 0;
    QSDK_RETURN_IF_ERROR(U32(&bits, what));
    std::memcpy(v, &bits, sizeof(bits));
    return Status::Ok();
  }
  // A length-prefixed string of at most `max_bytes` bytes; the length is checked against
  // the limit and the remaining bytes before the string is allocated.
  Status Str(std::string* s, const std::string& what, uint32_t max_bytes) {
    const size_t at = pos_;
    uint32_t len = 0;
    QSDK_RETURN_IF_ERROR(U32(&len, what + " length"));
    if (len > max_bytes) {
      return DataLoss("engine file: ", where_, " byte ", at, ": ", what, " length ", len,
                      " exceeds the limit of ", max_bytes, " bytes");
    }
    QSDK_RETURN_IF_ERROR(Need(len, what));
    s->assign(reinterpret_cast<const char*>(data_ + pos_), len);
    pos_ += len;
    return Status::Ok();
  }
  // A uint32 element count whose elements take at least `min_element_bytes` each: the
  // count must fit in the remaining bytes (and in `max_count`), so a damaged count can
  // never make the caller reserve more memory than the file could describe.
  Status Count(uint32_t* n, const std::string& what, size_t min_element_bytes,
               uint32_t max_count = UINT32_MAX) {
    const size_t at = pos_;
    QSDK_RETURN_IF_ERROR(U32(n, what));
    if (*n > max_count) {
      return DataLoss("engine file: ", where_, " byte ", at, ": ", what, " ", *n,
                      " exceeds the limit of ", max_count);
    }
    if (min_element_bytes > 0 && *n > remaining() / min_element_bytes) {
      return DataLoss("engine file: ", where_, " byte ", at, ": ", what, " ", *n,
                      " needs at least ", static_cast<uint64_t>(*n) * min_element_bytes,
                      " bytes but only ", remaining(), " remain (truncated or damaged)");
    }
    return Status::Ok();
  }

  // A failure at the current position: "engine file: <where> byte <pos>: <message>".
  template <typename... Args>
  Status Error(size_t at, const Args&... args) const {
    return DataLoss("engine file: ", where_, " byte ", at, ": ", args...);
  }

 private:
  Status Need(size_t n, const std::string& what) const {
    if (n > remaining()) {
      return DataLoss("engine file: ", where_, " byte ", pos_, ": ", what, " needs ", n,
                      " bytes but only ", remaining(), " remain (truncated or damaged)");
    }
    return Status::Ok();
  }

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  std::string where_;
};

}  // namespace qsdk::engine_file
