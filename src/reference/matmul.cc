// Batched matrix product (docs/ops.md, MatMul): optional transposes of the last two dims,
// numpy broadcasting of the batch dims, an optional broadcast bias, a fused activation.
#include "reference/op_util.h"
#include "reference/ops.h"

namespace qsdk::reference {

Status MatMul(const Tensor& a, const Tensor& b, const Tensor* bias, const MatMulParams& params,
              Tensor* y) {
  constexpr const char* kOp = "MatMul";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    using internal::ShapeString;
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "input a", a));
    QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "input b", b));
    if (bias != nullptr) {
      QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "bias", *bias));
    }
    const FusedActivation& act = params.activation;
    QSDK_RETURN_IF_ERROR(CheckActivation(kOp, act.type, act.alpha, act.beta, /*allow_none=*/true));

    const auto& as = internal::ShapeOf(a);
    const auto& bs = internal::ShapeOf(b);
    if (as.size() < 2 || bs.size() < 2) {
      return InvalidArgument(kOp, ": inputs have shapes ", ShapeString(as), " and ",
                             ShapeString(bs), "; both must have rank >= 2");
    }
    // Logical (post-transpose) matrix extents: a is M x K, b is K x N.
    const size_t ar = as.size(), br = bs.size();
    const int64_t m = params.transpose_a ? as[ar - 1] : as[ar - 2];
    const int64_t k = params.transpose_a ? as[ar - 2] : as[ar - 1];
    const int64_t kb = params.transpose_b ? bs[br - 1] : bs[br - 2];
    const int64_t n = params.transpose_b ? bs[br - 2] : bs[br - 1];
    if (k != kb) {
      return InvalidArgument(kOp, ": inner extents differ: a ", ShapeString(as),
                             (params.transpose_a ? " (transposed)" : ""), " has K = ", k, ", b ",
                             ShapeString(bs), (params.transpose_b ? " (transposed)" : ""),
                             " has K = ", kb);
    }
    const std::vector<int64_t> a_batch(as.begin(), as.end() - 2);
    const std::vector<int64_t> b_batch(bs.begin(), bs.end() - 2);
    std::vector<int64_t> batch;
    QSDK_RETURN_IF_ERROR(internal::BroadcastShapes(kOp, a_batch, b_batch, &batch));
    std::vector<int64_t> out_shape = batch;
    out_shape.push_back(m);
    out_shape.push_back(n);

    if (bias != nullptr) {
      const auto& bias_shape = internal::ShapeOf(*bias);
      std::vector<int64_t> merged;
      const Status st = internal::BroadcastShapes(kOp, out_shape, bias_shape, &merged);
      if (!st.ok() || merged != out_shape) {
        return InvalidArgument(kOp, ": bias has shape ", ShapeString(bias_shape),
                               ", which does not broadcast to the output shape ",
                               ShapeString(out_shape));
      }
    }

    Tensor out;
    QSDK_RETURN_IF_ERROR(internal::AllocateOutput(kOp, out_shape, &out));
    const size_t batch_rank = batch.size();
    // Per-batch-index offsets of whole matrices in a and b (0 along broadcast dims).
    const std::vector<int64_t> a_batch_strides = internal::BroadcastStrides(a_batch, batch_rank);
    const std::vector<int64_t> b_batch_strides = internal::BroadcastStrides(b_batch, batch_rank);
    const std::vector<int64_t> bias_strides =
        bias != nullptr ? internal::BroadcastStrides(internal::ShapeOf(*bias), out_shape.size())
                        : std::vector<int64_t>();
    const float* ad = a.Data<float>();
    const float* bd = b.Data<float>();
    const float* biasd = bias != nullptr ? bias->Data<float>() : nullptr;
    float* yd = out.Data<float>();
    const int64_t a_matrix = m * k, b_matrix = k * n;
    const int64_t batch_count = internal::Product(batch);

    std::vector<int64_t> bi(batch_rank, 0);
    std::vector<int64_t> out_index(out_shape.size(), 0);
    for (int64_t t = 0; t < batch_count; ++t, internal::NextIndex(batch, &bi)) {
      const float* am = ad + internal::OffsetOf(bi, a_batch_strides) * a_matrix;
      const float* bm = bd + internal::OffsetOf(bi, b_batch_strides) * b_matrix;
      float* ym = yd + t * m * n;
      for (size_t d = 0; d < batch_rank; ++d) out_index[d] = bi[d];
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
          double acc = 0.0;
          if (biasd != nullptr) {
            out_index[batch_rank] = i;
            out_index[batch_rank + 1] = j;
            acc = biasd[internal::OffsetOf(out_index, bias_strides)];
          }
          for (int64_t p = 0; p < k; ++p) {
            // Stored layouts: a is [M,K] or, transposed, [K,M]; b is [K,N] or [N,K].
            const float av = params.transpose_a ? am[p * m + i] : am[i * k + p];
            const float bv = params.transpose_b ? bm[j * k + p] : bm[p * n + j];
            acc += static_cast<double>(av) * bv;
          }
          ym[i * n + j] = ApplyActivation(act.type, static_cast<float>(acc), act.alpha, act.beta);
        }
      }
    }
    *y = std::move(out);
    return Status::Ok();
  });
}

}  // namespace qsdk::reference
