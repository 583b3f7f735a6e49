// Reshape and Flatten (docs/ops.md): the data, copied, under a new shape.
#include <algorithm>

#include "reference/geometry.h"
#include "reference/op_util.h"
#include "reference/ops.h"

namespace qsdk::reference {

namespace {

// Copies x into a new tensor of `shape` (same element count, checked by the callers).
Status CopyWithShape(const char* op, const Tensor& x, const std::vector<int64_t>& shape,
                     Tensor* y) {
  Tensor out;
  QSDK_RETURN_IF_ERROR(internal::AllocateOutput(op, shape, &out));
  const float* src = x.Data<float>();
  std::copy(src, src + x.GetElementCount(), out.Data<float>());
  *y = std::move(out);
  return Status::Ok();
}

}  // namespace

namespace internal {

Status ResolveFlattenShape(const char* op, const std::vector<int64_t>& xs, int64_t axis,
                           std::vector<int64_t>* out_shape) {
  const auto rank = static_cast<int64_t>(xs.size());
  if (axis < 0 || axis > rank) {
    return InvalidArgument(op, ": axis = ", axis, " for input of rank ", rank,
                           "; it must be in [0, ", rank, "]");
  }
  const auto split = static_cast<size_t>(axis);
  *out_shape = {Product(xs, 0, split), Product(xs, split, xs.size())};
  return Status::Ok();
}

}  // namespace internal

Status ResolveReshape(const char* op, const std::vector<int64_t>& in,
                      const std::vector<int64_t>& shape, std::vector<int64_t>* out) {
  using internal::ShapeString;
  const int64_t in_count = internal::Product(in);
  std::vector<int64_t> result(shape.size());
  int64_t infer_index = -1;
  int64_t known = 1;  // product of the extents other than the -1
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t d = shape[i];
    if (d == 0) {
      // 0 copies the input extent at the same index.
      if (i >= in.size()) {
        return InvalidArgument(op, ": shape ", ShapeString(shape), " has 0 at index ", i,
                               " but the input ", ShapeString(in), " has only ", in.size(),
                               " dims to copy from");
      }
      d = in[i];
    } else if (d == -1) {
      if (infer_index >= 0) {
        return InvalidArgument(op, ": shape ", ShapeString(shape),
                               " has more than one -1; at most one extent can be inferred");
      }
      infer_index = static_cast<int64_t>(i);
      continue;
    } else if (d < -1) {
      return InvalidArgument(op, ": shape ", ShapeString(shape), " has extent ", d, " at index ", i,
                             "; extents must be >= 0, or -1 to infer");
    }
    result[i] = d;
    if (__builtin_mul_overflow(known, d, &known)) {
      return InvalidArgument(op, ": shape ", ShapeString(shape),
                             " does not preserve the "
                             "element count of input ",
                             ShapeString(in), " (", in_count,
                             " elements): its product overflows int64");
    }
  }
  if (infer_index >= 0) {
    if (known == 0 || in_count % known != 0) {
      return InvalidArgument(op, ": cannot infer the -1 of shape ", ShapeString(shape),
                             " for input ", ShapeString(in), " (", in_count,
                             " elements): they are not a multiple of the other extents' "
                             "product ",
                             known);
    }
    result[infer_index] = in_count / known;
    known = in_count;
  }
  if (known != in_count) {
    return InvalidArgument(op, ": shape ", ShapeString(shape),
                           " does not preserve the element "
                           "count of input ",
                           ShapeString(in), " (", in_count, " elements)");
  }
  *out = std::move(result);
  return Status::Ok();
}

Status Reshape(const Tensor& x, const std::vector<int64_t>& shape, Tensor* y) {
  constexpr const char* kOp = "Reshape";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "input x", x));
    std::vector<int64_t> out_shape;
    QSDK_RETURN_IF_ERROR(ResolveReshape(kOp, internal::ShapeOf(x), shape, &out_shape));
    return CopyWithShape(kOp, x, out_shape, y);
  });
}

Status Flatten(const Tensor& x, int64_t axis, Tensor* y) {
  constexpr const char* kOp = "Flatten";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "input x", x));
    std::vector<int64_t> out_shape;
    QSDK_RETURN_IF_ERROR(
        internal::ResolveFlattenShape(kOp, internal::ShapeOf(x), axis, &out_shape));
    return CopyWithShape(kOp, x, out_shape, y);
  });
}

}  // namespace qsdk::reference
