// Constant and ConstantOfShape (a constant value, no network node), Identity and Dropout
// (inference: the identity; the output is the input value under another name), and Cast:
// folded on constants, the identity on a tensor that already has the target type (what
// PyTorch's export of a quantized model writes after each QuantizeLinear); any other Cast
// of a run-time tensor is not supported (qsdk networks compute in FLOAT32).
#include <cmath>

#include "common/status_macros.h"
#include "onnx/ops.h"

namespace qsdk::onnx {

Status ImportConstant(ImportContext& ctx, const OnnxNode& node) {
  QSDK_RETURN_IF_ERROR(
      node.attrs.CheckKnown({"value", "value_float", "value_floats", "value_int", "value_ints",
                             "value_string", "value_strings", "sparse_value"}));
  QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "extra output"));
  const std::vector<std::string> names = node.attrs.Names();
  if (names.size() != 1) {
    return InvalidArgument(node.describe, ": a Constant has exactly one value attribute, this ",
                           "one has ", names.size());
  }
  const std::string& name = names[0];
  HostTensor value;
  if (name == "value") {
    const ::onnx::TensorProto* t = nullptr;
    QSDK_RETURN_IF_ERROR(node.attrs.GetTensor("value", &t));
    QSDK_RETURN_IF_ERROR(
        DecodeTensor(*t, StrCat(node.describe, ": attribute 'value'"), ctx.model_dir(), &value));
  } else if (name == "value_float") {
    float f = 0.0f;
    QSDK_RETURN_IF_ERROR(node.attrs.GetFloat(name, 0.0f, &f));
    value = HostTensor::FromFloats({}, {f});
  } else if (name == "value_floats") {
    std::vector<float> f;
    QSDK_RETURN_IF_ERROR(node.attrs.GetFloats(name, {}, &f));
    value = HostTensor::FromFloats({static_cast<int64_t>(f.size())}, f);
  } else if (name == "value_int") {
    int64_t i = 0;
    QSDK_RETURN_IF_ERROR(node.attrs.GetInt(name, 0, &i));
    value = HostTensor::FromInts(kOnnxInt64, {}, {i});
  } else if (name == "value_ints") {
    std::vector<int64_t> i;
    QSDK_RETURN_IF_ERROR(node.attrs.GetInts(name, {}, &i));
    value = HostTensor::FromInts(kOnnxInt64, {static_cast<int64_t>(i.size())}, i);
  } else {
    return Unimplemented(node.describe, ": attribute '", name, "' is not supported (string and ",
                         "sparse constants)");
  }
  return ctx.SetConstantOutput(node, 0, std::move(value));
}

Status ImportIdentity(ImportContext& ctx, const OnnxNode& node) {
  QSDK_RETURN_IF_ERROR(node.attrs.CheckKnown({}));
  QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "extra output"));
  const Value* x = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Input(node, 0, "input", &x));
  return ctx.SetAliasOutput(node, 0, *x);
}

Status ImportDropout(ImportContext& ctx, const OnnxNode& node) {
  // 'ratio' is an attribute before opset 12 and input 1 from 12 on; inference ignores it.
  QSDK_RETURN_IF_ERROR(node.attrs.CheckKnown({"seed", "ratio"}));
  QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "mask"));
  if (node.HasInput(2)) {
    std::shared_ptr<const HostTensor> training;
    QSDK_RETURN_IF_ERROR(ctx.ConstantInput(node, 2, "training_mode", &training));
    if (training->count() != 1) {
      return InvalidArgument(node.describe, ": input 2 '", node.InputName(2),
                             "' (training_mode) has shape ", DimsToString(training->dims()),
                             "; it must be a single value");
    }
    if (training->ValueAt(0) != 0.0) {
      return Unimplemented(node.describe, ": training_mode is true; qsdk imports inference ",
                           "dropout (the identity) only");
    }
  }
  const Value* x = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Input(node, 0, "data", &x));
  return ctx.SetAliasOutput(node, 0, *x);
}

namespace {

// Constants above this many elements are not folded (ConstantOfShape could otherwise
// allocate whatever a file asks for).
constexpr int64_t kMaxFoldedElements = int64_t{1} << 28;

// The range of an integer type HostTensor holds.
void IntegerLimits(int32_t type, double* lo, double* hi) {
  switch (type) {
    case kOnnxInt8: *lo = -128, *hi = 127; break;
    case kOnnxUint8: *lo = 0, *hi = 255; break;
    case kOnnxInt16: *lo = -32768, *hi = 32767; break;
    case kOnnxInt32: *lo = -2147483648.0, *hi = 2147483647.0; break;
    case kOnnxBool: *lo = 0, *hi = 1; break;
    default:  // INT64: the doubles that convert exactly
      *lo = -9223372036854775808.0;
      *hi = 9223372036854774784.0;
      break;
  }
}

// `c` converted to `to` (a type HostTensor holds). Float to integer truncates toward zero
// (as ONNX Runtime does); a value outside the target's range is an error rather than a
// silently wrapped one.
Status CastConstant(const OnnxNode& node, const HostTensor& c, int32_t to, HostTensor* out) {
  if (to == kOnnxFloat) {
    *out = HostTensor::FromFloats(c.dims(), c.ToFloats());
    return Status::Ok();
  }
  if (to == kOnnxBool) {
    std::vector<int64_t> v(static_cast<size_t>(c.count()));
    for (int64_t i = 0; i < c.count(); ++i) v[static_cast<size_t>(i)] = c.ValueAt(i) != 0.0 ? 1 : 0;
    *out = HostTensor::FromInts(to, c.dims(), v);
    return Status::Ok();
  }
  double lo = 0, hi = 0;
  IntegerLimits(to, &lo, &hi);
  std::vector<int64_t> v(static_cast<size_t>(c.count()));
  for (int64_t i = 0; i < c.count(); ++i) {
    if (c.is_integer()) {
      const int64_t x = c.IntAt(i);
      if (to != kOnnxInt64 && (static_cast<double>(x) < lo || static_cast<double>(x) > hi)) {
        return InvalidArgument(node.describe, ": element ", i, " = ", x,
                               " is outside the range of ", OnnxTypeName(to));
      }
      v[static_cast<size_t>(i)] = x;
      continue;
    }
    const double x = std::trunc(static_cast<double>(c.floats()[i]));
    if (!std::isfinite(x) || x < lo || x > hi) {
      return InvalidArgument(node.describe, ": element ", i, " = ", c.floats()[i],
                             " cannot be converted to ", OnnxTypeName(to),
                             " (not finite or outside its range)");
    }
    v[static_cast<size_t>(i)] = static_cast<int64_t>(x);
  }
  *out = HostTensor::FromInts(to, c.dims(), v);
  return Status::Ok();
}

}  // namespace

Status ImportCast(ImportContext& ctx, const OnnxNode& node) {
  QSDK_RETURN_IF_ERROR(node.attrs.CheckKnown({"to"}));
  QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "extra output"));
  if (!node.attrs.Has("to")) {
    return InvalidArgument(node.describe, ": attribute 'to' is missing; it is required");
  }
  int64_t to = 0;
  QSDK_RETURN_IF_ERROR(node.attrs.GetInt("to", 0, &to));
  const Value* x = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Input(node, 0, "input", &x));
  const auto type = static_cast<int32_t>(to);
  if (static_cast<int64_t>(type) != to || OnnxTypeSize(type) == 0) {
    return Unimplemented(node.describe, ": attribute 'to' = ", to, " (",
                         OnnxTypeName(static_cast<int32_t>(to)), "); qsdk casts to FLOAT, INT64, ",
                         "INT32, INT16, INT8, UINT8 and BOOL");
  }
  if (x->constant) {
    if (x->constant->type() == type) return ctx.SetAliasOutput(node, 0, *x);
    HostTensor out;
    QSDK_RETURN_IF_ERROR(CastConstant(node, *x->constant, type, &out));
    return ctx.SetConstantOutput(node, 0, std::move(out));
  }
  // A run-time tensor: FLOAT, or the integer output of a QuantizeLinear.
  const int32_t from = x->quantized ? x->quantized->type : kOnnxFloat;
  if (from != type) {
    return Unimplemented(node.describe, ": it converts a ", OnnxTypeName(from),
                         " tensor computed at run time to ", OnnxTypeName(type),
                         "; qsdk supports Cast of run-time tensors only to their own type");
  }
  return ctx.SetAliasOutput(node, 0, *x);
}

Status ImportConstantOfShape(ImportContext& ctx, const OnnxNode& node) {
  QSDK_RETURN_IF_ERROR(node.attrs.CheckKnown({"value"}));
  QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "extra output"));
  std::shared_ptr<const HostTensor> shape;
  QSDK_RETURN_IF_ERROR(ctx.ConstantInput(node, 0, "input", &shape));
  if (shape->type() != kOnnxInt64 || shape->dims().size() != 1) {
    return InvalidArgument(node.describe, ": input '", node.InputName(0), "' is a ",
                           OnnxTypeName(shape->type()), " tensor of shape ",
                           DimsToString(shape->dims()), "; the shape must be a 1-D INT64 tensor");
  }
  const std::vector<int64_t> dims = shape->ToInts();
  int64_t count = 0;
  if (!CheckedElementCount(dims, &count) || count > kMaxFoldedElements) {
    return InvalidArgument(node.describe, ": shape ", DimsToString(dims),
                           " must have extents >= 0 and at most ", kMaxFoldedElements,
                           " elements");
  }
  HostTensor value = HostTensor::FromFloats({1}, {0.0f});  // the default: FLOAT 0
  const ::onnx::TensorProto* proto = nullptr;
  QSDK_RETURN_IF_ERROR(node.attrs.GetTensor("value", &proto));
  if (proto != nullptr) {
    QSDK_RETURN_IF_ERROR(
        DecodeTensor(*proto, StrCat(node.describe, ": attribute 'value'"), "", &value));
    if (value.count() != 1) {
      return InvalidArgument(node.describe, ": attribute 'value' has shape ",
                             DimsToString(value.dims()), "; it must hold one element");
    }
  }
  if (value.is_float()) {
    return ctx.SetConstantOutput(
        node, 0, HostTensor::FromFloats(dims, std::vector<float>(static_cast<size_t>(count),
                                                                 value.floats()[0])));
  }
  return ctx.SetConstantOutput(
      node, 0,
      HostTensor::FromInts(value.type(), dims,
                           std::vector<int64_t>(static_cast<size_t>(count), value.IntAt(0))));
}

}  // namespace qsdk::onnx
