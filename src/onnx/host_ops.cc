#include "onnx/host_ops.h"

#include <algorithm>
#include <cstring>

namespace qsdk::onnx {

namespace {

// Row-major strides of `dims`.
std::vector<int64_t> Strides(const std::vector<int64_t>& dims) {
  std::vector<int64_t> strides(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;) strides[i - 1] = strides[i] * dims[i];
  return strides;
}

// For each element of a tensor of shape `out_dims`, the index of the element it reads in
// a tensor of shape `in_dims` broadcast to it (in_dims aligned on the right).
std::vector<int64_t> BroadcastIndex(const std::vector<int64_t>& in_dims,
                                    const std::vector<int64_t>& out_dims) {
  int64_t count = 1;
  for (int64_t d : out_dims) count *= d;
  const size_t rank = out_dims.size();
  const size_t offset = rank - in_dims.size();
  const std::vector<int64_t> in_strides = Strides(in_dims);
  std::vector<int64_t> index(static_cast<size_t>(count));
  std::vector<int64_t> pos(rank, 0);
  for (int64_t i = 0; i < count; ++i) {
    int64_t src = 0;
    for (size_t d = offset; d < rank; ++d) {
      if (in_dims[d - offset] != 1) src += pos[d] * in_strides[d - offset];
    }
    index[static_cast<size_t>(i)] = src;
    for (size_t d = rank; d-- > 0;) {
      if (++pos[d] < out_dims[d]) break;
      pos[d] = 0;
    }
  }
  return index;
}

}  // namespace

bool BroadcastShapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b,
                     std::vector<int64_t>* out) {
  const size_t rank = std::max(a.size(), b.size());
  out->assign(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t ea = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t eb = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (ea == eb || eb == 1) {
      (*out)[i] = ea;
    } else if (ea == 1) {
      (*out)[i] = eb;
    } else {
      return false;
    }
  }
  return true;
}

HostTensor HostBroadcastTo(const HostTensor& t, const std::vector<int64_t>& dims) {
  const size_t size = OnnxTypeSize(t.type());
  const std::vector<int64_t> index = BroadcastIndex(t.dims(), dims);
  std::vector<uint8_t> bytes(index.size() * size);
  for (size_t i = 0; i < index.size(); ++i) {
    std::memcpy(bytes.data() + i * size, t.bytes().data() + index[i] * size, size);
  }
  return HostTensor::FromBytes(t.type(), dims, std::move(bytes));
}

HostTensor HostTranspose(const HostTensor& t, const std::vector<int64_t>& perm) {
  const size_t size = OnnxTypeSize(t.type());
  const size_t rank = perm.size();
  std::vector<int64_t> out_dims(rank);
  for (size_t i = 0; i < rank; ++i) out_dims[i] = t.dims()[static_cast<size_t>(perm[i])];
  const std::vector<int64_t> in_strides = Strides(t.dims());
  std::vector<uint8_t> bytes(static_cast<size_t>(t.count()) * size);
  std::vector<int64_t> pos(rank, 0);
  for (int64_t i = 0; i < t.count(); ++i) {
    int64_t src = 0;
    for (size_t d = 0; d < rank; ++d) src += pos[d] * in_strides[static_cast<size_t>(perm[d])];
    std::memcpy(bytes.data() + static_cast<size_t>(i) * size,
                t.bytes().data() + static_cast<size_t>(src) * size, size);
    for (size_t d = rank; d-- > 0;) {
      if (++pos[d] < out_dims[d]) break;
      pos[d] = 0;
    }
  }
  return HostTensor::FromBytes(t.type(), std::move(out_dims), std::move(bytes));
}

HostTensor HostBinary(const HostTensor& a, const HostTensor& b, HostBinaryOp op) {
  std::vector<int64_t> dims;
  BroadcastShapes(a.dims(), b.dims(), &dims);
  const std::vector<int64_t> ia = BroadcastIndex(a.dims(), dims);
  const std::vector<int64_t> ib = BroadcastIndex(b.dims(), dims);
  std::vector<float> out(ia.size());
  const float* pa = a.floats();
  const float* pb = b.floats();
  for (size_t i = 0; i < out.size(); ++i) {
    const float x = pa[ia[i]], y = pb[ib[i]];
    switch (op) {
      case HostBinaryOp::kAdd:
        out[i] = x + y;
        break;
      case HostBinaryOp::kSub:
        out[i] = x - y;
        break;
      case HostBinaryOp::kMul:
        out[i] = x * y;
        break;
    }
  }
  return HostTensor::FromFloats(std::move(dims), out);
}

}  // namespace qsdk::onnx
