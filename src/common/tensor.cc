#include "qsdk/tensor.h"

#include <cstdlib>
#include <cstring>

namespace qsdk {

Tensor Tensor::Allocate(DataType type, const Dims& dims, const std::string& name) {
  Tensor t;
  const int64_t count = dims.GetElementCount();
  if (!IsValidDataType(type) || count < 0) return t;
  const size_t bytes = static_cast<size_t>(count) * DataTypeSize(type);
  const size_t rounded = (bytes + 63) / 64 * 64 + 64;  // never 0, so data is never null
  void* p = std::aligned_alloc(64, rounded);
  if (p == nullptr) return t;
  std::memset(p, 0, rounded);
  t.owner_ = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  t.data_ = p;
  t.type_ = type;
  t.dims_ = dims;
  t.name_ = name;
  return t;
}

Tensor Tensor::Wrap(DataType type, const Dims& dims, void* data, const std::string& name) {
  Tensor t;
  t.type_ = type;
  t.dims_ = dims;
  t.data_ = data;
  t.name_ = name;
  return t;
}

size_t Tensor::GetSizeInBytes() const {
  const int64_t count = dims_.GetElementCount();
  if (count < 0) return 0;
  return static_cast<size_t>(count) * DataTypeSize(type_);
}

}  // namespace qsdk
