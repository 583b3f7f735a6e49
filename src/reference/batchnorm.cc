// Inference batch normalization over the channel axis 1 (docs/ops.md, BatchNorm).
#include <cmath>

#include "reference/op_util.h"
#include "reference/ops.h"

namespace qsdk::reference {

Status BatchNorm(const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& scale,
                 const Tensor& bias, double epsilon, Tensor* y) {
  constexpr const char* kOp = "BatchNorm";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    using internal::ShapeString;
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "input x", x));
    const auto& xs = internal::ShapeOf(x);
    if (xs.size() < 2) {
      return InvalidArgument(kOp, ": input x has shape ", ShapeString(xs),
                             "; it must have rank >= 2 [N,C,...]");
    }
    const int64_t c = xs[1];
    const struct {
      const char* name;
      const Tensor& t;
    } params[] = {{"mean", mean}, {"var", var}, {"scale", scale}, {"bias", bias}};
    for (const auto& p : params) {
      QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, p.name, p.t));
      if (internal::ShapeOf(p.t) != std::vector<int64_t>{c}) {
        return InvalidArgument(kOp, ": ", p.name, " has shape ",
                               ShapeString(internal::ShapeOf(p.t)), "; it must be [C] = [", c, "]");
      }
    }
    if (!(epsilon > 0.0)) {
      return InvalidArgument(kOp, ": epsilon = ", epsilon, "; it must be > 0");
    }
    Tensor out;
    QSDK_RETURN_IF_ERROR(internal::AllocateOutput(kOp, xs, &out));
    const float* md = mean.Data<float>();
    const float* vd = var.Data<float>();
    const float* sd = scale.Data<float>();
    const float* bd = bias.Data<float>();
    const float* xd = x.Data<float>();
    float* yd = out.Data<float>();
    const int64_t n = xs[0];
    const int64_t spatial = internal::Product(xs, 2, xs.size());
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t ch = 0; ch < c; ++ch) {
        const double inv_std = 1.0 / std::sqrt(static_cast<double>(vd[ch]) + epsilon);
        const int64_t base = (i * c + ch) * spatial;
        for (int64_t s = 0; s < spatial; ++s) {
          const double normalized = (static_cast<double>(xd[base + s]) - md[ch]) * inv_std;
          yd[base + s] = static_cast<float>(sd[ch] * normalized + bd[ch]);
        }
      }
    }
    *y = std::move(out);
    return Status::Ok();
  });
}

}  // namespace qsdk::reference
