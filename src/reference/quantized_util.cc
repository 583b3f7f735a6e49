#include "reference/quantized_util.h"

#include <cmath>
#include <cstring>
#include <string>

#include "reference/op_util.h"
#include "reference/quant_math.h"

namespace qsdk::reference::internal {

Status CheckTensorBasics(const char* op, const char* what, const Tensor* t) {
  if (t == nullptr) return InvalidArgument(op, ": ", what, " is missing (null)");
  if (!t->GetDimension().IsFullyDefined()) {
    return InvalidArgument(op, ": ", what, " has shape ", t->GetDimension().ToString(),
                           "; every extent must be known (>= 0)");
  }
  if (t->GetElementCount() < 0) {
    return InvalidArgument(op, ": ", what, " has shape ", t->GetDimension().ToString(),
                           ", whose element count overflows int64");
  }
  if (t->empty() && t->GetElementCount() > 0) {
    return InvalidArgument(op, ": ", what, " has no data");
  }
  return Status::Ok();
}

Status CheckParams(const char* op, const char* what, DataType dtype,
                   const std::vector<int64_t>& shape, const graph::QuantParams& q,
                   bool allow_per_axis) {
  if (q.scales.empty()) {
    return InvalidArgument(op, ": ", what, " has type ", DataTypeName(dtype),
                           " but no quantization parameters");
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
  int32_t lo = 0, hi = 0;
  switch (dtype) {
    case DataType::INT8:
    case DataType::UINT8:
    case DataType::INT16:
      lo = QuantizedMin(dtype);
      hi = QuantizedMax(dtype);
      break;
    case DataType::INT32:
      break;  // biases: zero point 0
    default:
      return InvalidArgument(op, ": ", what, " has quantization parameters but type ",
                             DataTypeName(dtype));
  }
  for (size_t k = 0; k < q.scales.size(); ++k) {
    if (!std::isfinite(q.scales[k]) || !(q.scales[k] > 0.0f)) {
      return InvalidArgument(op, ": ", what, " has scale[", k, "] = ", q.scales[k],
                             "; a scale must be finite and > 0");
    }
    if (q.zero_points[k] < lo || q.zero_points[k] > hi) {
      return InvalidArgument(op, ": ", what, " has zero_point[", k, "] = ", q.zero_points[k],
                             "; for ", DataTypeName(dtype), " it must be in [", lo, ", ", hi,
                             "]");
    }
  }
  return Status::Ok();
}

Status CheckActivationOperand(const char* op, const char* what, const QuantizedOperand& x,
                              bool allow_float) {
  QSDK_RETURN_IF_ERROR(CheckTensorBasics(op, what, x.tensor));
  const DataType dtype = x.tensor->GetDataType();
  if (dtype == DataType::FLOAT32 && allow_float) {
    if (!x.quant.empty()) {
      return InvalidArgument(op, ": ", what, " is FLOAT32 but has quantization parameters");
    }
    return Status::Ok();
  }
  if (!IsQuantized8(dtype)) {
    return InvalidArgument(op, ": ", what, " has type ", DataTypeName(dtype), "; it must be ",
                           allow_float ? "FLOAT32, or " : "", "INT8 or UINT8 quantized per tensor");
  }
  return CheckParams(op, what, dtype, ShapeOf(*x.tensor), x.quant, /*allow_per_axis=*/false);
}

Status CheckOutputSpec(const char* op, const QuantizedOutputSpec& out) {
  if (out.dtype == DataType::FLOAT32) {
    if (!out.quant.empty()) {
      return InvalidArgument(op, ": the output is FLOAT32 but has quantization parameters");
    }
    return Status::Ok();
  }
  if (!IsQuantized8(out.dtype)) {
    return InvalidArgument(op, ": the output type is ", DataTypeName(out.dtype),
                           "; it must be FLOAT32, INT8 or UINT8");
  }
  return CheckParams(op, "the output", out.dtype, {}, out.quant, /*allow_per_axis=*/false);
}

std::vector<int32_t> Widen(const Tensor& t) {
  const int64_t count = t.GetElementCount();
  std::vector<int32_t> v(static_cast<size_t>(count > 0 ? count : 0));
  switch (t.GetDataType()) {
    case DataType::INT8: {
      const int8_t* p = t.Data<int8_t>();
      for (size_t i = 0; i < v.size(); ++i) v[i] = p[i];
      break;
    }
    case DataType::UINT8: {
      const uint8_t* p = t.Data<uint8_t>();
      for (size_t i = 0; i < v.size(); ++i) v[i] = p[i];
      break;
    }
    case DataType::INT16: {
      const int16_t* p = t.Data<int16_t>();
      for (size_t i = 0; i < v.size(); ++i) v[i] = p[i];
      break;
    }
    case DataType::INT32:
      if (!v.empty()) std::memcpy(v.data(), t.GetData(), v.size() * sizeof(int32_t));
      break;
    default:
      break;  // callers check the type first
  }
  return v;
}

AxisIndexer::AxisIndexer(const std::vector<int64_t>& shape, int32_t axis) {
  if (axis < 0 || axis >= static_cast<int32_t>(shape.size())) return;
  extent_ = shape[static_cast<size_t>(axis)];
  inner_ = Product(shape, static_cast<size_t>(axis) + 1, shape.size());
  if (inner_ < 1) inner_ = 1;
}

std::vector<float> RealValues(const QuantizedOperand& x) {
  if (x.tensor == nullptr) return {};
  const Tensor& t = *x.tensor;
  const auto count = static_cast<size_t>(t.GetElementCount());
  if (t.GetDataType() == DataType::FLOAT32) {
    const float* p = t.Data<float>();
    return std::vector<float>(p, p + count);
  }
  const std::vector<int32_t> q = Widen(t);
  const AxisIndexer channel(ShapeOf(t), x.quant.axis);
  std::vector<float> r(count);
  for (size_t i = 0; i < count; ++i) {
    const auto c = static_cast<size_t>(channel(static_cast<int64_t>(i)));
    r[i] = DequantizeValue(q[i], x.quant.scales[c], x.quant.zero_points[c]);
  }
  return r;
}

Status AllocateTyped(const char* op, DataType dtype, const std::vector<int64_t>& shape,
                     Tensor* y) {
  Tensor t = Tensor::Allocate(dtype, Dims(shape));
  if (t.empty()) {
    return Status(StatusCode::kResourceExhausted,
                  StrCat(op, ": cannot allocate the ", DataTypeName(dtype), " output of shape ",
                         ShapeString(shape)));
  }
  *y = std::move(t);
  return Status::Ok();
}

Status WriteQuantized(const char* op, DataType dtype, const std::vector<int64_t>& shape,
                      const std::vector<int32_t>& q, Tensor* y) {
  Tensor out;
  QSDK_RETURN_IF_ERROR(AllocateTyped(op, dtype, shape, &out));
  if (static_cast<size_t>(out.GetElementCount()) != q.size()) {
    return InternalError(op, ": ", q.size(), " values computed for output shape ",
                         ShapeString(shape));
  }
  if (dtype == DataType::INT8) {
    int8_t* p = out.Data<int8_t>();
    for (size_t i = 0; i < q.size(); ++i) p[i] = static_cast<int8_t>(q[i]);
  } else if (dtype == DataType::INT16) {
    int16_t* p = out.Data<int16_t>();
    for (size_t i = 0; i < q.size(); ++i) p[i] = static_cast<int16_t>(q[i]);
  } else {
    uint8_t* p = out.Data<uint8_t>();
    for (size_t i = 0; i < q.size(); ++i) p[i] = static_cast<uint8_t>(q[i]);
  }
  *y = std::move(out);
  return Status::Ok();
}

Status WriteOutput(const char* op, const QuantizedOutputSpec& out,
                   const std::vector<int64_t>& shape, const std::vector<float>& r, Tensor* y) {
  if (out.dtype == DataType::FLOAT32) {
    Tensor t;
    QSDK_RETURN_IF_ERROR(AllocateTyped(op, DataType::FLOAT32, shape, &t));
    if (static_cast<size_t>(t.GetElementCount()) != r.size()) {
      return InternalError(op, ": ", r.size(), " values computed for output shape ",
                           ShapeString(shape));
    }
    if (!r.empty()) std::memcpy(t.GetData(), r.data(), r.size() * sizeof(float));
    *y = std::move(t);
    return Status::Ok();
  }
  const float inv = InverseScale(out.quant.scales[0]);
  const int32_t z = out.quant.zero_points[0];
  std::vector<int32_t> q(r.size());
  for (size_t i = 0; i < r.size(); ++i) q[i] = QuantizeValue(r[i], inv, z, out.dtype);
  return WriteQuantized(op, out.dtype, shape, q, y);
}

Status CheckBiasScales(const char* op, const graph::QuantParams& b, float x_scale,
                       const graph::QuantParams& w, int64_t channels) {
  for (int64_t c = 0; c < channels; ++c) {
    const float expected = x_scale * ScaleAt(w, c);
    const float actual = ScaleAt(b, c);
    if (!(std::fabs(actual - expected) <= 1e-6f * expected)) {
      return InvalidArgument(op, ": bias scale[", c, "] = ", actual,
                             " is not the accumulator scale s_x * s_w[", c, "] = ", x_scale,
                             " * ", ScaleAt(w, c), " = ", expected);
    }
  }
  return Status::Ok();
}

Status CheckWeights(const char* op, const char* what, const QuantizedOperand& w,
                    int32_t channel_axis, DataType dtype) {
  QSDK_RETURN_IF_ERROR(CheckTensorBasics(op, what, w.tensor));
  if (w.tensor->GetDataType() != dtype) {
    return InvalidArgument(op, ": ", what, " has type ", DataTypeName(w.tensor->GetDataType()),
                           "; the weights of an ", DataTypeName(dtype), " op must be ",
                           DataTypeName(dtype));
  }
  QSDK_RETURN_IF_ERROR(
      CheckParams(op, what, dtype, ShapeOf(*w.tensor), w.quant, /*allow_per_axis=*/true));
  if (w.quant.axis >= 0 && w.quant.axis != channel_axis) {
    return InvalidArgument(op, ": ", what, " is quantized along axis ", w.quant.axis,
                           "; weights are quantized per tensor or along their output-channel "
                           "axis ", channel_axis);
  }
  for (size_t k = 0; k < w.quant.zero_points.size(); ++k) {
    if (w.quant.zero_points[k] != 0) {
      return InvalidArgument(op, ": ", what, " has zero_point[", k, "] = ", w.quant.zero_points[k],
                             "; weights are quantized symmetrically (zero point 0)");
    }
  }
  if (dtype == DataType::INT16) {
    const int16_t* p = w.tensor->Data<int16_t>();
    const int64_t count = w.tensor->GetElementCount();
    for (int64_t i = 0; i < count; ++i) {
      if (p[i] == -32768) {
        return InvalidArgument(op, ": ", what, " has value -32768 at element ", i,
                               "; INT16 weights lie in [-32767, 32767] (the restricted "
                               "symmetric range)");
      }
    }
  }
  return Status::Ok();
}

Status CheckMatMulWeights(const char* op, const QuantizedOperand& b, const MatMulParams& params,
                          DataType dtype) {
  QSDK_RETURN_IF_ERROR(CheckTensorBasics(op, "input b", b.tensor));
  const auto& bs = ShapeOf(*b.tensor);
  if (bs.size() < 2) {
    return InvalidArgument(op, ": input b has shape ", ShapeString(bs),
                           "; it must have rank >= 2");
  }
  const auto column_axis = static_cast<int32_t>(bs.size()) - (params.transpose_b ? 2 : 1);
  return CheckWeights(op, "input b", b, column_axis, dtype);
}

Status CheckBias(const char* op, const QuantizedOperand& b, int32_t channel_axis, float x_scale,
                 const graph::QuantParams& w, int64_t channels) {
  if (b.tensor == nullptr) return Status::Ok();
  QSDK_RETURN_IF_ERROR(CheckTensorBasics(op, "bias", b.tensor));
  if (b.tensor->GetDataType() != DataType::INT32) {
    return InvalidArgument(op, ": bias has type ", DataTypeName(b.tensor->GetDataType()),
                           "; the bias of a quantized op must be INT32 in the accumulator's "
                           "scale");
  }
  QSDK_RETURN_IF_ERROR(
      CheckParams(op, "bias", DataType::INT32, ShapeOf(*b.tensor), b.quant, /*per_axis=*/true));
  if (b.quant.axis >= 0 && b.quant.axis != channel_axis) {
    return InvalidArgument(op, ": bias is quantized along axis ", b.quant.axis,
                           "; it must be per tensor or along its output-channel axis ",
                           channel_axis);
  }
  return CheckBiasScales(op, b.quant, x_scale, w, channels);
}

Status CheckChannelBias(const char* op, const QuantizedOperand& b, float x_scale,
                        const graph::QuantParams& w, int64_t oc) {
  QSDK_RETURN_IF_ERROR(CheckBiasShape(op, "bias", b.tensor, oc));
  return CheckBias(op, b, /*channel_axis=*/0, x_scale, w, oc);
}

Status CheckResidual(const char* op, const QuantizedOperand& r,
                     const std::vector<int64_t>& out_shape) {
  if (r.tensor == nullptr) return Status::Ok();
  QSDK_RETURN_IF_ERROR(CheckActivationOperand(op, "residual", r, /*allow_float=*/true));
  return CheckResidualShape(op, r.tensor, out_shape);
}

}  // namespace qsdk::reference::internal
