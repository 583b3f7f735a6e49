// Softmax along one axis (docs/ops.md, Softmax; ONNX opset 13 semantics).
#include <algorithm>
#include <cmath>

#include "reference/op_util.h"
#include "reference/ops.h"

namespace qsdk::reference {

Status Softmax(const Tensor& x, int64_t axis, Tensor* y) {
  constexpr const char* kOp = "Softmax";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "input x", x));
    const auto& xs = internal::ShapeOf(x);
    const auto rank = static_cast<int64_t>(xs.size());
    if (axis < 0 || axis >= rank) {
      return InvalidArgument(kOp, ": axis = ", axis, " for input of rank ", rank,
                             "; it must be in [0, ", rank, ")");
    }
    Tensor out;
    QSDK_RETURN_IF_ERROR(internal::AllocateOutput(kOp, xs, &out));
    // View x as [outer, extent, inner]; each (outer, inner) pair is one softmax.
    const int64_t outer = internal::Product(xs, 0, static_cast<size_t>(axis));
    const int64_t extent = xs[axis];
    const int64_t inner = internal::Product(xs, static_cast<size_t>(axis) + 1, xs.size());
    const float* xd = x.Data<float>();
    float* yd = out.Data<float>();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t base = o * extent * inner + i;
        // Subtracting the max keeps exp() from overflowing; the result is unchanged.
        float max_value = -INFINITY;
        for (int64_t e = 0; e < extent; ++e) max_value = std::max(max_value, xd[base + e * inner]);
        double sum = 0.0;
        for (int64_t e = 0; e < extent; ++e) {
          sum += std::exp(static_cast<double>(xd[base + e * inner]) - max_value);
        }
        for (int64_t e = 0; e < extent; ++e) {
          yd[base + e * inner] = static_cast<float>(
              std::exp(static_cast<double>(xd[base + e * inner]) - max_value) / sum);
        }
      }
    }
    *y = std::move(out);
    return Status::Ok();
  });
}

}  // namespace qsdk::reference
