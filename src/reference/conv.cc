// 2-D convolution (docs/ops.md, Conv): grouped cross-correlation with zero padding,
// strides and dilations, an optional bias, an optional fused residual and a fused
// activation.
#include "reference/geometry.h"
#include "reference/op_util.h"
#include "reference/ops.h"

namespace qsdk::reference {

namespace internal {

namespace {

Status CheckConvParams(const char* op, const ConvParams& p) {
  QSDK_RETURN_IF_ERROR(CheckWindowStrides(op, p.stride_h, p.stride_w));
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

Status ResolveConvGeometry(const char* op, const std::vector<int64_t>& xs,
                           const std::vector<int64_t>& ws, const ConvParams& params,
                           ConvGeometry* g) {
  QSDK_RETURN_IF_ERROR(CheckConvParams(op, params));
  ConvGeometry r;
  QSDK_RETURN_IF_ERROR(ResolveNchwInput(op, xs, &r));
  if (ws.size() != 4) {
    return InvalidArgument(op, ": filter w has shape ", ShapeString(ws),
                           "; it must have 4 dims [OC, C/group, KH, KW]");
  }
  r.oc = ws[0];
  r.kh = ws[2];
  r.kw = ws[3];
  r.group = params.group;
  if (r.c % r.group != 0 || r.oc % r.group != 0) {
    return InvalidArgument(op, ": group = ", r.group, " must divide the input channels (", r.c,
                           ") and the output channels (", r.oc, ")");
  }
  r.c_per_group = r.c / r.group;
  r.oc_per_group = r.oc / r.group;
  if (ws[1] != r.c_per_group) {
    return InvalidArgument(op, ": filter w has shape ", ShapeString(ws),
                           "; its dim 1 must be C/group = ", r.c, "/", r.group, " = ",
                           r.c_per_group);
  }
  if (r.kh < 1 || r.kw < 1) {
    return InvalidArgument(op, ": filter w has shape ", ShapeString(ws),
                           "; the kernel extents KH, KW must be >= 1");
  }
  // Extents of the dilated kernel, dh*(KH-1)+1, and of the padded input.
  int64_t eff_kh = 0, eff_kw = 0, padded_h = 0, padded_w = 0;
  if (!CheckedMulAdd(params.dilation_h, r.kh - 1, 1, &eff_kh) ||
      !CheckedMulAdd(params.dilation_w, r.kw - 1, 1, &eff_kw) ||
      !CheckedAdd3(r.h, params.pad_top, params.pad_bottom, &padded_h) ||
      !CheckedAdd3(r.w, params.pad_left, params.pad_right, &padded_w)) {
    return InvalidArgument(op,
                           ": pads, dilations or kernel extents are too large (the "
                           "padded input or dilated kernel extent overflows int64)");
  }
  if (padded_h < eff_kh || padded_w < eff_kw) {
    return InvalidArgument(op, ": the dilated kernel [", eff_kh, ",", eff_kw,
                           "] does not fit the padded input [", padded_h, ",", padded_w,
                           "]; the output H and W must be >= 1");
  }
  r.oh = (padded_h - eff_kh) / params.stride_h + 1;
  r.ow = (padded_w - eff_kw) / params.stride_w + 1;
  r.params = params;
  *g = r;
  return Status::Ok();
}

}  // namespace internal

Status Conv2D(const Tensor& x, const Tensor& w, const Tensor* b, const ConvParams& params,
              Tensor* y) {
  return Conv2D(x, w, b, nullptr, params, y);
}

Status Conv2D(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor* residual,
              const ConvParams& params, Tensor* y) {
  constexpr const char* kOp = "Conv";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "input x", x));
    QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "filter w", w));
    if (b != nullptr) QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "bias b", *b));
    if (residual != nullptr) {
      QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "residual", *residual));
    }
    internal::ConvGeometry g;
    QSDK_RETURN_IF_ERROR(internal::ResolveConvGeometry(kOp, internal::ShapeOf(x),
                                                       internal::ShapeOf(w), params, &g));
    QSDK_RETURN_IF_ERROR(internal::CheckBiasShape(kOp, "bias b", b, g.oc));
    const std::vector<int64_t> out_shape = g.OutputShape();
    QSDK_RETURN_IF_ERROR(internal::CheckResidualShape(kOp, residual, out_shape));

    Tensor out;
    QSDK_RETURN_IF_ERROR(internal::AllocateOutput(kOp, out_shape, &out));
    const float* xd = x.Data<float>();
    const float* wdata = w.Data<float>();
    const float* bd = b != nullptr ? b->Data<float>() : nullptr;
    const float* rd = residual != nullptr ? residual->Data<float>() : nullptr;
    float* yd = out.Data<float>();
    const FusedActivation& act = params.activation;
    internal::ForEachConvOutput(g, [&](int64_t in, int64_t o, int64_t y0, int64_t x0) {
      double acc = bd != nullptr ? bd[o] : 0.0;
      internal::ForEachConvTap(g, in, o, y0, x0, [&](int64_t xi, int64_t wi) {
        acc += static_cast<double>(xd[xi]) * wdata[wi];
      });
      const int64_t yi = g.YIndex(in, o, y0, x0);
      // The residual is added to the float-rounded convolution, as an unfused Elementwise
      // add of the two would, so that residual fusion is bit-exact.
      float v = static_cast<float>(acc);
      if (rd != nullptr) v += rd[yi];
      yd[yi] = ApplyActivation(act.type, v, act.alpha, act.beta);
    });
    *y = std::move(out);
    return Status::Ok();
  });
}

}  // namespace qsdk::reference
