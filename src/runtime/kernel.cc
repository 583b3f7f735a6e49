// Shared pieces of the kernel contract (kernel.h). The dispatcher CreateKernel lives in
// kernel_factory.cc.
#include "runtime/kernel.h"

namespace qsdk::runtime {

dnnl::memory::desc PlainDesc(const std::vector<int64_t>& shape, dnnl::memory::data_type type) {
  dnnl::memory::dims dims(shape.begin(), shape.end());
  if (dims.empty()) dims.push_back(1);
  // Row-major strides: the last dimension is contiguous.
  dnnl::memory::dims strides(dims.size(), 1);
  for (size_t i = dims.size() - 1; i > 0; --i) strides[i - 1] = strides[i] * dims[i];
  return dnnl::memory::desc(dims, type, strides);
}

}  // namespace qsdk::runtime
