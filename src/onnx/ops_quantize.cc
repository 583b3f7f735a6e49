// QuantizeLinear and DequantizeLinear (per tensor and, from opset 13, per axis), imported as
// explicit quantization: the network gets Quantize / Dequantize nodes with exactly the
// model's parameters, which the builder folds into quantized kernels (Q/DQ folding) or runs
// as kernels of their own.
//   - QuantizeLinear of an activation: an IQuantizeNode (INT8, UINT8 or INT16 output, the
//     zero point's type; UINT8 without one). Its output may be read only by a
//     DequantizeLinear with the same parameters (and by Identity / Cast to its own type).
//   - DequantizeLinear of such a tensor: an IDequantizeNode.
//   - DequantizeLinear of a constant (quantized weights, INT32 biases): a dequantized
//     constant (importer.h, DequantizedConstant): an integer Const read by a Dequantize
//     node once a network node reads it, and its FLOAT values for the handlers that compute
//     on constants at import time (shapes, a Gemm's transposed weight).
//   - QuantizeLinear of a FLOAT constant (a fake-quantized weight): folded now into the
//     integer constant, with qsdk's definition (docs/quantization.md):
//     q = saturate(round_half_even(x * (1.0f / scale) + zero_point)), in float.
// Parameters are checked here, naming the node: every scale finite and > 0, zero points of
// the quantized type (so within its range) and as many as scales, the axis within the
// input's rank with one scale per index.
#include <cmath>
#include <cstdint>

#include "common/status_macros.h"
#include "onnx/ops.h"
#include "reference/quant_math.h"

namespace qsdk::onnx {

namespace {

struct QuantParams {
  std::vector<float> scales;
  std::vector<int64_t> zero_points;
  int64_t axis = -1;  // -1: per tensor
  int32_t type = kOnnxUint8;
};

bool IsQuantizedType(int32_t type) {
  return type == kOnnxInt8 || type == kOnnxUint8 || type == kOnnxInt16;
}

DataType NetworkType(int32_t onnx_type) {
  switch (onnx_type) {
    case kOnnxInt8: return DataType::INT8;
    case kOnnxUint8: return DataType::UINT8;
    case kOnnxInt16: return DataType::INT16;
    default: return DataType::INT32;
  }
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
    case kOnnxInt16:
      *lo = -32768;
      *hi = 32767;
      break;
    default:
      *lo = INT32_MIN;
      *hi = INT32_MAX;
      break;
  }
}

std::string ParamsToString(const QuantParams& p) {
  std::string s = "scale [";
  for (size_t i = 0; i < p.scales.size(); ++i) s += StrCat(i ? "," : "", p.scales[i]);
  s += "], zero point [";
  for (size_t i = 0; i < p.zero_points.size(); ++i) s += StrCat(i ? "," : "", p.zero_points[i]);
  return StrCat(s, "] (", OnnxTypeName(p.type), "), axis ", p.axis);
}

// Reads scale (input 1), zero point (input 2, optional) and 'axis' for an input of `dims`
// (extents -1 when unknown). `default_type` is the integer type when there is no zero
// point.
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
    if (!std::isfinite(p->scales[i]) || !(p->scales[i] > 0.0f)) {
      return InvalidArgument(node.describe, ": scale[", i, "] = ", p->scales[i],
                             "; a scale must be finite and > 0");
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
                             "; per-axis quantization needs one per index (", extent, ")");
    }
  }
  p->type = default_type;
  if (node.HasInput(2)) {
    std::shared_ptr<const HostTensor> zp;
    QSDK_RETURN_IF_ERROR(ctx.ConstantInput(node, 2, "zero_point", &zp));
    if (!IsQuantizedType(zp->type()) && zp->type() != kOnnxInt32) {
      return InvalidArgument(node.describe, ": input 2 '", node.InputName(2),
                             "' (zero_point) is a ", OnnxTypeName(zp->type()),
                             " tensor; it must be INT8, UINT8, INT16 or INT32");
    }
    if (zp->count() != scale->count() || zp->dims().size() > 1) {
      return InvalidArgument(node.describe, ": input 2 '", node.InputName(2),
                             "' (zero_point) has shape ", DimsToString(zp->dims()),
                             " but the scale has shape ", DimsToString(scale->dims()),
                             "; there must be one zero point per scale");
    }
    p->type = zp->type();
    p->zero_points = zp->ToInts();
    // The zero point's own type bounds it; checked again here as the rule the kernels rely
    // on (a zero point is a value of the quantized type).
    int64_t lo = 0, hi = 0;
    Limits(p->type, &lo, &hi);
    for (size_t i = 0; i < p->zero_points.size(); ++i) {
      if (p->zero_points[i] < lo || p->zero_points[i] > hi) {
        return InvalidArgument(node.describe, ": zero_point[", i, "] = ", p->zero_points[i],
                               " is outside the range [", lo, ", ", hi, "] of ",
                               OnnxTypeName(p->type));
      }
    }
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

std::vector<int32_t> ZeroPoints32(const QuantParams& p) {
  // ReadParams bounded every zero point by its (at most 32-bit) type.
  return std::vector<int32_t>(p.zero_points.begin(), p.zero_points.end());
}

bool SameParams(const QuantParams& a, const QuantizedActivation& b) {
  return a.scales == b.scales && a.zero_points == b.zero_points && a.axis == b.axis &&
         a.type == b.type;
}

std::string ActivationParamsToString(const QuantizedActivation& q) {
  QuantParams p;
  p.scales = q.scales;
  p.zero_points = q.zero_points;
  p.axis = q.axis;
  p.type = q.type;
  return ParamsToString(p);
}

}  // namespace

Status ImportQuantizeLinear(ImportContext& ctx, const OnnxNode& node) {
  QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "extra output"));
  const Value* x = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Input(node, 0, "x", &x));
  if (x->quantized) {
    return InvalidArgument(node.describe, ": input '", node.InputName(0), "' is the ",
                           OnnxTypeName(x->quantized->type), " output of ", x->quantized->producer,
                           "; QuantizeLinear reads FLOAT");
  }
  const std::vector<int64_t> dims =
      x->constant ? x->constant->dims() : x->tensor->GetDimension().GetDims();
  QuantParams p;
  QSDK_RETURN_IF_ERROR(ReadParams(ctx, node, dims, kOnnxUint8, &p));
  if (!IsQuantizedType(p.type)) {
    return InvalidArgument(node.describe, ": the zero point is ", OnnxTypeName(p.type),
                           "; QuantizeLinear produces INT8, UINT8 or INT16");
  }
  if (x->constant) {
    const HostTensor& c = *x->constant;
    if (!c.is_float()) {
      return InvalidArgument(node.describe, ": input '", node.InputName(0), "' is ",
                             OnnxTypeName(c.type()), "; QuantizeLinear reads FLOAT");
    }
    const DataType type = NetworkType(p.type);
    std::vector<float> inverse(p.scales.size());
    for (size_t k = 0; k < p.scales.size(); ++k) inverse[k] = reference::InverseScale(p.scales[k]);
    std::vector<int64_t> q(static_cast<size_t>(c.count()));
    for (int64_t i = 0; i < c.count(); ++i) {
      const size_t k = ParamIndex(p, c.dims(), i);
      q[static_cast<size_t>(i)] = reference::QuantizeValue(
          c.floats()[i], inverse[k], static_cast<int32_t>(p.zero_points[k]), type);
    }
    return ctx.SetConstantOutput(node, 0, HostTensor::FromInts(p.type, c.dims(), q));
  }
  if (x->tensor->GetDataType() != DataType::FLOAT32) {
    return InvalidArgument(node.describe, ": input '", node.InputName(0), "' has type ",
                           DataTypeName(x->tensor->GetDataType()), "; QuantizeLinear reads FLOAT");
  }
  IQuantizeNode* quantize = ctx.network()->AddIQuantizeNode(x->tensor, NetworkType(p.type),
                                                            p.scales, ZeroPoints32(p), p.axis);
  ITensor* y = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Added(node, quantize, "", &y));
  auto q = std::make_shared<QuantizedActivation>();
  q->scales = p.scales;
  q->zero_points = p.zero_points;
  q->axis = p.axis;
  q->type = p.type;
  q->producer = node.describe;
  return ctx.SetQuantizedOutput(node, 0, y, std::move(q));
}

Status ImportDequantizeLinear(ImportContext& ctx, const OnnxNode& node) {
  QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "extra output"));
  const Value* x = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Input(node, 0, "x", &x));
  if (x->tensor && !x->quantized) {
    return InvalidArgument(node.describe, ": input '", node.InputName(0), "' is a ",
                           DataTypeName(x->tensor->GetDataType()),
                           " tensor; DequantizeLinear reads INT8, UINT8, INT16 or INT32");
  }
  if (x->constant && (x->constant->is_float() || (!IsQuantizedType(x->constant->type()) &&
                                                  x->constant->type() != kOnnxInt32))) {
    return InvalidArgument(node.describe, ": input '", node.InputName(0), "' is ",
                           OnnxTypeName(x->constant->type()),
                           "; DequantizeLinear reads INT8, UINT8, INT16 or INT32");
  }
  const std::vector<int64_t> dims =
      x->constant ? x->constant->dims() : x->tensor->GetDimension().GetDims();
  const int32_t x_type = x->constant ? x->constant->type() : x->quantized->type;
  QuantParams p;
  QSDK_RETURN_IF_ERROR(ReadParams(ctx, node, dims, x_type, &p));
  if (p.type != x_type) {
    return InvalidArgument(node.describe, ": x is ", OnnxTypeName(x_type), " but the zero point ",
                           "is ", OnnxTypeName(p.type), "; they must have the same type");
  }
  if (x_type == kOnnxInt32) {
    for (size_t i = 0; i < p.zero_points.size(); ++i) {
      if (p.zero_points[i] != 0) {
        return InvalidArgument(node.describe, ": zero_point[", i, "] = ", p.zero_points[i],
                               "; an INT32 input (a bias) needs zero point 0");
      }
    }
  }
  if (x->constant) {
    const HostTensor& c = *x->constant;
    std::vector<float> y(static_cast<size_t>(c.count()));
    for (int64_t i = 0; i < c.count(); ++i) {
      const size_t k = ParamIndex(p, c.dims(), i);
      y[static_cast<size_t>(i)] = reference::DequantizeValue(
          static_cast<int32_t>(c.IntAt(i)), p.scales[k], static_cast<int32_t>(p.zero_points[k]));
    }
    auto dq = std::make_shared<DequantizedConstant>();
    dq->data = x->constant;
    dq->scales = p.scales;
    dq->zero_points = ZeroPoints32(p);
    dq->axis = p.axis;
    dq->data_name = node.InputName(0);
    dq->node_name = node.name;
    return ctx.SetDequantizedOutput(node, 0, HostTensor::FromFloats(c.dims(), y), std::move(dq));
  }
  // The dequantization of a QuantizeLinear's output: the network tensor carries that
  // node's parameters, and a tensor has one set of them.
  const QuantizedActivation& q = *x->quantized;
  if (!SameParams(p, q)) {
    return Unimplemented(node.describe, ": its ", ParamsToString(p), " differ from the ",
                         ActivationParamsToString(q), " of ", q.producer,
                         "; a DequantizeLinear of a quantized activation must use its "
                         "QuantizeLinear's parameters (requantization is not supported)");
  }
  IDequantizeNode* dequantize =
      ctx.network()->AddIDequantizeNode(x->tensor, p.scales, ZeroPoints32(p), p.axis);
  ITensor* y = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Added(node, dequantize, "", &y));
  return ctx.SetOutput(node, 0, y);
}

}  // namespace qsdk::onnx
