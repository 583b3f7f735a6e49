// Pooling over H and W (docs/ops.md, Pool): max, average (with or without the padding in
// the divisor), ceil_mode, and the global modes.
#include <algorithm>
#include <limits>

#include "reference/geometry.h"
#include "reference/op_util.h"
#include "reference/ops.h"

namespace qsdk::reference {

int64_t PoolOutputExtent(int64_t in, int64_t pad_begin, int64_t pad_end, int64_t kernel,
                         int64_t stride, bool ceil_mode) {
  if (in < 0 || pad_begin < 0 || pad_end < 0 || kernel < 1 || stride < 1) return -1;
  int64_t span = 0;  // in + pads - kernel: how far the window can slide
  if (!internal::CheckedAdd3(in, pad_begin, pad_end, &span)) return -1;
  span -= kernel;
  if (span < 0) return -1;
  // span / stride rounded down or up (span >= 0, so no negative-division subtleties).
  int64_t out = span / stride + ((ceil_mode && span % stride != 0) ? 1 : 0) + 1;
  // ONNX / PyTorch: with ceil_mode the last window must start inside the input or the
  // begin padding; one starting in the end padding is dropped.
  // (A product that overflows int64 is certainly past the input.)
  int64_t last_start = 0;
  if (ceil_mode &&
      (__builtin_mul_overflow(out - 1, stride, &last_start) || last_start >= in + pad_begin)) {
    --out;
  }
  return out;
}

namespace internal {

namespace {

Status CheckWindowParams(const char* op, const PoolParams& p) {
  if (p.kernel_h < 1 || p.kernel_w < 1) {
    return InvalidArgument(op, ": kernel = [", p.kernel_h, ",", p.kernel_w,
                           "]; each extent must be >= 1");
  }
  QSDK_RETURN_IF_ERROR(CheckWindowStrides(op, p.stride_h, p.stride_w));
  const int64_t pads[4] = {p.pad_top, p.pad_bottom, p.pad_left, p.pad_right};
  const int64_t extents[4] = {p.kernel_h, p.kernel_h, p.kernel_w, p.kernel_w};
  for (int i = 0; i < 4; ++i) {
    // A pad as large as the window would allow a window made of padding only.
    if (pads[i] < 0 || pads[i] >= extents[i]) {
      return InvalidArgument(op, ": pads = [", p.pad_top, ",", p.pad_bottom, ",", p.pad_left, ",",
                             p.pad_right, "], kernel = [", p.kernel_h, ",", p.kernel_w,
                             "]; each pad must be >= 0 and smaller than its kernel extent");
    }
  }
  return Status::Ok();
}

}  // namespace

Status ResolvePoolGeometry(const char* op, const std::vector<int64_t>& xs,
                           const PoolParams& params, PoolGeometry* g) {
  const auto mode_value = static_cast<int32_t>(params.mode);
  if (mode_value < 1 || mode_value > kMaxPoolMode) {
    return InvalidArgument(op, ": pool mode ", mode_value, " is not valid; it must be in [1, ",
                           kMaxPoolMode, "]");
  }
  PoolGeometry r;
  QSDK_RETURN_IF_ERROR(ResolveNchwInput(op, xs, &r));
  if (r.h < 1 || r.w < 1) {
    return InvalidArgument(op, ": input x has shape ", ShapeString(xs),
                           "; H and W must be >= 1");
  }
  // Global pooling is a window of the whole plane with no padding.
  PoolParams p = params;
  const bool global =
      params.mode == PoolMode::kGlobalAverage || params.mode == PoolMode::kGlobalMax;
  if (global) {
    p.kernel_h = r.h;
    p.kernel_w = r.w;
    p.stride_h = p.stride_w = 1;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 0;
    p.ceil_mode = false;
    p.count_include_pad = false;
  } else {
    QSDK_RETURN_IF_ERROR(CheckWindowParams(op, p));
  }
  r.is_max = p.mode == PoolMode::kMax || p.mode == PoolMode::kGlobalMax;
  r.oh = PoolOutputExtent(r.h, p.pad_top, p.pad_bottom, p.kernel_h, p.stride_h, p.ceil_mode);
  r.ow = PoolOutputExtent(r.w, p.pad_left, p.pad_right, p.kernel_w, p.stride_w, p.ceil_mode);
  if (r.oh < 1 || r.ow < 1) {
    return InvalidArgument(op, ": kernel [", p.kernel_h, ",", p.kernel_w, "] does not fit input [",
                           r.h, ",", r.w, "] with pads [", p.pad_top, ",", p.pad_bottom, ",",
                           p.pad_left, ",", p.pad_right, "]; the output H and W must be >= 1");
  }
  r.params = p;
  *g = r;
  return Status::Ok();
}

Status PoolWindowAt(const char* op, const PoolGeometry& g, int64_t oy, int64_t ox,
                    PoolWindow* window) {
  const PoolParams& p = g.params;
  // Window rows in padded coordinates: [y_begin, y_begin + kernel_h), y_begin >= -top.
  const int64_t y_begin = oy * p.stride_h - p.pad_top;
  const int64_t y_end = y_begin + p.kernel_h;
  const int64_t x_begin = ox * p.stride_w - p.pad_left;
  const int64_t x_end = x_begin + p.kernel_w;
  PoolWindow r;
  r.iy0 = std::max<int64_t>(y_begin, 0);
  r.iy1 = std::min(y_end, g.h);
  r.ix0 = std::max<int64_t>(x_begin, 0);
  r.ix1 = std::min(x_end, g.w);
  if (r.iy1 <= r.iy0 || r.ix1 <= r.ix0) {
    // Excluded by the pad < kernel rule and the ceil_mode window drop.
    return InternalError(op, ": window (", oy, ",", ox, ") covers no input element");
  }
  // The padded input ends at H + bottom: rows beyond it exist only through ceil_mode and
  // never count.
  const int64_t padded_rows = std::min(y_end, g.h + p.pad_bottom) - y_begin;
  const int64_t padded_cols = std::min(x_end, g.w + p.pad_right) - x_begin;
  r.divisor = p.count_include_pad ? padded_rows * padded_cols : r.inside();
  *window = r;
  return Status::Ok();
}

}  // namespace internal

Status Pool(const Tensor& x, const PoolParams& params, Tensor* y) {
  constexpr const char* kOp = "Pool";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "input x", x));
    internal::PoolGeometry g;
    QSDK_RETURN_IF_ERROR(internal::ResolvePoolGeometry(kOp, internal::ShapeOf(x), params, &g));
    Tensor out;
    QSDK_RETURN_IF_ERROR(internal::AllocateOutput(kOp, g.OutputShape(), &out));
    const float* xd = x.Data<float>();
    float* yd = out.Data<float>();
    QSDK_RETURN_IF_ERROR(internal::ForEachPoolWindow(
        kOp, g, [&](int64_t plane_offset, int64_t yi, const internal::PoolWindow& win) {
          const float* xp = xd + plane_offset;
          if (g.is_max) {
            float best = -std::numeric_limits<float>::infinity();
            win.ForEachInput(g.w, [&](int64_t i) { best = std::max(best, xp[i]); });
            yd[yi] = best;
          } else {
            double sum = 0.0;
            win.ForEachInput(g.w, [&](int64_t i) { sum += xp[i]; });
            yd[yi] = static_cast<float>(sum / static_cast<double>(win.divisor));
          }
        }));
    *y = std::move(out);
    return Status::Ok();
  });
}

}  // namespace qsdk::reference
