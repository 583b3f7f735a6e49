// Quantized 2-D convolution (docs/quantization.md): exact integer accumulation of
// (x_q - z_x) * w_q plus the INT32 bias, then in float the per-channel multiplier
// s_x * s_w[oc], the fused residual, the fused activation and the output quantization.
#include "reference/geometry.h"
#include "reference/op_util.h"
#include "reference/quantized_ops.h"
#include "reference/quantized_util.h"

namespace qsdk::reference {

Status QuantizedConv2D(const QuantizedOperand& x, const QuantizedOperand& w,
                       const QuantizedOperand& b, const QuantizedOperand& residual,
                       const ConvParams& params, const QuantizedOutputSpec& out, Tensor* y) {
  constexpr const char* kOp = "QuantizedConv";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    using internal::ShapeString;
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckActivationOperand(kOp, "input x", x, false));
    QSDK_RETURN_IF_ERROR(internal::CheckWeights(kOp, "filter w", w, /*channel_axis=*/0));
    QSDK_RETURN_IF_ERROR(internal::CheckOutputSpec(kOp, out));
    internal::ConvGeometry g;
    QSDK_RETURN_IF_ERROR(internal::ResolveConvGeometry(kOp, internal::ShapeOf(*x.tensor),
                                                       internal::ShapeOf(*w.tensor), params, &g));
    if (b.tensor != nullptr && internal::ShapeOf(*b.tensor) != std::vector<int64_t>{g.oc}) {
      return InvalidArgument(kOp, ": bias has shape ", ShapeString(internal::ShapeOf(*b.tensor)),
                             "; it must be [OC] = [", g.oc, "]");
    }
    const float s_x = x.quant.scales[0];
    const int32_t z_x = x.quant.zero_points[0];
    QSDK_RETURN_IF_ERROR(internal::CheckBias(kOp, b, 0, s_x, w.quant, g.oc));
    const std::vector<int64_t> out_shape = g.OutputShape();
    QSDK_RETURN_IF_ERROR(internal::CheckResidual(kOp, residual, out_shape));

    const std::vector<int32_t> xq = internal::Widen(*x.tensor);
    const std::vector<int32_t> wq = internal::Widen(*w.tensor);
    const std::vector<int32_t> bq =
        b.tensor != nullptr ? internal::Widen(*b.tensor) : std::vector<int32_t>();
    const std::vector<float> rr =
        residual.tensor != nullptr ? internal::RealValues(residual) : std::vector<float>();
    std::vector<float> multiplier(static_cast<size_t>(g.oc));
    for (int64_t o = 0; o < g.oc; ++o) {
      multiplier[static_cast<size_t>(o)] = s_x * internal::ScaleAt(w.quant, o);
    }
    std::vector<float> r(static_cast<size_t>(internal::Product(out_shape)));
    const int64_t sh = params.stride_h, sw = params.stride_w;
    const int64_t dh = params.dilation_h, dw = params.dilation_w;
    const int64_t pt = params.pad_top, pl = params.pad_left;

    for (int64_t in = 0; in < g.n; ++in) {
      for (int64_t grp = 0; grp < g.group; ++grp) {
        for (int64_t ocg = 0; ocg < g.oc_per_group; ++ocg) {
          const int64_t o = grp * g.oc_per_group + ocg;
          for (int64_t y0 = 0; y0 < g.oh; ++y0) {
            for (int64_t x0 = 0; x0 < g.ow; ++x0) {
              int64_t acc = bq.empty() ? 0 : bq[static_cast<size_t>(o)];
              for (int64_t icg = 0; icg < g.c_per_group; ++icg) {
                const int64_t ic = grp * g.c_per_group + icg;
                for (int64_t ky = 0; ky < g.kh; ++ky) {
                  const int64_t iy = y0 * sh - pt + ky * dh;
                  // Padding is real 0, i.e. x_q = z_x: it adds nothing.
                  if (iy < 0 || iy >= g.h) continue;
                  for (int64_t kx = 0; kx < g.kw; ++kx) {
                    const int64_t ix = x0 * sw - pl + kx * dw;
                    if (ix < 0 || ix >= g.w) continue;
                    const int64_t xv = xq[static_cast<size_t>(g.XIndex(in, ic, iy, ix))] - z_x;
                    acc += xv * wq[static_cast<size_t>(g.WIndex(o, icg, ky, kx))];
                  }
                }
              }
              const auto yi = static_cast<size_t>(g.YIndex(in, o, y0, x0));
              r[yi] = internal::Epilogue(acc, multiplier[static_cast<size_t>(o)],
                                         rr.empty() ? nullptr : &rr[yi], params.activation);
            }
          }
        }
      }
    }
    return internal::WriteOutput(kOp, out, out_shape, r, y);
  });
}

}  // namespace qsdk::reference
