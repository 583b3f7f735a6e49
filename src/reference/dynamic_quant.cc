// Dynamically quantized FullyConnected / MatMul (dynamic_quant.h): the FLOAT32 input is
// quantized to UINT8 (asymmetric) with parameters chosen from its own range, the integer
// product with the INT8 weights is exact (int32), and the epilogue runs in float. This file
// is compiled with -ffp-contract=off (src/reference/CMakeLists.txt).
#include "reference/dynamic_quant.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "reference/geometry.h"
#include "reference/op_util.h"
#include "reference/quant_math.h"
#include "reference/quantized_util.h"

namespace qsdk::reference {
namespace {

using internal::ShapeOf;
using internal::ShapeString;

// The dynamically chosen UINT8 parameters of `x` and its quantized values.
struct DynamicInput {
  float scale = 1.0f;
  int32_t zero_point = 0;
  std::vector<int32_t> q;
};

Status QuantizeDynamically(const char* op, const char* what, const Tensor& x, DynamicInput* d) {
  QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(op, what, x));
  const float* v = x.Data<float>();
  const int64_t count = x.GetElementCount();
  // lo = min(0, min x), hi = max(0, max x): the range always contains real 0.
  float lo = 0.0f, hi = 0.0f;
  for (int64_t i = 0; i < count; ++i) {
    if (!std::isfinite(v[i])) {
      return InvalidArgument(op, ": ", what, " has value ", v[i], " at element ", i,
                             "; a dynamically quantized input must be finite");
    }
    lo = std::min(lo, v[i]);
    hi = std::max(hi, v[i]);
  }
  ActivationQuant chosen;
  QSDK_RETURN_IF_ERROR(ChooseActivationParams(lo, hi, QuantScheme::kAsymmetric, &chosen));
  if (chosen.dtype != DataType::UINT8) {
    return InternalError(op, ": the asymmetric scheme chose ", DataTypeName(chosen.dtype),
                         " instead of UINT8");
  }
  d->scale = chosen.params.scales[0];
  d->zero_point = chosen.params.zero_points[0];
  const float inv = InverseScale(d->scale);
  d->q.resize(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    d->q[static_cast<size_t>(i)] = QuantizeValue(v[i], inv, d->zero_point, DataType::UINT8);
  }
  return Status::Ok();
}

Status CheckOptionalBias(const char* op, const Tensor* bias) {
  if (bias == nullptr) return Status::Ok();
  return internal::CheckFloatOperand(op, "bias", *bias);
}

// r = float(acc) * multiplier; r = r + bias; r = act(r), each rounded in float.
float DynamicEpilogue(int32_t acc, float multiplier, const float* bias,
                      const FusedActivation& act) {
  float r = static_cast<float>(acc) * multiplier;
  if (bias != nullptr) r = r + *bias;
  return ApplyActivation(act.type, r, act.alpha, act.beta);
}

}  // namespace

Status DynamicQuantizedFullyConnected(const Tensor& x, const QuantizedOperand& w,
                                      const Tensor* bias, const FusedActivation& act, Tensor* y) {
  constexpr const char* kOp = "DynamicQuantizedFullyConnected";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "input x", x));
    QSDK_RETURN_IF_ERROR(internal::CheckWeights(kOp, "weight w", w, /*channel_axis=*/0));
    QSDK_RETURN_IF_ERROR(CheckOptionalBias(kOp, bias));
    QSDK_RETURN_IF_ERROR(CheckActivation(kOp, act.type, act.alpha, act.beta, /*allow_none=*/true));
    const auto& xs = ShapeOf(x);
    const auto& ws = ShapeOf(*w.tensor);
    if (xs.size() < 2) {
      return InvalidArgument(kOp, ": input x has shape ", ShapeString(xs),
                             "; it must have at least 2 dims [N, K] or [N, d1, ...]");
    }
    const int64_t n = xs[0];
    const int64_t k = internal::Product(xs, 1, xs.size());
    if (ws.size() != 2 || ws[1] != k) {
      return InvalidArgument(kOp, ": weight w has shape ", ShapeString(ws), "; it must be [OC, ", k,
                             "] for input x of shape ", ShapeString(xs));
    }
    const int64_t oc = ws[0];
    if (bias != nullptr && ShapeOf(*bias) != std::vector<int64_t>{oc}) {
      return InvalidArgument(kOp, ": bias has shape ", ShapeString(ShapeOf(*bias)),
                             "; it must be [OC] = [", oc, "]");
    }
    DynamicInput d;
    QSDK_RETURN_IF_ERROR(QuantizeDynamically(kOp, "input x", x, &d));
    const std::vector<int32_t> wq = internal::Widen(*w.tensor);
    const float* b = bias != nullptr ? bias->Data<float>() : nullptr;
    Tensor out;
    QSDK_RETURN_IF_ERROR(internal::AllocateOutput(kOp, {n, oc}, &out));
    float* r = out.Data<float>();
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t o = 0; o < oc; ++o) {
        // Summed exactly in int64, then taken as the contract's int32 accumulator:
        // |x_q - z| <= 255 and |w_q| <= 128 keep it within int32 for K < 65793; beyond
        // that it wraps modulo 2^32, as oneDNN's int32 accumulator does.
        int64_t acc = 0;
        for (int64_t j = 0; j < k; ++j) {
          acc += static_cast<int64_t>(d.q[static_cast<size_t>(i * k + j)] - d.zero_point) *
                 wq[static_cast<size_t>(o * k + j)];
        }
        const float multiplier = d.scale * internal::ScaleAt(w.quant, o);
        r[i * oc + o] = DynamicEpilogue(static_cast<int32_t>(acc), multiplier,
                                        b != nullptr ? &b[o] : nullptr, act);
      }
    }
    *y = std::move(out);
    return Status::Ok();
  });
}

Status DynamicQuantizedMatMul(const Tensor& a, const QuantizedOperand& b, const Tensor* bias,
                              const MatMulParams& p, Tensor* y) {
  constexpr const char* kOp = "DynamicQuantizedMatMul";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(internal::CheckFloatOperand(kOp, "input a", a));
    QSDK_RETURN_IF_ERROR(internal::CheckTensorBasics(kOp, "input b", b.tensor));
    const auto& bs = ShapeOf(*b.tensor);
    if (bs.size() < 2) {
      return InvalidArgument(kOp, ": input b has shape ", ShapeString(bs),
                             "; it must have rank >= 2");
    }
    const auto column_axis = static_cast<int32_t>(bs.size()) - (p.transpose_b ? 2 : 1);
    QSDK_RETURN_IF_ERROR(internal::CheckWeights(kOp, "input b", b, column_axis));
    QSDK_RETURN_IF_ERROR(CheckOptionalBias(kOp, bias));
    internal::MatMulGeometry g;
    QSDK_RETURN_IF_ERROR(internal::ResolveMatMulGeometry(
        kOp, ShapeOf(a), bs, bias != nullptr ? &ShapeOf(*bias) : nullptr, p, &g));
    DynamicInput d;
    QSDK_RETURN_IF_ERROR(QuantizeDynamically(kOp, "input a", a, &d));
    const std::vector<int32_t> bq = internal::Widen(*b.tensor);
    const float* biasv = bias != nullptr ? bias->Data<float>() : nullptr;
    std::vector<float> multiplier(static_cast<size_t>(g.n));
    for (int64_t j = 0; j < g.n; ++j) {
      multiplier[static_cast<size_t>(j)] = d.scale * internal::ScaleAt(b.quant, j);
    }
    const int64_t m = g.m, k = g.k, n = g.n;
    const size_t batch_rank = g.batch.size();
    const int64_t batch_count = internal::Product(g.batch);
    Tensor out;
    QSDK_RETURN_IF_ERROR(internal::AllocateOutput(kOp, g.out_shape, &out));
    float* r = out.Data<float>();
    std::vector<int64_t> bi(batch_rank, 0);
    std::vector<int64_t> out_index(g.out_shape.size(), 0);
    for (int64_t t = 0; t < batch_count; ++t, internal::NextIndex(g.batch, &bi)) {
      const int64_t a_off = internal::OffsetOf(bi, g.a_batch_strides) * m * k;
      const int64_t b_off = internal::OffsetOf(bi, g.b_batch_strides) * k * n;
      for (size_t dd = 0; dd < batch_rank; ++dd) out_index[dd] = bi[dd];
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
          int64_t acc = 0;
          for (int64_t q = 0; q < k; ++q) {
            const int64_t ai = a_off + (p.transpose_a ? q * m + i : i * k + q);
            const int64_t bidx = b_off + (p.transpose_b ? j * k + q : q * n + j);
            acc += static_cast<int64_t>(d.q[static_cast<size_t>(ai)] - d.zero_point) *
                   bq[static_cast<size_t>(bidx)];
          }
          const float* bias_value = nullptr;
          if (biasv != nullptr) {
            out_index[batch_rank] = i;
            out_index[batch_rank + 1] = j;
            bias_value = &biasv[internal::OffsetOf(out_index, g.bias_strides)];
          }
          r[t * m * n + i * n + j] =
              DynamicEpilogue(static_cast<int32_t>(acc), multiplier[static_cast<size_t>(j)],
                              bias_value, p.activation);
        }
      }
    }
    *y = std::move(out);
    return Status::Ok();
  });
}

}  // namespace qsdk::reference
