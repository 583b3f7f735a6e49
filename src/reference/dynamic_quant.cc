// Dynamically quantized FullyConnected / MatMul (dynamic_quant.h): the FLOAT32 input is
// quantized to UINT8 (asymmetric) with parameters chosen from its own range, the integer
// product with the INT8 weights is exact (int32), and the epilogue runs in float. This file
// is compiled with -ffp-contract=off (src/reference/CMakeLists.txt).
#include "reference/dynamic_quant.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "reference/geometry.h"
#include "reference/integer_linear.h"
#include "reference/op_util.h"
#include "reference/quant_math.h"
#include "reference/quantized_util.h"

namespace qsdk::reference {
namespace {

using internal::ShapeOf;

// Quantizes the FLOAT32 input `x` with UINT8 parameters chosen from its own range into
// v's data input (values and parameters), and sets the int32 accumulator of the contract.
Status QuantizeDynamically(const char* op, const char* what, const Tensor& x,
                           internal::IntegerLinearOperands* v) {
  QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(op, what, x));
  const float* values = x.Data<float>();
  const int64_t count = x.GetElementCount();
  // lo = min(0, min x), hi = max(0, max x): the range always contains real 0.
  float lo = 0.0f, hi = 0.0f;
  for (int64_t i = 0; i < count; ++i) {
    if (!std::isfinite(values[i])) {
      return InvalidArgument(op, ": ", what, " has value ", values[i], " at element ", i,
                             "; a dynamically quantized input must be finite");
    }
    lo = std::min(lo, values[i]);
    hi = std::max(hi, values[i]);
  }
  ActivationQuant chosen;
  QSDK_RETURN_IF_ERROR(ChooseActivationParams(lo, hi, QuantScheme::kAsymmetric, &chosen));
  if (chosen.dtype != DataType::UINT8) {
    return InternalError(op, ": the asymmetric scheme chose ", DataTypeName(chosen.dtype),
                         " instead of UINT8");
  }
  v->x_scale = chosen.params.scales[0];
  v->x_zero_point = chosen.params.zero_points[0];
  const float inv = InverseScale(v->x_scale);
  v->x.resize(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    v->x[static_cast<size_t>(i)] = QuantizeValue(values[i], inv, v->x_zero_point, DataType::UINT8);
  }
  v->int32_accumulator = true;
  return Status::Ok();
}

// The INT8 weights and the optional FLOAT32 bias into `v`.
void ReadWeightsAndBias(const QuantizedOperand& w, const Tensor* bias,
                        internal::IntegerLinearOperands* v) {
  v->w = internal::Widen(*w.tensor);
  v->w_params = w.quant;
  QuantizedOperand b;
  b.tensor = bias;
  v->float_bias = internal::RealValues(b);
}

Status CheckOptionalBias(const char* op, const Tensor* bias) {
  if (bias == nullptr) return Status::Ok();
  return internal::CheckFloatOperand(op, "bias", *bias);
}

}  // namespace

Status DynamicQuantizedFullyConnected(const Tensor& x, const QuantizedOperand& w,
                                      const Tensor* bias, const FusedActivation& act, Tensor* y) {
  constexpr const char* kOp = "DynamicQuantizedFullyConnected";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "input x", x));
    QSDK_RETURN_IF_ERROR(
        internal::CheckWeights(kOp, "weight w", w, /*channel_axis=*/0, DataType::INT8));
    QSDK_RETURN_IF_ERROR(CheckOptionalBias(kOp, bias));
    QSDK_RETURN_IF_ERROR(CheckActivation(kOp, act.type, act.alpha, act.beta, /*allow_none=*/true));
    internal::FullyConnectedGeometry g;
    QSDK_RETURN_IF_ERROR(
        internal::ResolveFullyConnectedGeometry(kOp, ShapeOf(x), ShapeOf(*w.tensor), &g));
    QSDK_RETURN_IF_ERROR(internal::CheckBiasShape(kOp, "bias", bias, g.oc));
    internal::IntegerLinearOperands v;
    QSDK_RETURN_IF_ERROR(QuantizeDynamically(kOp, "input x", x, &v));
    ReadWeightsAndBias(w, bias, &v);
    return internal::WriteOutput(kOp, QuantizedOutputSpec(), g.OutputShape(),
                                 internal::IntegerFullyConnected(g, v, act), y);
  });
}

Status DynamicQuantizedMatMul(const Tensor& a, const QuantizedOperand& b, const Tensor* bias,
                              const MatMulParams& p, Tensor* y) {
  constexpr const char* kOp = "DynamicQuantizedMatMul";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "input a", a));
    QSDK_RETURN_IF_ERROR(internal::CheckMatMulWeights(kOp, b, p, DataType::INT8));
    QSDK_RETURN_IF_ERROR(CheckOptionalBias(kOp, bias));
    internal::MatMulGeometry g;
    QSDK_RETURN_IF_ERROR(internal::ResolveMatMulGeometry(
        kOp, ShapeOf(a), ShapeOf(*b.tensor), bias != nullptr ? &ShapeOf(*bias) : nullptr, p, &g));
    internal::IntegerLinearOperands v;
    QSDK_RETURN_IF_ERROR(QuantizeDynamically(kOp, "input a", a, &v));
    ReadWeightsAndBias(b, bias, &v);
    return internal::WriteOutput(kOp, QuantizedOutputSpec(), g.out_shape,
                                 internal::IntegerMatMul(g, v, p.activation), y);
  });
}

}  // namespace qsdk::reference
