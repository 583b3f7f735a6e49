// Helpers shared by the reference operators: operand checks, output allocation, shape
// arithmetic and the exception boundary. Internal to src/reference/.
#pragma once

#include <cstdint>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "common/status_macros.h"
#include "qsdk/status.h"
#include "qsdk/tensor.h"

namespace qsdk::reference::internal {

// The extents of `t` (a reference to its Dims' vector).
inline const std::vector<int64_t>& ShapeOf(const Tensor& t) { return t.GetDimension().GetDims(); }

// "[2,3]" for messages.
std::string ShapeString(const std::vector<int64_t>& shape);

// Checks that `t` is a usable FLOAT32 operand: non-empty, FLOAT32, every extent >= 0.
// Message: "<op>: <what> ...".
Status CheckFloatOperand(const char* op, const char* what, const Tensor& t);

// Checks a non-null output pointer.
Status CheckOutputPointer(const char* op, const Tensor* y);

// The shape rule of the per-output-channel bias of Conv / FullyConnected (any type):
// absent (nullptr), or [OC]. `what` names it ("bias", "bias b").
Status CheckBiasShape(const char* op, const char* what, const Tensor* bias, int64_t oc);

// The shape rule of a fused residual (any type): absent (nullptr), or exactly the output
// shape.
Status CheckResidualShape(const char* op, const Tensor* residual,
                          const std::vector<int64_t>& out_shape);

// Replaces *y with a new zero-filled FLOAT32 tensor of `shape`.
Status AllocateOutput(const char* op, const std::vector<int64_t>& shape, Tensor* y);

// Product of the extents of shape[begin:end) (1 for an empty range). Extents are known
// non-negative and the product bounded by an allocated tensor's size, so it cannot
// overflow where it is used.
int64_t Product(const std::vector<int64_t>& shape, size_t begin, size_t end);
inline int64_t Product(const std::vector<int64_t>& shape) {
  return Product(shape, 0, shape.size());
}

// a + b + c and a * b + c into *out; false (and *out unspecified) on int64 overflow. For
// geometry computed from attributes, which an engine file may set to anything.
inline bool CheckedAdd3(int64_t a, int64_t b, int64_t c, int64_t* out) {
  return !__builtin_add_overflow(a, b, out) && !__builtin_add_overflow(*out, c, out);
}
inline bool CheckedMulAdd(int64_t a, int64_t b, int64_t c, int64_t* out) {
  return !__builtin_mul_overflow(a, b, out) && !__builtin_add_overflow(*out, c, out);
}

// Row-major strides (in elements) of `shape`.
std::vector<int64_t> RowMajorStrides(const std::vector<int64_t>& shape);

// numpy broadcasting of two shapes (right-aligned; each pair of extents equal or one of
// them 1). Fails naming `op`, both shapes and the first offending dimension.
Status BroadcastShapes(const char* op, const std::vector<int64_t>& a, const std::vector<int64_t>& b,
                       std::vector<int64_t>* out);

// Strides that read a tensor of `shape` at a multi-index of a broadcast result of rank
// `out_rank`: leading missing dimensions and extent-1 dimensions get stride 0.
std::vector<int64_t> BroadcastStrides(const std::vector<int64_t>& shape, size_t out_rank);

// Advances the row-major multi-index `index` within `shape` (wrapping to all zeros after
// the last element).
void NextIndex(const std::vector<int64_t>& shape, std::vector<int64_t>* index);

// sum(index[i] * strides[i]).
int64_t OffsetOf(const std::vector<int64_t>& index, const std::vector<int64_t>& strides);

// Runs `body` (returning Status), turning any exception into a Status: an operator
// allocates (std::vector, Tensor) and must not let std::bad_alloc escape.
template <typename Body>
Status GuardExceptions(const char* op, Body&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted, StrCat(op, ": out of memory"));
  } catch (const std::exception& e) {
    return InternalError(op, ": unexpected exception: ", e.what());
  } catch (...) {
    return InternalError(op, ": unexpected unknown exception");
  }
}

}  // namespace qsdk::reference::internal
