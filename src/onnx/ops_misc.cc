// Constant (a constant value, no network node), Identity and Dropout (inference: the
// identity; the output is the input value under another name).
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

}  // namespace qsdk::onnx
