// Quantization parameter choice and scalar quantization steps (quant_math.h). This file is
// compiled with -ffp-contract=off (src/reference/CMakeLists.txt): every float operation
// below rounds separately, as the contract specifies.
#include "reference/quant_math.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <string>

#include "common/status_macros.h"
#include "reference/op_util.h"

namespace qsdk::reference {

namespace {

constexpr float kInt8Levels = 127.0f;    // symmetric INT8: q in [-127, 127]
constexpr float kUint8Levels = 255.0f;   // UINT8: q in [0, 255]
constexpr float kInt16Levels = 32767.0f;  // symmetric INT16: q in [-32767, 32767]

// A scale too small to be a normal float (its reciprocal may overflow, and the values it
// would represent are below ~1e-36 anyway) is replaced by 1: the data is then all zeros.
float UsableScale(float s) { return (s >= FLT_MIN && std::isfinite(s)) ? s : 1.0f; }

// The arguments the activation-parameter choosers start by checking: the output pointer
// set and a finite range [min, max] with min <= max.
Status CheckRangeArguments(const char* fn, float min, float max, const ActivationQuant* out) {
  if (out == nullptr) return InvalidArgument(fn, ": the output pointer is null");
  if (!std::isfinite(min) || !std::isfinite(max)) {
    return InvalidArgument(fn, ": range [", min, ", ", max, "] is not finite");
  }
  if (min > max) {
    return InvalidArgument(fn, ": range [", min, ", ", max, "] has min > max");
  }
  return Status::Ok();
}

}  // namespace

int32_t QuantizedMin(DataType dtype) {
  switch (dtype) {
    case DataType::INT8: return -128;
    case DataType::INT16: return -32768;
    default: return 0;
  }
}

int32_t QuantizedMax(DataType dtype) {
  switch (dtype) {
    case DataType::INT8: return 127;
    case DataType::UINT8: return 255;
    case DataType::INT16: return 32767;
    default: return 0;
  }
}

int32_t RoundAndSaturate(float v, int32_t lo, int32_t hi) {
  if (std::isnan(v)) return lo;
  // Clamp in float first so that the conversion is always defined; lo and hi are 8- or
  // 16-bit bounds (exact in float), and rounding a value inside them stays inside them.
  const float clamped = std::min(std::max(v, static_cast<float>(lo)), static_cast<float>(hi));
  return static_cast<int32_t>(std::nearbyint(clamped));
}

float InverseScale(float scale) { return 1.0f / scale; }

int32_t QuantizeValue(float x, float inv_scale, int32_t zero_point, DataType dtype) {
  const float scaled = x * inv_scale;
  const float shifted = scaled + static_cast<float>(zero_point);
  return RoundAndSaturate(shifted, QuantizedMin(dtype), QuantizedMax(dtype));
}

float DequantizeValue(int32_t q, float scale, int32_t zero_point) {
  const float centered = static_cast<float>(q) - static_cast<float>(zero_point);
  return scale * centered;
}

int32_t RequantizeValue(int32_t q, float in_scale, int32_t in_zero, float out_inv_scale,
                        int32_t out_zero, DataType dtype) {
  return QuantizeValue(DequantizeValue(q, in_scale, in_zero), out_inv_scale, out_zero, dtype);
}

int32_t QuantizeBiasValue(float b, float bias_scale) {
  const float ratio = b / bias_scale;
  if (std::isnan(ratio)) return 0;
  const float r = std::nearbyint(ratio);
  // 2^31 is exact in float; every float below it in magnitude converts exactly.
  constexpr float kTwo31 = 2147483648.0f;
  if (r >= kTwo31) return std::numeric_limits<int32_t>::max();
  if (r < -kTwo31) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(r);
}

bool ChooseActivationScale(float min, float max, QuantScheme scheme, DataType* dtype,
                           float* scale, int32_t* zero_point) {
  if (!std::isfinite(min) || !std::isfinite(max) || min > max) return false;
  if (scheme != QuantScheme::kSymmetric && scheme != QuantScheme::kAsymmetric) return false;
  DataType type = DataType::UINT8;
  float s = 1.0f;
  int32_t z = 0;
  if (min >= 0.0f) {
    // Non-negative (e.g. after ReLU): all 256 levels for [0, max].
    s = UsableScale(max / kUint8Levels);
  } else if (scheme == QuantScheme::kSymmetric) {
    type = DataType::INT8;
    s = UsableScale(std::max(std::fabs(min), std::fabs(max)) / kInt8Levels);
  } else {
    const float lo = std::min(min, 0.0f);  // the range must contain real 0 exactly
    const float hi = std::max(max, 0.0f);
    const float width = hi - lo;
    if (!std::isfinite(width)) return false;
    s = UsableScale(width / kUint8Levels);
    const float zf = -lo / s;
    z = RoundAndSaturate(zf, 0, 255);
  }
  *dtype = type;
  *scale = s;
  *zero_point = z;
  return true;
}

Status ChooseActivationParams(float min, float max, QuantScheme scheme, ActivationQuant* out) {
  constexpr const char* kFn = "ChooseActivationParams";
  QSDK_RETURN_IF_ERROR(CheckRangeArguments(kFn, min, max, out));
  if (scheme != QuantScheme::kSymmetric && scheme != QuantScheme::kAsymmetric) {
    return InvalidArgument(kFn, ": scheme ", static_cast<int32_t>(scheme),
                           " is not a QuantScheme (0 symmetric, 1 asymmetric)");
  }
  ActivationQuant result;
  float scale = 1.0f;
  int32_t zero = 0;
  if (!ChooseActivationScale(min, max, scheme, &result.dtype, &scale, &zero)) {
    // The only failure left: the width of the asymmetric range overflows float.
    return InvalidArgument(kFn, ": range [", min, ", ", max,
                           "] is too wide: its width overflows float");
  }
  result.params.scales = {scale};
  result.params.zero_points = {zero};
  result.params.axis = -1;
  *out = std::move(result);
  return Status::Ok();
}

Status ChooseInt16ActivationParams(float min, float max, ActivationQuant* out) {
  constexpr const char* kFn = "ChooseInt16ActivationParams";
  QSDK_RETURN_IF_ERROR(CheckRangeArguments(kFn, min, max, out));
  ActivationQuant result;
  result.dtype = DataType::INT16;
  result.params.scales = {UsableScale(std::max(std::fabs(min), std::fabs(max)) / kInt16Levels)};
  result.params.zero_points = {0};
  result.params.axis = -1;
  *out = std::move(result);
  return Status::Ok();
}

namespace {

// The arguments every weight / bias quantizer starts by checking: both output pointers
// set, `shape` fully defined (its element count into *count), values given when it has
// elements.
Status CheckQuantizerArguments(const char* fn, bool outputs_set, const float* values,
                               const std::vector<int64_t>& shape, int64_t* count) {
  if (!outputs_set) return InvalidArgument(fn, ": an output pointer is null");
  *count = graph::ElementCount(shape);
  if (*count < 0) {
    return InvalidArgument(fn, ": shape ", graph::ShapeToString(shape), " is not fully defined");
  }
  if (values == nullptr && *count > 0) return InvalidArgument(fn, ": the values are null");
  return Status::Ok();
}

// Symmetric quantization of weights with `levels` (127 or 32767) positive steps into
// integers of type T (see QuantizeWeights).
template <typename T>
Status QuantizeSymmetricWeights(const char* fn, float levels, const float* values,
                                const std::vector<int64_t>& shape, int32_t axis,
                                std::vector<T>* q, graph::QuantParams* params) {
  return internal::GuardExceptions(fn, [&]() -> Status {
    int64_t count = 0;
    QSDK_RETURN_IF_ERROR(CheckQuantizerArguments(fn, q != nullptr && params != nullptr, values,
                                                 shape, &count));
    const auto rank = static_cast<int32_t>(shape.size());
    if (axis < -1 || axis >= rank) {
      return InvalidArgument(fn, ": axis = ", axis, " for shape ", graph::ShapeToString(shape),
                             "; it must be -1 (per tensor) or in [0, ", rank, ")");
    }
    // Element i lies in slice (i / inner) % channels of `axis`.
    const int64_t channels = axis < 0 ? 1 : shape[static_cast<size_t>(axis)];
    const int64_t inner =
        axis < 0 ? std::max<int64_t>(count, 1)
                 : internal::Product(shape, static_cast<size_t>(axis) + 1, shape.size());
    std::vector<float> max_abs(static_cast<size_t>(channels), 0.0f);
    for (int64_t i = 0; i < count; ++i) {
      if (!std::isfinite(values[i])) {
        return InvalidArgument(fn, ": value ", i, " is ", values[i], "; weights must be finite");
      }
      const int64_t c = axis < 0 ? 0 : (i / inner) % channels;
      max_abs[static_cast<size_t>(c)] = std::max(max_abs[static_cast<size_t>(c)],
                                                 std::fabs(values[i]));
    }
    graph::QuantParams result;
    result.axis = axis;
    std::vector<float> inverse(static_cast<size_t>(channels));
    for (int64_t c = 0; c < channels; ++c) {
      // An all-zero slice gets s = 1 (any positive scale represents it; 1 is canonical).
      const float s = UsableScale(max_abs[static_cast<size_t>(c)] / levels);
      result.scales.push_back(s);
      result.zero_points.push_back(0);
      inverse[static_cast<size_t>(c)] = InverseScale(s);
    }
    const auto bound = static_cast<int32_t>(levels);
    std::vector<T> quantized(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) {
      const int64_t c = axis < 0 ? 0 : (i / inner) % channels;
      const float scaled = values[i] * inverse[static_cast<size_t>(c)];
      quantized[static_cast<size_t>(i)] = static_cast<T>(RoundAndSaturate(scaled, -bound, bound));
    }
    *q = std::move(quantized);
    *params = std::move(result);
    return Status::Ok();
  });
}

}  // namespace

Status QuantizeWeights(const float* values, const std::vector<int64_t>& shape, int32_t axis,
                       std::vector<int8_t>* q, graph::QuantParams* params) {
  // -128 is never produced (docs/quantization.md: the restricted range).
  return QuantizeSymmetricWeights("QuantizeWeights", kInt8Levels, values, shape, axis, q, params);
}

Status QuantizeWeightsInt16(const float* values, const std::vector<int64_t>& shape,
                            int32_t axis, std::vector<int16_t>* q, graph::QuantParams* params) {
  return QuantizeSymmetricWeights("QuantizeWeightsInt16", kInt16Levels, values, shape, axis, q,
                                  params);
}

Status QuantizeBias(const float* values, const std::vector<int64_t>& shape, float input_scale,
                    const graph::QuantParams& weight_params, std::vector<int32_t>* q,
                    graph::QuantParams* params) {
  constexpr const char* kFn = "QuantizeBias";
  return internal::GuardExceptions(kFn, [&]() -> Status {
    int64_t count = 0;
    QSDK_RETURN_IF_ERROR(CheckQuantizerArguments(kFn, q != nullptr && params != nullptr, values,
                                                 shape, &count));
    if (!std::isfinite(input_scale) || !(input_scale > 0.0f)) {
      return InvalidArgument(kFn, ": input scale = ", input_scale,
                             "; it must be finite and > 0");
    }
    const std::vector<float>& ws = weight_params.scales;
    if (ws.empty()) return InvalidArgument(kFn, ": the weight parameters have no scale");
    const bool per_tensor = weight_params.axis < 0;
    if (per_tensor && ws.size() != 1) {
      return InvalidArgument(kFn, ": the weights are quantized per tensor but have ", ws.size(),
                             " scales");
    }
    if (!per_tensor && (shape.empty() || shape.back() != static_cast<int64_t>(ws.size()))) {
      return InvalidArgument(kFn, ": bias of shape ", graph::ShapeToString(shape),
                             " cannot follow weights quantized along an axis with ", ws.size(),
                             " scales; its last extent must be ", ws.size());
    }
    graph::QuantParams result;
    result.axis = per_tensor ? -1 : static_cast<int32_t>(shape.size()) - 1;
    for (size_t c = 0; c < ws.size(); ++c) {
      const float sb = input_scale * ws[c];
      if (!std::isfinite(sb) || !(sb > 0.0f)) {
        return InvalidArgument(kFn, ": bias scale[", c, "] = input scale ", input_scale,
                               " * weight scale ", ws[c], " = ", sb,
                               "; it must be finite and > 0");
      }
      result.scales.push_back(sb);
      result.zero_points.push_back(0);
    }
    std::vector<int32_t> quantized(static_cast<size_t>(count));
    const auto channels = static_cast<int64_t>(ws.size());
    for (int64_t i = 0; i < count; ++i) {
      if (!std::isfinite(values[i])) {
        return InvalidArgument(kFn, ": value ", i, " is ", values[i], "; a bias must be finite");
      }
      const int64_t c = per_tensor ? 0 : i % channels;  // the last axis varies fastest
      quantized[static_cast<size_t>(i)] =
          QuantizeBiasValue(values[i], result.scales[static_cast<size_t>(c)]);
    }
    *q = std::move(quantized);
    *params = std::move(result);
    return Status::Ok();
  });
}

}  // namespace qsdk::reference
