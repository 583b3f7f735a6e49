// 2-D convolution (docs/ops.md, Conv): grouped cross-correlation with zero padding,
// strides and dilations, an optional bias and a fused activation.
#include "reference/op_util.h"
#include "reference/ops.h"

namespace qsdk::reference {

namespace {

Status CheckConvParams(const char* op, const ConvParams& p) {
  if (p.stride_h < 1 || p.stride_w < 1) {
    return InvalidArgument(op, ": strides = [", p.stride_h, ",", p.stride_w,
                           "]; each stride must be >= 1");
  }
  if (p.pad_top < 0 || p.pad_bottom < 0 || p.pad_left < 0 || p.pad_right < 0) {
    return InvalidArgument(op, ": pads = [", p.pad_top, ",", p.pad_bottom, ",", p.pad_left, ",",
                           p.pad_right, "]; each pad must be >= 0");
  }
  if (p.dilation_h < 1 || p.dilation_w < 1) {
    return InvalidArgument(op, ": dilations = [", p.dilation_h, ",", p.dilation_w,
                           "]; each dilation must be >= 1");
  }
  if (p.group < 1) return InvalidArgument(op, ": group = ", p.group, "; it must be >= 1");
  return CheckActivation(op, p.activation.type, p.activation.alpha, p.activation.beta,
                         /*allow_none=*/true);
}

}  // namespace

Status Conv2D(const Tensor& x, const Tensor& w, const Tensor* b, const ConvParams& params,
              Tensor* y) {
  constexpr const char* kOp = "Conv";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    using internal::ShapeString;
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "input x", x));
    QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "filter w", w));
    if (b != nullptr) QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "bias b", *b));
    QSDK_RETURN_IF_ERROR(CheckConvParams(kOp, params));

    const auto& xs = internal::ShapeOf(x);
    const auto& ws = internal::ShapeOf(w);
    if (xs.size() != 4) {
      return InvalidArgument(kOp, ": input x has shape ", ShapeString(xs),
                             "; it must have 4 dims [N,C,H,W]");
    }
    if (ws.size() != 4) {
      return InvalidArgument(kOp, ": filter w has shape ", ShapeString(ws),
                             "; it must have 4 dims [OC, C/group, KH, KW]");
    }
    const int64_t n = xs[0], c = xs[1], h = xs[2], wd = xs[3];
    const int64_t oc = ws[0], kh = ws[2], kw = ws[3];
    const int64_t group = params.group;
    if (c % group != 0 || oc % group != 0) {
      return InvalidArgument(kOp, ": group = ", group, " must divide the input channels (", c,
                             ") and the output channels (", oc, ")");
    }
    const int64_t c_per_group = c / group;
    const int64_t oc_per_group = oc / group;
    if (ws[1] != c_per_group) {
      return InvalidArgument(kOp, ": filter w has shape ", ShapeString(ws),
                             "; its dim 1 must be C/group = ", c, "/", group, " = ", c_per_group);
    }
    if (kh < 1 || kw < 1) {
      return InvalidArgument(kOp, ": filter w has shape ", ShapeString(ws),
                             "; the kernel extents KH, KW must be >= 1");
    }
    if (b != nullptr && internal::ShapeOf(*b) != std::vector<int64_t>{oc}) {
      return InvalidArgument(kOp, ": bias b has shape ", ShapeString(internal::ShapeOf(*b)),
                             "; it must be [OC] = [", oc, "]");
    }
    const int64_t sh = params.stride_h, sw = params.stride_w;
    const int64_t dh = params.dilation_h, dw = params.dilation_w;
    const int64_t pt = params.pad_top, pl = params.pad_left;
    // Extents of the dilated kernel, dh*(KH-1)+1, and of the padded input.
    int64_t eff_kh = 0, eff_kw = 0, padded_h = 0, padded_w = 0;
    if (!internal::CheckedMulAdd(dh, kh - 1, 1, &eff_kh) ||
        !internal::CheckedMulAdd(dw, kw - 1, 1, &eff_kw) ||
        !internal::CheckedAdd3(h, pt, params.pad_bottom, &padded_h) ||
        !internal::CheckedAdd3(wd, pl, params.pad_right, &padded_w)) {
      return InvalidArgument(kOp,
                             ": pads, dilations or kernel extents are too large (the "
                             "padded input or dilated kernel extent overflows int64)");
    }
    if (padded_h < eff_kh || padded_w < eff_kw) {
      return InvalidArgument(kOp, ": the dilated kernel [", eff_kh, ",", eff_kw,
                             "] does not fit the padded input [", padded_h, ",", padded_w,
                             "]; the output H and W must be >= 1");
    }
    const int64_t oh = (padded_h - eff_kh) / sh + 1;
    const int64_t ow = (padded_w - eff_kw) / sw + 1;

    Tensor out;
    QSDK_RETURN_IF_ERROR(internal::AllocateOutput(kOp, {n, oc, oh, ow}, &out));
    const float* xd = x.Data<float>();
    const float* wdata = w.Data<float>();
    const float* bd = b != nullptr ? b->Data<float>() : nullptr;
    float* yd = out.Data<float>();
    const FusedActivation& act = params.activation;

    for (int64_t in = 0; in < n; ++in) {
      for (int64_t g = 0; g < group; ++g) {
        for (int64_t ocg = 0; ocg < oc_per_group; ++ocg) {
          const int64_t o = g * oc_per_group + ocg;
          for (int64_t y0 = 0; y0 < oh; ++y0) {
            for (int64_t x0 = 0; x0 < ow; ++x0) {
              double acc = bd != nullptr ? bd[o] : 0.0;
              for (int64_t icg = 0; icg < c_per_group; ++icg) {
                const int64_t ic = g * c_per_group + icg;
                for (int64_t ky = 0; ky < kh; ++ky) {
                  const int64_t iy = y0 * sh - pt + ky * dh;
                  if (iy < 0 || iy >= h) continue;  // zero padding
                  for (int64_t kx = 0; kx < kw; ++kx) {
                    const int64_t ix = x0 * sw - pl + kx * dw;
                    if (ix < 0 || ix >= wd) continue;  // zero padding
                    const float xv = xd[((in * c + ic) * h + iy) * wd + ix];
                    const float wv = wdata[((o * c_per_group + icg) * kh + ky) * kw + kx];
                    acc += static_cast<double>(xv) * wv;
                  }
                }
              }
              yd[((in * oc + o) * oh + y0) * ow + x0] =
                  ApplyActivation(act.type, static_cast<float>(acc), act.alpha, act.beta);
            }
          }
        }
      }
    }
    *y = std::move(out);
    return Status::Ok();
  });
}

}  // namespace qsdk::reference
