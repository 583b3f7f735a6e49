// Quantized FullyConnected and MatMul (docs/quantization.md): exact integer accumulation,
// then the float epilogue shared with the quantized convolution (integer_linear.h).
#include "reference/geometry.h"
#include "reference/integer_linear.h"
#include "reference/op_util.h"
#include "reference/quantized_ops.h"
#include "reference/quantized_util.h"

namespace qsdk::reference {

Status QuantizedFullyConnected(const QuantizedOperand& x, const QuantizedOperand& w,
                               const QuantizedOperand& b, const QuantizedOperand& residual,
                               const FusedActivation& activation, const QuantizedOutputSpec& out,
                               Tensor* y) {
  constexpr const char* kOp = "QuantizedFullyConnected";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckActivationOperand(kOp, "input x", x, false));
    QSDK_RETURN_IF_ERROR(
        internal::CheckWeights(kOp, "weight w", w, /*channel_axis=*/0, DataType::INT8));
    QSDK_RETURN_IF_ERROR(internal::CheckOutputSpec(kOp, out));
    QSDK_RETURN_IF_ERROR(CheckActivation(kOp, activation.type, activation.alpha, activation.beta,
                                         /*allow_none=*/true));
    internal::FullyConnectedGeometry g;
    QSDK_RETURN_IF_ERROR(internal::ResolveFullyConnectedGeometry(
        kOp, internal::ShapeOf(*x.tensor), internal::ShapeOf(*w.tensor), &g));
    QSDK_RETURN_IF_ERROR(internal::CheckChannelBias(kOp, b, x.quant.scales[0], w.quant, g.oc));
    QSDK_RETURN_IF_ERROR(internal::CheckResidual(kOp, residual, g.OutputShape()));
    const std::vector<float> r = internal::IntegerFullyConnected(
        g, internal::ReadIntegerLinearOperands(x, w, b, residual), activation);
    return internal::WriteOutput(kOp, out, g.OutputShape(), r, y);
  });
}

Status QuantizedMatMul(const QuantizedOperand& a, const QuantizedOperand& b,
                       const QuantizedOperand& bias, const MatMulParams& params,
                       const QuantizedOutputSpec& out, Tensor* y) {
  constexpr const char* kOp = "QuantizedMatMul";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    using internal::ShapeString;
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckActivationOperand(kOp, "input a", a, false));
    QSDK_RETURN_IF_ERROR(internal::CheckMatMulWeights(kOp, b, params, DataType::INT8));
    QSDK_RETURN_IF_ERROR(internal::CheckOutputSpec(kOp, out));
    if (bias.tensor != nullptr) {
      QSDK_RETURN_IF_ERROR(internal::CheckTensorBasics(kOp, "bias", bias.tensor));
    }
    internal::MatMulGeometry g;
    QSDK_RETURN_IF_ERROR(internal::ResolveMatMulGeometry(
        kOp, internal::ShapeOf(*a.tensor), internal::ShapeOf(*b.tensor),
        bias.tensor != nullptr ? &internal::ShapeOf(*bias.tensor) : nullptr, params, &g));
    int32_t bias_axis = -1;
    if (bias.tensor != nullptr) {
      const auto& bias_shape = internal::ShapeOf(*bias.tensor);
      bias_axis = static_cast<int32_t>(bias_shape.size()) - 1;
      // Per-axis parameters must have one scale per output column.
      if (!bias.quant.per_tensor() && (bias_shape.empty() || bias_shape.back() != g.n)) {
        return InvalidArgument(kOp, ": bias of shape ", ShapeString(bias_shape),
                               " is quantized per axis; its last extent must be N = ", g.n);
      }
    }
    QSDK_RETURN_IF_ERROR(
        internal::CheckBias(kOp, bias, bias_axis, a.quant.scales[0], b.quant, g.n));
    const std::vector<float> r = internal::IntegerMatMul(
        g, internal::ReadIntegerLinearOperands(a, b, bias, QuantizedOperand()), params.activation);
    return internal::WriteOutput(kOp, out, g.out_shape, r, y);
  });
}

}  // namespace qsdk::reference
