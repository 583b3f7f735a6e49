// Gemm and MatMul.
//
// Gemm: Y = alpha * A' * B' + beta * C (A' = transA ? A^T : A, likewise B'), A and B 2-D.
//   - B constant: a FullyConnected node (y = x * W^T + b) with W = alpha * B'^T folded
//     at import time; beta * C is folded into its bias when C is a constant that
//     broadcasts along the output features only ([], [1], [N], [1, N]). A constant C of
//     another shape makes it a MatMul with the constant alpha * B' and bias beta * C; a C
//     computed at run time is added by an Elementwise node.
//   - B computed at run time: a MatMul node; alpha is an Elementwise multiplication
//     (folded into A when A is a constant), beta * C the MatMul's bias (beta folded when C
//     is a constant, else a multiplication).
//   transA / transB on operands computed at run time are Transpose nodes: MatMul's
//   transpose flags can only be set on an existing node, and INetwork does not create a
//   MatMul whose operands fit only once transposed.
// MatMul: a MatMul node; operands of rank 1 (which numpy semantics would promote) are not
// supported.
// A DequantizeLinear of a constant B (or C) stays an explicit dequantization of the
// integers (transposed for W when needed) wherever alpha (beta) is 1; otherwise its FLOAT
// values are used like any constant's.
#include "common/status_macros.h"
#include "onnx/host_ops.h"
#include "onnx/ops.h"

namespace qsdk::onnx {

namespace {

HostTensor Scaled(const HostTensor& t, float factor) {
  std::vector<float> v = t.ToFloats();
  for (float& x : v) x *= factor;
  return HostTensor::FromFloats(t.dims(), v);
}

// Rank of a value (constant or tensor).
int64_t RankOf(const Value& v) {
  if (v.constant) return static_cast<int64_t>(v.constant->dims().size());
  return v.tensor->GetDimension().GetDimsNum();
}

// `t` multiplied by the scalar `factor` (an Elementwise node with a [1] constant).
Status MultiplyBy(ImportContext& ctx, const OnnxNode& node, const std::string& role, ITensor* t,
                  float factor, ITensor** out) {
  ITensor* k = nullptr;
  QSDK_RETURN_IF_ERROR(
      ctx.AddConstant(node, role + "_factor", HostTensor::FromFloats({1}, {factor}), &k));
  return ctx.Added(node, ctx.network()->AddIElementwiseNode(t, k, ElementwiseOp::kMul), role, out);
}

}  // namespace

Status ImportGemm(ImportContext& ctx, const OnnxNode& node) {
  QSDK_RETURN_IF_ERROR(node.attrs.CheckKnown({"alpha", "beta", "transA", "transB"}));
  QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "extra output"));
  float alpha = 1.0f, beta = 1.0f;
  int64_t trans_a = 0, trans_b = 0;
  QSDK_RETURN_IF_ERROR(node.attrs.GetFloat("alpha", 1.0f, &alpha));
  QSDK_RETURN_IF_ERROR(node.attrs.GetFloat("beta", 1.0f, &beta));
  QSDK_RETURN_IF_ERROR(node.attrs.GetInt("transA", 0, &trans_a));
  QSDK_RETURN_IF_ERROR(node.attrs.GetInt("transB", 0, &trans_b));
  const Value* a = nullptr;
  const Value* b = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Input(node, 0, "A", &a));
  QSDK_RETURN_IF_ERROR(ctx.Input(node, 1, "B", &b));
  if (RankOf(*a) != 2 || RankOf(*b) != 2) {
    return InvalidArgument(node.describe, ": A has rank ", RankOf(*a), " and B rank ", RankOf(*b),
                           "; Gemm multiplies 2-D matrices");
  }
  const bool has_c = node.HasInput(2) && beta != 0.0f;  // beta = 0: C contributes nothing
  const Value* c = nullptr;
  if (node.HasInput(2)) QSDK_RETURN_IF_ERROR(ctx.Input(node, 2, "C", &c));
  for (const Value* v : {a, b, c}) {
    if (v != nullptr && v->constant && !v->constant->is_float()) {
      return Unimplemented(node.describe, ": an operand is ", OnnxTypeName(v->constant->type()),
                           "; qsdk's Gemm reads FLOAT");
    }
  }

  // A' (transA: a Transpose node; MatMul's transpose flags can only be set once the node
  // exists, and INetwork rejects a MatMul whose operands fit only when transposed).
  ITensor* x = nullptr;
  const bool fold_alpha_into_a = b->constant == nullptr && a->constant && alpha != 1.0f;
  if (fold_alpha_into_a) {
    QSDK_RETURN_IF_ERROR(ctx.AddConstant(node, "alpha_a", Scaled(*a->constant, alpha), &x));
  } else {
    QSDK_RETURN_IF_ERROR(ctx.TensorInput(node, 0, "A", &x));
  }
  if (trans_a) {
    QSDK_RETURN_IF_ERROR(
        ctx.Added(node, ctx.network()->AddITransposeNode(x, {1, 0}), "transpose_a", &x));
  }

  ITensor* y = nullptr;
  if (b->constant) {
    // B constant: alpha and the transposes fold into the weight.
    // FullyConnected computes x * W^T with W [N, K]: W = B'^T = transB ? B : B^T.
    HostTensor w = trans_b ? *b->constant : HostTranspose(*b->constant, {1, 0});
    if (alpha != 1.0f) w = Scaled(w, alpha);
    const int64_t features = w.dims()[0];
    // beta * C as the FullyConnected bias when it varies along the features only.
    bool c_is_bias = false;
    if (has_c && c->constant) {
      const std::vector<int64_t>& cd = c->constant->dims();
      const int64_t last = cd.empty() ? 1 : cd.back();
      c_is_bias =
          cd.size() <= 2 && (cd.size() < 2 || cd[0] == 1) && (last == 1 || last == features);
    }
    if (has_c && c->constant && !c_is_bias) {
      // A constant C of another shape ([M, N], [M, 1]): MatMul with B' and bias beta * C.
      ITensor* weight = nullptr;
      ITensor* bias = nullptr;
      QSDK_RETURN_IF_ERROR(ctx.AddConstant(node, "weight", HostTranspose(w, {1, 0}), &weight));
      QSDK_RETURN_IF_ERROR(ctx.AddConstant(
          node, "c", beta != 1.0f ? Scaled(*c->constant, beta) : *c->constant, &bias));
      QSDK_RETURN_IF_ERROR(ctx.Added(node, ctx.network()->AddIMatMulNode(x, weight, bias), "", &y));
      return ctx.SetOutput(node, 0, y);
    }
    ITensor* weight = nullptr;
    if (trans_b && alpha == 1.0f) {
      // W is B itself: keep the initializer (and its name), or its explicit dequantization.
      QSDK_RETURN_IF_ERROR(ctx.TensorInput(node, 1, "B", &weight));
    } else if (b->dequantized && alpha == 1.0f) {
      // W = B^T keeps the explicit quantization: the integers transposed, and a per-axis
      // axis swapped with them.
      DequantizedConstant t = *b->dequantized;
      t.data = std::make_shared<const HostTensor>(HostTranspose(*t.data, {1, 0}));
      if (t.axis >= 0) t.axis = 1 - t.axis;
      QSDK_RETURN_IF_ERROR(ctx.AddDequantized(node, t, ctx.UniqueNodeName(node.name + "/weight"),
                                              ctx.UniqueTensorName(node.name + "/weight"),
                                              &weight));
    } else {
      QSDK_RETURN_IF_ERROR(ctx.AddConstant(node, "weight", w, &weight));
    }
    ITensor* bias = nullptr;
    if (c_is_bias && c->dequantized && beta == 1.0f && c->constant->count() == features) {
      // A dequantized bias ([N] or [1, N]) stays explicit, as [N]; a per-axis one is then
      // quantized along axis 0 (its only axis with more than one scale).
      DequantizedConstant t = *c->dequantized;
      t.data = std::make_shared<const HostTensor>(t.data->Reshaped({features}));
      t.axis = t.scales.size() == 1 ? -1 : 0;
      QSDK_RETURN_IF_ERROR(ctx.AddDequantized(node, t, ctx.UniqueNodeName(node.name + "/bias"),
                                              ctx.UniqueTensorName(node.name + "/bias"), &bias));
    } else if (c_is_bias) {
      HostTensor full = HostBroadcastTo(c->constant->Reshaped({c->constant->count()}), {features});
      if (beta != 1.0f) full = Scaled(full, beta);
      QSDK_RETURN_IF_ERROR(ctx.AddConstant(node, "bias", full, &bias));
    }
    QSDK_RETURN_IF_ERROR(
        ctx.Added(node, ctx.network()->AddIFullyConnectedNode(x, weight, bias), "", &y));
    if (has_c && !c_is_bias) {
      // C computed at run time.
      ITensor* ct = nullptr;
      QSDK_RETURN_IF_ERROR(ctx.TensorInput(node, 2, "C", &ct));
      if (beta != 1.0f) QSDK_RETURN_IF_ERROR(MultiplyBy(ctx, node, "beta_c", ct, beta, &ct));
      QSDK_RETURN_IF_ERROR(ctx.Added(
          node, ctx.network()->AddIElementwiseNode(y, ct, ElementwiseOp::kAdd), "add_c", &y));
    }
    return ctx.SetOutput(node, 0, y);
  }

  // B computed at run time: MatMul.
  ITensor* tb = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.TensorInput(node, 1, "B", &tb));
  if (trans_b) {
    QSDK_RETURN_IF_ERROR(
        ctx.Added(node, ctx.network()->AddITransposeNode(tb, {1, 0}), "transpose_b", &tb));
  }
  ITensor* ct = nullptr;
  if (has_c) {
    if (c->constant) {
      QSDK_RETURN_IF_ERROR(ctx.AddConstant(
          node, "c", beta != 1.0f ? Scaled(*c->constant, beta) : *c->constant, &ct));
    } else {
      QSDK_RETURN_IF_ERROR(ctx.TensorInput(node, 2, "C", &ct));
      if (beta != 1.0f) QSDK_RETURN_IF_ERROR(MultiplyBy(ctx, node, "beta_c", ct, beta, &ct));
    }
  }
  // With alpha applied after the product, C must be added after it too.
  const bool alpha_done = alpha == 1.0f || fold_alpha_into_a;
  QSDK_RETURN_IF_ERROR(
      ctx.Added(node, ctx.network()->AddIMatMulNode(x, tb, alpha_done ? ct : nullptr), "", &y));
  if (!alpha_done) {
    QSDK_RETURN_IF_ERROR(MultiplyBy(ctx, node, "alpha", y, alpha, &y));
    if (ct != nullptr) {
      QSDK_RETURN_IF_ERROR(ctx.Added(
          node, ctx.network()->AddIElementwiseNode(y, ct, ElementwiseOp::kAdd), "add_c", &y));
    }
  }
  return ctx.SetOutput(node, 0, y);
}

Status ImportMatMul(ImportContext& ctx, const OnnxNode& node) {
  QSDK_RETURN_IF_ERROR(node.attrs.CheckKnown({}));
  QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "extra output"));
  const Value* a = nullptr;
  const Value* b = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Input(node, 0, "A", &a));
  QSDK_RETURN_IF_ERROR(ctx.Input(node, 1, "B", &b));
  if (RankOf(*a) < 2 || RankOf(*b) < 2) {
    return Unimplemented(node.describe, ": A has rank ", RankOf(*a), " and B rank ", RankOf(*b),
                         "; qsdk's MatMul needs rank >= 2 for both (rank-1 operands are not ",
                         "supported)");
  }
  ITensor* ta = nullptr;
  ITensor* tb = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.TensorInput(node, 0, "A", &ta));
  QSDK_RETURN_IF_ERROR(ctx.TensorInput(node, 1, "B", &tb));
  ITensor* y = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Added(node, ctx.network()->AddIMatMulNode(ta, tb, nullptr), "", &y));
  return ctx.SetOutput(node, 0, y);
}

}  // namespace qsdk::onnx
