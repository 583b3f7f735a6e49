// Transpose: permutation of the dimensions (docs/ops.md, Transpose).
#include "reference/op_util.h"
#include "reference/ops.h"

namespace qsdk::reference {

Status Transpose(const Tensor& x, const std::vector<int64_t>& perm, Tensor* y) {
  constexpr const char* kOp = "Transpose";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    using internal::ShapeString;
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "input x", x));
    const auto& xs = internal::ShapeOf(x);
    const size_t rank = xs.size();
    std::vector<bool> seen(rank, false);
    bool valid = perm.size() == rank;
    for (size_t i = 0; valid && i < perm.size(); ++i) {
      const int64_t p = perm[i];
      if (p < 0 || p >= static_cast<int64_t>(rank) || seen[p]) {
        valid = false;
      } else {
        seen[p] = true;
      }
    }
    if (!valid) {
      return InvalidArgument(kOp, ": perm = ", ShapeString(perm), " for input of shape ",
                             ShapeString(xs), "; it must be a permutation of 0..", rank, "-1");
    }
    std::vector<int64_t> out_shape(rank);
    for (size_t i = 0; i < rank; ++i) out_shape[i] = xs[perm[i]];
    Tensor out;
    QSDK_RETURN_IF_ERROR(internal::AllocateOutput(kOp, out_shape, &out));

    // Output dim i walks input dim perm[i]: its stride in x is x's stride of perm[i].
    const std::vector<int64_t> in_strides = internal::RowMajorStrides(xs);
    std::vector<int64_t> strides(rank);
    for (size_t i = 0; i < rank; ++i) strides[i] = in_strides[perm[i]];
    const float* xd = x.Data<float>();
    float* yd = out.Data<float>();
    const int64_t count = internal::Product(out_shape);
    std::vector<int64_t> index(rank, 0);
    for (int64_t i = 0; i < count; ++i, internal::NextIndex(out_shape, &index)) {
      yd[i] = xd[internal::OffsetOf(index, strides)];
    }
    *y = std::move(out);
    return Status::Ok();
  });
}

}  // namespace qsdk::reference
