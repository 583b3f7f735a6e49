// Quantize (float -> INT8 / UINT8, and requantize between quantized types) and Dequantize
// (docs/quantization.md).
#include "reference/op_util.h"
#include "reference/quant_math.h"
#include "reference/quantized_ops.h"
#include "reference/quantized_util.h"

namespace qsdk::reference {

Status Quantize(const QuantizedOperand& x, const QuantizedOutputSpec& out, Tensor* y) {
  constexpr const char* kOp = "Quantize";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckTensorBasics(kOp, "input x", x.tensor));
    const std::vector<int64_t>& shape = internal::ShapeOf(*x.tensor);
    const DataType in_type = x.tensor->GetDataType();
    if (in_type == DataType::FLOAT32) {
      if (!x.quant.empty()) {
        return InvalidArgument(kOp, ": input x is FLOAT32 but has quantization parameters");
      }
    } else if (internal::IsQuantized8(in_type)) {
      QSDK_RETURN_IF_ERROR(
          internal::CheckParams(kOp, "input x", in_type, shape, x.quant, /*allow_per_axis=*/true));
    } else {
      return InvalidArgument(kOp, ": input x has type ", DataTypeName(in_type),
                             "; it must be FLOAT32 (quantize) or INT8 / UINT8 (requantize)");
    }
    if (!internal::IsQuantized8(out.dtype)) {
      return InvalidArgument(kOp, ": the output type is ", DataTypeName(out.dtype),
                             "; it must be INT8 or UINT8");
    }
    QSDK_RETURN_IF_ERROR(
        internal::CheckParams(kOp, "the output", out.dtype, shape, out.quant, true));

    // The reciprocal of each output scale, computed once (the contract's 1.0f / s).
    std::vector<float> inverse(out.quant.scales.size());
    for (size_t c = 0; c < inverse.size(); ++c) inverse[c] = InverseScale(out.quant.scales[c]);
    const internal::AxisIndexer out_channel(shape, out.quant.axis);
    const auto count = static_cast<size_t>(x.tensor->GetElementCount());
    std::vector<int32_t> q(count);
    if (in_type == DataType::FLOAT32) {
      const float* xd = x.tensor->Data<float>();
      for (size_t i = 0; i < count; ++i) {
        const auto c = static_cast<size_t>(out_channel(static_cast<int64_t>(i)));
        q[i] = QuantizeValue(xd[i], inverse[c], out.quant.zero_points[c], out.dtype);
      }
    } else {
      const std::vector<int32_t> in = internal::Widen(*x.tensor);
      const internal::AxisIndexer in_channel(shape, x.quant.axis);
      for (size_t i = 0; i < count; ++i) {
        const auto ci = static_cast<size_t>(in_channel(static_cast<int64_t>(i)));
        const auto co = static_cast<size_t>(out_channel(static_cast<int64_t>(i)));
        q[i] = RequantizeValue(in[i], x.quant.scales[ci], x.quant.zero_points[ci], inverse[co],
                               out.quant.zero_points[co], out.dtype);
      }
    }
    return internal::WriteQuantized(kOp, out.dtype, shape, q, y);
  });
}

Status Dequantize(const QuantizedOperand& x, Tensor* y) {
  constexpr const char* kOp = "Dequantize";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckTensorBasics(kOp, "input x", x.tensor));
    const DataType in_type = x.tensor->GetDataType();
    if (!internal::IsQuantized8(in_type)) {
      return InvalidArgument(kOp, ": input x has type ", DataTypeName(in_type),
                             "; it must be INT8 or UINT8");
    }
    const std::vector<int64_t>& shape = internal::ShapeOf(*x.tensor);
    QSDK_RETURN_IF_ERROR(internal::CheckParams(kOp, "input x", in_type, shape, x.quant, true));
    return internal::WriteOutput(kOp, QuantizedOutputSpec(), shape, internal::RealValues(x), y);
  });
}

}  // namespace qsdk::reference
