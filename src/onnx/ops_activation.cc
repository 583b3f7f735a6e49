// Relu, Clip, Sigmoid, Tanh, LeakyRelu, HardSwish, and the activations recognized as
// patterns (Gelu, HardSwish written out): one Activation node each.
#include <limits>

#include "common/status_macros.h"
#include "onnx/ops.h"

namespace qsdk::onnx {

namespace {

struct Params {
  bool set_alpha = false;
  float alpha = 0.0f;
  bool set_beta = false;
  float beta = 0.0f;
};

// Adds the activation reading `input` (a value name) and defines output 0 of `node`.
Status AddActivation(ImportContext& ctx, const OnnxNode& node, const std::string& input,
                     ActivationType type, const Params& params) {
  ITensor* x = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.ToTensor(node, input, "X", &x));
  IActivationNode* act = ctx.network()->AddIActivationNode(x, type);
  ITensor* y = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Added(node, act, "", &y));
  // Setters only when needed: each one re-validates the network.
  if (params.set_alpha && act->GetAlpha() != params.alpha) {
    const Status s = act->SetAlpha(params.alpha);
    if (!s.ok()) return Status(s.code(), StrCat(node.describe, ": ", s.message()));
  }
  if (params.set_beta && act->GetBeta() != params.beta) {
    const Status s = act->SetBeta(params.beta);
    if (!s.ok()) return Status(s.code(), StrCat(node.describe, ": ", s.message()));
  }
  return ctx.SetOutput(node, 0, y);
}

Status Simple(ImportContext& ctx, const OnnxNode& node, ActivationType type) {
  QSDK_RETURN_IF_ERROR(node.attrs.CheckKnown({}));
  QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "extra output"));
  const Value* x = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Input(node, 0, "X", &x));
  return AddActivation(ctx, node, node.InputName(0), type, Params());
}

// A Clip bound: input `slot` (opset 11+) or attribute `attribute` (the form before
// opset 11, accepted too); `present` false when neither is given.
Status ClipBound(ImportContext& ctx, const OnnxNode& node, size_t slot, const char* attribute,
                 bool* present, float* value) {
  const bool from_input = node.HasInput(slot);
  const bool from_attribute = node.attrs.Has(attribute);
  if (from_input && from_attribute) {
    return InvalidArgument(node.describe, ": '", attribute, "' is given both as input ", slot,
                           " and as an attribute");
  }
  *present = from_input || from_attribute;
  if (from_attribute) return node.attrs.GetFloat(attribute, 0.0f, value);
  if (!from_input) return Status::Ok();
  std::shared_ptr<const HostTensor> c;
  QSDK_RETURN_IF_ERROR(ctx.ConstantInput(node, slot, attribute, &c));
  if (!c->is_float() || c->count() != 1) {
    return Unimplemented(node.describe, ": input ", slot, " '", node.InputName(slot), "' (",
                         attribute, ") is a ", OnnxTypeName(c->type()), " tensor of shape ",
                         DimsToString(c->dims()),
                         "; qsdk clips FLOAT data to a single FLOAT bound");
  }
  *value = c->floats()[0];
  return Status::Ok();
}

}  // namespace

Status ImportRelu(ImportContext& ctx, const OnnxNode& node) {
  return Simple(ctx, node, ActivationType::kRelu);
}

Status ImportSigmoid(ImportContext& ctx, const OnnxNode& node) {
  return Simple(ctx, node, ActivationType::kSigmoid);
}

Status ImportTanh(ImportContext& ctx, const OnnxNode& node) {
  return Simple(ctx, node, ActivationType::kTanh);
}

Status ImportHardSwish(ImportContext& ctx, const OnnxNode& node) {
  return Simple(ctx, node, ActivationType::kHardSwish);
}

Status ImportLeakyRelu(ImportContext& ctx, const OnnxNode& node) {
  QSDK_RETURN_IF_ERROR(node.attrs.CheckKnown({"alpha"}));
  QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "extra output"));
  Params p;
  p.set_alpha = true;
  QSDK_RETURN_IF_ERROR(node.attrs.GetFloat("alpha", 0.01f, &p.alpha));
  const Value* x = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Input(node, 0, "X", &x));
  return AddActivation(ctx, node, node.InputName(0), ActivationType::kLeakyRelu, p);
}

Status ImportClip(ImportContext& ctx, const OnnxNode& node) {
  QSDK_RETURN_IF_ERROR(node.attrs.CheckKnown({"min", "max"}));
  QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "extra output"));
  bool has_min = false, has_max = false;
  float min = std::numeric_limits<float>::lowest(), max = std::numeric_limits<float>::max();
  QSDK_RETURN_IF_ERROR(ClipBound(ctx, node, 1, "min", &has_min, &min));
  QSDK_RETURN_IF_ERROR(ClipBound(ctx, node, 2, "max", &has_max, &max));
  // Infinite bounds clip nothing; qsdk's bounds are finite floats.
  if (min == -std::numeric_limits<float>::infinity()) min = std::numeric_limits<float>::lowest();
  if (max == std::numeric_limits<float>::infinity()) max = std::numeric_limits<float>::max();
  if (min > max) {
    return Unimplemented(node.describe, ": min = ", min, " > max = ", max,
                         "; qsdk's Clip needs min <= max");
  }
  const Value* x = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Input(node, 0, "input", &x));
  // Exact equivalents with a dedicated activation (ReLU6 is the common exported form).
  if (has_min && min == 0.0f && !has_max) {
    return AddActivation(ctx, node, node.InputName(0), ActivationType::kRelu, Params());
  }
  if (has_min && min == 0.0f && has_max && max == 6.0f) {
    return AddActivation(ctx, node, node.InputName(0), ActivationType::kRelu6, Params());
  }
  Params p;
  p.set_alpha = true;
  p.alpha = min;
  p.set_beta = true;
  p.beta = max;
  return AddActivation(ctx, node, node.InputName(0), ActivationType::kClip, p);
}

Status ImportPatternActivation(ImportContext& ctx, const OnnxNode& node,
                               const PatternMatch& match) {
  if (!node.HasOutput(0) || node.OutputName(0) != match.output) {
    return InternalError(node.describe, ": the anchor of the ", match.form,
                         " pattern does not produce its output");
  }
  return AddActivation(ctx, node, match.input, match.activation, Params());
}

}  // namespace qsdk::onnx
