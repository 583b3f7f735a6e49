// Quantized Elementwise (dequantize, operate and requantize in float), and the copying
// ops Concat, Reshape and Flatten on quantized tensors (exact: the stored values are
// copied and the parameters kept) (docs/quantization.md).
#include <algorithm>
#include <cstring>
#include <string>

#include "reference/geometry.h"
#include "reference/op_util.h"
#include "reference/quantized_ops.h"
#include "reference/quantized_util.h"

namespace qsdk::reference {

Status QuantizedElementwise(const QuantizedOperand& a, const QuantizedOperand& b,
                            ElementwiseOp op, const QuantizedOutputSpec& out, Tensor* y) {
  constexpr const char* kOp = "QuantizedElementwise";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckActivationOperand(kOp, "input a", a, true));
    QSDK_RETURN_IF_ERROR(internal::CheckActivationOperand(kOp, "input b", b, true));
    QSDK_RETURN_IF_ERROR(internal::CheckOutputSpec(kOp, out));
    const auto op_value = static_cast<int32_t>(op);
    if (op_value < 1 || op_value > kMaxElementwiseOp) {
      return InvalidArgument(kOp, ": elementwise op ", op_value,
                             " is not valid; it must be in [1, ", kMaxElementwiseOp, "]");
    }
    const auto& as = internal::ShapeOf(*a.tensor);
    const auto& bs = internal::ShapeOf(*b.tensor);
    std::vector<int64_t> out_shape;
    QSDK_RETURN_IF_ERROR(internal::BroadcastShapes(kOp, as, bs, &out_shape));
    const std::vector<float> ar = internal::RealValues(a);
    const std::vector<float> br = internal::RealValues(b);
    const std::vector<int64_t> a_strides = internal::BroadcastStrides(as, out_shape.size());
    const std::vector<int64_t> b_strides = internal::BroadcastStrides(bs, out_shape.size());
    const int64_t count = internal::Product(out_shape);
    std::vector<float> r(static_cast<size_t>(count));
    std::vector<int64_t> index(out_shape.size(), 0);
    for (int64_t i = 0; i < count; ++i, internal::NextIndex(out_shape, &index)) {
      const float av = ar[static_cast<size_t>(internal::OffsetOf(index, a_strides))];
      const float bv = br[static_cast<size_t>(internal::OffsetOf(index, b_strides))];
      float v = 0.0f;
      switch (op) {
        case ElementwiseOp::kAdd: v = av + bv; break;
        case ElementwiseOp::kSub: v = av - bv; break;
        case ElementwiseOp::kMul: v = av * bv; break;
      }
      r[static_cast<size_t>(i)] = v;
    }
    return internal::WriteOutput(kOp, out, out_shape, r, y);
  });
}

namespace {

// A copy of the bytes of x (INT8 / UINT8) under `shape` (same element count).
Status CopyQuantized(const char* op, const Tensor& x, const std::vector<int64_t>& shape,
                     Tensor* y) {
  Tensor out;
  QSDK_RETURN_IF_ERROR(internal::AllocateTyped(op, x.GetDataType(), shape, &out));
  if (out.GetSizeInBytes() != x.GetSizeInBytes()) {
    return InternalError(op, ": output shape ", internal::ShapeString(shape), " holds ",
                         out.GetElementCount(), " elements but the input ",
                         x.GetElementCount());
  }
  if (x.GetSizeInBytes() > 0) std::memcpy(out.GetData(), x.GetData(), x.GetSizeInBytes());
  *y = std::move(out);
  return Status::Ok();
}

}  // namespace

Status QuantizedConcat(const std::vector<QuantizedOperand>& inputs, int64_t axis, Tensor* y) {
  constexpr const char* kOp = "QuantizedConcat";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    using internal::ShapeString;
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    if (inputs.empty()) return InvalidArgument(kOp, ": needs at least one input");
    for (size_t i = 0; i < inputs.size(); ++i) {
      const std::string what = StrCat("input ", i);
      QSDK_RETURN_IF_ERROR(
          internal::CheckActivationOperand(kOp, what.c_str(), inputs[i], /*allow_float=*/false));
    }
    const QuantizedOperand& first_op = inputs[0];
    const DataType dtype = first_op.tensor->GetDataType();
    for (size_t i = 1; i < inputs.size(); ++i) {
      const QuantizedOperand& in = inputs[i];
      if (in.tensor->GetDataType() != dtype || !(in.quant == first_op.quant)) {
        return InvalidArgument(
            kOp, ": input ", i, " is ", DataTypeName(in.tensor->GetDataType()), " with scale ",
            in.quant.scales[0], " and zero point ", in.quant.zero_points[0], " but input 0 is ",
            DataTypeName(dtype), " with scale ", first_op.quant.scales[0], " and zero point ",
            first_op.quant.zero_points[0],
            "; a quantized concat needs identical parameters on every input (the builder "
            "unifies them)");
      }
    }
    std::vector<const std::vector<int64_t>*> shapes;
    for (const QuantizedOperand& in : inputs) shapes.push_back(&internal::ShapeOf(*in.tensor));
    std::vector<int64_t> out_shape;
    QSDK_RETURN_IF_ERROR(internal::ResolveConcatShape(kOp, shapes, axis, &out_shape));
    const std::vector<int64_t>& first = *shapes[0];
    Tensor out;
    QSDK_RETURN_IF_ERROR(internal::AllocateTyped(kOp, dtype, out_shape, &out));
    // Row-major: for each index of the dims before `axis`, each input contributes one
    // contiguous chunk (one byte per element).
    const int64_t outer = internal::Product(first, 0, static_cast<size_t>(axis));
    const int64_t inner = internal::Product(first, static_cast<size_t>(axis) + 1, first.size());
    auto* dst = static_cast<uint8_t*>(out.GetData());
    for (int64_t o = 0; o < outer; ++o) {
      for (const QuantizedOperand& in : inputs) {
        const int64_t chunk = internal::ShapeOf(*in.tensor)[axis] * inner;
        const auto* src = static_cast<const uint8_t*>(in.tensor->GetData()) + o * chunk;
        dst = std::copy(src, src + chunk, dst);
      }
    }
    *y = std::move(out);
    return Status::Ok();
  });
}

Status QuantizedReshape(const QuantizedOperand& x, const std::vector<int64_t>& shape, Tensor* y) {
  constexpr const char* kOp = "QuantizedReshape";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckActivationOperand(kOp, "input x", x, false));
    std::vector<int64_t> out_shape;
    QSDK_RETURN_IF_ERROR(ResolveReshape(kOp, internal::ShapeOf(*x.tensor), shape, &out_shape));
    return CopyQuantized(kOp, *x.tensor, out_shape, y);
  });
}

Status QuantizedFlatten(const QuantizedOperand& x, int64_t axis, Tensor* y) {
  constexpr const char* kOp = "QuantizedFlatten";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckActivationOperand(kOp, "input x", x, false));
    std::vector<int64_t> out_shape;
    QSDK_RETURN_IF_ERROR(
        internal::ResolveFlattenShape(kOp, internal::ShapeOf(*x.tensor), axis, &out_shape));
    return CopyQuantized(kOp, *x.tensor, out_shape, y);
  });
}

}  // namespace qsdk::reference
