// Activation functions (docs/ops.md, Activation), shared by the Activation op and the
// activations fused into Conv / FullyConnected / MatMul.
#include <algorithm>
#include <cmath>

#include "reference/op_util.h"
#include "reference/ops.h"

namespace qsdk::reference {

float ApplyActivation(ActivationType type, float x, float alpha, float beta) {
  // Transcendental functions are evaluated in double and rounded once.
  const double xd = x;
  switch (type) {
    case ActivationType::kRelu:
      return std::max(x, 0.0f);
    case ActivationType::kRelu6:
      return std::min(std::max(x, 0.0f), 6.0f);
    case ActivationType::kClip:
      return std::min(std::max(x, alpha), beta);
    case ActivationType::kSigmoid:
      return static_cast<float>(1.0 / (1.0 + std::exp(-xd)));
    case ActivationType::kTanh:
      return static_cast<float>(std::tanh(xd));
    case ActivationType::kLeakyRelu:
      return x >= 0.0f ? x : alpha * x;
    case ActivationType::kHardSwish:
      return static_cast<float>(xd * std::min(std::max(xd + 3.0, 0.0), 6.0) / 6.0);
    case ActivationType::kGelu:
      return static_cast<float>(0.5 * xd * (1.0 + std::erf(xd / std::sqrt(2.0))));
    case ActivationType::kNone:
      break;
  }
  return x;
}

Status CheckActivation(const char* op, ActivationType type, float alpha, float beta,
                       bool allow_none) {
  const auto value = static_cast<int32_t>(type);
  const int32_t lowest = allow_none ? 0 : 1;
  if (value < lowest || value > kMaxActivationType) {
    return InvalidArgument(op, ": activation type ", value, " is not valid; it must be in [",
                           lowest, ", ", kMaxActivationType, "]");
  }
  if (type == ActivationType::kClip && !(alpha <= beta)) {
    return InvalidArgument(op, ": Clip bounds alpha = ", alpha, ", beta = ", beta,
                           "; alpha must be <= beta");
  }
  return Status::Ok();
}

Status Activation(const Tensor& x, ActivationType type, float alpha, float beta, Tensor* y) {
  constexpr const char* kOp = "Activation";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "input x", x));
    QSDK_RETURN_IF_ERROR(CheckActivation(kOp, type, alpha, beta, /*allow_none=*/false));
    Tensor out;
    QSDK_RETURN_IF_ERROR(internal::AllocateOutput(kOp, internal::ShapeOf(x), &out));
    const float* src = x.Data<float>();
    float* dst = out.Data<float>();
    const int64_t count = x.GetElementCount();
    for (int64_t i = 0; i < count; ++i) dst[i] = ApplyActivation(type, src[i], alpha, beta);
    *y = std::move(out);
    return Status::Ok();
  });
}

}  // namespace qsdk::reference
