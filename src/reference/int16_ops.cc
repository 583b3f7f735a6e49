// INT16 Conv2D / FullyConnected / MatMul (int16_ops.h): exact int64 accumulation of
// (x_q - z_x) * w_q, then in float the multiplier s_x * s_w[oc], the FLOAT32 bias, the fused
// residual, the fused activation and the output (FLOAT32, or INT16 per tensor). This file is
// compiled with -ffp-contract=off (src/reference/CMakeLists.txt): each float operation of
// the epilogue rounds separately, as the contract specifies.
#include "reference/int16_ops.h"

#include <cmath>
#include <cstring>
#include <string>

#include "reference/geometry.h"
#include "reference/op_util.h"
#include "reference/quant_math.h"
#include "reference/quantized_util.h"

namespace qsdk::reference {

namespace internal {

Status CheckInt16Params(const char* op, const char* what, const std::vector<int64_t>& shape,
                        const graph::QuantParams& q, bool allow_per_axis) {
  if (q.scales.empty()) {
    return InvalidArgument(op, ": ", what, " has type INT16 but no quantization parameters");
  }
  if (q.zero_points.size() != q.scales.size()) {
    return InvalidArgument(op, ": ", what, " has ", q.scales.size(), " scales but ",
                           q.zero_points.size(), " zero points; they must match");
  }
  if (q.axis < 0) {
    if (q.axis != -1 || q.scales.size() != 1) {
      return InvalidArgument(op, ": ", what, " is quantized per tensor (axis ", q.axis, ") with ",
                             q.scales.size(), " scales; per tensor means axis -1 and 1 scale");
    }
  } else {
    if (!allow_per_axis) {
      return InvalidArgument(op, ": ", what, " is quantized along axis ", q.axis,
                             "; it must be quantized per tensor (axis -1)");
    }
    if (q.axis >= static_cast<int32_t>(shape.size())) {
      return InvalidArgument(op, ": ", what, " of shape ", ShapeString(shape),
                             " is quantized along axis ", q.axis, ", which it does not have");
    }
    const int64_t extent = shape[static_cast<size_t>(q.axis)];
    if (static_cast<int64_t>(q.scales.size()) != extent) {
      return InvalidArgument(op, ": ", what, " of shape ", ShapeString(shape),
                             " is quantized along axis ", q.axis, " of extent ", extent,
                             " but has ", q.scales.size(), " scales");
    }
  }
  const int32_t lo = QuantizedMin(DataType::INT16), hi = QuantizedMax(DataType::INT16);
  for (size_t k = 0; k < q.scales.size(); ++k) {
    if (!std::isfinite(q.scales[k]) || !(q.scales[k] > 0.0f)) {
      return InvalidArgument(op, ": ", what, " has scale[", k, "] = ", q.scales[k],
                             "; a scale must be finite and > 0");
    }
    if (q.zero_points[k] < lo || q.zero_points[k] > hi) {
      return InvalidArgument(op, ": ", what, " has zero_point[", k, "] = ", q.zero_points[k],
                             "; for INT16 it must be in [", lo, ", ", hi, "]");
    }
  }
  return Status::Ok();
}

std::vector<int32_t> WidenInt16(const Tensor& t) {
  const int64_t count = t.GetElementCount();
  std::vector<int32_t> v(static_cast<size_t>(count > 0 ? count : 0));
  const int16_t* p = t.Data<int16_t>();
  for (size_t i = 0; i < v.size(); ++i) v[i] = p[i];
  return v;
}

}  // namespace internal

namespace {

using internal::ShapeOf;
using internal::ShapeString;

// x: INT16 quantized per tensor.
Status CheckInt16Input(const char* op, const char* what, const QuantizedOperand& x) {
  QSDK_RETURN_IF_ERROR(internal::CheckTensorBasics(op, what, x.tensor));
  if (x.tensor->GetDataType() != DataType::INT16) {
    return InvalidArgument(op, ": ", what, " has type ", DataTypeName(x.tensor->GetDataType()),
                           "; it must be INT16 quantized per tensor");
  }
  return internal::CheckInt16Params(op, what, ShapeOf(*x.tensor), x.quant,
                                    /*allow_per_axis=*/false);
}

// w: INT16, zero points 0, per tensor or along `channel_axis`, values in [-32767, 32767].
Status CheckInt16Weights(const char* op, const char* what, const QuantizedOperand& w,
                         int32_t channel_axis) {
  QSDK_RETURN_IF_ERROR(internal::CheckTensorBasics(op, what, w.tensor));
  if (w.tensor->GetDataType() != DataType::INT16) {
    return InvalidArgument(op, ": ", what, " has type ", DataTypeName(w.tensor->GetDataType()),
                           "; the weights of an INT16 op must be INT16");
  }
  QSDK_RETURN_IF_ERROR(internal::CheckInt16Params(op, what, ShapeOf(*w.tensor), w.quant,
                                                  /*allow_per_axis=*/true));
  if (w.quant.axis >= 0 && w.quant.axis != channel_axis) {
    return InvalidArgument(op, ": ", what, " is quantized along axis ", w.quant.axis,
                           "; weights are quantized per tensor or along their output-channel "
                           "axis ",
                           channel_axis);
  }
  for (size_t k = 0; k < w.quant.zero_points.size(); ++k) {
    if (w.quant.zero_points[k] != 0) {
      return InvalidArgument(op, ": ", what, " has zero_point[", k, "] = ", w.quant.zero_points[k],
                             "; weights are quantized symmetrically (zero point 0)");
    }
  }
  const int16_t* p = w.tensor->Data<int16_t>();
  const int64_t count = w.tensor->GetElementCount();
  for (int64_t i = 0; i < count; ++i) {
    if (p[i] == -32768) {
      return InvalidArgument(op, ": ", what, " has value -32768 at element ", i,
                             "; INT16 weights lie in [-32767, 32767] (the restricted symmetric "
                             "range)");
    }
  }
  return Status::Ok();
}

// An optional FLOAT32 tensor (bias or residual): present => FLOAT32, usable.
Status CheckOptionalFloat(const char* op, const char* what, const Tensor* t) {
  if (t == nullptr) return Status::Ok();
  QSDK_RETURN_IF_ERROR(internal::CheckTensorBasics(op, what, t));
  if (t->GetDataType() != DataType::FLOAT32) {
    return InvalidArgument(op, ": ", what, " has type ", DataTypeName(t->GetDataType()), "; the ",
                           what, " of an INT16 op must be FLOAT32");
  }
  return Status::Ok();
}

// out: FLOAT32 without parameters, or INT16 per tensor.
Status CheckInt16OutputSpec(const char* op, const QuantizedOutputSpec& out) {
  if (out.dtype == DataType::FLOAT32) {
    if (!out.quant.empty()) {
      return InvalidArgument(op, ": the output is FLOAT32 but has quantization parameters");
    }
    return Status::Ok();
  }
  if (out.dtype != DataType::INT16) {
    return InvalidArgument(op, ": the output type is ", DataTypeName(out.dtype),
                           "; an INT16 op produces FLOAT32 or INT16");
  }
  return internal::CheckInt16Params(op, "the output", {}, out.quant, /*allow_per_axis=*/false);
}

// The contract's epilogue on one output element, in float, each step rounded:
// r = float(acc) * multiplier; r = r + bias; r = r + residual; r = act(r).
float Int16Epilogue(int64_t acc, float multiplier, const float* bias, const float* residual,
                    const FusedActivation& act) {
  float r = static_cast<float>(acc) * multiplier;
  if (bias != nullptr) r = r + *bias;
  if (residual != nullptr) r = r + *residual;
  return ApplyActivation(act.type, r, act.alpha, act.beta);
}

// Writes `r` as FLOAT32, or quantized to INT16 with the output's per-tensor parameters.
Status WriteInt16Output(const char* op, const QuantizedOutputSpec& out,
                        const std::vector<int64_t>& shape, const std::vector<float>& r, Tensor* y) {
  Tensor t;
  QSDK_RETURN_IF_ERROR(internal::AllocateTyped(op, out.dtype, shape, &t));
  if (static_cast<size_t>(t.GetElementCount()) != r.size()) {
    return InternalError(op, ": ", r.size(), " values computed for output shape ",
                         ShapeString(shape));
  }
  if (out.dtype == DataType::FLOAT32) {
    if (!r.empty()) std::memcpy(t.GetData(), r.data(), r.size() * sizeof(float));
  } else {
    const float inv = InverseScale(out.quant.scales[0]);
    const int32_t z = out.quant.zero_points[0];
    int16_t* q = t.Data<int16_t>();
    for (size_t i = 0; i < r.size(); ++i) {
      q[i] = static_cast<int16_t>(QuantizeValue(r[i], inv, z, DataType::INT16));
    }
  }
  *y = std::move(t);
  return Status::Ok();
}

std::vector<float> FloatValues(const Tensor* t) {
  if (t == nullptr) return {};
  const float* p = t->Data<float>();
  return std::vector<float>(p, p + t->GetElementCount());
}

}  // namespace

Status Int16Conv2D(const QuantizedOperand& x, const QuantizedOperand& w, const Tensor* bias,
                   const Tensor* residual, const ConvParams& p, const QuantizedOutputSpec& out,
                   Tensor* y) {
  constexpr const char* kOp = "Int16Conv";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(CheckInt16Input(kOp, "input x", x));
    QSDK_RETURN_IF_ERROR(CheckInt16Weights(kOp, "filter w", w, /*channel_axis=*/0));
    QSDK_RETURN_IF_ERROR(CheckOptionalFloat(kOp, "bias", bias));
    QSDK_RETURN_IF_ERROR(CheckOptionalFloat(kOp, "residual", residual));
    QSDK_RETURN_IF_ERROR(CheckInt16OutputSpec(kOp, out));
    internal::ConvGeometry g;
    QSDK_RETURN_IF_ERROR(
        internal::ResolveConvGeometry(kOp, ShapeOf(*x.tensor), ShapeOf(*w.tensor), p, &g));
    if (bias != nullptr && ShapeOf(*bias) != std::vector<int64_t>{g.oc}) {
      return InvalidArgument(kOp, ": bias has shape ", ShapeString(ShapeOf(*bias)),
                             "; it must be [OC] = [", g.oc, "]");
    }
    const std::vector<int64_t> out_shape = g.OutputShape();
    if (residual != nullptr && ShapeOf(*residual) != out_shape) {
      return InvalidArgument(kOp, ": residual has shape ", ShapeString(ShapeOf(*residual)),
                             "; it must be the output shape ", ShapeString(out_shape));
    }
    const float s_x = x.quant.scales[0];
    const int32_t z_x = x.quant.zero_points[0];
    const std::vector<int32_t> xq = internal::WidenInt16(*x.tensor);
    const std::vector<int32_t> wq = internal::WidenInt16(*w.tensor);
    const std::vector<float> b = FloatValues(bias);
    const std::vector<float> rr = FloatValues(residual);
    std::vector<float> r(static_cast<size_t>(internal::Product(out_shape)));
    for (int64_t in = 0; in < g.n; ++in) {
      for (int64_t grp = 0; grp < g.group; ++grp) {
        for (int64_t ocg = 0; ocg < g.oc_per_group; ++ocg) {
          const int64_t o = grp * g.oc_per_group + ocg;
          const float multiplier = s_x * internal::ScaleAt(w.quant, o);
          for (int64_t y0 = 0; y0 < g.oh; ++y0) {
            for (int64_t x0 = 0; x0 < g.ow; ++x0) {
              int64_t acc = 0;
              for (int64_t icg = 0; icg < g.c_per_group; ++icg) {
                const int64_t ic = grp * g.c_per_group + icg;
                for (int64_t ky = 0; ky < g.kh; ++ky) {
                  const int64_t iy = y0 * p.stride_h - p.pad_top + ky * p.dilation_h;
                  // Padding is real 0, i.e. x_q = z_x: it adds nothing.
                  if (iy < 0 || iy >= g.h) continue;
                  for (int64_t kx = 0; kx < g.kw; ++kx) {
                    const int64_t ix = x0 * p.stride_w - p.pad_left + kx * p.dilation_w;
                    if (ix < 0 || ix >= g.w) continue;
                    const int64_t xv = xq[static_cast<size_t>(g.XIndex(in, ic, iy, ix))] - z_x;
                    acc += xv * wq[static_cast<size_t>(g.WIndex(o, icg, ky, kx))];
                  }
                }
              }
              const auto yi = static_cast<size_t>(g.YIndex(in, o, y0, x0));
              r[yi] =
                  Int16Epilogue(acc, multiplier, b.empty() ? nullptr : &b[static_cast<size_t>(o)],
                                rr.empty() ? nullptr : &rr[yi], p.activation);
            }
          }
        }
      }
    }
    return WriteInt16Output(kOp, out, out_shape, r, y);
  });
}

Status Int16FullyConnected(const QuantizedOperand& x, const QuantizedOperand& w, const Tensor* bias,
                           const Tensor* residual, const FusedActivation& act,
                           const QuantizedOutputSpec& out, Tensor* y) {
  constexpr const char* kOp = "Int16FullyConnected";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(CheckInt16Input(kOp, "input x", x));
    QSDK_RETURN_IF_ERROR(CheckInt16Weights(kOp, "weight w", w, /*channel_axis=*/0));
    QSDK_RETURN_IF_ERROR(CheckOptionalFloat(kOp, "bias", bias));
    QSDK_RETURN_IF_ERROR(CheckOptionalFloat(kOp, "residual", residual));
    QSDK_RETURN_IF_ERROR(CheckInt16OutputSpec(kOp, out));
    QSDK_RETURN_IF_ERROR(CheckActivation(kOp, act.type, act.alpha, act.beta, /*allow_none=*/true));
    const auto& xs = ShapeOf(*x.tensor);
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
    const std::vector<int64_t> out_shape = {n, oc};
    if (residual != nullptr && ShapeOf(*residual) != out_shape) {
      return InvalidArgument(kOp, ": residual has shape ", ShapeString(ShapeOf(*residual)),
                             "; it must be the output shape ", ShapeString(out_shape));
    }
    const float s_x = x.quant.scales[0];
    const int32_t z_x = x.quant.zero_points[0];
    const std::vector<int32_t> xq = internal::WidenInt16(*x.tensor);
    const std::vector<int32_t> wq = internal::WidenInt16(*w.tensor);
    const std::vector<float> b = FloatValues(bias);
    const std::vector<float> rr = FloatValues(residual);
    std::vector<float> r(static_cast<size_t>(n * oc));
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t o = 0; o < oc; ++o) {
        int64_t acc = 0;
        for (int64_t j = 0; j < k; ++j) {
          acc += static_cast<int64_t>(xq[static_cast<size_t>(i * k + j)] - z_x) *
                 wq[static_cast<size_t>(o * k + j)];
        }
        const auto yi = static_cast<size_t>(i * oc + o);
        r[yi] = Int16Epilogue(acc, s_x * internal::ScaleAt(w.quant, o),
                              b.empty() ? nullptr : &b[static_cast<size_t>(o)],
                              rr.empty() ? nullptr : &rr[yi], act);
      }
    }
    return WriteInt16Output(kOp, out, out_shape, r, y);
  });
}

Status Int16MatMul(const QuantizedOperand& a, const QuantizedOperand& b, const Tensor* bias,
                   const MatMulParams& p, const QuantizedOutputSpec& out, Tensor* y) {
  constexpr const char* kOp = "Int16MatMul";
  return internal::GuardExceptions(kOp, [&]() -> Status {
    QSDK_RETURN_IF_ERROR(internal::CheckOutputPointer(kOp, y));
    QSDK_RETURN_IF_ERROR(CheckInt16Input(kOp, "input a", a));
    QSDK_RETURN_IF_ERROR(internal::CheckTensorBasics(kOp, "input b", b.tensor));
    const auto& bs = ShapeOf(*b.tensor);
    if (bs.size() < 2) {
      return InvalidArgument(kOp, ": input b has shape ", ShapeString(bs),
                             "; it must have rank >= 2");
    }
    // The output column n is axis rank-1 of b [.., K, N], or rank-2 of b [.., N, K] when
    // transposed.
    const auto column_axis = static_cast<int32_t>(bs.size()) - (p.transpose_b ? 2 : 1);
    QSDK_RETURN_IF_ERROR(CheckInt16Weights(kOp, "input b", b, column_axis));
    QSDK_RETURN_IF_ERROR(CheckOptionalFloat(kOp, "bias", bias));
    QSDK_RETURN_IF_ERROR(CheckInt16OutputSpec(kOp, out));
    internal::MatMulGeometry g;
    QSDK_RETURN_IF_ERROR(internal::ResolveMatMulGeometry(
        kOp, ShapeOf(*a.tensor), bs, bias != nullptr ? &ShapeOf(*bias) : nullptr, p, &g));
    const float s_a = a.quant.scales[0];
    const int32_t z_a = a.quant.zero_points[0];
    const std::vector<int32_t> aq = internal::WidenInt16(*a.tensor);
    const std::vector<int32_t> bq = internal::WidenInt16(*b.tensor);
    const std::vector<float> biasv = FloatValues(bias);
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
          for (int64_t q = 0; q < k; ++q) {
            // Stored layouts: a is [M,K] or, transposed, [K,M]; b is [K,N] or [N,K].
            const int64_t ai = a_off + (p.transpose_a ? q * m + i : i * k + q);
            const int64_t bidx = b_off + (p.transpose_b ? j * k + q : q * n + j);
            acc += static_cast<int64_t>(aq[static_cast<size_t>(ai)] - z_a) *
                   bq[static_cast<size_t>(bidx)];
          }
          const float* bias_value = nullptr;
          if (!biasv.empty()) {
            out_index[batch_rank] = i;
            out_index[batch_rank + 1] = j;
            bias_value = &biasv[static_cast<size_t>(internal::OffsetOf(out_index, g.bias_strides))];
          }
          r[static_cast<size_t>(t * m * n + i * n + j)] = Int16Epilogue(
              acc, multiplier[static_cast<size_t>(j)], bias_value, nullptr, p.activation);
        }
      }
    }
    return WriteInt16Output(kOp, out, g.out_shape, r, y);
  });
}

}  // namespace qsdk::reference
