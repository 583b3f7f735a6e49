// Batched matrix product (docs/ops.md, MatMul): optional transposes of the last two dims,
// numpy broadcasting of the batch dims, an optional broadcast bias, a fused activation.
#include "reference/geometry.h"
#include "reference/op_util.h"
#include "reference/ops.h"

namespace qsdk::reference {

namespace internal {

Status ResolveMatMulGeometry(const char* op, const std::vector<int64_t>& as,
                             const std::vector<int64_t>& bs,
                             const std::vector<int64_t>* bias_shape, const MatMulParams& params,
                             MatMulGeometry* g) {
  const FusedActivation& act = params.activation;
  QSDK_RETURN_IF_ERROR(CheckActivation(op, act.type, act.alpha, act.beta, /*allow_none=*/true));
  if (as.size() < 2 || bs.size() < 2) {
    return InvalidArgument(op, ": inputs have shapes ", ShapeString(as), " and ", ShapeString(bs),
                           "; both must have rank >= 2");
  }
  MatMulGeometry r;
  r.transpose_a = params.transpose_a;
  r.transpose_b = params.transpose_b;
  // Logical (post-transpose) matrix extents: a is M x K, b is K x N.
  const size_t ar = as.size(), br = bs.size();
  r.m = params.transpose_a ? as[ar - 1] : as[ar - 2];
  r.k = params.transpose_a ? as[ar - 2] : as[ar - 1];
  const int64_t kb = params.transpose_b ? bs[br - 1] : bs[br - 2];
  r.n = params.transpose_b ? bs[br - 2] : bs[br - 1];
  if (r.k != kb) {
    return InvalidArgument(op, ": inner extents differ: a ", ShapeString(as),
                           (params.transpose_a ? " (transposed)" : ""), " has K = ", r.k, ", b ",
                           ShapeString(bs), (params.transpose_b ? " (transposed)" : ""),
                           " has K = ", kb);
  }
  const std::vector<int64_t> a_batch(as.begin(), as.end() - 2);
  const std::vector<int64_t> b_batch(bs.begin(), bs.end() - 2);
  QSDK_RETURN_IF_ERROR(BroadcastShapes(op, a_batch, b_batch, &r.batch));
  r.out_shape = r.batch;
  r.out_shape.push_back(r.m);
  r.out_shape.push_back(r.n);
  if (bias_shape != nullptr) {
    std::vector<int64_t> merged;
    const Status st = BroadcastShapes(op, r.out_shape, *bias_shape, &merged);
    if (!st.ok() || merged != r.out_shape) {
      return InvalidArgument(op, ": bias has shape ", ShapeString(*bias_shape),
                             ", which does not broadcast to the output shape ",
                             ShapeString(r.out_shape));
    }
    r.has_bias = true;
    r.bias_strides = BroadcastStrides(*bias_shape, r.out_shape.size());
  }
  r.a_batch_strides = BroadcastStrides(a_batch, r.batch.size());
  r.b_batch_strides = BroadcastStrides(b_batch, r.batch.size());
  *g = std::move(r);
  return Status::Ok();
}

}  // namespace internal

Status MatMul(const Tensor& a, const Tensor& b, const Tensor* bias, const MatMulParams& params,
              Tensor* y) {
  constexpr const char* kOp = "MatMul";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "input a", a));
    QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "input b", b));
    if (bias != nullptr) {
      QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "bias", *bias));
    }
    internal::MatMulGeometry g;
    QSDK_RETURN_IF_ERROR(internal::ResolveMatMulGeometry(
        kOp, internal::ShapeOf(a), internal::ShapeOf(b),
        bias != nullptr ? &internal::ShapeOf(*bias) : nullptr, params, &g));

    Tensor out;
    QSDK_RETURN_IF_ERROR(internal::AllocateOutput(kOp, g.out_shape, &out));
    const FusedActivation& act = params.activation;
    const float* ad = a.Data<float>();
    const float* bd = b.Data<float>();
    const float* biasd = bias != nullptr ? bias->Data<float>() : nullptr;
    float* yd = out.Data<float>();
    internal::ForEachMatMulOutput(g, [&](const internal::MatMulElement& e) {
      double acc = biasd != nullptr ? biasd[e.bias_index] : 0.0;
      for (int64_t p = 0; p < g.k; ++p) {
        acc += static_cast<double>(ad[g.AIndex(e, p)]) * bd[g.BIndex(e, p)];
      }
      yd[e.y_index] = ApplyActivation(act.type, static_cast<float>(acc), act.alpha, act.beta);
    });
    *y = std::move(out);
    return Status::Ok();
  });
}

}  // namespace qsdk::reference
