// INT16 Conv2D / FullyConnected / MatMul (int16_ops.h): the INT16 operand rules here; the
// exact int64 accumulation of (x_q - z_x) * w_q and the float epilogue (multiplier
// s_x * s_w[oc], FLOAT32 bias, fused residual, fused activation) are integer_linear.h's,
// shared with the INT8 ops; the output is FLOAT32 or INT16 per tensor (WriteOutput).
#include "reference/int16_ops.h"

#include <vector>

#include "reference/geometry.h"
#include "reference/integer_linear.h"
#include "reference/op_util.h"
#include "reference/quantized_util.h"

namespace qsdk::reference {

namespace {

using internal::ShapeOf;

// x: INT16 quantized per tensor.
Status CheckInt16Input(const char* op, const char* what, const QuantizedOperand& x) {
  QSDK_RETURN_IF_ERROR(internal::CheckTensorBasics(op, what, x.tensor));
  if (x.tensor->GetDataType() != DataType::INT16) {
    return InvalidArgument(op, ": ", what, " has type ", DataTypeName(x.tensor->GetDataType()),
                           "; it must be INT16 quantized per tensor");
  }
  return internal::CheckParams(op, what, DataType::INT16, ShapeOf(*x.tensor), x.quant,
                               /*allow_per_axis=*/false);
}

// An optional FLOAT32 tensor (bias or residual): present => FLOAT32, usable.
Status CheckOptionalFloat(const char* op, const char* what, const Tensor* t) {
  if (t == nullptr) return Status::Ok();
  QSDK_RETURN_IF_ERROR(internal::CheckTensorBasics(op, what, t));
  if (t->GetDataType() != DataType::FLOAT32) {
    return InvalidArgument(op, ": ", what, " has type ", DataTypeName(t->GetDataType()), "; the ",
                           what, " of an INT16 op must be FLOAT32");
  }
  return Status::Ok();
}

// out: FLOAT32 without parameters, or INT16 per tensor.
Status CheckInt16OutputSpec(const char* op, const QuantizedOutputSpec& out) {
  if (out.dtype == DataType::FLOAT32) {
    if (!out.quant.empty()) {
      return InvalidArgument(op, ": the output is FLOAT32 but has quantization parameters");
    }
    return Status::Ok();
  }
  if (out.dtype != DataType::INT16) {
    return InvalidArgument(op, ": the output type is ", DataTypeName(out.dtype),
                           "; an INT16 op produces FLOAT32 or INT16");
  }
  return internal::CheckParams(op, "the output", DataType::INT16, {}, out.quant,
                               /*allow_per_axis=*/false);
}

// The checks common to the three INT16 ops after those of their data input and weights:
// the optional FLOAT32 bias and residual, and the output spec.
Status CheckInt16BiasResidualOutput(const char* op, const Tensor* bias, const Tensor* residual,
                                    const QuantizedOutputSpec& out) {
  QSDK_RETURN_IF_ERROR(CheckOptionalFloat(op, "bias", bias));
  QSDK_RETURN_IF_ERROR(CheckOptionalFloat(op, "residual", residual));
  return CheckInt16OutputSpec(op, out);
}

// The integer operands of an INT16 op; the bias and the residual are FLOAT32.
internal::IntegerLinearOperands ReadInt16Operands(const QuantizedOperand& x,
                                                  const QuantizedOperand& w, const Tensor* bias,
                                                  const Tensor* residual) {
  QuantizedOperand b, r;
  b.tensor = bias;
  r.tensor = residual;
  return internal::ReadIntegerLinearOperands(x, w, b, r);
}

}  // namespace

Status Int16Conv2D(const QuantizedOperand& x, const QuantizedOperand& w, const Tensor* bias,
                   const Tensor* residual, const ConvParams& p, const QuantizedOutputSpec& out,
                   Tensor* y) {
  constexpr const char* kOp = "Int16Conv";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(CheckInt16Input(kOp, "input x", x));
    QSDK_RETURN_IF_ERROR(
        internal::CheckWeights(kOp, "filter w", w, /*channel_axis=*/0, DataType::INT16));
    QSDK_RETURN_IF_ERROR(CheckInt16BiasResidualOutput(kOp, bias, residual, out));
    internal::ConvGeometry g;
    QSDK_RETURN_IF_ERROR(
        internal::ResolveConvGeometry(kOp, ShapeOf(*x.tensor), ShapeOf(*w.tensor), p, &g));
    QSDK_RETURN_IF_ERROR(internal::CheckBiasShape(kOp, "bias", bias, g.oc));
    QSDK_RETURN_IF_ERROR(internal::CheckResidualShape(kOp, residual, g.OutputShape()));
    const std::vector<float> r =
        internal::IntegerConv(g, ReadInt16Operands(x, w, bias, residual), p.activation);
    return internal::WriteOutput(kOp, out, g.OutputShape(), r, y);
  });
}

Status Int16FullyConnected(const QuantizedOperand& x, const QuantizedOperand& w, const Tensor* bias,
                           const Tensor* residual, const FusedActivation& act,
                           const QuantizedOutputSpec& out, Tensor* y) {
  constexpr const char* kOp = "Int16FullyConnected";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(CheckInt16Input(kOp, "input x", x));
    QSDK_RETURN_IF_ERROR(
        internal::CheckWeights(kOp, "weight w", w, /*channel_axis=*/0, DataType::INT16));
    QSDK_RETURN_IF_ERROR(CheckInt16BiasResidualOutput(kOp, bias, residual, out));
    QSDK_RETURN_IF_ERROR(CheckActivation(kOp, act.type, act.alpha, act.beta, /*allow_none=*/true));
    internal::FullyConnectedGeometry g;
    QSDK_RETURN_IF_ERROR(
        internal::ResolveFullyConnectedGeometry(kOp, ShapeOf(*x.tensor), ShapeOf(*w.tensor), &g));
    QSDK_RETURN_IF_ERROR(internal::CheckBiasShape(kOp, "bias", bias, g.oc));
    QSDK_RETURN_IF_ERROR(internal::CheckResidualShape(kOp, residual, g.OutputShape()));
    const std::vector<float> r =
        internal::IntegerFullyConnected(g, ReadInt16Operands(x, w, bias, residual), act);
    return internal::WriteOutput(kOp, out, g.OutputShape(), r, y);
  });
}

Status Int16MatMul(const QuantizedOperand& a, const QuantizedOperand& b, const Tensor* bias,
                   const MatMulParams& p, const QuantizedOutputSpec& out, Tensor* y) {
  constexpr const char* kOp = "Int16MatMul";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(CheckInt16Input(kOp, "input a", a));
    QSDK_RETURN_IF_ERROR(internal::CheckMatMulWeights(kOp, b, p, DataType::INT16));
    QSDK_RETURN_IF_ERROR(CheckInt16BiasResidualOutput(kOp, bias, nullptr, out));
    internal::MatMulGeometry g;
    QSDK_RETURN_IF_ERROR(internal::ResolveMatMulGeometry(
        kOp, ShapeOf(*a.tensor), ShapeOf(*b.tensor), bias != nullptr ? &ShapeOf(*bias) : nullptr,
        p, &g));
    const std::vector<float> r =
        internal::IntegerMatMul(g, ReadInt16Operands(a, b, bias, nullptr), p.activation);
    return internal::WriteOutput(kOp, out, g.out_shape, r, y);
  });
}

}  // namespace qsdk::reference
