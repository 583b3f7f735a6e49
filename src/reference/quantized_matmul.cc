// Quantized FullyConnected and MatMul (docs/quantization.md): exact integer accumulation,
// then the float epilogue shared with the quantized convolution.
#include "reference/geometry.h"
#include "reference/op_util.h"
#include "reference/quantized_ops.h"
#include "reference/quantized_util.h"

namespace qsdk::reference {

Status QuantizedFullyConnected(const QuantizedOperand& x, const QuantizedOperand& w,
                               const QuantizedOperand& b, const QuantizedOperand& residual,
                               const FusedActivation& activation, const QuantizedOutputSpec& out,
                               Tensor* y) {
  constexpr const char* kOp = "QuantizedFullyConnected";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    using internal::ShapeString;
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckActivationOperand(kOp, "input x", x, false));
    QSDK_RETURN_IF_ERROR(internal::CheckWeights(kOp, "weight w", w, /*channel_axis=*/0));
    QSDK_RETURN_IF_ERROR(internal::CheckOutputSpec(kOp, out));
    QSDK_RETURN_IF_ERROR(CheckActivation(kOp, activation.type, activation.alpha, activation.beta,
                                         /*allow_none=*/true));
    const auto& xs = internal::ShapeOf(*x.tensor);
    const auto& ws = internal::ShapeOf(*w.tensor);
    if (xs.size() < 2) {
      return InvalidArgument(kOp, ": input x has shape ", ShapeString(xs),
                             "; it must have at least 2 dims [N, K] or [N, d1, ...]");
    }
    // Every dim after the first is flattened into K (row-major, so no data movement).
    const int64_t n = xs[0];
    const int64_t k = internal::Product(xs, 1, xs.size());
    if (ws.size() != 2 || ws[1] != k) {
      return InvalidArgument(kOp, ": weight w has shape ", ShapeString(ws), "; it must be [OC, ", k,
                             "] for input x of shape ", ShapeString(xs));
    }
    const int64_t oc = ws[0];
    if (b.tensor != nullptr && internal::ShapeOf(*b.tensor) != std::vector<int64_t>{oc}) {
      return InvalidArgument(kOp, ": bias has shape ", ShapeString(internal::ShapeOf(*b.tensor)),
                             "; it must be [OC] = [", oc, "]");
    }
    const float s_x = x.quant.scales[0];
    const int32_t z_x = x.quant.zero_points[0];
    QSDK_RETURN_IF_ERROR(internal::CheckBias(kOp, b, 0, s_x, w.quant, oc));
    const std::vector<int64_t> out_shape = {n, oc};
    QSDK_RETURN_IF_ERROR(internal::CheckResidual(kOp, residual, out_shape));

    const std::vector<int32_t> xq = internal::Widen(*x.tensor);
    const std::vector<int32_t> wq = internal::Widen(*w.tensor);
    const std::vector<int32_t> bq =
        b.tensor != nullptr ? internal::Widen(*b.tensor) : std::vector<int32_t>();
    const std::vector<float> rr =
        residual.tensor != nullptr ? internal::RealValues(residual) : std::vector<float>();
    std::vector<float> r(static_cast<size_t>(n * oc));
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t o = 0; o < oc; ++o) {
        int64_t acc = bq.empty() ? 0 : bq[static_cast<size_t>(o)];
        for (int64_t j = 0; j < k; ++j) {
          acc += static_cast<int64_t>(xq[static_cast<size_t>(i * k + j)] - z_x) *
                 wq[static_cast<size_t>(o * k + j)];
        }
        const auto yi = static_cast<size_t>(i * oc + o);
        r[yi] = internal::Epilogue(acc, s_x * internal::ScaleAt(w.quant, o),
                                   rr.empty() ? nullptr : &rr[yi], activation);
      }
    }
    return internal::WriteOutput(kOp, out, out_shape, r, y);
  });
}

Status QuantizedMatMul(const QuantizedOperand& a, const QuantizedOperand& b,
                       const QuantizedOperand& bias, const MatMulParams& params,
                       const QuantizedOutputSpec& out, Tensor* y) {
  constexpr const char* kOp = "QuantizedMatMul";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    using internal::ShapeString;
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckActivationOperand(kOp, "input a", a, false));
    QSDK_RETURN_IF_ERROR(internal::CheckTensorBasics(kOp, "input b", b.tensor));
    const auto& bs = internal::ShapeOf(*b.tensor);
    if (bs.size() < 2) {
      return InvalidArgument(kOp, ": input b has shape ", ShapeString(bs),
                             "; it must have rank >= 2");
    }
    // The output column n is axis rank-1 of b [.., K, N], or rank-2 of b [.., N, K] when
    // transposed.
    const auto column_axis = static_cast<int32_t>(bs.size()) - (params.transpose_b ? 2 : 1);
    QSDK_RETURN_IF_ERROR(internal::CheckWeights(kOp, "input b", b, column_axis));
    QSDK_RETURN_IF_ERROR(internal::CheckOutputSpec(kOp, out));
    if (bias.tensor != nullptr) {
      QSDK_RETURN_IF_ERROR(internal::CheckTensorBasics(kOp, "bias", bias.tensor));
    }
    internal::MatMulGeometry g;
    QSDK_RETURN_IF_ERROR(internal::ResolveMatMulGeometry(
        kOp, internal::ShapeOf(*a.tensor), bs,
        bias.tensor != nullptr ? &internal::ShapeOf(*bias.tensor) : nullptr, params, &g));
    const float s_a = a.quant.scales[0];
    const int32_t z_a = a.quant.zero_points[0];
    int32_t bias_axis = -1;
    if (bias.tensor != nullptr) {
      const auto& bias_shape = internal::ShapeOf(*bias.tensor);
      bias_axis = static_cast<int32_t>(bias_shape.size()) - 1;
      // Per-axis parameters must have one scale per output column.
      if (!bias.quant.per_tensor() && (bias_shape.empty() || bias_shape.back() != g.n)) {
        return InvalidArgument(kOp, ": bias of shape ", ShapeString(bias_shape),
                               " is quantized per axis; its last extent must be N = ", g.n);
      }
    }
    QSDK_RETURN_IF_ERROR(internal::CheckBias(kOp, bias, bias_axis, s_a, b.quant, g.n));

    const std::vector<int32_t> aq = internal::Widen(*a.tensor);
    const std::vector<int32_t> bq = internal::Widen(*b.tensor);
    const std::vector<int32_t> biasq =
        bias.tensor != nullptr ? internal::Widen(*bias.tensor) : std::vector<int32_t>();
    std::vector<float> multiplier(static_cast<size_t>(g.n));
    for (int64_t j = 0; j < g.n; ++j) {
      multiplier[static_cast<size_t>(j)] = s_a * internal::ScaleAt(b.quant, j);
    }
    const int64_t m = g.m, k = g.k, n = g.n;
    const size_t batch_rank = g.batch.size();
    const int64_t batch_count = internal::Product(g.batch);
    std::vector<float> r(static_cast<size_t>(internal::Product(g.out_shape)));
    std::vector<int64_t> bi(batch_rank, 0);
    std::vector<int64_t> out_index(g.out_shape.size(), 0);
    for (int64_t t = 0; t < batch_count; ++t, internal::NextIndex(g.batch, &bi)) {
      const int64_t a_off = internal::OffsetOf(bi, g.a_batch_strides) * m * k;
      const int64_t b_off = internal::OffsetOf(bi, g.b_batch_strides) * k * n;
      for (size_t d = 0; d < batch_rank; ++d) out_index[d] = bi[d];
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
          int64_t acc = 0;
          if (!biasq.empty()) {
            out_index[batch_rank] = i;
            out_index[batch_rank + 1] = j;
            acc = biasq[static_cast<size_t>(internal::OffsetOf(out_index, g.bias_strides))];
          }
          for (int64_t p = 0; p < k; ++p) {
            // Stored layouts: a is [M,K] or, transposed, [K,M]; b is [K,N] or [N,K].
            const int64_t ai = a_off + (params.transpose_a ? p * m + i : i * k + p);
            const int64_t bidx = b_off + (params.transpose_b ? j * k + p : p * n + j);
            acc += static_cast<int64_t>(aq[static_cast<size_t>(ai)] - z_a) *
                   bq[static_cast<size_t>(bidx)];
          }
          r[static_cast<size_t>(t * m * n + i * n + j)] = internal::Epilogue(
              acc, multiplier[static_cast<size_t>(j)], nullptr, params.activation);
        }
      }
    }
    return internal::WriteOutput(kOp, out, g.out_shape, r, y);
  });
}

}  // namespace qsdk::reference
