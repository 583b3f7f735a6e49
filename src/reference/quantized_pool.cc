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
    const std::vector<int64_t> out_shape = g.OutputShape();
    std::vector<int32_t> q(static_cast<size_t>(internal::Product(out_shape)));
    QSDK_RETURN_IF_ERROR(internal::ForEachPoolWindow(
        kOp, g, [&](int64_t plane_offset, int64_t yi, const internal::PoolWindow& win) {
          const int32_t* xp = xq.data() + plane_offset;
          if (g.is_max) {
            int32_t best = std::numeric_limits<int32_t>::min();
            win.ForEachInput(g.w, [&](int64_t i) { best = std::max(best, xp[i]); });
            q[static_cast<size_t>(yi)] = best;
          } else {
            // Exact integer sum; counted padding elements hold z.
            int64_t sum = 0;
            win.ForEachInput(g.w, [&](int64_t i) { sum += xp[i]; });
            sum += static_cast<int64_t>(z) * (win.divisor - win.inside());
            const float mean = static_cast<float>(sum) / static_cast<float>(win.divisor);
            q[static_cast<size_t>(yi)] = RoundAndSaturate(mean, lo, hi);
          }
        }));
    return internal::WriteQuantized(kOp, dtype, out_shape, q, y);
  });
}

}  // namespace qsdk::reference
