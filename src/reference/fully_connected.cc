// Fully connected layer (docs/ops.md, FullyConnected): y = act(flatten(x) * w^T + b + R).
#include "reference/geometry.h"
#include "reference/op_util.h"
#include "reference/ops.h"

namespace qsdk::reference {

namespace internal {

Status ResolveFullyConnectedGeometry(const char* op, const std::vector<int64_t>& xs,
                                     const std::vector<int64_t>& ws, FullyConnectedGeometry* g) {
  if (xs.size() < 2) {
    return InvalidArgument(op, ": input x has shape ", ShapeString(xs),
                           "; it must have at least 2 dims [N, K] or [N, d1, ...]");
  }
  FullyConnectedGeometry r;
  // Every dim after the first is flattened into K.
  r.n = xs[0];
  r.k = Product(xs, 1, xs.size());
  if (ws.size() != 2 || ws[1] != r.k) {
    return InvalidArgument(op, ": weight w has shape ", ShapeString(ws), "; it must be [OC, ", r.k,
                           "] for input x of shape ", ShapeString(xs));
  }
  r.oc = ws[0];
  *g = r;
  return Status::Ok();
}

}  // namespace internal

Status FullyConnected(const Tensor& x, const Tensor& w, const Tensor* b,
                      const FusedActivation& activation, Tensor* y) {
  return FullyConnected(x, w, b, nullptr, activation, y);
}

Status FullyConnected(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor* residual,
                      const FusedActivation& activation, Tensor* y) {
  constexpr const char* kOp = "FullyConnected";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "input x", x));
    QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "weight w", w));
    if (b != nullptr) QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "bias b", *b));
    if (residual != nullptr) {
      QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "residual", *residual));
    }
    QSDK_RETURN_IF_ERROR(CheckActivation(kOp, activation.type, activation.alpha, activation.beta,
                                         /*allow_none=*/true));
    internal::FullyConnectedGeometry g;
    QSDK_RETURN_IF_ERROR(internal::ResolveFullyConnectedGeometry(kOp, internal::ShapeOf(x),
                                                                 internal::ShapeOf(w), &g));
    QSDK_RETURN_IF_ERROR(internal::CheckBiasShape(kOp, "bias b", b, g.oc));
    QSDK_RETURN_IF_ERROR(internal::CheckResidualShape(kOp, residual, g.OutputShape()));

    Tensor out;
    QSDK_RETURN_IF_ERROR(internal::AllocateOutput(kOp, g.OutputShape(), &out));
    const int64_t n = g.n, k = g.k, oc = g.oc;
    const float* xd = x.Data<float>();
    const float* wd = w.Data<float>();
    const float* bd = b != nullptr ? b->Data<float>() : nullptr;
    const float* rd = residual != nullptr ? residual->Data<float>() : nullptr;
    float* yd = out.Data<float>();
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t o = 0; o < oc; ++o) {
        double acc = bd != nullptr ? bd[o] : 0.0;
        for (int64_t j = 0; j < k; ++j) acc += static_cast<double>(xd[i * k + j]) * wd[o * k + j];
        // The residual is added to the float-rounded product (as an unfused add would).
        float v = static_cast<float>(acc);
        if (rd != nullptr) v += rd[i * oc + o];
        yd[i * oc + o] = ApplyActivation(activation.type, v, activation.alpha, activation.beta);
      }
    }
    *y = std::move(out);
    return Status::Ok();
  });
}

}  // namespace qsdk::reference
