// Quantize (float -> INT8 / UINT8 / INT16, and requantize between quantized types) and
// Dequantize (INT8 / UINT8 / INT16 / INT32 -> FLOAT32), per tensor or per axis
// (docs/quantization.md; INT16: point 4 of the issue-5 contract). Compiled with
// -ffp-contract=off (src/reference/CMakeLists.txt).
#include "reference/op_util.h"
#include "reference/quant_math.h"
#include "reference/quantized_ops.h"
#include "reference/quantized_util.h"

namespace qsdk::reference {
namespace {

bool IsActivationStorage(DataType t) {
  return t == DataType::INT8 || t == DataType::UINT8 || t == DataType::INT16;
}

}  // namespace

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
    } else if (IsActivationStorage(in_type)) {
      QSDK_RETURN_IF_ERROR(internal::CheckParams(kOp, "input x", in_type, shape, x.quant,
                                                 /*allow_per_axis=*/true));
    } else {
      return InvalidArgument(kOp, ": input x has type ", DataTypeName(in_type),
                             "; it must be FLOAT32 (quantize) or INT8 / UINT8 / INT16 "
                             "(requantize)");
    }
    if (!IsActivationStorage(out.dtype)) {
      return InvalidArgument(kOp, ": the output type is ", DataTypeName(out.dtype),
                             "; it must be INT16, INT8 or UINT8");
    }
    QSDK_RETURN_IF_ERROR(internal::CheckParams(kOp, "the output", out.dtype, shape, out.quant,
                                               /*allow_per_axis=*/true));

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
    // INT32: an integer constant with parameters (e.g. an ONNX DequantizeLinear of a bias),
    // zero points 0.
    if (!IsActivationStorage(in_type) && in_type != DataType::INT32) {
      return InvalidArgument(kOp, ": input x has type ", DataTypeName(in_type),
                             "; it must be INT8, UINT8, INT16 or INT32");
    }
    const std::vector<int64_t>& shape = internal::ShapeOf(*x.tensor);
    QSDK_RETURN_IF_ERROR(internal::CheckParams(kOp, "input x", in_type, shape, x.quant,
                                               /*allow_per_axis=*/true));
    const std::vector<int32_t> q = internal::Widen(*x.tensor);
    const internal::AxisIndexer channel(shape, x.quant.axis);
    Tensor out;
    QSDK_RETURN_IF_ERROR(internal::AllocateTyped(kOp, DataType::FLOAT32, shape, &out));
    float* r = out.Data<float>();
    for (size_t i = 0; i < q.size(); ++i) {
      const auto c = static_cast<size_t>(channel(static_cast<int64_t>(i)));
      r[i] = DequantizeValue(q[i], x.quant.scales[c], x.quant.zero_points[c]);
    }
    *y = std::move(out);
    return Status::Ok();
  });
}

}  // namespace qsdk::reference
