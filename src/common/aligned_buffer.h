// A fixed-size, 64-byte aligned, zero-initialized byte buffer (cache line and AVX-512
// alignment), used for constant tensor data and activation arenas.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace qsdk {

class AlignedBuffer {
 public:
  static constexpr size_t kAlignment = 64;

  AlignedBuffer() = default;
  // Allocates `size` zeroed bytes. Throws std::bad_alloc on failure (caught at the API
  // boundary).
  explicit AlignedBuffer(size_t size);
  AlignedBuffer(const void* data, size_t size);

  AlignedBuffer(AlignedBuffer&&) noexcept = default;
  AlignedBuffer& operator=(AlignedBuffer&&) noexcept = default;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  size_t size() const { return size_; }
  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  template <typename T>
  T* As() { return reinterpret_cast<T*>(data_.get()); }
  template <typename T>
  const T* As() const { return reinterpret_cast<const T*>(data_.get()); }

 private:
  struct Free {
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t, Free> data_;
  size_t size_ = 0;
};

}  // namespace qsdk
