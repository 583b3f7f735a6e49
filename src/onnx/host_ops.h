// Computations on constants at import time (constant folding inside the importer): what
// the ONNX graph computes from initializers is folded before it reaches the network, so
// that e.g. a Gemm's transposed weight is a plain constant that Conv / FullyConnected
// accept (a DequantizeLinear of weights stays explicit: ops_quantize.cc).
#pragma once

#include <cstdint>
#include <vector>

#include "onnx/tensor_data.h"

namespace qsdk::onnx {

// Numpy broadcasting of two shapes; false when an axis has two extents that differ and
// are both != 1.
bool BroadcastShapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b,
                     std::vector<int64_t>* out);

// `t` (any type) broadcast to `dims`, which BroadcastShapes(t.dims(), dims) must equal.
HostTensor HostBroadcastTo(const HostTensor& t, const std::vector<int64_t>& dims);

// `t` (any type) with its axes permuted: output axis i is input axis perm[i] (`perm` a
// permutation of 0..rank-1, checked by the caller).
HostTensor HostTranspose(const HostTensor& t, const std::vector<int64_t>& perm);

enum class HostBinaryOp { kAdd, kSub, kMul };

// a op b with broadcasting, both FLOAT; the shapes must broadcast (checked by the caller).
HostTensor HostBinary(const HostTensor& a, const HostTensor& b, HostBinaryOp op);

}  // namespace qsdk::onnx
