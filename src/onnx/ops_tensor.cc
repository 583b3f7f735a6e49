// Concat, Flatten, Reshape, Transpose, Softmax, BatchNormalization. Flatten, Reshape and
// Transpose of a constant are folded into a constant.
#include <algorithm>

#include "common/status_macros.h"
#include "onnx/host_ops.h"
#include "onnx/ops.h"

namespace qsdk::onnx {

namespace {

Status NetworkStatus(const OnnxNode& node, const Status& s) {
  if (s.ok()) return s;
  return Status(s.code(), StrCat(node.describe, ": ", s.message()));
}

}  // namespace

Status ImportConcat(ImportContext& ctx, const OnnxNode& node) {
  QSDK_RETURN_IF_ERROR(node.attrs.CheckKnown({"axis"}));
  QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "extra output"));
  if (!node.attrs.Has("axis")) {
    return InvalidArgument(node.describe, ": attribute 'axis' is missing; it is required");
  }
  int64_t axis = 0;
  QSDK_RETURN_IF_ERROR(node.attrs.GetInt("axis", 0, &axis));
  std::vector<ITensor*> inputs;
  for (size_t i = 0; i < static_cast<size_t>(node.proto->input_size()); ++i) {
    if (!node.HasInput(i)) {
      return InvalidArgument(node.describe, ": input ", i, " is empty; Concat has no optional ",
                             "inputs");
    }
    ITensor* t = nullptr;
    QSDK_RETURN_IF_ERROR(ctx.TensorInput(node, i, "inputs", &t));
    inputs.push_back(t);
  }
  if (inputs.empty()) return InvalidArgument(node.describe, ": Concat needs at least one input");
  ITensor* y = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Added(node, ctx.network()->AddIConcatNode(inputs, axis), "", &y));
  return ctx.SetOutput(node, 0, y);
}

Status ImportFlatten(ImportContext& ctx, const OnnxNode& node) {
  QSDK_RETURN_IF_ERROR(node.attrs.CheckKnown({"axis"}));
  QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "extra output"));
  int64_t axis = 1;
  QSDK_RETURN_IF_ERROR(node.attrs.GetInt("axis", 1, &axis));
  const Value* x = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Input(node, 0, "input", &x));
  if (x->constant) {
    const HostTensor& c = *x->constant;
    int64_t a = 0;
    QSDK_RETURN_IF_ERROR(NormalizeAxis(node, "attribute 'axis'", axis,
                                       static_cast<int64_t>(c.dims().size()), true, &a));
    int64_t outer = 1;
    for (int64_t i = 0; i < a; ++i) outer *= c.dims()[static_cast<size_t>(i)];
    const int64_t inner = outer == 0 ? 0 : c.count() / outer;
    return ctx.SetConstantOutput(node, 0, c.Reshaped({outer, inner}));
  }
  ITensor* t = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.TensorInput(node, 0, "input", &t));
  ITensor* y = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Added(node, ctx.network()->AddIFlattenNode(t, axis), "", &y));
  return ctx.SetOutput(node, 0, y);
}

Status ImportReshape(ImportContext& ctx, const OnnxNode& node) {
  QSDK_RETURN_IF_ERROR(node.attrs.CheckKnown({"allowzero"}));
  QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "extra output"));
  int64_t allowzero = 0;
  QSDK_RETURN_IF_ERROR(node.attrs.GetInt("allowzero", 0, &allowzero));
  std::shared_ptr<const HostTensor> shape_tensor;
  QSDK_RETURN_IF_ERROR(ctx.ConstantInput(node, 1, "shape", &shape_tensor));
  if (shape_tensor->type() != kOnnxInt64 || shape_tensor->dims().size() != 1) {
    return InvalidArgument(node.describe, ": input 1 '", node.InputName(1), "' (shape) is a ",
                           OnnxTypeName(shape_tensor->type()), " tensor of shape ",
                           DimsToString(shape_tensor->dims()), "; it must be a 1-D INT64 tensor");
  }
  const std::vector<int64_t> shape = shape_tensor->ToInts();
  int inferred = 0;
  for (int64_t d : shape) {
    if (d < -1) {
      return InvalidArgument(node.describe, ": shape ", DimsToString(shape), " has extent ", d,
                             "; extents are >= 0 or -1 (inferred)");
    }
    if (d == 0 && allowzero != 0) {
      return Unimplemented(node.describe, ": shape ", DimsToString(shape),
                           " with allowzero = 1 makes an empty tensor; qsdk tensors have "
                           "extents >= 1");
    }
    inferred += d == -1;
  }
  if (inferred > 1) {
    return InvalidArgument(node.describe, ": shape ", DimsToString(shape),
                           " has more than one -1; at most one extent is inferred");
  }
  const Value* x = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Input(node, 0, "data", &x));
  if (x->constant) {
    // Fold: resolve 0 (copy) and -1 (infer) against the constant's shape.
    const HostTensor& c = *x->constant;
    std::vector<int64_t> out = shape;
    int64_t known = 1;
    int infer_at = -1;
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i] == 0) {
        if (i >= c.dims().size()) {
          return InvalidArgument(node.describe, ": shape ", DimsToString(shape), " copies extent ",
                                 i, " of a constant of shape ", DimsToString(c.dims()));
        }
        out[i] = c.dims()[i];
      }
      if (out[i] == -1) {
        infer_at = static_cast<int>(i);
      } else if (__builtin_mul_overflow(known, out[i], &known)) {
        return InvalidArgument(node.describe, ": shape ", DimsToString(shape),
                               " has an element count that overflows int64");
      }
    }
    if (infer_at >= 0) {
      if (known == 0 || c.count() % known != 0) {
        return InvalidArgument(node.describe, ": shape ", DimsToString(shape), " cannot hold the ",
                               c.count(), " elements of a constant of shape ",
                               DimsToString(c.dims()));
      }
      out[static_cast<size_t>(infer_at)] = c.count() / known;
    } else if (known != c.count()) {
      return InvalidArgument(node.describe, ": shape ", DimsToString(shape), " holds ", known,
                             " elements but the constant of shape ", DimsToString(c.dims()),
                             " has ", c.count());
    }
    return ctx.SetConstantOutput(node, 0, c.Reshaped(out));
  }
  ITensor* t = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.TensorInput(node, 0, "data", &t));
  ITensor* y = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Added(node, ctx.network()->AddIReshapeNode(t, Dims(shape)), "", &y));
  return ctx.SetOutput(node, 0, y);
}

Status ImportTranspose(ImportContext& ctx, const OnnxNode& node) {
  QSDK_RETURN_IF_ERROR(node.attrs.CheckKnown({"perm"}));
  QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "extra output"));
  const Value* x = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Input(node, 0, "data", &x));
  const size_t rank = x->constant ? x->constant->dims().size()
                      : x->tensor ? static_cast<size_t>(x->tensor->GetDimension().GetDimsNum())
                                  : 0;
  std::vector<int64_t> reversed(rank);
  for (size_t i = 0; i < rank; ++i) reversed[i] = static_cast<int64_t>(rank - 1 - i);
  std::vector<int64_t> perm;
  QSDK_RETURN_IF_ERROR(node.attrs.GetInts("perm", reversed, &perm));
  if (x->constant) {
    std::vector<int64_t> sorted = perm;
    std::sort(sorted.begin(), sorted.end());
    bool valid = sorted.size() == rank;
    for (size_t i = 0; valid && i < sorted.size(); ++i) {
      valid = sorted[i] == static_cast<int64_t>(i);
    }
    if (!valid) {
      return InvalidArgument(node.describe, ": attribute 'perm' = ", DimsToString(perm),
                             " is not a permutation of the ", rank, " axes of its input");
    }
    return ctx.SetConstantOutput(node, 0, HostTranspose(*x->constant, perm));
  }
  ITensor* t = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.TensorInput(node, 0, "data", &t));
  ITensor* y = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Added(node, ctx.network()->AddITransposeNode(t, perm), "", &y));
  return ctx.SetOutput(node, 0, y);
}

Status ImportSoftmax(ImportContext& ctx, const OnnxNode& node) {
  QSDK_RETURN_IF_ERROR(node.attrs.CheckKnown({"axis"}));
  QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "extra output"));
  const bool coerced = ctx.opset() < 13;  // opsets 1-12: softmax of the 2-D flattening
  int64_t axis = 0;
  QSDK_RETURN_IF_ERROR(node.attrs.GetInt("axis", coerced ? 1 : -1, &axis));
  ITensor* x = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.TensorInput(node, 0, "input", &x));
  const Dims dims = x->GetDimension();
  const int64_t rank = dims.GetDimsNum();
  int64_t a = 0;
  QSDK_RETURN_IF_ERROR(NormalizeAxis(node, "attribute 'axis'", axis, rank, false, &a));
  ITensor* y = nullptr;
  if (!coerced || a == rank - 1) {
    // Opset 13 semantics; for the last axis the opset 11 flattening changes nothing.
    QSDK_RETURN_IF_ERROR(ctx.Added(node, ctx.network()->AddISoftmaxNode(x, a), "", &y));
    return ctx.SetOutput(node, 0, y);
  }
  // Opsets 11-12: y = reshape(softmax(flatten(x, axis), axis 1), shape(x)). The shape back
  // is written with known extents and one -1 for a dynamic one.
  std::vector<int64_t> back = dims.GetDims();
  if (std::count(back.begin(), back.end(), -1) > 1) {
    return Unimplemented(node.describe, ": opset ", ctx.opset(), " softmax over axis ", a,
                         " of an input of shape ", dims.ToString(), " (more than one dynamic ",
                         "extent) cannot be reshaped back after flattening");
  }
  ITensor* flat = nullptr;
  ITensor* soft = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Added(node, ctx.network()->AddIFlattenNode(x, a), "flatten", &flat));
  QSDK_RETURN_IF_ERROR(ctx.Added(node, ctx.network()->AddISoftmaxNode(flat, 1), "", &soft));
  QSDK_RETURN_IF_ERROR(ctx.AddReshape(node, "reshape", soft, back, &y));
  return ctx.SetOutput(node, 0, y);
}

Status ImportBatchNormalization(ImportContext& ctx, const OnnxNode& node) {
  QSDK_RETURN_IF_ERROR(node.attrs.CheckKnown({"epsilon", "momentum", "training_mode"}));
  int64_t training = 0;
  QSDK_RETURN_IF_ERROR(node.attrs.GetInt("training_mode", 0, &training));
  if (training != 0) {
    return Unimplemented(node.describe, ": training_mode = ", training,
                         "; qsdk imports inference batch normalization only");
  }
  QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "training statistics"));
  float epsilon = 1e-5f;
  QSDK_RETURN_IF_ERROR(node.attrs.GetFloat("epsilon", 1e-5f, &epsilon));
  ITensor* x = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.TensorInput(node, 0, "X", &x));
  // ONNX order: X, scale, B, mean, var; qsdk: x, mean, variance, scale, bias.
  const char* roles[5] = {"X", "scale", "B", "input_mean", "input_var"};
  ITensor* params[5] = {};
  for (size_t i = 1; i < 5; ++i) {
    std::shared_ptr<const HostTensor> c;
    QSDK_RETURN_IF_ERROR(ctx.ConstantInput(node, i, roles[i], &c));
    QSDK_RETURN_IF_ERROR(ctx.TensorInput(node, i, roles[i], &params[i]));
  }
  IBatchNormNode* bn =
      ctx.network()->AddIBatchNormNode(x, params[3], params[4], params[1], params[2]);
  ITensor* y = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Added(node, bn, "", &y));
  if (bn->GetEpsilon() != epsilon) {
    QSDK_RETURN_IF_ERROR(NetworkStatus(node, bn->SetEpsilon(epsilon)));
  }
  return ctx.SetOutput(node, 0, y);
}

}  // namespace qsdk::onnx
