// Quantized pooling (docs/quantization.md): input and output share type, scale and zero
// point. Max pools the stored values (the map q -> s * (q - z) is increasing since s > 0);
// average takes the float mean of q over the counted window elements, padding counted as
// z (real 0), and rounds it half to even.
#include <algorithm>
#include <limits>

#include "reference/geometry.h"
#include "reference/op_util.h"
#include "reference/quant_math.h"
#include "reference/quantized_ops.h"
#include "reference/quantized_util.h"

namespace qsdk::reference {

Status QuantizedPool(const QuantizedOperand& x, const PoolParams& params, Tensor* y) {
  constexpr const char* kOp = "QuantizedPool";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckActivationOperand(kOp, "input x", x, false));
    internal::PoolGeometry g;
    QSDK_RETURN_IF_ERROR(
        internal::ResolvePoolGeometry(kOp, internal::ShapeOf(*x.tensor), params, &g));
    const DataType dtype = x.tensor->GetDataType();
    const int32_t z = x.quant.zero_points[0];
    const int32_t lo = QuantizedMin(dtype), hi = QuantizedMax(dtype);
    const std::vector<int32_t> xq = internal::Widen(*x.tensor);
    std::vector<int32_t> q(static_cast<size_t>(g.n * g.c * g.oh * g.ow));
    for (int64_t plane = 0; plane < g.n * g.c; ++plane) {
      const int32_t* xp = xq.data() + plane * g.h * g.w;
      int32_t* yp = q.data() + plane * g.oh * g.ow;
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          internal::PoolWindow win;
          QSDK_RETURN_IF_ERROR(internal::PoolWindowAt(kOp, g, oy, ox, &win));
          if (g.is_max) {
            int32_t best = std::numeric_limits<int32_t>::min();
            for (int64_t iy = win.iy0; iy < win.iy1; ++iy) {
              for (int64_t ix = win.ix0; ix < win.ix1; ++ix) {
                best = std::max(best, xp[iy * g.w + ix]);
              }
            }
            yp[oy * g.ow + ox] = best;
          } else {
            // Exact integer sum; counted padding elements hold z.
            int64_t sum = 0;
            for (int64_t iy = win.iy0; iy < win.iy1; ++iy) {
              for (int64_t ix = win.ix0; ix < win.ix1; ++ix) sum += xp[iy * g.w + ix];
            }
            sum += static_cast<int64_t>(z) * (win.divisor - win.inside());
            const float mean = static_cast<float>(sum) / static_cast<float>(win.divisor);
            yp[oy * g.ow + ox] = RoundAndSaturate(mean, lo, hi);
          }
        }
      }
    }
    return internal::WriteQuantized(kOp, dtype, {g.n, g.c, g.oh, g.ow}, q, y);
  });
}

}  // namespace qsdk::reference
