// Quantized 2-D convolution (docs/quantization.md): exact integer accumulation of
// (x_q - z_x) * w_q plus the INT32 bias, then in float the per-channel multiplier
// s_x * s_w[oc], the fused residual, the fused activation and the output quantization
// (integer_linear.h).
#include "reference/geometry.h"
#include "reference/integer_linear.h"
#include "reference/op_util.h"
#include "reference/quantized_ops.h"
#include "reference/quantized_util.h"

namespace qsdk::reference {

Status QuantizedConv2D(const QuantizedOperand& x, const QuantizedOperand& w,
                       const QuantizedOperand& b, const QuantizedOperand& residual,
                       const ConvParams& params, const QuantizedOutputSpec& out, Tensor* y) {
  constexpr const char* kOp = "QuantizedConv";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckActivationOperand(kOp, "input x", x, false));
    QSDK_RETURN_IF_ERROR(
        internal::CheckWeights(kOp, "filter w", w, /*channel_axis=*/0, DataType::INT8));
    QSDK_RETURN_IF_ERROR(internal::CheckOutputSpec(kOp, out));
    internal::ConvGeometry g;
    QSDK_RETURN_IF_ERROR(internal::ResolveConvGeometry(kOp, internal::ShapeOf(*x.tensor),
                                                       internal::ShapeOf(*w.tensor), params, &g));
    QSDK_RETURN_IF_ERROR(internal::CheckChannelBias(kOp, b, x.quant.scales[0], w.quant, g.oc));
    QSDK_RETURN_IF_ERROR(internal::CheckResidual(kOp, residual, g.OutputShape()));
    const std::vector<float> r = internal::IntegerConv(
        g, internal::ReadIntegerLinearOperands(x, w, b, residual), params.activation);
    return internal::WriteOutput(kOp, out, g.OutputShape(), r, y);
  });
}

}  // namespace qsdk::reference
