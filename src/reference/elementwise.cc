// Binary element-wise operations with numpy broadcasting (docs/ops.md, Elementwise).
#include "reference/op_util.h"
#include "reference/ops.h"

namespace qsdk::reference {

Status Elementwise(const Tensor& a, const Tensor& b, ElementwiseOp op, Tensor* y) {
  constexpr const char* kOp = "Elementwise";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "input a", a));
    QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "input b", b));
    const auto op_value = static_cast<int32_t>(op);
    if (op_value < 1 || op_value > kMaxElementwiseOp) {
      return InvalidArgument(kOp, ": elementwise op ", op_value,
                             " is not valid; it must be in [1, ", kMaxElementwiseOp, "]");
    }
    std::vector<int64_t> out_shape;
    QSDK_RETURN_IF_ERROR(
        internal::BroadcastShapes(kOp, internal::ShapeOf(a), internal::ShapeOf(b), &out_shape));
    Tensor out;
    QSDK_RETURN_IF_ERROR(internal::AllocateOutput(kOp, out_shape, &out));

    const std::vector<int64_t> a_strides =
        internal::BroadcastStrides(internal::ShapeOf(a), out_shape.size());
    const std::vector<int64_t> b_strides =
        internal::BroadcastStrides(internal::ShapeOf(b), out_shape.size());
    const float* ad = a.Data<float>();
    const float* bd = b.Data<float>();
    float* yd = out.Data<float>();
    const int64_t count = internal::Product(out_shape);
    std::vector<int64_t> index(out_shape.size(), 0);
    for (int64_t i = 0; i < count; ++i, internal::NextIndex(out_shape, &index)) {
      const float av = ad[internal::OffsetOf(index, a_strides)];
      const float bv = bd[internal::OffsetOf(index, b_strides)];
      switch (op) {
        case ElementwiseOp::kAdd:
          yd[i] = av + bv;
          break;
        case ElementwiseOp::kSub:
          yd[i] = av - bv;
          break;
        case ElementwiseOp::kMul:
          yd[i] = av * bv;
          break;
      }
    }
    *y = std::move(out);
    return Status::Ok();
  });
}

}  // namespace qsdk::reference
