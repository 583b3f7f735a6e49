// Add, Sub, Mul: one Elementwise node (numpy broadcasting, as in ONNX opset 7 and later),
// or a constant when both operands are constants.
#include "common/status_macros.h"
#include "onnx/host_ops.h"
#include "onnx/ops.h"

namespace qsdk::onnx {

namespace {

Status Binary(ImportContext& ctx, const OnnxNode& node, ElementwiseOp op, HostBinaryOp host_op) {
  QSDK_RETURN_IF_ERROR(node.attrs.CheckKnown({}));
  QSDK_RETURN_IF_ERROR(ctx.RejectOutputsFrom(node, 1, "extra output"));
  const Value* a = nullptr;
  const Value* b = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Input(node, 0, "A", &a));
  QSDK_RETURN_IF_ERROR(ctx.Input(node, 1, "B", &b));
  if (a->constant && b->constant && a->constant->is_float() && b->constant->is_float()) {
    std::vector<int64_t> dims;
    if (!BroadcastShapes(a->constant->dims(), b->constant->dims(), &dims)) {
      return InvalidArgument(node.describe, ": constants of shapes ",
                             DimsToString(a->constant->dims()), " and ",
                             DimsToString(b->constant->dims()), " do not broadcast");
    }
    // Folding materializes the broadcast result: keep it to a sane size.
    int64_t count = 0;
    if (!CheckedElementCount(dims, &count) || count > (int64_t{1} << 28)) {
      return Unimplemented(node.describe, ": folding constants of shapes ",
                           DimsToString(a->constant->dims()), " and ",
                           DimsToString(b->constant->dims()), " gives ", DimsToString(dims),
                           ", too large a constant");
    }
    return ctx.SetConstantOutput(node, 0, HostBinary(*a->constant, *b->constant, host_op));
  }
  ITensor* ta = nullptr;
  ITensor* tb = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.TensorInput(node, 0, "A", &ta));
  QSDK_RETURN_IF_ERROR(ctx.TensorInput(node, 1, "B", &tb));
  ITensor* y = nullptr;
  QSDK_RETURN_IF_ERROR(ctx.Added(node, ctx.network()->AddIElementwiseNode(ta, tb, op), "", &y));
  return ctx.SetOutput(node, 0, y);
}

}  // namespace

Status ImportAdd(ImportContext& ctx, const OnnxNode& node) {
  return Binary(ctx, node, ElementwiseOp::kAdd, HostBinaryOp::kAdd);
}

Status ImportSub(ImportContext& ctx, const OnnxNode& node) {
  return Binary(ctx, node, ElementwiseOp::kSub, HostBinaryOp::kSub);
}

Status ImportMul(ImportContext& ctx, const OnnxNode& node) {
  return Binary(ctx, node, ElementwiseOp::kMul, HostBinaryOp::kMul);
}

}  // namespace qsdk::onnx
