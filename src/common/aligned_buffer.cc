#include "common/aligned_buffer.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace qsdk {

AlignedBuffer::AlignedBuffer(size_t size) : size_(size) {
  if (size == 0) return;
  const size_t rounded = (size + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded);
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, rounded);
  data_.reset(static_cast<uint8_t*>(p));
}

AlignedBuffer::AlignedBuffer(const void* data, size_t size) : AlignedBuffer(size) {
  if (size > 0) std::memcpy(data_.get(), data, size);
}

void AlignedBuffer::Free::operator()(uint8_t* p) const { std::free(p); }

}  // namespace qsdk
