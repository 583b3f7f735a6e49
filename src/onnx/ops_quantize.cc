// QuantizeLinear and DequantizeLinear (per tensor and, from opset 13, per axis).
//
// qsdk networks have no Q/DQ nodes (the builder places its own from ranges), so:
//   - DequantizeLinear of a constant (quantized weights, INT32 biases) is folded into the
//     FLOAT constant it denotes: (q - zero_point) * scale;
//   - QuantizeLinear of a constant is folded into the integer constant (usually read by
//     a DequantizeLinear, which folds in turn);
//   - QuantizeLinear -> DequantizeLinear on an activation x is the identity on x, and x
//     gets the range the pair represents, [scale * (qmin - zero_point), scale * (qmax -
//     zero_point)] (ITensor::SetDynamicRange), so an INT8 build uses the model's ranges.
#include <algorithm>
#include <climits>
#include <cmath>

#include "common/status_macros.h"
#include "onnx/ops.h"

namespace qsdk::onnx {

namespace {

struct QuantParams {
  std::vector<float> scales;
  std::vector<int64_t> zero_points;
  int64_t axis = -1;  // -1: per tensor
  int32_t type = kOnnxUint8;
};

bool SameParams(const QuantParams& a, const QuantizedActivation& b) {
  return a.scales == b.scales && a.zero_points == b.zero_points && a.axis == b.axis &&
         a.type == b.type;
}

void Limits(int32_t type, int64_t* lo, int64_t* hi) {
  switch (type) {
    case kOnnxInt8:
      *lo = -128;
      *hi = 127;
      break;
    case kOnnxUint8:
      *lo = 0;
      *hi = 255;
      break;
    default:
      *lo = INT32_MIN;
      *hi = INT32_MAX;
      break;
  }
}

// Reads scale (input 1), zero point (input 2, optional) and 'axis' for an input of
// `rank` dims with `dims` (extents -1 when unknown). `default_type` is the integer type
// when there is no zero point.
Status ReadParams(ImportContext& ctx, const OnnxNode& node, const std::vector<int64_t>& dims,
                  int32_t default_type, QuantParams* p) {
  const int64_t rank = static_cast<int64_t>(dims.size());
  if (ctx.opset() >= 13) {
    QSDK_RETURN_IF_ERROR(node.attrs.CheckKnown({"axis"}));
  } else {
    QSDK_RETURN_IF_ERROR(node.attrs.CheckKnown({}));
  }
  std::shared_ptr<const HostTensor> scale;
  QSDK_RETURN_IF_ERROR(ctx.ConstantInput(node, 1, "scale", &scale));
  if (!scale->is_float() || scale->dims().size() > 1 || scale->count() < 1) {
    return InvalidArgument(node.describe, ": input 1 '", node.InputName(1), "' (scale) is a ",
                           OnnxTypeName(scale->type()), " tensor of shape ",
                           DimsToString(scale->dims()),
                           "; it must be a FLOAT scalar or, per axis, a 1-D FLOAT tensor");
  }
  p->scales = scale->ToFloats();
  for (size_t i = 0; i < p->scales.size(); ++i) {
    if (!std::isfinite(p->scales[i]) || p->scales[i] < 0.0f) {
      return InvalidArgument(node.describe, ": scale[", i, "] = ", p->scales[i],
                             "; a scale must be finite and >= 0");
    }
  }
  const bool per_axis = scale->dims().size() == 1 && scale->count() > 1;
  if (per_axis) {
    if (ctx.opset() < 13) {
      return InvalidArgument(node.describe, ": scale has shape ", DimsToString(scale->dims()),
                             "; per-axis quantization needs opset 13 (this model uses ",
                             ctx.opset(), ")");
    }
    int64_t axis = 1;
    QSDK_RETURN_IF_ERROR(node.attrs.GetInt("axis", 1, &axis));
    QSDK_RETURN_IF_ERROR(NormalizeAxis(node, "attribute 'axis'", axis, rank, false, &p->axis));
    const int64_t extent = dims[static_cast<size_t>(p->axis)];
    if (extent != -1 && extent != scale->count()) {
      return InvalidArgument(node.describe, ": ", scale->count(), " scales along axis ", p->axis,
                             " of an input of shape ", DimsToString(dims),
                             "; per-axis quantization needs one per index");
    }
  }
  p->type = default_type;
  if (node.HasInput(2)) {
    std::shared_ptr<const HostTensor> zp;
    QSDK_RETURN_IF_ERROR(ctx.ConstantInput(node, 2, "zero_point", &zp));
    if ((zp->type() != kOnnxInt8 && zp->type() != kOnnxUint8 && zp->type() != kOnnxInt32) ||
        zp->count() != scale->count() || zp->dims().size() > 1) {
      return InvalidArgument(node.describe, ": input 2 '", node.InputName(2),
                             "' (zero_point) is a ", OnnxTypeName(zp->type()), " tensor of shape ",
                             DimsToString(zp->dims()), "; it must be INT8, UINT8 or INT32 with ",
                             "the shape of the scale ", DimsToString(scale->dims()));
    }
    p->type = zp->type();
    p->zero_points = zp->ToInts();
  } else {
    p->zero_points.assign(p->scales.size(), 0);
  }
  return Status::Ok();
}

// Index of the scale / zero point for element `i` of a tensor of `dims`.
size_t ParamIndex(const QuantParams& p, const std::vector<int64_t>& dims, int64_t i) {
  if (p.axis < 0) return 0;
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(p.axis) + 1; d < dims.size(); ++d) inner *= dims[d];
  return static_cast<size_t>((i / inner) % dims[static_cast<size_t>(p.axis)]);
}

}  // namespace

Status ImportQuantizeLinear(ImportContext& ctx, const OnnxNode& node) {
  QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "extra output"));
  const Value* x = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Input(node, 0, "x", &x));
  if (x->quantized) {
    return Unimplemented(node.describe, ": input '", node.InputName(0), "' is already the ",
                         "quantized output of ", x->quantized->producer,
                         "; requantization is not supported");
  }
  const std::vector<int64_t> dims =
      x->constant ? x->constant->dims() : x->tensor->GetDimension().GetDims();
  QuantParams p;
  QSDK_RETURN_IF_ERROR(ReadParams(ctx, node, dims, kOnnxUint8, &p));
  if (p.type == kOnnxInt32) {
    return InvalidArgument(node.describe, ": the zero point is INT32; QuantizeLinear produces ",
                           "INT8 or UINT8");
  }
  if (x->constant) {
    const HostTensor& c = *x->constant;
    if (!c.is_float()) {
      return InvalidArgument(node.describe, ": input '", node.InputName(0), "' is ",
                             OnnxTypeName(c.type()), "; QuantizeLinear reads FLOAT");
    }
    int64_t lo = 0, hi = 0;
    Limits(p.type, &lo, &hi);
    std::vector<int64_t> q(static_cast<size_t>(c.count()));
    for (int64_t i = 0; i < c.count(); ++i) {
      const size_t k = ParamIndex(p, c.dims(), i);
      // Round half to even (the default rounding mode), as ONNX specifies; then saturate.
      double v = p.scales[k] == 0.0f
                     ? 0.0
                     : std::nearbyint(static_cast<double>(c.floats()[i]) / p.scales[k]);
      v += static_cast<double>(p.zero_points[k]);
      v = std::min(static_cast<double>(hi), std::max(static_cast<double>(lo), v));
      q[static_cast<size_t>(i)] = static_cast<int64_t>(v);
    }
    return ctx.SetConstantOutput(node, 0, HostTensor::FromInts(p.type, c.dims(), q));
  }
  for (size_t i = 0; i < p.scales.size(); ++i) {
    if (!(p.scales[i] > 0.0f)) {
      return InvalidArgument(node.describe, ": scale[", i, "] = 0 on an activation; the range ",
                             "it represents would be empty");
    }
  }
  auto q = std::make_shared<QuantizedActivation>();
  q->source = x->tensor;
  q->scales = p.scales;
  q->zero_points = p.zero_points;
  q->axis = p.axis;
  q->type = p.type;
  q->producer = node.describe;
  Value v;
  v.quantized = std::move(q);
  return ctx.SetAliasOutput(node, 0, v);
}

Status ImportDequantizeLinear(ImportContext& ctx, const OnnxNode& node) {
  QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "extra output"));
  const Value* x = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Input(node, 0, "x", &x));
  if (x->tensor) {
    return InvalidArgument(node.describe, ": input '", node.InputName(0), "' is a FLOAT ",
                           "tensor; DequantizeLinear reads INT8, UINT8 or INT32");
  }
  const std::vector<int64_t> dims =
      x->constant ? x->constant->dims() : x->quantized->source->GetDimension().GetDims();
  const int32_t x_type = x->constant ? x->constant->type() : x->quantized->type;
  QuantParams p;
  QSDK_RETURN_IF_ERROR(ReadParams(ctx, node, dims, x_type, &p));
  if (node.HasInput(2) && p.type != x_type) {
    return InvalidArgument(node.describe, ": x is ", OnnxTypeName(x_type), " but the zero point ",
                           "is ", OnnxTypeName(p.type), "; they must have the same type");
  }
  if (x->constant) {
    const HostTensor& c = *x->constant;
    if (c.type() != kOnnxInt8 && c.type() != kOnnxUint8 && c.type() != kOnnxInt32) {
      return InvalidArgument(node.describe, ": input '", node.InputName(0), "' is ",
                             OnnxTypeName(c.type()), "; DequantizeLinear reads INT8, UINT8 or ",
                             "INT32");
    }
    if (c.type() == kOnnxInt32) {
      for (int64_t z : p.zero_points) {
        if (z != 0) {
          return InvalidArgument(node.describe, ": an INT32 input needs zero point 0, got ", z);
        }
      }
    }
    std::vector<float> y(static_cast<size_t>(c.count()));
    for (int64_t i = 0; i < c.count(); ++i) {
      const size_t k = ParamIndex(p, c.dims(), i);
      y[static_cast<size_t>(i)] = static_cast<float>(c.IntAt(i) - p.zero_points[k]) * p.scales[k];
    }
    return ctx.SetConstantOutput(node, 0, HostTensor::FromFloats(c.dims(), y));
  }
  // QuantizeLinear -> DequantizeLinear on an activation.
  const QuantizedActivation& q = *x->quantized;
  if (!SameParams(p, q)) {
    return Unimplemented(node.describe, ": its scale, zero point or axis differ from those of ",
                         q.producer, "; only a DequantizeLinear that undoes its ",
                         "QuantizeLinear exactly (a fake-quantization pair) is supported");
  }
  int64_t lo = 0, hi = 0;
  Limits(q.type, &lo, &hi);
  std::vector<float> min(q.scales.size()), max(q.scales.size());
  for (size_t k = 0; k < q.scales.size(); ++k) {
    min[k] = q.scales[k] * static_cast<float>(lo - q.zero_points[k]);
    max[k] = q.scales[k] * static_cast<float>(hi - q.zero_points[k]);
  }
  ITensor* source = q.source;
  std::vector<float> old_min, old_max;
  int64_t old_axis = -1;
  if (source->GetDynamicRange(&old_min, &old_max, &old_axis)) {
    if (old_min != min || old_max != max || old_axis != q.axis) {
      return Unimplemented(node.describe, ": tensor '", source->GetTensorName(), "' is already ",
                           "quantized by another QuantizeLinear -> DequantizeLinear pair with ",
                           "other parameters; one range per tensor is supported");
    }
  } else {
    const Status s = source->SetDynamicRange(min, max, q.axis);
    if (!s.ok()) return Status(s.code(), StrCat(node.describe, ": ", s.message()));
  }
  Value v;
  v.tensor = source;
  return ctx.SetAliasOutput(node, 0, v);
}

}  // namespace qsdk::onnx
